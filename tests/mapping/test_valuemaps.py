"""SSSOM value maps: matching, unmapped values, malformed files, and the value maps shipped."""

from __future__ import annotations

from pathlib import Path

import pytest

from hyperontology import Hyperontology, load_ontology
from hyperontology.mapping.valuemaps import NO_TERM, ValueMap, ValueMapError, read_valuemap, read_valuemaps

SHIPPED_DIR = Path(__file__).resolve().parents[2] / "mappings" / "valuemaps"
SHIPPED = sorted(SHIPPED_DIR.glob("*.sssom.tsv"))
HEADER = "subject_id\tsubject_label\tpredicate_id\tobject_id\tobject_label\tmapping_justification\tconfidence"
METADATA = "# mapping_set_id: https://example.org/test.sssom.tsv\n# curie_map:\n#   SCT: http://snomed.info/id/\n"


@pytest.fixture(scope="module")
def ontology() -> Hyperontology:
    return load_ontology()


def write(tmp_path: Path, *rows: str, header: str = HEADER) -> Path:
    """A value map: 3 metadata lines, the header on line 4, rows from line 5."""
    path = tmp_path / "organ.sssom.tsv"
    path.write_text(METADATA + header + "\n" + "".join(r + "\n" for r in rows), encoding="utf-8")
    return path


def row(subject: str, obj: str, predicate: str = "skos:exactMatch", confidence: str = "1.0") -> str:
    return "\t".join([subject, subject.lower(), predicate, obj, "", "semapv:ManualMappingCuration", confidence])


def test_exact_and_loose_matches(tmp_path: Path) -> None:
    vm = read_valuemap(write(
        tmp_path,
        row("Poumon droit", "SCT:3341006"),
        row("LUNG", "SCT:39607008", "skos:closeMatch", "0.8"),
        row("Hígado", "SCT:10200004"),
        row("lung", "SCT:999"),  # an exact match wins over the loose one
    ))
    assert vm.name == "organ"
    assert vm.path == str(tmp_path / "organ.sssom.tsv")
    assert vm.lookup("LUNG") == "SCT:39607008"
    assert vm.match("LUNG") == ("SCT:39607008", "skos:closeMatch", 0.8)
    assert vm.lookup("lung") == "SCT:999"
    assert vm.lookup("  lung ") == "SCT:999"
    assert vm.lookup("Lung") == "SCT:39607008"  # loose: case
    assert vm.lookup("poumon   DROIT") == "SCT:3341006"  # loose: case and spaces
    assert vm.lookup("poumon-droit") == "SCT:3341006"  # loose: punctuation is a space
    assert vm.lookup("higado") == "SCT:10200004"  # loose: accents
    assert vm.lookup("HÍGADO") == "SCT:10200004"
    assert vm.lookup("kidney") is None


def test_no_term_found_is_unmapped(tmp_path: Path) -> None:
    vm = read_valuemap(write(tmp_path, row("SPLEEN", NO_TERM), row("LIVER", "SCT:10200004")))
    assert vm.rows["SPLEEN"][0] == NO_TERM
    assert vm.lookup("SPLEEN") is None
    assert vm.lookup("spleen") is None
    assert vm.match("SPLEEN") is None
    assert vm.lookup("LIVER") == "SCT:10200004"


def test_value_map_from_a_dict() -> None:
    vm = ValueMap("sex", {"M": ("SCT:248153007", "skos:exactMatch", 1.0), "U": (NO_TERM, "skos:exactMatch", 1.0)})
    assert vm.lookup(" m ") == "SCT:248153007"
    assert vm.lookup("U") is None
    assert vm.lookup(None) is None


def test_confidence_defaults_to_one(tmp_path: Path) -> None:
    vm = read_valuemap(write(tmp_path, "LIVER\tskos:exactMatch\tSCT:10200004",
                             header="subject_id\tpredicate_id\tobject_id"))
    assert vm.match("LIVER") == ("SCT:10200004", "skos:exactMatch", 1.0)


@pytest.mark.parametrize(
    ("rows", "line", "message"),
    [
        pytest.param([row("LIVER", "SCT:10200004"), row("LUNG", "SCT:39607008", "owl:sameAs")], 6,
                     "predicate 'owl:sameAs'", id="bad-predicate"),
        pytest.param([row("LUNG", "SCT:39607008", "sssom:NoTermFound")], 5, "predicate", id="predicate-is-object"),
        pytest.param([row("LUNG", "SCT:39607008", confidence="high")], 5, "confidence 'high' is not a number",
                     id="bad-confidence"),
        pytest.param([row("LIVER", "SCT:10200004"), "LUNG\tlung"], 6, "row lacks predicate_id, object_id",
                     id="short-row"),
        pytest.param([row("LUNG", "")], 5, "row lacks object_id", id="empty-object"),
    ],
)
def test_malformed_row_names_file_and_line(tmp_path: Path, rows: list[str], line: int, message: str) -> None:
    path = write(tmp_path, *rows)
    with pytest.raises(ValueMapError) as info:
        read_valuemap(path)
    assert str(info.value).startswith(f"{path}:{line}: ")
    assert message in str(info.value)


def test_missing_header(tmp_path: Path) -> None:
    path = write(tmp_path, row("LUNG", "SCT:39607008"), header="subject_id\tsubject_label\tobject_id")
    with pytest.raises(ValueMapError, match=rf"^{path}:4: header lacks predicate_id$"):
        read_valuemap(path)
    empty = tmp_path / "empty.sssom.tsv"
    empty.write_text(METADATA, encoding="utf-8")
    with pytest.raises(ValueMapError, match=rf"^{empty}: no header row$"):
        read_valuemap(empty)


def test_unreadable_file(tmp_path: Path) -> None:
    path = tmp_path / "latin.sssom.tsv"
    path.write_bytes(HEADER.encode() + b"\nH\xedgado\tx\tskos:exactMatch\tSCT:10200004\n")
    with pytest.raises(ValueMapError, match=rf"^{path}: cannot read"):
        read_valuemap(path)
    with pytest.raises(ValueMapError, match="cannot read"):
        read_valuemap(tmp_path / "absent.sssom.tsv")


def test_read_valuemaps_by_name(tmp_path: Path) -> None:
    write(tmp_path, row("LUNG", "SCT:39607008"))
    (tmp_path / "notes.tsv").write_text("not a value map\n", encoding="utf-8")
    assert set(read_valuemaps(tmp_path)) == {"organ"}
    assert read_valuemaps(tmp_path / "absent") == {}


def test_shipped_value_maps_read() -> None:
    maps = read_valuemaps(SHIPPED_DIR)
    assert set(maps) == {p.name.split(".")[0] for p in SHIPPED}
    assert {"dicom-sex", "dicom-modality", "dicom-bodypart", "fhir-gender"} <= set(maps)
    assert all(vm.rows for vm in maps.values())
    assert maps["dicom-sex"].lookup("F") == "SCT:248152002"


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_shipped_objects_are_concepts(path: Path, ontology: Hyperontology) -> None:
    objects = {obj for obj, _, _ in read_valuemap(path).rows.values() if obj != NO_TERM}
    missing = sorted(curie for curie in objects if curie not in ontology)
    assert objects
    assert missing == []
