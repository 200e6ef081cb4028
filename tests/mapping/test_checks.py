"""Values the engine must not store as they come: impossible TNM values, diagnoses no cancer concept reaches, and
columns a table does not have; what the mapping alone says about properties the CDM requires."""

from __future__ import annotations

from pathlib import Path

import pytest

from hyperontology import Hyperontology
from hyperontology.mapping import transforms
from hyperontology.mapping.checks import (
    COLUMN_MISSING,
    NOT_CANCER,
    NOT_TNM,
    UNKNOWN_CODE,
    TnmAxes,
    missing_columns,
)
from hyperontology.mapping.dryrun import check_mappings, required_properties
from hyperontology.mapping.engine import Mapper, MappingOutcome
from hyperontology.mapping.loader import MappingSet, default_mappings_dir
from hyperontology.mapping.model import load_mapping
from hyperontology.prefixes import curie_to_iri
from hyperontology.pseudonymize.keys import PseudonymKey
from hyperontology.sources.base import Provenance, Record

KEY = PseudonymKey(bytes(range(32)))
STAGING = """\
mapping: staging
version: "1"
source: csv
entities:
  - name: stage
    select: {entity: clinical}
    class: cdm:CancerStage
    id: {value: id, domain: stage}
    fields:
      - {property: cdm:patient, value: id, link: patient, required: true}
      - {property: cdm:tnmT, value: t, transform: tnm, datatype: iri}
      - {property: cdm:tnmN, value: n, transform: tnm, datatype: iri}
      - {property: cdm:tnmM, value: m, transform: tnm, datatype: iri}
      - {property: cdm:stageGroup, value: stage, transform: tnm, datatype: iri}
  - name: diagnosis
    select: {entity: clinical}
    class: cdm:Diagnosis
    id: {value: id, domain: condition}
    fields:
      - {property: cdm:patient, value: id, link: patient, required: true}
      - {property: cdm:diagnosisCode, value: icd, transform: "code(ICD10)", datatype: iri, required: true}
      - {property: cdm:ageAtDiagnosis, value: "Age (years)", datatype: xsd:decimal}
"""


def run(tmp_path: Path, onto: Hyperontology, rows: list[dict[str, str]]) -> MappingOutcome:
    path = tmp_path / "staging.yaml"
    path.write_text(STAGING)
    spec = load_mapping(path, transforms=transforms.names(), valuemaps=set())
    blank = dict.fromkeys(("id", "t", "n", "m", "stage", "icd", "Age (years)"), "")  # a table has every column
    records = [Record("csv", "clinical", {**({} if "Age  (years)" in row else blank), **row},
                      Provenance("/in/clinical.csv", f"row {i}")) for i, row in enumerate(rows)]
    return Mapper([spec], key=KEY, valuemaps={}, ontology=onto, shift_dates=False).apply(records)


def stored(outcome: MappingOutcome, prop: str) -> list[str]:
    iri = curie_to_iri(prop)
    return [q.object.value for e in outcome.entities for q in e.quads if q.predicate.value == iri]


@pytest.mark.parametrize(
    ("prop", "code", "valid"),
    [("cdm:tnmT", "T2a", True), ("cdm:tnmT", "Tis", True), ("cdm:tnmT", "TX", True), ("cdm:tnmN", "N3b", True),
     ("cdm:tnmM", "M1c", True), ("cdm:tnmM", "MX", True), ("cdm:stageGroup", "IVA", True),
     ("cdm:stageGroup", "0", True), ("cdm:tnmT", "T5", False), ("cdm:tnmN", "N4", False),
     ("cdm:tnmM", "M3", False), ("cdm:tnmT", "N1", False), ("cdm:tnmN", "T2", False), ("cdm:stageGroup", "T2", False),
     ("cdm:tnmT", "IIIA", False)],
)
def test_tnm_axes_come_from_the_tnm_scheme(onto: Hyperontology, prop: str, code: str, valid: bool) -> None:
    assert (TnmAxes(onto).problem(prop, f"TNM:{code}") is None) is valid


def test_tnm_checks_only_tnm_codes_of_tnm_properties(onto: Hyperontology) -> None:
    axes = TnmAxes(onto)
    assert axes.problem("cdm:diagnosisCode", "TNM:T5") is None
    assert axes.problem("cdm:tnmT", "SCT:1228889001") is None  # other terminologies' staging: the shapes decide


