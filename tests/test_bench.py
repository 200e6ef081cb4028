"""Smoke tests of the benchmark tooling (bench/): the generators at tiny sizes and run_all's rendering.

Nothing here is timed; the benchmarks themselves measure performance.
"""

from __future__ import annotations

import re
import sys
from collections import defaultdict
from pathlib import Path

import pydicom
import pyoxigraph as ox
import pytest
import rdflib

from hyperontology import Hyperontology
from hyperontology.errors import UnknownConceptError
from hyperontology.validation.shacl import validate_store_export

BENCH = Path(__file__).resolve().parents[1] / "bench"
sys.path.insert(0, str(BENCH))

import cohortgen  # noqa: E402
import dicomgen  # noqa: E402
import run_all  # noqa: E402


def as_graph(quads: list[ox.Quad]) -> rdflib.Graph:
    data = ox.serialize([ox.Triple(q.subject, q.predicate, q.object) for q in quads], format=ox.RdfFormat.N_TRIPLES)
    return rdflib.Graph().parse(data=data.decode("utf-8"), format="nt")


def test_cohort_is_valid_deterministic_and_in_the_data_graph(onto: Hyperontology) -> None:
    quads = list(cohortgen.cohort_quads(12, seed=3, ontology=onto))
    assert quads == list(cohortgen.cohort_quads(12, seed=3, ontology=onto))
    assert quads != list(cohortgen.cohort_quads(12, seed=4, ontology=onto))
    assert {q.graph_name for q in quads} == {cohortgen.GRAPHS["data"]}
    assert all(q.subject.value.startswith("https://w3id.org/hyperontology/data/") for q in quads)
    assert 12 * 30 <= len(quads) <= 12 * 50
    violations = validate_store_export(as_graph(quads), onto)
    assert violations == []


def test_cohort_codes_span_terminologies(onto: Hyperontology) -> None:
    quads = cohortgen.cohort_quads(40, seed=1, ontology=onto)
    codes = {q.object.value for q in quads if q.predicate.value == cohortgen.CDM + "diagnosisCode"}
    schemes = {onto.concept(iri).scheme for iri in codes}
    assert len(schemes) >= 3


def test_invalid_patients_are_reported(onto: Hyperontology) -> None:
    quads = list(cohortgen.cohort_quads(10, seed=2, ontology=onto, invalid=1.0))
    errors = [v for v in validate_store_export(as_graph(quads), onto) if v.severity == "Violation"]
    patients = {re.search(r"/2-(\d+)", v.focus).group(1) for v in errors}  # type: ignore[union-attr]
    assert patients == {str(i) for i in range(10)}  # every patient carries one error, and each is reported


def test_codes_are_looked_up_never_invented(onto: Hyperontology) -> None:
    codes = cohortgen.Codes(onto)
    assert codes["SCT:363358000"].value == "http://snomed.info/id/363358000"
    with pytest.raises(UnknownConceptError):
        cohortgen.Codes(onto, {"SCT:363358000", "SCT:999999999999"})


def test_dicom_files_are_readable_with_series_structure(tmp_path: Path) -> None:
    layout = dicomgen.generate(60, tmp_path, seed=5)
    files = sorted(tmp_path.rglob("*.dcm"))
    assert layout.files == len(files) == 60
    datasets = [pydicom.dcmread(f) for f in files]  # Part 10: preamble and file meta required
    assert len({ds.SOPInstanceUID for ds in datasets}) == 60
    series: dict[str, list[pydicom.Dataset]] = defaultdict(list)
    for ds in datasets:
        assert ds.file_meta.MediaStorageSOPInstanceUID == ds.SOPInstanceUID
        assert ds.Modality in dicomgen.SOP_CLASS and ds.pixel_array.shape == (8, 8)
        series[ds.SeriesInstanceUID].append(ds)
    assert len(series) == layout.series and len(series) < 60
    for members in series.values():
        assert len({ds.StudyInstanceUID for ds in members}) == 1
        assert len({ds.PatientID for ds in members}) == 1
        assert sorted(int(ds.InstanceNumber) for ds in members) == list(range(1, len(members) + 1))
    assert len({ds.StudyInstanceUID for ds in datasets}) == layout.studies


def test_dicom_generation_is_deterministic(tmp_path: Path) -> None:
    for run in ("a", "b"):
        dicomgen.generate(12, tmp_path / run, seed=9)
    uids = [[pydicom.dcmread(f).SOPInstanceUID for f in sorted((tmp_path / run).rglob("*.dcm"))] for run in "ab"]
    assert uids[0] == uids[1]


def test_results_rendering(tmp_path: Path) -> None:
    ok = run_all.Outcome(run_all.BENCHES[2], "python bench/bench_memory.py --sizes 10,20", 12.0, "ok",
                         rows=[{"what": "ratio peak(20) / peak(10)", "value": 1.07, "unit": "x", "note": "OK"}])
    failed = run_all.Outcome(run_all.BENCHES[0], "python bench/bench_validate.py", 3.0, "failed",
                             error="exit status 1\nTraceback ...")
    text = run_all.render({"CPU": "test CPU", "cores": "2"}, [ok, failed], quick=True)
    assert "Quick run" in text and "| CPU | test CPU |" in text
    assert "| ratio peak(20) / peak(10) | 1.07 | x | OK |" in text
    assert "**FAILED** after 3 s: no figures." in text and "Traceback ..." in text
    assert text.split("## validate")[1].count("|---:|") == 0  # no figure table for a failed bench


def test_json_contract_and_missing_bench(tmp_path: Path) -> None:
    target = tmp_path / "x.json"
    run_all.write_json(target, "x", [run_all.Row("rate", 1.5, "files/s", "n")])
    assert target.read_text().startswith('{\n  "bench": "x"')
    missing = run_all.Bench("nope", "bench_does_not_exist.py", (), (), 1)
    outcome = run_all.run(missing, True, tmp_path)
    assert outcome.status == "missing" and outcome.rows == []


def test_cdm_export_bench_smoke(tmp_path: Path) -> None:
    """bench_cdm_export at a tiny size, SQLite only: its rows agree with each other (no timing is checked)."""
    import json

    import bench_cdm_export

    out = tmp_path / "cdm.json"
    bench_cdm_export.main(["--triples", "450", "--targets", "sqlite", "--work", str(tmp_path), "--json", str(out)])
    rows = {r["what"]: r["value"] for r in json.loads(out.read_text(encoding="utf-8"))["rows"]}
    per_table = [v for k, v in rows.items() if k.startswith("rows in ")]
    assert rows["SQLite: rows written"] == sum(per_table) > 0
    assert rows["data triples in the store"] > 0 and "PostgreSQL: rows written" not in rows
