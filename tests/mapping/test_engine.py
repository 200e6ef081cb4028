"""The mapping engine on hand-built records: IRIs, pseudonyms, value maps, conditions, units and datatypes."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import pytest

from hyperontology import Hyperontology, load_ontology
from hyperontology.mapping import transforms
from hyperontology.mapping.engine import DATA, EntityResult, Mapper, MappingOutcome
from hyperontology.mapping.model import MappingSpec, load_mapping
from hyperontology.mapping.valuemaps import NO_TERM, ValueMap
from hyperontology.prefixes import curie_to_iri
from hyperontology.pseudonymize.keys import PseudonymKey, normalise_patient_id
from hyperontology.sources.base import Provenance, Record

KEY = PseudonymKey(bytes(range(32)))
OTHER_KEY = PseudonymKey(bytes(32))
SNOMED = "http://snomed.info/sct"
SEX = ValueMap("sex", {
    "F": ("SCT:248152002", "skos:exactMatch", 1.0),
    "M": ("SCT:248153007", "skos:exactMatch", 1.0),
    "U": (NO_TERM, "skos:exactMatch", 1.0),
})
MRN = "MRN-0042-7731"  # raw identifiers: none of them may appear in any quad
STUDY_UID = "1.2.826.0.1.3680043.8.498.10267139402836520397813"
SERIES_UID = "1.2.826.0.1.3680043.8.498.77123409863412098743"

CSV_MAPPING = """\
mapping: test-csv
version: "1"
source: csv
entities:
  - name: patient
    select: {entity: patients}
    class: cdm:Patient
    id: {value: [mrn, patient_number], domain: patient}
    fields:
      - {property: cdm:patientIdentifier, value: [mrn, patient_number], pseudonym: patient}
      - {property: cdm:gender, value: sex, valuemap: sex}
      - {property: cdm:birthDate, value: dob, datatype: xsd:dateTime}
      - {property: cdm:deceased, value: dead, datatype: xsd:boolean}
      - {property: cdm:age, value: age, datatype: xsd:integer}
  - name: diagnosis
    select:
      entity: conditions
      when: {field: code, transform: "code_in_system(system)", under: [SCT:55342001]}
    class: cdm:Diagnosis
    id: {value: condition_id, domain: condition}
    fields:
      - {property: cdm:patient, value: mrn, link: patient, required: true}
      - {property: cdm:diagnosisCode, value: code, transform: "code_in_system(system)", datatype: iri, required: true}
      - {property: cdm:bodySite, value: site, transform: "code(SCT)", datatype: iri}
  - name: history
    select:
      entity: conditions
      when: {field: code, transform: "code_in_system(system)", not_under: [SCT:55342001]}
    class: cdm:MedicalHistory
    id: {value: condition_id, domain: condition}
  - name: stage
    select: {entity: "*staging"}
    class: cdm:CancerStage
    id: {value: $record, domain: stage}
    fields:
      - {property: cdm:tnmT, value: t, transform: tnm, datatype: iri}
  - name: lesion
    select: {entity: lesions}
    class: cdm:Lesion
    id: {value: lesion_id, domain: lesion}
    fields:
      - {property: cdm:sizeMm, value: size, unit: {from: cm, to: mm}, datatype: xsd:decimal}
      - {property: cdm:volume, value: volume, unit: {from_field: volume_unit, to: mL}, datatype: xsd:decimal}
      - {property: cdm:kind, constant: solid, when: {field: kind, equals: S}}
      - {property: cdm:kindIn, constant: yes, when: {field: kind, in: [S, P]}}
      - {property: cdm:hasNote, constant: yes, when: {field: note, exists: true}}
      - {property: cdm:noNote, constant: yes, when: {field: note, exists: false}}
      - {property: cdm:matches, constant: yes, when: {field: kind, matches: "^[SP]$"}}
      - {property: cdm:notMatches, constant: yes, when: {field: kind, not_matches: "^S"}}
