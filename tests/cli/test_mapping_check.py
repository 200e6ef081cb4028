"""`hyperontology mapping check MAPPING DATA...`: a dry run that reads the data and reports what ingest would lose."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest

from hyperontology.cli.main import main
from hyperontology.mapping.checks import AMBIGUOUS_DATE, NOT_A_DATE, NOT_A_NUMBER, NOT_IN_VALUEMAP, NOT_TNM

CLINICAL = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "clinical"
COHORT_MAPPINGS = Path(__file__).resolve().parents[1] / "cohort_tables"
LUNG, HEAD_NECK = CLINICAL / "lung-scc-samsung.csv", CLINICAL / "head-neck-radiomics-hn1-clinical.csv"

MAPPING = """\
mapping: registry
version: "1"
source: csv
entities:
  - name: patient
    select: {{entity: registry}}
    class: cdm:Patient
    id: {{value: id, domain: patient}}
    fields:
      - {{property: cdm:patientIdentifier, value: id, pseudonym: patient}}
      - {{property: cdm:gender, value: sex, valuemap: fhir-gender}}
      - {{property: cdm:birthDate, value: born, transform: "{date}", datatype: xsd:date}}
  - name: diagnosis
    select: {{entity: registry}}
    class: cdm:Diagnosis
    id: {{value: id, domain: condition}}
    fields:
      - {{property: cdm:patient, value: id, link: patient, required: true}}
      - {{property: cdm:diagnosisCode, value: icd, transform: "code(ICD10)", datatype: iri, required: true}}
      - {{property: cdm:ageAtDiagnosis, value: "{age}", datatype: xsd:decimal}}
  - name: stage
    select: {{entity: registry}}
    class: cdm:CancerStage
    id: {{value: id, domain: stage}}
    fields:
      - {{property: cdm:patient, value: id, link: patient, required: true}}
      - {{property: cdm:diagnosis, value: id, link: condition}}
      - {{property: cdm:tnmT, value: t, transform: tnm, datatype: iri}}
      - {{property: cdm:tnmN, value: n, transform: tnm, datatype: iri}}
      - {{property: cdm:tnmM, value: m, transform: tnm, datatype: iri}}
