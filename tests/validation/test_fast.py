"""The fast validation path gives exactly pyshacl's results on the whole graph."""

from __future__ import annotations

from pathlib import Path

import pydicom
import pytest

from hyperontology import Hyperontology
from hyperontology.mapping.engine import Mapper
from hyperontology.mapping.loader import MappingSet, default_mappings_dir
from hyperontology.pipeline import discover, group_series, read_all
from hyperontology.pseudonymize.keys import PseudonymKey
from hyperontology.sources.base import Record
from hyperontology.validation.shacl import validate_quads

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "data"
INPUTS = [Path(pydicom.__file__).parent / "data" / "test_files", default_mappings_dir().parent / "samples",
          Path(__file__).resolve().parents[1] / "cases"]


def quads_of(paths: list[Path], onto: Hyperontology) -> list:  # type: ignore[type-arg]
    records = [i for _, _, items in read_all(list(discover(paths)), 1, False) for i in items if isinstance(i, Record)]
    grouped, _ = group_series(records)
    mappings = MappingSet.load(default_mappings_dir())
    outcome = Mapper(mappings.specs, key=PseudonymKey(bytes(32)), valuemaps=mappings.valuemaps,
                     ontology=onto).apply(grouped)
    return [q for e in outcome.entities if not e.problems for q in e.quads]


def key(v):  # type: ignore[no-untyped-def]
    return (v.focus, v.path, v.value, v.message, v.severity, v.component)


@pytest.mark.parametrize("where", ["bundled", "shared"])
def test_fast_path_equals_pyshacl(onto: Hyperontology, where: str) -> None:
    if where == "shared" and not (SHARED / "dicom").is_dir():
        pytest.skip(f"needs the shared test data in {SHARED} (absent here)")
    paths = INPUTS if where == "bundled" else [SHARED / "dicom", SHARED / "fhir", SHARED / "clinical"]
    quads = quads_of(paths, onto)
    slow = sorted(map(key, validate_quads(quads, onto, fast=False)))
    fast = sorted(map(key, validate_quads(quads, onto, fast=True)))
    assert slow == fast
    assert slow  # the inputs do produce results, so the comparison means something
