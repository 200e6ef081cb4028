"""Mapping files: the published schema, the shipped mappings, and errors that name file, line and rule."""

from __future__ import annotations

from pathlib import Path

import jsonschema
import pytest

from hyperontology.mapping import transforms
from hyperontology.mapping.model import MappingError, MappingSpec, load_mapping, schema

REPO = Path(__file__).resolve().parents[2]
MAPPINGS = REPO / "mappings"
SHIPPED = sorted([*MAPPINGS.glob("*.yaml"), *(MAPPINGS / "templates").glob("*.yaml")])
VALUEMAPS = {p.name.split(".")[0] for p in (MAPPINGS / "valuemaps").glob("*.sssom.tsv")}

# A valid mapping; every case below changes one line of it, so the line of each problem is known.
GOOD = """\
mapping: test
version: "1"
source: csv
entities:
  - name: patient
    select: {entity: patients}
    class: cdm:Patient
    id: {value: id, domain: patient}
    fields:
      - {property: cdm:gender, value: sex, valuemap: dicom-sex}
      - {property: cdm:birthDate, value: dob, datatype: xsd:date}
"""


def load(path: Path) -> MappingSpec:
    return load_mapping(path, transforms=transforms.names(), valuemaps=VALUEMAPS)


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "broken.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def change(line: int, new: str) -> str:
    """GOOD with its 1-based ``line`` replaced by ``new`` (an empty string deletes it)."""
    lines = GOOD.splitlines()
    lines[line - 1 : line] = [new] if new else []
    return "\n".join(lines) + "\n"


def problems(tmp_path: Path, text: str) -> list[str]:
    path = write(tmp_path, text)
    with pytest.raises(MappingError) as info:
        load(path)
    assert info.value.problems
    assert all(p.startswith(f"{path}:") for p in info.value.problems), info.value.problems
    return info.value.problems


def test_schema_is_valid_draft_2020_12() -> None:
    published = schema()
    jsonschema.Draft202012Validator.check_schema(published)
    assert published["$schema"] == "https://json-schema.org/draft/2020-12/schema"


def test_shipped_mappings_are_found() -> None:
    names = {p.name for p in SHIPPED}
    assert {"dicom.yaml", "fhir.yaml", "mcode-csv.yaml", "clinical-csv.yaml"} <= names
    assert VALUEMAPS >= {"dicom-sex", "fhir-gender"}


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_shipped_mapping_loads(path: Path) -> None:
    spec = load(path)
    assert spec.entities
    assert spec.source in ("dicom", "fhir", "csv")
    assert spec.valuemaps <= VALUEMAPS
    assert all(e.line > 0 and all(f.line > 0 for f in e.fields) for e in spec.entities)


def test_good_mapping_is_normalised(tmp_path: Path) -> None:
    spec = load(write(tmp_path, GOOD))
    (entity,) = spec.entities
    assert (spec.name, spec.version, spec.source) == ("test", "1", "csv")
    assert (entity.name, entity.select, entity.cls, entity.line) == ("patient", "patients", "cdm:Patient", 5)
    assert (entity.id.value, entity.id.domain) == ("id", "patient")
    assert [(f.property, f.line) for f in entity.fields] == [("cdm:gender", 10), ("cdm:birthDate", 11)]
    assert entity.fields[0].valuemap == "dicom-sex"


