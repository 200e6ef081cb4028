"""Expansions against what a terminologist signs: one test per row of ``terminology_facts.tsv``.

The facts are sourced (WHO ICD-10, ICD-O-3.1, the NCIt tree, NCI EVS, the EUCAIM release, Mondo) and written by
``make_terminology_facts.py``; see its docstring for the rules. A row is ``concept relation other``:

- ``member``: ``other`` is in ``expand(concept)``; ``non-member``: it is not;
- ``same``: each is in the other's expansion; ``not-same``: at least one is not.

A fact naming a CURIE the release does not hold is skipped, not failed; ``pytest -ra`` counts those skips per
missing CURIE. Select by query or relation with ``-k``, e.g. ``-k "SCT:363358000 and non-member"``.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import pytest

from hyperontology import Hyperontology, load_ontology

FACTS_FILE = Path(__file__).with_name("terminology_facts.tsv")
HEADER = ["concept", "relation", "other", "source", "note"]
RELATIONS = {"member", "non-member", "same", "not-same"}
PREFIXES = {"SCT", "ICD10", "ICDO3", "NCIT", "EUCAIM", "DCM", "RADLEX"}


@dataclass(frozen=True)
class Fact:
    concept: str
    relation: str
    other: str
    source: str
    note: str


def read_facts(path: Path = FACTS_FILE) -> list[Fact]:
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle, delimiter="\t", quoting=csv.QUOTE_NONE))
    assert rows[0] == HEADER, f"{path.name}: header {rows[0]}"
    return [Fact(*row) for row in rows[1:]]


FACTS = read_facts()


def fact_id(fact: Fact) -> str:
    return f"{fact.concept}-{fact.relation}-{fact.other}"


class Expansions:
    """The release, loaded once for the module, and each query's expansion (as CURIEs) computed once."""

    def __init__(self, onto: Hyperontology) -> None:
        self.onto = onto
        self._cache: dict[str, frozenset[str]] = {}

    def __call__(self, curie: str) -> frozenset[str]:
        if curie not in self._cache:
            self._cache[curie] = frozenset(c.curie for c in self.onto.expand(curie))
        return self._cache[curie]

    def name(self, curie: str) -> str:
        return f"{curie} '{self.onto.concept(curie).label}'"


@pytest.fixture(scope="module")
def expansions() -> Expansions:
    return Expansions(load_ontology(cache=False))


@pytest.mark.parametrize("fact", FACTS, ids=fact_id)
def test_fact(fact: Fact, expansions: Expansions) -> None:
    missing = [curie for curie in (fact.concept, fact.other) if curie not in expansions.onto]
    if missing:
        pytest.skip(f"absent from the release: {', '.join(missing)}")
    concept, other = expansions.name(fact.concept), expansions.name(fact.other)
    forward = fact.other in expansions(fact.concept)
    backward = fact.concept in expansions(fact.other)
    why = f"\n  fact: {fact.note}\n  source: {fact.source}"
    if fact.relation == "member":
        assert forward, f"{other} is missing from expand({concept}){why}"
    elif fact.relation == "non-member":
        assert not forward, f"{other} is wrongly in expand({concept}){why}"
    elif fact.relation == "same":
        assert forward and backward, f"{concept} and {other} are not each in the other's expansion " \
                                     f"(forward {forward}, backward {backward}){why}"
    else:
        assert not (forward and backward), f"{concept} and {other} are treated as equivalent{why}"


def test_fact_file_is_well_formed() -> None:
    assert len(FACTS) >= 450
    keys = [(f.concept, f.relation, f.other) for f in FACTS]
    assert len(set(keys)) == len(keys), "duplicate facts"
    for fact in FACTS:
        assert fact.relation in RELATIONS, fact
        assert fact.source.strip() and fact.note.strip(), fact
        assert fact.concept != fact.other, fact
        for curie in (fact.concept, fact.other):
            assert curie.split(":", 1)[0] in PREFIXES, fact
