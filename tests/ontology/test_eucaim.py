"""The EUCAIM release: read from OWL exactly as transcribed; written and read back without loss."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from rdflib import Graph

from hyperontology import ReleaseImportError
from hyperontology.ontology import eucaim, expressions
from hyperontology.ontology.files import bundled_dir


def _lines(eucaim_dir: Path) -> dict[str, dict]:
    path = eucaim_dir / "eucaim_hyperontology-v2.0-classes.jsonl"
    return {r["c"]: r for r in map(json.loads, path.read_text(encoding="utf-8").splitlines())}


def test_excerpt_classes_come_out_exactly_as_their_transcribed_lines(eucaim_dir: Path) -> None:
    records = eucaim.records_from_owl(eucaim_dir / "eucaim_hyperontology-v2.0-excerpt.owl")
    lines = _lines(eucaim_dir)
    assert len(records) == 10
    for record in records:
        assert record == lines[record["c"]]


def test_bundled_module_holds_every_release_class_by_meaning(eucaim_dir: Path) -> None:
    lines = _lines(eucaim_dir)
    written = {r["c"]: r for r in eucaim.records_from_owl(bundled_dir() / "eucaim.ttl")}
    assert written.keys() == lines.keys()
    differ = [c for c, line in lines.items() if eucaim.canonical(written[c]) != eucaim.canonical(line)]
    assert differ == []


def test_module_round_trip_through_rdfxml(tmp_path: Path) -> None:
    records = [
        {"c": "CLIN1", "p": ["CLIN2"], "r": ["hasFindingSite>BP1", "inverseOf(inheresIn)>qualifiedCardinality=1 "
                                             "onClass=CLIN3"],
         "eq": ["(hasAssociatedMorphology>CLIN4 and hasFindingSite>BP1)"], "l": "Thing", "pl": ["Thing (disorder)"],
         "a": ["Other name"], "x": ["UMLS:C1"], "sct": ["363358000"], "radlex": [""], "q": True,
         "other": ["acronym=T"], "cm": "a comment"},
        {"c": "CLIN2", "l": ["Two", "Deux"], "eq": ["not parseable ("]},
    ]
    path = tmp_path / "release.owl"
    eucaim.module_graph(records, [{"c": "hasFindingSite", "l": "has finding site"}], []).serialize(path, format="xml")
    back = {r["c"]: r for r in eucaim.records_from_owl(path)}
    for record in records:
        assert eucaim.canonical(back[record["c"]]) == eucaim.canonical(
            {**record, "l": sorted(record["l"]) if isinstance(record["l"], list) else record["l"]})


def test_unreadable_release_is_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "broken.owl"
    bad.write_text("<rdf:RDF this is not xml", encoding="utf-8")
    with pytest.raises(ReleaseImportError, match="broken.owl"):
        eucaim.records_from_owl(bad)
    empty = tmp_path / "empty.ttl"
    empty.write_text("@prefix x: <http://x/> .\n", encoding="utf-8")
    with pytest.raises(ReleaseImportError, match="no owl:Class"):
        eucaim.records_from_owl(empty)


NAMES = st.from_regex(r"(CLIN|BP|COM)[0-9]{1,4}", fullmatch=True)
PROPS = st.sampled_from(["hasFindingSite", "hasAssociatedMorphology", "inheresIn"])
EXPR = st.recursive(
    NAMES,
    lambda inner: st.one_of(
        st.builds(lambda p, t: f"{p}>{t}", PROPS, inner),
        st.builds(lambda xs: f"intersectionOf({','.join(xs)})", st.lists(inner, min_size=2, max_size=3)),
        st.builds(lambda xs: f"unionOf({','.join(xs)})", st.lists(inner, min_size=2, max_size=3)),
    ),
    max_leaves=6,
)


@given(EXPR)
def test_expression_notation_round_trips_through_owl(text: str) -> None:
    graph = Graph()
    node = expressions.to_rdf(expressions.parse(text), graph, eucaim.iri)
    assert expressions.from_rdf(node, graph, eucaim.name_of) == text
