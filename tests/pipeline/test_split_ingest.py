"""Ingest is order- and batch-independent: any split of the same inputs into ordered runs leaves the store one
combined run leaves, and a store that `validate` finds conforming after every run."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from pydicom.data import get_testdata_file

from hyperontology import Hyperontology
from hyperontology.mapping.loader import MappingSet, default_mappings_dir
from hyperontology.pipeline import IngestOptions, ingest
from hyperontology.pseudonymize.keys import PseudonymKey
from tests.pipeline.stores import copy_store, graphs, violations

KEY = PseudonymKey(bytes(range(32)))
SAMPLES = default_mappings_dir().parent / "samples"
# real inputs that meet: one CT series of three files; two MR series of one study (two files each); CT_small and
# MR_small, whose patients (1CT1, 4MR1) the clinical samples describe too, and disagree with on sex; a FHIR bundle;
# CSV tables whose conditions and stages link to patients and conditions of other files
INPUTS = [Path(get_testdata_file(f"dicomdirtests/77654033/CT2/{n}")) for n in ("17106", "17136", "17166")]
INPUTS += [Path(get_testdata_file(f"dicomdirtests/98892003/MR2/{n}")) for n in ("4950", "4981", "6273", "6605")]
INPUTS += [Path(get_testdata_file(name)) for name in ("CT_small.dcm", "MR_small.dcm")]
INPUTS += [SAMPLES / "fhir" / "bundle-4MR1.json"]
INPUTS += [SAMPLES / "clinical" / f"{name}-information.csv" for name in ("patient", "condition", "staging")]
CT_SERIES = [0, 1, 2]
CSV = [9, 10, 11]


class Stores:
    """Fresh embedded stores copied from the template, each ingested run by run."""

    def __init__(self, template: Path, root: Path, onto: Hyperontology) -> None:
        self.template, self.root, self.onto, self.made = template, root, onto, 0
        self.mappings = MappingSet.load(default_mappings_dir())

    def fresh(self) -> Path:
        self.made += 1
        return copy_store(self.template, self.root / f"store-{self.made}")

    def run(self, store: Path, files: list[Path]) -> None:
        ingest(files, IngestOptions(key=KEY, mappings=self.mappings, store_path=store), ontology=self.onto)


@pytest.fixture(scope="module")
def stores(template: Path, onto: Hyperontology, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stores]:
    yield Stores(template, tmp_path_factory.mktemp("splits"), onto)


@pytest.fixture(scope="module")
def combined(stores: Stores) -> dict[str, set[str]]:
    store = stores.fresh()
    stores.run(store, INPUTS)
    assert violations(store, stores.onto) == []
    found = graphs(store)
    shutil.rmtree(store)
    return found


@st.composite
def splits(draw: st.DrawFn) -> list[list[int]]:
    """The inputs in a random order, cut into 1 to 4 runs."""
    order = draw(st.permutations(range(len(INPUTS))))
    cuts = sorted(draw(st.sets(st.integers(1, len(INPUTS) - 1), max_size=3)))
    return [list(order[a:b]) for a, b in zip([0, *cuts], [*cuts, len(INPUTS)], strict=True)]


def rest(*first: list[int]) -> list[int]:
    taken = {i for part in first for i in part}
    return [i for i in range(len(INPUTS)) if i not in taken]


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(splits())
@example([CT_SERIES[:1], CT_SERIES[1:], rest(CT_SERIES)])  # a series' first file, then its other two (issue 5)
@example([CSV, list(range(len(INPUTS)))])  # the clinical CSVs, then everything (issue 5)
@example([rest(CSV), CSV[::-1]])  # stages before the conditions they link to, conditions before their patient
def test_any_split_gives_the_combined_store(stores: Stores, combined: dict[str, set[str]],
                                            split: list[list[int]]) -> None:
    store = stores.fresh()
    try:
        for part in split:
            stores.run(store, [INPUTS[i] for i in part])
            assert violations(store, stores.onto) == [], (split, part)  # what a run loads always conforms
        got = graphs(store)
        for graph in got:
            assert got[graph] == combined[graph], (graph, split, sorted(got[graph] ^ combined[graph])[:6])
    finally:
        shutil.rmtree(store)


def test_the_series_counts_every_instance_whatever_the_runs(stores: Stores, combined: dict[str, set[str]]) -> None:
    counts = {q for q in combined["data"] if "numberOfInstances" in q}
    assert sum('"3"^^' in q for q in counts) == 1 and sum('"2"^^' in q for q in counts) == 2  # CT2; two MR2 series
    assert any("quarantineReason" in q and "disagree" in q for q in combined["quarantine"])  # the sex of 1CT1/4MR1
