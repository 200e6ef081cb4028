"""`hyperontology ingest` leaves nothing out unseen: per-field counts in the summary it prints, impossible TNM values
rejected with a note, a misspelled column noted, capped report lists saying how many more; the template ingests."""

from __future__ import annotations

import contextlib
import csv
import io
import json
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from hyperontology.cli.main import main
from hyperontology.mapping.loader import default_mappings_dir

KEY = "ab" * 32
MAPPING = """\
mapping: reg
version: "1"
source: csv
entities:
  - name: patient
    select: {entity: clinical}
    class: cdm:Patient
    id: {value: id, domain: patient}
    fields:
      - {property: cdm:patientIdentifier, value: id, pseudonym: patient}
      - {property: cdm:gender, value: sex, valuemap: fhir-gender}
      - {property: cdm:birthDate, value: born, transform: date, datatype: xsd:date}
  - name: stage
    select: {entity: clinical}
    class: cdm:CancerStage
    id: {value: id, domain: stage}
    fields:
      - {property: cdm:patient, value: id, link: patient, required: true}
      - {property: cdm:tnmT, value: t, transform: tnm, datatype: iri}
      - {property: cdm:ageAtDiagnosis, value: "Age (years)", datatype: xsd:decimal}
"""
ROWS = 510


@dataclass(frozen=True)
class Run:
    status: int
    out: str
    err: str
    report: dict[str, Any]
    store: Path


def run_cli(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with pytest.MonkeyPatch.context() as patch, contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        patch.setenv("HYPERONTOLOGY_KEY", KEY)
        status = main(argv)
    return status, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Run]:
    folder = tmp_path_factory.mktemp("ingest")
    (folder / "maps" / "valuemaps").mkdir(parents=True)
    (folder / "maps" / "reg.yaml").write_text(MAPPING)
    (folder / "maps" / "valuemaps" / "fhir-gender.sssom.tsv").write_text(
        "subject_id\tpredicate_id\tobject_id\nfemale\tskos:exactMatch\tSCT:248152002\n")
    with (folder / "clinical.csv").open("w", newline="") as stream:
        table = csv.writer(stream)
        table.writerow(["id", "sex", "born", "t", "Age  (years)"])  # two spaces: not the mapping's column
        for i in range(ROWS):
            born = ("03/04/98", "31/10/98")[i % 2] if i < 10 else "unknown"  # 5 ambiguous, 500 not a date
            table.writerow([f"P{i}", "female", born, "T5" if i == 0 else "T2", "60"])
    report = folder / "report.json"
    status, out, err = run_cli(["ingest", str(folder / "clinical.csv"), "--mappings", str(folder / "maps"),
                                "--store", str(folder / "store"), "--report", str(report), "--quiet"])
    yield Run(status, out, err, json.loads(report.read_text()), folder / "store")


def test_failures_are_counted_per_field_in_the_summary(run: Run) -> None:
    assert run.status == 0, run.err
    assert ("  reg/patient cdm:birthDate (born): 5 ambiguous date, 500 not a date" in run.out.splitlines())
    assert "  reg/stage cdm:tnmT (t): 1 not a TNM category of its axis" in run.out.splitlines()
    assert run.report["field_problems"]["reg/patient cdm:birthDate (born)"] == {"ambiguous date": 5,
                                                                                 "not a date": 500}


def test_a_misspelled_column_is_noted(run: Run) -> None:
    # before: ingest added nothing for the column and noted nothing
    note = ("[column] reg/stage cdm:ageAtDiagnosis (Age (years)): column 'Age (years)' is not in table clinical.csv; "
            "did you mean 'Age  (years)'?")
    assert any(line.startswith("note: ") and line.endswith(note) for line in run.out.splitlines())
    assert run.report["notes"][0]["note"].endswith(note)
    assert run.report["field_problems"]["reg/stage cdm:ageAtDiagnosis (Age (years))"] == {
        "column not in the table": ROWS}


def test_impossible_tnm_values_are_rejected_not_stored(run: Run) -> None:
    exported = run.store.with_name("data.nt")
    status, _, _ = run_cli(["export", "--store", str(run.store), "--format", "nt", "-o", str(exported)])
    out = exported.read_text()
    assert status == 0
    assert "/tnm/T2>" in out and "/tnm/T5>" not in out
    assert "TNM:T5" not in run.report["unknown_codes"]  # not the warning meant for real codes the ontology lacks
    notes = [n["note"] for n in run.report["notes"]]
    assert "cdm:tnmT: T5 is not a TNM T category (the TNM scheme's: T0, T1, T2, T3, T4, TX, Ta, Tis, and their " \
           "subdivisions)" in notes
    assert run.report["totals"]["quarantined"] == 0  # an optional field: the stage loads without it


def test_capped_report_lists_say_how_many_more(run: Run) -> None:
    # 1 column note + 5 ambiguous + 500 unparsable dates + 1 TNM note = 507 notes, 500 listed
    assert len(run.report["notes"]) == 500 and run.report["notes_more"] == 7
    assert run.report["quarantined_more"] == 0
    # every stage lacks its cdm:diagnosis (a SHACL warning): 510 results, 500 listed
    violations = run.report["violations"]
    assert sum(violations["by_shape"].values()) == ROWS
    assert len(violations["items"]) == 500 and violations["items_more"] == ROWS - 500
    assert "the report lists the first 500 of: notes (7 more), violations (10 more)" in run.out


def test_a_curators_value_map_replaces_the_shipped_one_with_a_note(run: Run) -> None:
    assert "note: value map 'fhir-gender': " in run.err and " replaces " in run.err


TEMPLATE_ROWS = [
    ["patient_number", "tumour_id", "sex", "icd10", "icdo3_morphology", "date_of_diagnosis", "age"],
    ["P1", "T1", "F", "C50.4", "8500/3", "31/10/98", "61"],
    ["P2", "T2", "M", "C61", "8140/3", "03/04/2021", "70"],
    ["P3", "T3", "F", "C34.1", "8070/3", "1999-01-02", "58"],
]


def test_the_template_checks_clean_and_no_patient_is_quarantined(tmp_path: Path) -> None:
    # before: the template had no cdm:patientIdentifier and every patient was quarantined at ingest
    (tmp_path / "maps").mkdir()
    mapping = tmp_path / "maps" / "my-registry.yaml"
    shutil.copy(default_mappings_dir() / "templates" / "clinical-csv.yaml", mapping)
    table = tmp_path / "tumour_registry.csv"
    with table.open("w", newline="") as stream:
        csv.writer(stream).writerows(TEMPLATE_ROWS)
    status, out, err = run_cli(["mapping", "check", "--json", str(mapping), str(table)])
    data = json.loads(out)
    assert (status, data["errors"], data["warnings"]) == (0, [], []), err
    report = tmp_path / "report.json"
    status, out, err = run_cli(["ingest", str(table), "--mappings", str(tmp_path / "maps"),
                                "--store", str(tmp_path / "store"), "--report", str(report), "--quiet"])
    assert status == 0, err
    totals = json.loads(report.read_text())["totals"]
    assert totals["quarantined"] == 0 and totals["loaded"] == 3
    assert totals["instances"] == {"cdm:Diagnosis": 3, "cdm:Patient": 3}
    assert "values left out or flagged" not in out
