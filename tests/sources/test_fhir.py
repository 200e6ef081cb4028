"""FhirSource on small hand-written inputs, on the shared real files, and on random text; the helpers."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hyperontology.sources.base import Record, Rejection, Source
from hyperontology.sources.fhir import FhirSource, codings, extension_values, get_path, reference_id

SHARED_FHIR = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "fhir"
REAL_FILES = (
    sorted(p for p in SHARED_FHIR.rglob("*") if p.suffix in (".json", ".ndjson")) if SHARED_FHIR.is_dir() else []
)
SKIP_REASON = f"needs the shared FHIR examples in {SHARED_FHIR} (../shared/data, absent here)"

PATIENT = {"resourceType": "Patient", "id": "p1", "gender": "female", "birthDate": "1927-05-01"}
CONDITION = {
    "resourceType": "Condition",
    "id": "c1",
    "subject": {"reference": "urn:uuid:p1"},
    "code": {"coding": [{"system": "http://snomed.info/sct", "code": "254637007", "display": "NSCLC"}]},
}


def read(path: Path) -> list[Record | Rejection]:
    return list(FhirSource().read(path))


def write(tmp_path: Path, name: str, content: Any) -> Path:
    path = tmp_path / name
    path.write_text(content if isinstance(content, str) else json.dumps(content), encoding="utf-8")
    return path


def test_is_a_source() -> None:
    assert isinstance(FhirSource(), Source)


def test_single_resource(tmp_path: Path) -> None:
    path = write(tmp_path, "patient.json", PATIENT)
    assert FhirSource().accepts(path)
    [record] = read(path)
    assert isinstance(record, Record)
    assert (record.source, record.entity, record.fields, record.notes) == ("fhir", "Patient", PATIENT, ())
    assert record.provenance.path == str(path)


def test_bundle_entries(tmp_path: Path) -> None:
    observation = {"resourceType": "Observation", "status": "final", "code": {"text": "weight"}}
    bundle = {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": r} for r in (PATIENT, CONDITION)]}
    bundle["entry"].append(
        {"resource": {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": observation}]}}
    )
    items = read(write(tmp_path, "bundle.json", bundle))
    assert [(type(i).__name__, i.provenance.locator) for i in items] == [
        ("Record", "entry 1"),
        ("Record", "entry 2"),
        ("Record", "entry 3 > entry 1"),
    ]
    assert [i.entity for i in items if isinstance(i, Record)] == ["Patient", "Condition", "Observation"]


def test_bundle_entry_without_resource_is_a_rejection(tmp_path: Path) -> None:
    bundle = {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [{"request": {"method": "DELETE", "url": "Patient/9"}}],
    }
    [item] = read(write(tmp_path, "tx.json", bundle))
    assert isinstance(item, Rejection) and "DELETE Patient/9" in item.reason


def test_ndjson_with_a_bad_line(tmp_path: Path) -> None:
    lines = [json.dumps(PATIENT), '{"resourceType": "Condition", ', "", json.dumps(CONDITION)]
    path = write(tmp_path, "export.ndjson", "\n".join(lines) + "\n")
    items = read(path)
    assert [(type(i).__name__, i.provenance.locator) for i in items] == [
        ("Record", "line 1"),
        ("Rejection", "line 2"),
        ("Record", "line 4"),
    ]
    assert "invalid JSON" in items[1].reason  # type: ignore[union-attr]


def test_gzipped_ndjson(tmp_path: Path) -> None:
    path = tmp_path / "Patient.000.ndjson.gz"
    path.write_bytes(gzip.compress((json.dumps(PATIENT) + "\n").encode()))
    assert FhirSource().accepts(path)
    assert [i.entity for i in read(path) if isinstance(i, Record)] == ["Patient"]


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ('{"resourceType": "Patient",\n "id": }', "invalid JSON at line 2 column"),
        ('{"name": "not fhir"}', "without a resourceType"),
        ("[1, 2]", "JSON array"),
        ('{"resourceType": "NotAType"}', "unknown resourceType"),
        ('{"resourceType": "CodeableConcept"}', "unknown resourceType"),
        ("", "empty file"),
        ("  \n\t ", "empty file"),
    ],
)
def test_unusable_file_is_one_rejection(tmp_path: Path, content: str, expected: str) -> None:
    [item] = read(write(tmp_path, "bad.json", content))
    assert isinstance(item, Rejection)
    assert expected in item.reason


def test_wrong_json_types_fail_validation(tmp_path: Path) -> None:
    [item] = read(write(tmp_path, "p.json", {"resourceType": "Patient", "gender": 5, "name": "Smith"}))
    assert isinstance(item, Rejection)
    assert "fails R4B validation" in item.reason and "gender" in item.reason


def test_minor_validation_errors_keep_the_record_with_notes(tmp_path: Path) -> None:
    resource = {"resourceType": "Observation", "status": "final", "effectiveDateTime": "2020-13-45", "foo": 1}
    [item] = read(write(tmp_path, "o.json", resource))
    assert isinstance(item, Record) and item.fields == resource
    assert any(note.startswith("R4B: code:") for note in item.notes)
    assert any("foo" in note for note in item.notes)


def test_r5_only_resource_is_kept_with_a_version_note(tmp_path: Path) -> None:
    resource = {"resourceType": "ActorDefinition", "status": "active", "type": "person"}
    [item] = read(write(tmp_path, "a.json", resource))
    assert isinstance(item, Record)
    assert item.notes == ("fhirVersion guess: R5 (resourceType not in R4B)",)


def test_accepts_only_fhir_json(tmp_path: Path) -> None:
    assert not FhirSource().accepts(write(tmp_path, "x.json", {"a": 1}))
    assert not FhirSource().accepts(write(tmp_path, "x.csv", PATIENT))
    assert not FhirSource().accepts(tmp_path / "missing.json")


@pytest.mark.shared
@pytest.mark.skipif(not REAL_FILES, reason=SKIP_REASON)
@pytest.mark.parametrize("path", REAL_FILES, ids=lambda p: str(p.relative_to(SHARED_FHIR)))
def test_real_file_is_accounted_for(path: Path) -> None:
    assert FhirSource().accepts(path)
    items = read(path)
    assert items
    if path.suffix == ".ndjson":
        lines = [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        assert len(items) == len(lines)
    for item in items:
        if isinstance(item, Rejection):
            assert item.provenance.path == str(path) and item.reason
        else:
            assert item.entity == item.fields["resourceType"]
            assert item.fields is not None


@pytest.mark.shared
@pytest.mark.skipif(not REAL_FILES, reason=SKIP_REASON)
def test_every_real_patient_and_condition_is_a_record() -> None:
    wanted = 0
    for path in REAL_FILES:
        raw = path.read_text(encoding="utf-8")
        wanted += raw.count('"resourceType": "Patient"') + raw.count('"resourceType":"Patient"')
        wanted += raw.count('"resourceType": "Condition"') + raw.count('"resourceType":"Condition"')
    records = [i for p in REAL_FILES for i in read(p) if isinstance(i, Record) and i.entity in ("Patient", "Condition")]
    assert len(records) == wanted > 50


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(), suffix=st.sampled_from([".json", ".ndjson"]))
def test_random_text_never_raises(tmp_path: Path, text: str, suffix: str) -> None:
    path = tmp_path / f"random{suffix}"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    items = read(path)
    assert items and all(isinstance(i, Record | Rejection) for i in items)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    value=st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=5),
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
        max_leaves=10,
    ),
    kind=st.sampled_from(["Patient", "Condition", "Bundle", "Observation"]),
)
def test_random_resources_never_raise(tmp_path: Path, value: Any, kind: str) -> None:
    resource = {"resourceType": kind, "entry": value, "code": value, "subject": value}
    items = read(write(tmp_path, "r.json", resource))
    assert items
    assert codings(value) is not None and isinstance(get_path(value, "a.b[c=d]"), list)
    assert isinstance(extension_values(value, "x"), list)
    assert reference_id(value) is None or isinstance(reference_id(value), str)


def test_codings() -> None:
    concept = {"coding": [{"system": "s", "code": "1", "display": "one"}, {"system": "s"}], "text": "t"}
    assert codings(concept) == [("s", "1", "one")]
    assert codings([concept, {"code": "2"}]) == [("s", "1", "one"), ("", "2", "")]
    assert codings({"concept": concept}) == [("s", "1", "one")]
    assert codings(None) == [] and codings("C34") == []


@pytest.mark.parametrize(
    ("ref", "expected"),
    [
        ({"reference": "Patient/123"}, "123"),
        ("urn:uuid:abc-1", "abc-1"),
        ("urn:oid:1.2.3", "1.2.3"),
        ({"reference": "#med0303"}, "med0303"),
        ("http://x.org/fhir/Patient/7/_history/2", "7"),
        ({"reference": "Practitioner?identifier=http://hl7.org/fhir/sid/us-npi|9"}, None),
        ({"display": "no reference"}, None),
        ("Patient", None),
        ("", None),
        (42, None),
    ],
)
def test_reference_id(ref: Any, expected: str | None) -> None:
    assert reference_id(ref) == expected


def test_get_path() -> None:
    resource = {"a": [{"b": {"c": 1}}, {"b": [{"c": 2}, {"c": None}]}, "x"], "t": [{"k": True, "v": 3}]}
    assert get_path(resource, "a.b.c") == [1, 2]
    assert get_path(resource, "t[k=true].v") == [3]
    assert get_path(resource, "a.missing") == []
    assert get_path([resource, resource], "t.v") == [3, 3]
    for bad in ("", "a..b", "a.", "a[b]"):
        with pytest.raises(ValueError, match="malformed path"):
            get_path(resource, bad)


def test_extension_values() -> None:
    race = {
        "url": "http://hl7.org/fhir/us/core/StructureDefinition/us-core-race",
        "extension": [
            {"url": "ombCategory", "valueCoding": {"system": "urn:oid:2.16.840.1.113883.6.238", "code": "2106-3"}},
            {"url": "text", "valueString": "White"},
        ],
    }
    patient = {"resourceType": "Patient", "extension": [race, {"url": "other", "valueBoolean": False}]}
    assert extension_values(patient, "http://hl7.org/fhir/us/core/StructureDefinition/us-core-race") == []
    assert extension_values(race, "text") == ["White"]
    assert codings(extension_values(race, "ombCategory")) == [("urn:oid:2.16.840.1.113883.6.238", "2106-3", "")]
    assert extension_values(patient, "other") == [False]
    assert extension_values("junk", "other") == []


@pytest.mark.shared
@pytest.mark.skipif(
    not (SHARED_FHIR / "Condition-mCODEPrimaryCancerConditionExample01.json").is_file(), reason=SKIP_REASON
)
def test_helpers_on_a_real_mcode_condition() -> None:
    [record] = read(SHARED_FHIR / "Condition-mCODEPrimaryCancerConditionExample01.json")
    assert isinstance(record, Record)
    histology = codings(extension_values(record.fields, "mcode-histology-morphology-behavior"))
    assert histology and histology[0][0] == "http://snomed.info/sct"
    assert get_path(record.fields, "code.coding[system=http://snomed.info/sct].code")
    assert reference_id(record.fields["subject"]) == "mCODEPatientExample01"
