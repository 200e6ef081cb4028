"""Golden cases: inputs + mapping -> the expected CDM graph, compared isomorphically (see tests/cases/README.md)."""

from __future__ import annotations

import json
import os
from decimal import Decimal
from pathlib import Path

import pydicom
import pytest
from rdflib import XSD, Graph, Literal
from rdflib.compare import graph_diff, isomorphic, to_isomorphic

from hyperontology import Hyperontology
from hyperontology.mapping.loader import MappingSet, default_mappings_dir
from hyperontology.pipeline import IngestOptions, ingest
from hyperontology.pseudonymize.keys import PseudonymKey
from hyperontology.store.oxigraph import NodeStore

CASES = Path(__file__).parent / "cases"
KEY = PseudonymKey(bytes(range(32)))
NAMES = sorted(p.name for p in CASES.iterdir() if p.is_dir())


def canonical(graph: Graph) -> Graph:
    """Literals in canonical lexical form (the store writes 58 where Turtle writes 58.0: the same decimal)."""
    out = Graph()
    for s, p, o in graph:
        if isinstance(o, Literal) and o.datatype == XSD.decimal:
            text = format(Decimal(str(o)).normalize(), "f")
            o = Literal(text if "." in text else text + ".0", datatype=XSD.decimal)
        out.add((s, p, o))
    return out


def inputs(case: Path) -> list[Path]:
    listed = case / "inputs.txt"
    if not listed.exists():
        return sorted(p for p in case.iterdir() if p.is_file() and p.suffix in (".csv", ".json", ".ndjson", ".dcm")
                      and not p.name.startswith("expected"))
    test_files = Path(pydicom.__file__).parent / "data" / "test_files"
    return [test_files / line.split(":", 1)[1] if line.startswith("pydicom:") else case / line
            for line in listed.read_text().split()]


def run_case(case: Path, onto: Hyperontology, store: Path) -> tuple[Graph, dict]:  # type: ignore[type-arg]
    has_mapping = any(case.glob("*.yaml"))
    mappings = MappingSet.load(case if has_mapping else default_mappings_dir(),
                               valuemaps_dir=(case / "valuemaps") if has_mapping else None)
    report = ingest(inputs(case), IngestOptions(key=KEY, mappings=mappings, store_path=store), ontology=onto)
    with NodeStore(store) as node:
        data = node.export(None, "nt", graphs=["data"]) or b""
    return Graph().parse(data=data.decode(), format="nt"), report


@pytest.mark.parametrize("name", NAMES)
def test_golden_case(name: str, onto: Hyperontology, tmp_path: Path) -> None:
    case = CASES / name
    graph, report = run_case(case, onto, tmp_path / "store")
    expected_path = case / "expected.ttl"
    if os.environ.get("UPDATE_GOLDEN"):
        expected_path.write_text(to_isomorphic(graph).serialize(format="turtle"), encoding="utf-8")
    expected = Graph().parse(expected_path, format="turtle")
    if not isomorphic(canonical(graph), canonical(expected)):
        _, only_got, only_expected = graph_diff(to_isomorphic(canonical(graph)), to_isomorphic(canonical(expected)))
        pytest.fail(f"{name}: graph differs\nonly produced:\n{only_got.serialize(format='nt')}\n"
                    f"only expected:\n{only_expected.serialize(format='nt')}")
    totals = case / "expected-report.json"
    if totals.exists():
        for key, value in json.loads(totals.read_text()).items():
            assert report["totals"][key] == value, key


def test_rerun_changes_nothing(onto: Hyperontology, tmp_path: Path) -> None:
    """Idempotent: the same inputs and key give the same data graph, however often they are ingested."""
    case = CASES / "csv-registry"
    first, _ = run_case(case, onto, tmp_path / "store")
    again, report = run_case(case, onto, tmp_path / "store")
    assert isomorphic(canonical(first), canonical(again))
    assert report["totals"]["triples_added"] == 0