@pytest.mark.parametrize(
    ("line", "new", "rule", "where"),
    [
        pytest.param(7, "    class: cdm:Patient: oops", "[yaml]", 7, id="yaml-syntax"),
        pytest.param(3, "source: [csv", "[yaml]", 4, id="yaml-unclosed-flow"),
        pytest.param(2, 'version: "1"\ncolour: red', "[schema:additionalProperties]", 3, id="unknown-top-key"),
        pytest.param(11, "      - {property: cdm:birthDate, value: dob, colour: red}",
                     "[schema:additionalProperties]", 11, id="unknown-field-key"),
        pytest.param(8, "    id: {value: id}", "[schema:required]", 8, id="missing-id-domain"),
        pytest.param(8, "", "[schema:required]", 5, id="missing-id"),
        pytest.param(1, "", "[schema:required]", 1, id="missing-mapping-name"),
        pytest.param(7, "    class: Patient", "[schema:pattern]", 7, id="bad-curie-class"),
        pytest.param(10, "      - {property: gender, value: sex}", "[schema:pattern]", 10, id="bad-curie-property"),
        pytest.param(8, "    id: {value: id, domain: Patient}", "[schema:pattern]", 8, id="bad-domain"),
        pytest.param(3, "source: hl7v2", "[schema:enum]", 3, id="bad-source"),
        pytest.param(11, "      - {property: foo:birthDate, value: dob}", "[prefix]", 11, id="unknown-prefix-field"),
        pytest.param(7, "    class: foo:Patient", "[prefix]", 7, id="unknown-prefix-class"),
        pytest.param(11, "      - {property: cdm:birthDate, value: dob, transform: frobnicate}",
                     "[transform]", 11, id="unknown-transform"),
        pytest.param(11, "      - {property: cdm:birthDate, value: dob, transform: [strip, 'nope(x)']}",
                     "[transform]", 11, id="unknown-transform-call"),
        pytest.param(8, "    id: {value: id, domain: patient, transform: nope}", "[transform]", 8,
                     id="unknown-id-transform"),
        pytest.param(10, "      - {property: cdm:gender, value: sex, valuemap: no-such-map}", "[valuemap]", 10,
                     id="unknown-valuemap"),
    ],
)
def test_broken_mapping_names_file_line_and_rule(tmp_path: Path, line: int, new: str, rule: str, where: int) -> None:
    found = problems(tmp_path, change(line, new))
    path = tmp_path / "broken.yaml"
    assert any(p.startswith(f"{path}:{where}: {rule}") for p in found), found


def test_unknown_key_in_block_mapping_names_the_key_line(tmp_path: Path) -> None:
    text = change(6, "    select:\n      entity: patients\n      wehn: {field: sex, equals: F}")
    found = problems(tmp_path, text)
    assert found == [f"{tmp_path / 'broken.yaml'}:8: [schema:additionalProperties] at /entities/0/select: "
                     "Additional properties are not allowed ('wehn' was unexpected)"]


def test_every_problem_is_reported(tmp_path: Path) -> None:
    text = change(11, "      - {property: foo:birthDate, value: dob, transform: nope}")
    text = text.replace("valuemap: dicom-sex", "valuemap: nope")
    found = problems(tmp_path, text)
    assert sorted(p.split(": ", 1)[0].rsplit(":", 1)[1] + " " + p.split(" ")[1] for p in found) == [
        "10 [valuemap]", "11 [prefix]", "11 [transform]"]


def test_empty_and_missing_files(tmp_path: Path) -> None:
    assert problems(tmp_path, "# nothing here\n") == [f"{tmp_path / 'broken.yaml'}:1: [yaml] empty file"]
    with pytest.raises(MappingError, match=r"\[read\]"):
        load(tmp_path / "absent.yaml")


def test_a_mapping_file_never_runs_code(tmp_path: Path) -> None:
    canary = tmp_path / "executed"
    text = change(7, f'    class: !!python/object/apply:os.system ["touch {canary}"]')
    found = problems(tmp_path, text)
    assert not canary.exists()
    assert found[0].startswith(f"{tmp_path / 'broken.yaml'}:7: [yaml]")
    assert "python/object" in found[0]


def test_python_object_tag_is_rejected(tmp_path: Path) -> None:
    found = problems(tmp_path, change(1, "mapping: !!python/object:collections.OrderedDict {}"))
    assert found[0].startswith(f"{tmp_path / 'broken.yaml'}:1: [yaml]")
