"""Regressions found by fuzzing ingest (``bench/fuzz_ingest.py``, ``tests/fuzz``): whatever an input holds, and
whatever its file is called, it ends loaded, quarantined, not mapped or rejected with a reason, and the run goes on.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import pydicom
import pytest
from pydicom.data import get_testdata_file
from pydicom.uid import generate_uid

from hyperontology import Hyperontology
from hyperontology.mapping.engine import Mapper, MappingOutcome
from hyperontology.mapping.loader import MappingSet, default_mappings_dir
from hyperontology.ontology.closure import subsumption_triples
from hyperontology.ontology.files import bundled_dir, module_files
from hyperontology.ontology.schemes import VERSION
from hyperontology.pipeline import IngestOptions, ingest
from hyperontology.pseudonymize.keys import PseudonymKey
from hyperontology.sources.base import Provenance, Rejection, utf8_safe
from hyperontology.sources.tabular import CsvSource
from hyperontology.store.oxigraph import NodeStore

KEY = PseudonymKey(bytes(range(32)))
PATIENTS = default_mappings_dir().parent / "samples" / "clinical" / "patient-information.csv"
LATIN1_NAME = os.fsdecode(b"caf\xe9-patient-information.csv")  # a Latin-1 file name on a UTF-8 system


@pytest.fixture(scope="module")
def template(onto: Hyperontology, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An empty store with the ontology graph loaded (once: it takes most of a first ingest)."""
    path = tmp_path_factory.mktemp("template") / "store"
    with NodeStore(path) as node:
        node.ensure_ontology(module_files(bundled_dir()), VERSION, subsumption_triples(onto))
    return path


def run(template: Path, tmp_path: Path, paths: list[Path], onto: Hyperontology) -> dict[str, Any]:
    store = shutil.copytree(template, tmp_path / "store")
    options = IngestOptions(key=KEY, mappings=MappingSet.load(default_mappings_dir()), store_path=store)
    report = ingest(paths, options, ontology=onto)
    json.dumps(report, ensure_ascii=False).encode("utf-8")  # the CLI writes it so: it must not fail
    return report


def entry(report: dict[str, Any], path: Path) -> dict[str, Any]:
    """The report's account of one input file, checked to account for every record."""
    found: dict[str, Any]
    [found] = [e for e in report["inputs"] if e["path"] == utf8_safe(str(path))]
    assert found["loaded"] + found["quarantined"] + found["not_mapped"] == found["records"]
    assert found["records"] or found["rejected"]
    assert all(r["reason"] for r in found["rejected"])
    return found


def latin1_file(directory: Path, data: bytes) -> Path:
    path = directory / LATIN1_NAME
    try:
        path.write_bytes(data)
    except (OSError, UnicodeEncodeError):
        pytest.skip("the file system takes only UTF-8 file names")
    return path


def test_provenance_and_reasons_are_utf8() -> None:
    where = Provenance(LATIN1_NAME, "row 1")
    assert where.path == "caf\\xe9-patient-information.csv"
    assert Rejection(where, f"{LATIN1_NAME}: empty").reason == "caf\\xe9-patient-information.csv: empty"
    str(where).encode("utf-8")
    assert Provenance("café.csv").path == "café.csv"


def test_rows_of_a_file_whose_name_is_not_utf8_can_be_pseudonymised(tmp_path: Path) -> None:
    path = latin1_file(tmp_path, PATIENTS.read_bytes())
    records = list(CsvSource().read(path))
    assert records and all(r.provenance.path == utf8_safe(str(path)) for r in records)
    KEY.pseudonym("source", str(records[0].provenance))  # raised UnicodeEncodeError: surrogates not allowed


def test_ingest_of_a_file_whose_name_is_not_utf8(template: Path, tmp_path: Path, onto: Hyperontology) -> None:
    inputs = tmp_path / "in"
    inputs.mkdir()
    path = latin1_file(inputs, PATIENTS.read_bytes())
    report = run(template, tmp_path, [inputs], onto)
    assert entry(report, path)["loaded"] == 1


def _dicom(directory: Path) -> Path:
    ds = pydicom.dcmread(str(get_testdata_file("CT_small.dcm")))
    ds.StudyInstanceUID, ds.SeriesInstanceUID, ds.SOPInstanceUID = generate_uid(), generate_uid(), generate_uid()
    for keyword in ("StudyDate", "SeriesDate", "AcquisitionDate", "ContentDate", "PatientBirthDate"):
        setattr(ds, keyword, "00010101")
    path = directory / "year-one.dcm"
    ds.save_as(path, enforce_file_format=False)
    return path


def _csv(directory: Path) -> Path:
    path = directory / "year-one-patient-information.csv"
    path.write_text("mrn,gender,birthsex,dateOfBirth\nY1,female,F,0001-01-01\n", encoding="utf-8")
    return path


def _fhir(directory: Path) -> Path:
    path = directory / "year-one.json"
    patient = {"resourceType": "Patient", "id": "year-one", "gender": "female", "birthDate": "0001-01-01"}
    path.write_text(json.dumps(patient), encoding="utf-8")
    return path


@pytest.mark.parametrize("make", [_dicom, _csv, _fhir], ids=["dicom", "csv", "fhir"])
def test_a_date_that_cannot_be_shifted_does_not_stop_the_run(make: Any, template: Path, tmp_path: Path,
                                                             onto: Hyperontology) -> None:
    """A date in year 1 moved back by the patient's offset is out of range (OverflowError stopped the run)."""
    path = make(tmp_path)
    report = run(template, tmp_path, [path, PATIENTS], onto)
    found = entry(report, path)
    assert found["records"] == 1 or "OverflowError" in found["rejected"][0]["reason"]
    assert entry(report, PATIENTS)["loaded"] == 1


def test_a_mapping_failure_rejects_its_record_only(template: Path, tmp_path: Path, onto: Hyperontology,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """A mapping bug on one record rejects that record with the error; the others load."""
    apply = Mapper.apply

    def failing(self: Mapper, records: Any) -> MappingOutcome:
        records = list(records)
        if any("boom" in r.provenance.path for r in records):
            raise RuntimeError("boom")
        return apply(self, records)

    monkeypatch.setattr(Mapper, "apply", failing)
    boom = tmp_path / "boom-patient-information.csv"
    boom.write_text("mrn,gender\nB1,female\n", encoding="utf-8")
    report = run(template, tmp_path, [boom, PATIENTS], onto)
    assert entry(report, boom)["rejected"] == [{"locator": "row 1", "reason": "mapping failed: RuntimeError: boom"}]
    assert entry(report, PATIENTS)["loaded"] == 1
    assert (report["totals"]["records"], report["totals"]["rejected"]) == (1, 1)