"""
HEADER = ["id", "sex", "born", "icd", "Age at diagnosis (years)", "t", "n", "m"]
GOOD_ROWS = [["P1", "female", "31/10/98", "C34.1", "61", "T2", "N1", "M0"],
             ["P2", "male", "1998-10-31", "C32.9", "70", "T4a", "N0", "M1"]]


def write(tmp_path: Path, rows: list[list[str]], *, date: str = "date(day-first)",
          age: str = "Age at diagnosis (years)") -> tuple[Path, Path]:
    (tmp_path / "maps").mkdir(exist_ok=True)
    mapping = tmp_path / "maps" / "registry.yaml"
    mapping.write_text(MAPPING.format(date=date, age=age))
    table = tmp_path / "registry.csv"
    with table.open("w", newline="") as stream:
        csv.writer(stream).writerows([HEADER, *rows])
    return mapping, table


def check(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict[str, Any]]:
    status = main(["mapping", "check", *argv, "--json"])
    return status, json.loads(capsys.readouterr().out)


def problems(data: dict[str, Any], field: str) -> dict[str, Any]:
    return {kind: p["count"] for kind, p in data["fields"][field]["problems"].items()}


def test_a_clean_table_passes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    mapping, table = write(tmp_path, GOOD_ROWS)
    status, data = check(capsys, str(mapping), str(table))
    assert (status, data["errors"], data["warnings"]) == (0, [], [])
    assert data["mappings"] == ["registry@1"]


def test_a_misspelled_column_is_an_error_with_did_you_mean(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # before: mapping check said OK and ingest added nothing, noting nothing
    mapping, table = write(tmp_path, GOOD_ROWS, age="Age at diagnosis  (years)")
    assert main(["mapping", "check", str(mapping), str(table)]) == 1
    out = capsys.readouterr().out
    assert (f"error: {mapping}:20: [column] registry/diagnosis cdm:ageAtDiagnosis (Age at diagnosis  (years)): "
            "column 'Age at diagnosis  (years)' is not in table registry.csv; did you mean "
            "'Age at diagnosis (years)'?") in out
    assert out.splitlines()[-1] == "1 errors, 0 warnings"


@pytest.mark.parametrize("where", ["after mapping", "after check", "between paths", "at the end"])
def test_json_is_json_only_wherever_it_is_placed(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                 where: str) -> None:
    mapping, table = write(tmp_path, GOOD_ROWS, age="Age")
    m, t = str(mapping), str(table)
    argv = {"after mapping": ["mapping", "--json", "check", m, t], "after check": ["mapping", "check", "--json", m, t],
            "between paths": ["mapping", "check", m, "--json", t], "at the end": ["mapping", "check", m, t, "--json"]}
    assert main(argv[where]) == 1
    data = json.loads(capsys.readouterr().out)  # nothing before or after the JSON
    assert data["errors"][0].endswith("column 'Age' is not in table registry.csv")


def test_dates_that_read_two_ways_or_not_at_all_are_counted_per_field(tmp_path: Path,
                                                                     capsys: pytest.CaptureFixture[str]) -> None:
    rows = [[f"P{i}", "female", born, "C34.1", "60", "T1", "N0", "M0"]
            for i, born in enumerate(["31/10/98", "03/04/98", "03/04/98", "unknown", "1998-10-31"])]
    mapping, table = write(tmp_path, rows, date="date")
    status, data = check(capsys, str(mapping), str(table))
    field = "registry/patient cdm:birthDate (born)"
    assert status == 1 and problems(data, field) == {AMBIGUOUS_DATE: 2, NOT_A_DATE: 1}
    assert data["fields"][field]["values"] == 5
    assert data["fields"][field]["problems"][AMBIGUOUS_DATE]["examples"] == {"03/04/98": 2}
    assert any(e.startswith(f"{field}: 2 ambiguous date") and "date(day-first)" in e for e in data["errors"])
    assert any(w.startswith(f"{field}: 1 not a date, e.g. 'unknown' (1)") for w in data["warnings"])
    # the field says how it writes its dates: nothing ambiguous any more
    mapping, table = write(tmp_path, rows, date="date(day-first)")
    status, data = check(capsys, str(mapping), str(table))
    assert status == 0 and problems(data, field) == {NOT_A_DATE: 1}


def test_a_field_none_of_whose_values_parses_is_an_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # before: a date form the reader did not know dropped every date of the table, and nobody was told
    rows = [[f"P{i}", "female", f"{i + 10}/10/98", "C34.1", "60", "", "", ""] for i in range(4)]
    mapping, table = write(tmp_path, rows, date="date(%Y-%m-%d)")
    status, data = check(capsys, str(mapping), str(table))
    assert status == 1
    (error,) = data["errors"]
    assert error.startswith("registry/patient cdm:birthDate (born): 4 not a date")
    assert error.endswith("(no value of the field is usable)")


def test_tnm_numbers_value_maps_and_cancer_codes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rows = [["P1", "femme", "31/10/98", "C34.1", "n/a", "T5", "N4", "M3"],
            ["P2", "femme", "31/10/98", "J45", "60", "T2", "N1", "M0"],
            ["P3", "female", "31/10/98", "C34.1", "61", "T1", "N0", "M0"]]
    mapping, table = write(tmp_path, rows)
    status, data = check(capsys, str(mapping), str(table))
    assert status == 1
    for axis, code in (("t", "T5"), ("n", "N4"), ("m", "M3")):
        field = f"registry/stage cdm:tnm{axis.upper()} ({axis})"
        assert problems(data, field) == {NOT_TNM: 1}
        assert any(e.startswith(f"{field}: 1 {NOT_TNM}, e.g. 'TNM:{code}' (1)") for e in data["errors"])
    gender = "registry/patient cdm:gender (sex)"
    assert data["fields"][gender]["problems"][NOT_IN_VALUEMAP]["examples"] == {"femme": 2}
    assert data["unmapped_values"] == {"fhir-gender\tfemme": 2}
    assert problems(data, "registry/diagnosis cdm:ageAtDiagnosis (Age at diagnosis (years))") == {NOT_A_NUMBER: 1}
    assert any(w.startswith("registry/diagnosis cdm:diagnosisCode (icd): 1 diagnosis no cancer concept reaches "
                            "(kept), e.g. 'ICD10:J45'") for w in data["warnings"])


def test_without_data_the_required_properties_are_checked(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    mapping, _ = write(tmp_path, [])
    mapping.write_text(mapping.read_text().replace(
        "      - {property: cdm:patientIdentifier, value: id, pseudonym: patient}\n", ""))
    assert main(["mapping", "check", str(mapping)]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "1 mapping files valid: registry@1"
    assert out[1] == (f"error: {mapping}:5: [required] registry/patient (cdm:Patient) has no field for "
                      "cdm:patientIdentifier: every instance would be quarantined at ingest (A cdm:Patient needs "
                      "exactly one cdm:patientIdentifier (its pseudonymised identifier).)")


def test_without_data_the_shipped_mappings_check_as_before(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["mapping", "check"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("3 mapping files valid: ") and out[-1] == "0 errors, 0 warnings"


def test_a_date_form_the_reader_does_not_know_is_a_mapping_error(tmp_path: Path,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    mapping, table = write(tmp_path, GOOD_ROWS, date="date(dd/mm/yy)")
    assert main(["mapping", "check", str(mapping), str(table)]) == 2
    assert f"{mapping}:12: [transform] date(dd/mm/yy): 'dd/mm/yy' is neither a named form" in capsys.readouterr().err


def test_a_template_entity_left_unchanged_is_a_warning(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    mapping, table = write(tmp_path, GOOD_ROWS)
    table.rename(tmp_path / "export.csv")
    status, data = check(capsys, str(mapping), str(tmp_path / "export.csv"))
    assert status == 0
    assert data["warnings"][0].startswith(f"{mapping}: [select] no rule of registry selects a record of the data "
                                          "(csv entities: export)")
    assert data["records_not_mapped"] == {"csv:export": 2}


# ------------------------------------------------------------------------------------------ real tables
@pytest.fixture()
def clinical() -> Path:
    if not (LUNG.is_file() and HEAD_NECK.is_file()):
        pytest.skip(f"needs the public clinical tables {LUNG.name} and {HEAD_NECK.name} in {CLINICAL} "
                    "(../shared/data, absent here)")
    return CLINICAL


def test_the_curated_real_tables_check_clean(clinical: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, data = check(capsys, "--mappings", str(COHORT_MAPPINGS), str(LUNG), str(HEAD_NECK))
    assert (status, data["errors"], data["warnings"]) == (0, [], [])


def test_the_lung_tables_stage_codes_are_not_tnm_categories(clinical: Path, tmp_path: Path,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    # cN holds 1-4 and cM 1 and 3: codes of the article's codebook. Read as TNM they give N4 and M3
    text = (COHORT_MAPPINGS / "lung-scc-samsung.yaml").read_text() + """
  - name: stage
    select: {entity: lung-scc-samsung}
    class: cdm:CancerStage
    id: {value: Index, domain: stage, transform: "prefix(lung-scc-samsung/)"}
    fields:
      - {property: cdm:patient, value: Index, transform: "prefix(lung-scc-samsung/)", link: patient, required: true}
      - {property: cdm:diagnosis, value: Index, transform: "prefix(lung-scc-samsung/)", link: condition}
      - {property: cdm:tnmT, value: cT, transform: ["prefix(T)", tnm], datatype: iri}
      - {property: cdm:tnmN, value: cN, transform: ["prefix(N)", tnm], datatype: iri}
      - {property: cdm:tnmM, value: cM, transform: ["prefix(M)", tnm], datatype: iri}
"""
    (tmp_path / "lung.yaml").write_text(text)
    (tmp_path / "valuemaps").symlink_to(COHORT_MAPPINGS / "valuemaps")
    with LUNG.open(encoding="utf-8-sig", newline="") as stream:
        rows = list(csv.DictReader(stream))
    status, data = check(capsys, str(tmp_path / "lung.yaml"), str(LUNG))
    assert status == 1
    assert problems(data, "lung-scc-samsung/stage cdm:tnmN (cN)") == {NOT_TNM: sum(r["cN"] == "4" for r in rows)}
    assert problems(data, "lung-scc-samsung/stage cdm:tnmM (cM)") == {NOT_TNM: sum(r["cM"] == "3" for r in rows)}
    assert "lung-scc-samsung/stage cdm:tnmT (cT)" not in data["fields"]  # 1-4 are T categories: not detectable