"""

FHIR_MAPPING = """\
mapping: test-fhir
version: "1"
source: fhir
entities:
  - name: patient
    select: {entity: Patient}
    class: cdm:Patient
    id: {value: [id, identifier.value], domain: patient}
    fields:
      - {property: cdm:gender, value: gender, valuemap: sex, required: true}
  - name: diagnosis
    select:
      entity: Condition
      when: {field: code.coding, under: [SCT:55342001]}
    class: cdm:Diagnosis
    id: {value: id, domain: condition}
    fields:
      - {property: cdm:patient, value: subject, transform: fhir_reference, link: patient, required: true}
      - {property: cdm:diagnosisCode, value: code, transform: fhir_codes, datatype: iri}
"""

DICOM_MAPPING = """\
mapping: test-dicom
version: "1"
source: dicom
entities:
  - name: series
    select: {entity: series}
    class: cdm:ImageSeries
    id: {value: SeriesInstanceUID, domain: series}
    fields:
      - {property: cdm:patient, value: "(0010,0020)", link: patient, required: true}
      - {property: cdm:studyInstanceUID, value: StudyInstanceUID, pseudonym_uid: study}
      - {property: cdm:seriesInstanceUID, value: "0020000E", pseudonym_uid: series}
      - {property: cdm:sliceThickness, value: SliceThickness, datatype: xsd:decimal}