def test_impossible_tnm_values_are_left_out_with_a_clear_note(tmp_path: Path, onto: Hyperontology) -> None:
    rows = [{"id": "1", "t": "cT5", "n": "N4", "m": "M3", "stage": "iva", "icd": "C34.1", "Age (years)": "60"},
            {"id": "2", "t": "T2", "n": "N1", "m": "MX", "stage": "3C", "icd": "C34.1", "Age (years)": "61"}]
    outcome = run(tmp_path, onto, rows)
    tnm = "https://w3id.org/hyperontology/tnm/"
    assert stored(outcome, "cdm:tnmT") == [tnm + "T2"]  # never tnm/T5
    assert stored(outcome, "cdm:tnmN") == [tnm + "N1"]
    assert stored(outcome, "cdm:tnmM") == [tnm + "MX"]  # a real category of earlier editions: kept, reported
    first = next(e for e in outcome.entities if e.rule == "staging/stage")
    assert "cdm:tnmT: T5 is not a TNM T category (the TNM scheme's: T0, T1, T2, T3, T4, TX, Ta, Tis, and their " \
           "subdivisions)" in first.notes
    assert any(n.startswith("cdm:tnmN: N4 is not a TNM N category") for n in first.notes)
    assert any(n.startswith("cdm:tnmM: M3 is not a TNM M category") for n in first.notes)
    assert not first.problems  # the fields are optional: the stage loads without them
    assert outcome.unknown_codes == {"TNM:MX": 1}  # T5, N4, M3 are not "codes the hyperontology lacks"
    assert outcome.field_problems[("staging/stage cdm:tnmT (t)", NOT_TNM)] == 1
    assert outcome.field_problems[("staging/stage cdm:tnmM (m)", UNKNOWN_CODE)] == 1


def test_a_diagnosis_no_cancer_concept_reaches_is_kept_and_counted(tmp_path: Path, onto: Hyperontology) -> None:
    assert "ICD10:J45" in onto  # asthma: a known code, but no cancer
    rows = [{"id": "1", "icd": "C34.1", "Age (years)": "1"}, {"id": "2", "icd": "J45", "Age (years)": "2"},
            {"id": "3", "icd": "J45", "Age (years)": "3"}]
    outcome = run(tmp_path, onto, rows)
    assert len(stored(outcome, "cdm:diagnosisCode")) == 3
    assert outcome.field_problems == {("staging/diagnosis cdm:diagnosisCode (icd)", NOT_CANCER): 2}
    assert dict(outcome.field_examples[("staging/diagnosis cdm:diagnosisCode (icd)", NOT_CANCER)]) == {"ICD10:J45": 2}


def test_a_misspelled_column_is_noted_with_the_nearest_header(tmp_path: Path, onto: Hyperontology) -> None:
    rows = [{"id": str(i), "t": "", "n": "", "m": "", "stage": "", "icd": "C34.1", "Age  (years)": "60"}
            for i in range(3)]  # two spaces in the header
    outcome = run(tmp_path, onto, rows)
    (missing,) = outcome.missing_columns
    assert missing.column == "Age (years)" and missing.suggestion == "Age  (years)"
    assert str(missing).endswith("[column] staging/diagnosis cdm:ageAtDiagnosis (Age (years)): column "
                                 "'Age (years)' is not in table clinical.csv; did you mean 'Age  (years)'?")
    assert outcome.field_problems[("staging/diagnosis cdm:ageAtDiagnosis (Age (years))", COLUMN_MISSING)] == 3


def test_missing_columns_cover_ids_conditions_units_and_code_systems(tmp_path: Path) -> None:
    path = tmp_path / "m.yaml"
    path.write_text("""\
mapping: m
version: "1"
source: csv
entities:
  - name: diagnosis
    select: {entity: "cond*", when: {field: kind, equals: cancer}}
    class: cdm:Diagnosis
    id: {value: [cid, condition_id], domain: condition}
    fields:
      - {property: cdm:patient, value: mrn, link: patient}
      - {property: cdm:diagnosisCode, value: code, transform: "code_in_system(system)", datatype: iri}
      - {property: cdm:maximumDimension, value: size, datatype: xsd:decimal, unit: {from_field: unit, to: mm}}
""")
    spec = load_mapping(path, transforms=transforms.names(), valuemaps=set())
    found = missing_columns([spec], "/in/conditions.csv", "conditions", ["condition_id", "mrn", "code", "size"])
    assert sorted(c.column for c in found["m/diagnosis"]) == ["kind", "system", "unit"]
    assert missing_columns([spec], "/in/other.csv", "other", []) == {}  # a table the rule does not select


OLD_TEMPLATE_PATIENT = """\
mapping: old
version: "1"
source: csv
entities:
  - name: patient
    select: {entity: tumour_registry}
    class: cdm:Patient
    id: {value: patient_number, domain: patient}
    fields:
      - {property: cdm:gender, value: sex, valuemap: dicom-sex}
"""


def test_a_patient_rule_without_its_identifier_is_an_error(tmp_path: Path) -> None:
    assert ("https://w3id.org/hyperontology/cdm#patientIdentifier", "Violation") in [
        p[:2] for p in required_properties()["https://w3id.org/hyperontology/cdm#Patient"]]
    path = tmp_path / "old.yaml"
    path.write_text(OLD_TEMPLATE_PATIENT)
    (error,) = check_mappings(MappingSet.from_files([path])).errors
    assert error.startswith(f"{path}:5: [required] old/patient (cdm:Patient) has no field for cdm:patientIdentifier: "
                            "every instance would be quarantined at ingest")


def test_the_shipped_mappings_and_the_template_fill_every_required_property() -> None:
    shipped = default_mappings_dir()
    assert check_mappings(MappingSet.load(shipped)).errors == []
    assert check_mappings(MappingSet.from_files([shipped / "templates" / "clinical-csv.yaml"])).errors == []