"""


@pytest.fixture(scope="module")
def ontology() -> Hyperontology:
    return load_ontology()


def spec(tmp_path: Path, text: str, name: str = "mapping.yaml") -> MappingSpec:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return load_mapping(path, transforms=transforms.names(), valuemaps={"sex"})


def mapper(tmp_path: Path, ontology: Hyperontology | None, *texts: str, key: PseudonymKey = KEY,
           shift_dates: bool = False) -> Mapper:
    specs = [spec(tmp_path, text, f"m{i}.yaml") for i, text in enumerate(texts)]
    return Mapper(specs, key=key, valuemaps={"sex": SEX}, ontology=ontology, shift_dates=shift_dates)


def record(source: str, entity: str, fields: Mapping[str, Any], locator: str = "row 1") -> Record:
    return Record(source, entity, fields, Provenance(f"/data/in/{entity}.{source}", locator))


def csv(entity: str, locator: str = "row 1", **fields: str) -> Record:
    return record("csv", entity, fields, locator)


def one(outcome: MappingOutcome, rule: str | None = None) -> EntityResult:
    found = [e for e in outcome.entities if rule is None or e.rule.endswith("/" + rule)]
    assert len(found) == 1, [e.rule for e in outcome.entities]
    return found[0]


def values(result: EntityResult, prop: str) -> list[ox.NamedNode | ox.Literal]:
    wanted = ox.NamedNode(curie_to_iri(prop))
    return [q.object for q in result.quads if q.predicate == wanted]  # type: ignore[misc]


def value(result: EntityResult, prop: str) -> ox.NamedNode | ox.Literal:
    (found,) = values(result, prop)
    return found


def literal(result: EntityResult, prop: str) -> tuple[str, str]:
    found = value(result, prop)
    assert isinstance(found, ox.Literal)
    return found.value, found.datatype.value.rsplit("#", 1)[-1]


def texts(outcome: MappingOutcome) -> list[str]:
    out = []
    for result in outcome.entities:
        for quad in result.quads:
            out += [quad.subject.value, quad.predicate.value, quad.object.value]  # type: ignore[union-attr]
    return out


# --- IRIs and pseudonyms -------------------------------------------------------------------------------------


def test_iris_are_deterministic_per_key(tmp_path: Path) -> None:
    records = [csv("patients", mrn=MRN), csv("patients", mrn="MRN-0043")]
    first = mapper(tmp_path, None, CSV_MAPPING).apply(records)
    again = mapper(tmp_path, None, CSV_MAPPING).apply(records)
    other = mapper(tmp_path, None, CSV_MAPPING, key=OTHER_KEY).apply(records)
    iris = [e.iri for e in first.entities]
    assert iris == [e.iri for e in again.entities]
    assert len(set(iris)) == 2
    assert all(iri.startswith(DATA + "patient/") and re.fullmatch(r"[0-9a-f]{32}", iri.rsplit("/", 1)[1])
               for iri in iris)
    assert not set(iris) & {e.iri for e in other.entities}
    assert {str(q) for e in first.entities for q in e.quads} == {str(q) for e in again.entities for q in e.quads}


def test_raw_identifiers_never_appear(tmp_path: Path, ontology: Hyperontology) -> None:
    m = mapper(tmp_path, ontology, CSV_MAPPING, FHIR_MAPPING, DICOM_MAPPING)
    outcome = m.apply([
        csv("patients", mrn=MRN, sex="F"),
        csv("conditions", mrn=MRN, condition_id="COND-99-17", code="254626006", system=SNOMED),
        record("fhir", "Patient", {"resourceType": "Patient", "id": MRN, "gender": "F"}),
        record("fhir", "Condition", {"resourceType": "Condition", "id": "COND-99-17",
                                     "subject": {"reference": f"Patient/{MRN}"},
                                     "code": {"coding": [{"system": SNOMED, "code": "254626006"}]}}),
        record("dicom", "series", {"PatientID": MRN, "StudyInstanceUID": STUDY_UID, "SeriesInstanceUID": SERIES_UID,
                                   "SliceThickness": 1.25}),
    ])
    assert len(outcome.entities) == 5
    assert all(not e.problems for e in outcome.entities), [e.problems for e in outcome.entities]
    seen = texts(outcome)
    assert seen
    for raw in (MRN, "COND-99-17", STUDY_UID, SERIES_UID, "0042"):
        assert not [t for t in seen if raw in t], raw


def test_same_patient_from_csv_fhir_and_dicom_is_one_node(tmp_path: Path, ontology: Hyperontology) -> None:
    m = mapper(tmp_path, ontology, CSV_MAPPING, FHIR_MAPPING, DICOM_MAPPING)
    outcome = m.apply([
        csv("patients", mrn=MRN),
        record("fhir", "Patient", {"resourceType": "Patient", "identifier": [{"value": MRN}], "gender": "M"}),
        record("fhir", "Condition", {"resourceType": "Condition", "id": "c1",
                                     "subject": {"reference": f"urn:uuid:{MRN}"},
                                     "code": {"coding": [{"system": SNOMED, "code": "254626006"}]}}),
        record("dicom", "series", {"PatientID": MRN, "SeriesInstanceUID": SERIES_UID}),
    ])
    from_csv, from_fhir = (e.iri for e in outcome.entities if e.cls == "cdm:Patient")
    assert from_csv == from_fhir == m.mint("patient", MRN)
    assert value(one(outcome, "diagnosis"), "cdm:patient") == ox.NamedNode(from_csv)
    assert value(one(outcome, "series"), "cdm:patient") == ox.NamedNode(from_csv)


def test_pseudonym_and_pseudonym_uid(tmp_path: Path) -> None:
    outcome = mapper(tmp_path, None, CSV_MAPPING, DICOM_MAPPING).apply([
        csv("patients", mrn=MRN),
        record("dicom", "series", {"PatientID": MRN, "StudyInstanceUID": STUDY_UID, "SeriesInstanceUID": SERIES_UID}),
    ])
    pseudonym, datatype = literal(one(outcome, "patient"), "cdm:patientIdentifier")
    assert datatype == "string"
    assert pseudonym == KEY.pseudonym("patient", normalise_patient_id(MRN))
    assert re.fullmatch(r"[0-9a-f]{32}", pseudonym)
    series = one(outcome, "series")
    study_uid, _ = literal(series, "cdm:studyInstanceUID")
    series_uid, _ = literal(series, "cdm:seriesInstanceUID")
    for uid, raw, domain in ((study_uid, STUDY_UID, "study"), (series_uid, SERIES_UID, "series")):
        assert re.fullmatch(r"2\.25\.(0|[1-9]\d*)", uid), uid
        assert len(uid) <= 64
        assert uid == KEY.uid(domain, raw) != raw
    assert study_uid != series_uid


def test_record_identifier(tmp_path: Path) -> None:
    m = mapper(tmp_path, None, CSV_MAPPING)
    rows = [csv("tnm-staging", "row 1", t="cT2"), csv("tnm-staging", "row 2", t="cT2"),
            csv("tnm-staging", "row 1", t="cT3")]
    first, second, again = m.apply(rows).entities
    assert first.iri == again.iri == m.mint("stage", "tnm-staging.csv|row 1")
    assert first.iri != second.iri
    assert value(first, "cdm:tnmT") == ox.NamedNode(curie_to_iri("TNM:T2"))


def test_value_alternatives(tmp_path: Path) -> None:
    m = mapper(tmp_path, None, CSV_MAPPING)
    by_mrn, by_number, both = m.apply([csv("patients", mrn=MRN), csv("patients", patient_number=MRN),
                                       csv("patients", mrn=" ", patient_number=MRN)]).entities
    assert by_mrn.iri == by_number.iri == both.iri == m.mint("patient", MRN)
    assert literal(by_number, "cdm:patientIdentifier")[0] == KEY.pseudonym("patient", normalise_patient_id(MRN))


def test_no_identifier_is_a_problem(tmp_path: Path) -> None:
    outcome = mapper(tmp_path, None, CSV_MAPPING).apply([csv("patients", sex="F")])
    result = one(outcome)
    assert result.iri == "" and not result.quads
    assert result.problems == ["no identifier: ('mrn', 'patient_number') is empty"]


def test_records_no_rule_selects(tmp_path: Path) -> None:
    rec = csv("encounters", id="1")
    outcome = mapper(tmp_path, None, CSV_MAPPING).apply([rec, record("fhir", "Patient", {"id": "1"})])
    assert outcome.entities == []
    assert len(outcome.unmatched_records) == 2 and outcome.unmatched_records[0] is rec


# --- value maps and codes ------------------------------------------------------------------------------------


def test_value_map(tmp_path: Path, ontology: Hyperontology) -> None:
    outcome = mapper(tmp_path, ontology, CSV_MAPPING).apply([csv("patients", mrn="1", sex=" f ")])
    result = one(outcome)
    assert value(result, "cdm:gender") == ox.NamedNode(curie_to_iri("SCT:248152002"))
    assert not result.notes and not result.problems
    assert not outcome.unmapped and not outcome.unknown_codes


def test_value_not_in_value_map_is_counted(tmp_path: Path) -> None:
    outcome = mapper(tmp_path, None, CSV_MAPPING).apply([
        csv("patients", mrn="1", sex="X"), csv("patients", mrn="2", sex="X"), csv("patients", mrn="3", sex="U")])
    assert outcome.unmapped == {("sex", "X"): 2, ("sex", "U"): 1}
    assert len(outcome.entities) == 3
    for result in outcome.entities:
        assert not result.problems
        assert values(result, "cdm:gender") == []
        assert len(result.quads) == 2  # rdf:type and the pseudonym: the instance still maps
        assert result.notes and "not in value map sex" in result.notes[0]


def test_value_not_in_value_map_when_required_is_a_problem(tmp_path: Path) -> None:
    outcome = mapper(tmp_path, None, FHIR_MAPPING).apply([record("fhir", "Patient", {"id": "p1", "gender": "x"})])
    result = one(outcome)
    assert outcome.unmapped == {("sex", "x"): 1}
    assert result.problems == ["cdm:gender: value 'x' not in value map sex"]


def test_required_value_missing_is_a_problem(tmp_path: Path, ontology: Hyperontology) -> None:
    outcome = mapper(tmp_path, ontology, CSV_MAPPING).apply([
        csv("conditions", condition_id="c1", code="254626006", system=SNOMED)])
    assert one(outcome).problems == ["required cdm:patient missing (mrn)"]


def test_bad_check_digit_is_not_emitted(tmp_path: Path, ontology: Hyperontology) -> None:
    outcome = mapper(tmp_path, ontology, CSV_MAPPING).apply([
        csv("conditions", mrn="1", condition_id="c1", code="254626006", system=SNOMED, site="39607009")])
    result = one(outcome, "diagnosis")
    assert values(result, "cdm:bodySite") == []
    assert result.notes == ["cdm:bodySite: 'SCT:39607009' is not a valid code"]
    assert not result.problems
    assert not outcome.unknown_codes


def test_unknown_valid_code_is_counted_and_kept(tmp_path: Path, ontology: Hyperontology) -> None:
    assert "SCT:123456784" not in ontology
    outcome = mapper(tmp_path, ontology, CSV_MAPPING).apply([
        csv("conditions", mrn="1", condition_id="c1", code="254626006", system=SNOMED, site="123456784"),
        csv("conditions", mrn="1", condition_id="c2", code="254626006", system=SNOMED, site="123456784")])
    assert outcome.unknown_codes == {"SCT:123456784": 2}
    assert all(value(e, "cdm:bodySite") == ox.NamedNode(curie_to_iri("SCT:123456784")) for e in outcome.entities)
    assert all(value(e, "cdm:diagnosisCode") == ox.NamedNode(curie_to_iri("SCT:254626006"))
               for e in outcome.entities)


# --- conditions ----------------------------------------------------------------------------------------------


def test_under_and_not_under(tmp_path: Path, ontology: Hyperontology) -> None:
    m = mapper(tmp_path, ontology, CSV_MAPPING, FHIR_MAPPING)
    assert "SCT:254626006" in m.under(("SCT:55342001",))
    assert "SCT:44054006" not in m.under(("SCT:55342001",))
    outcome = m.apply([
        csv("conditions", mrn="1", condition_id="lung", code="254626006", system=SNOMED),
        csv("conditions", mrn="1", condition_id="diabetes", code="44054006", system=SNOMED),
        csv("conditions", mrn="1", condition_id="local", code="44054006", system="http://example.org/local"),
        record("fhir", "Condition", {"id": "lung", "subject": {"reference": "Patient/1"},
                                     "code": {"coding": [{"system": SNOMED, "code": "254626006"}]}}),
        record("fhir", "Condition", {"id": "diabetes", "subject": {"reference": "Patient/1"},
                                     "code": {"coding": [{"system": SNOMED, "code": "44054006"}]}}),
    ])
    rules = sorted((e.rule, e.record.source, e.record.fields["id" if e.record.source == "fhir" else "condition_id"])
                   for e in outcome.entities)
    assert rules == [("test-csv/diagnosis", "csv", "lung"), ("test-csv/history", "csv", "diabetes"),
                     ("test-csv/history", "csv", "local"), ("test-fhir/diagnosis", "fhir", "lung")]
    assert [r.fields["id"] for r in outcome.unmatched_records] == ["diabetes"]


def test_under_without_an_ontology_selects_nothing(tmp_path: Path) -> None:
    outcome = mapper(tmp_path, None, CSV_MAPPING).apply([
        csv("conditions", mrn="1", condition_id="lung", code="254626006", system=SNOMED)])
    assert [e.rule for e in outcome.entities] == ["test-csv/history"]


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"kind": "S", "note": "x"}, {"kind", "kindIn", "hasNote", "matches"}),
        ({"kind": "P", "note": " "}, {"kindIn", "noNote", "matches", "notMatches"}),
        ({"kind": "Q"}, {"noNote", "notMatches"}),
        ({"kind": " S "}, {"kind", "kindIn", "noNote", "matches"}),
        ({}, {"noNote", "notMatches"}),
    ],
)
def test_field_conditions(tmp_path: Path, fields: dict[str, str], expected: set[str]) -> None:
    result = one(mapper(tmp_path, None, CSV_MAPPING).apply([csv("lesions", lesion_id="l1", **fields)]))
    found = {q.predicate.value.rsplit("#", 1)[-1] for q in result.quads} - {"22-rdf-syntax-ns", "type"}
    assert found == expected


# --- units and datatypes -------------------------------------------------------------------------------------


def test_unit_conversion(tmp_path: Path) -> None:
    outcome = mapper(tmp_path, None, CSV_MAPPING).apply([
        csv("lesions", lesion_id="l1", size="1,5", volume="2", volume_unit="cm3"),
        csv("lesions", lesion_id="l2", size="2.5 cm", volume="2", volume_unit="kg"),
        csv("lesions", lesion_id="l3", size="big")])
    first, second, third = outcome.entities
    size, datatype = literal(first, "cdm:sizeMm")
    assert datatype == "decimal" and float(size) == 15.0
    assert float(literal(first, "cdm:volume")[0]) == 2.0
    assert float(literal(second, "cdm:sizeMm")[0]) == 25.0
    assert values(second, "cdm:volume") == []
    assert second.notes == ["cdm:volume: '2' kg cannot be expressed in mL"]
    assert values(third, "cdm:sizeMm") == []
    assert third.notes == ["cdm:sizeMm: 'big' cm cannot be expressed in mm"]


@pytest.mark.parametrize(
    ("fields", "prop", "expected"),
    [
        ({"age": "47"}, "cdm:age", ("47", "integer")),
        ({"age": "47.0"}, "cdm:age", ("47", "integer")),
        ({"dob": "20200112"}, "cdm:birthDate", ("2020-01-12T00:00:00", "dateTime")),
        ({"dob": "31/01/2020"}, "cdm:birthDate", ("2020-01-31T00:00:00", "dateTime")),  # 12/01/2020 is ambiguous
        ({"dead": "yes"}, "cdm:deceased", ("true", "boolean")),
        ({"dead": "No"}, "cdm:deceased", ("false", "boolean")),
    ],
)
def test_datatypes(tmp_path: Path, fields: dict[str, str], prop: str, expected: tuple[str, str]) -> None:
    result = one(mapper(tmp_path, None, CSV_MAPPING).apply([csv("patients", mrn="1", **fields)]))
    assert literal(result, prop) == expected
    assert not result.notes


@pytest.mark.parametrize(
    ("fields", "note"),
    [
        ({"age": "3.5"}, "cdm:age: '3.5' is not a valid xsd:integer"),
        ({"age": "old"}, "cdm:age: 'old' is not a valid xsd:integer"),
        ({"dob": "2020-13-45"}, "cdm:birthDate: '2020-13-45' is not a valid xsd:dateTime"),
        ({"dead": "perhaps"}, "cdm:deceased: 'perhaps' is not a valid xsd:boolean"),
    ],
)
def test_datatype_rejects(tmp_path: Path, fields: dict[str, str], note: str) -> None:
    result = one(mapper(tmp_path, None, CSV_MAPPING).apply([csv("patients", mrn="1", **fields)]))
    assert result.notes == [note]
    assert len(result.quads) == 2  # rdf:type and the pseudonym


def test_dicom_tags_and_decimal(tmp_path: Path) -> None:
    outcome = mapper(tmp_path, None, DICOM_MAPPING).apply([
        record("dicom", "series", {"PatientID": "p", "SeriesInstanceUID": SERIES_UID, "SliceThickness": "0.625"})])
    result = one(outcome)
    assert value(result, "cdm:patient") == ox.NamedNode(DATA + "patient/" + KEY.pseudonym("patient", "p"))
    assert literal(result, "cdm:sliceThickness") == ("0.625", "decimal")
    assert literal(result, "cdm:seriesInstanceUID")[0] == KEY.uid("series", SERIES_UID)


def test_dates_shift_by_the_patients_keyed_offset(tmp_path: Path) -> None:
    text = """mapping: m
version: "1"
source: csv
entities:
  - name: p
    select: {entity: t}
    class: cdm:Patient
    id: {value: mrn, domain: patient}
    fields:
      - {property: cdm:birthDate, value: dob, datatype: xsd:dateTime}
  - name: d
    select: {entity: t}
    class: cdm:Diagnosis
    id: {value: cid, domain: condition}
    fields:
      - {property: cdm:patient, value: mrn, link: patient}
      - {property: cdm:assertedDate, value: seen, datatype: xsd:dateTime}
"""
    record = Record("csv", "t", {"mrn": " AB 1 ", "cid": "c1", "dob": "1970-01-01", "seen": "2020-06-30"},
                    Provenance("t.csv", "row 1"))
    out = mapper(tmp_path, None, text, shift_dates=True).apply([record])
    dates = {q.predicate.value.rsplit("#", 1)[-1]: q.object.value for e in out.entities for q in e.quads
             if isinstance(q.object, ox.Literal)}
    from datetime import date
    born, seen = date.fromisoformat(dates["birthDate"][:10]), date.fromisoformat(dates["assertedDate"][:10])
    assert (seen - born) == (date(2020, 6, 30) - date(1970, 1, 1))  # the interval survives
    assert born != date(1970, 1, 1)  # the date itself does not
    assert (date(1970, 1, 1) - born).days == -KEY.date_offset_days("ab 1")
