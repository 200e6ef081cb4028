"""``ingest --dataset ID``: one ``cdm:Dataset`` per identifier, and every patient of the run linked to it (from
DICOM, FHIR and CSV alike), validated like any other value: nothing more is quarantined than without a dataset."""

from __future__ import annotations

import pickle
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from pydicom.data import get_testdata_file

from hyperontology import Hyperontology
from hyperontology.batch import BatchSpec
from hyperontology.cli.main import main
from hyperontology.mapping.loader import MappingSet, default_mappings_dir
from hyperontology.pipeline import IngestOptions, configuration, dataset_iri, ingest
from hyperontology.pseudonymize.keys import PseudonymKey
from hyperontology.store.base import GRAPHS, open_store
from tests.pipeline.stores import copy_store, graphs, violations

KEY = PseudonymKey(bytes(range(32)))
ROOT = Path(__file__).resolve().parents[2]
CDM = "https://w3id.org/hyperontology/cdm#"
DATA = GRAPHS["data"]
#: the shipped samples (CSV, FHIR) and the DICOM files of their two patients
FIRST = [default_mappings_dir().parent / "samples",
         *(Path(get_testdata_file(n)) for n in ("CT_small.dcm", "MR_small.dcm"))]
#: DICOM files of two other patients
SECOND = [Path(get_testdata_file(f"dicomdirtests/77654033/CT2/{n}")) for n in ("17106", "17136")] + \
         [Path(get_testdata_file("JPEG2000.dcm"))]


def run(store: Path, paths: list[Path], onto: Hyperontology, **kw: Any) -> dict[str, Any]:
    options = IngestOptions(key=KEY, mappings=MappingSet.load(default_mappings_dir()), store_path=store, **kw)
    return ingest(paths, options, ontology=onto)


def datasets(store: Path) -> set[tuple[str, str, str | None]]:
    """Each dataset of the data graph: its IRI, identifier and title."""
    with open_store(store, read_only=True) as node:
        rows = node.query(f"SELECT ?d ?id ?title WHERE {{ GRAPH {DATA} {{ ?d a <{CDM}Dataset> ; "
                          f"<{CDM}datasetIdentifier> ?id OPTIONAL {{ ?d <{CDM}title> ?title }} }} }}")
        return {(r["d"].value, r["id"].value, r["title"].value if r["title"] is not None else None) for r in rows}


def patients(store: Path) -> dict[str, set[str]]:
    """Each patient of the data graph and the datasets it belongs to."""
    with open_store(store, read_only=True) as node:
        rows = node.query(f"SELECT ?p ?d WHERE {{ GRAPH {DATA} {{ ?p a <{CDM}Patient> "
                          f"OPTIONAL {{ ?p <{CDM}dataset> ?d }} }} }}")
        found: dict[str, set[str]] = {}
        for r in rows:
            found.setdefault(r["p"].value, set()).update([r["d"].value] if r["d"] is not None else [])
        return found


@pytest.fixture(scope="module")
def lung(template: Path, onto: Hyperontology, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    """The first inputs ingested with the dataset ``lung-trial``."""
    store = copy_store(template, tmp_path_factory.mktemp("lung") / "store")
    return store, run(store, FIRST, onto, dataset="lung-trial", dataset_title="Lung trial")


def test_the_dataset_is_one_instance_with_its_identifier_and_title(lung: tuple[Path, dict[str, Any]]) -> None:
    store, report = lung
    assert datasets(store) == {(dataset_iri("lung-trial"), "lung-trial", "Lung trial")}
    assert report["run"]["dataset"] == "lung-trial"


def test_every_patient_belongs_to_the_dataset(lung: tuple[Path, dict[str, Any]]) -> None:
    found = patients(lung[0])
    assert len(found) == 2  # the two sample patients, each from DICOM, CSV (and one from FHIR) on one node
    assert all(linked == {dataset_iri("lung-trial")} for linked in found.values())


def test_the_dataset_quarantines_nothing(lung: tuple[Path, dict[str, Any]], template: Path, onto: Hyperontology,
                                        tmp_path: Path) -> None:
    plain = copy_store(template, tmp_path / "plain")
    report = run(plain, FIRST, onto)
    assert lung[1]["totals"]["quarantined"] == report["totals"]["quarantined"]
    assert lung[1]["totals"]["loaded"] == report["totals"]["loaded"]
    with open_store(lung[0], read_only=True) as node:
        assert not node.query(f"ASK {{ GRAPH {GRAPHS['quarantine']} {{ ?s ?p ?o FILTER(CONTAINS(STR(?s), "
                              f"'/dataset/') || ?p = <{CDM}dataset> || CONTAINS(STR(?o), 'dataset')) }} }}")
    assert violations(lung[0], onto) == violations(plain, onto) == []
    assert patients(plain).keys() == patients(lung[0]).keys()


def test_a_second_dataset_keeps_each_run_s_patients_apart(lung: tuple[Path, dict[str, Any]], onto: Hyperontology,
                                                          tmp_path: Path) -> None:
    store = copy_store(lung[0], tmp_path / "store")
    before = set(patients(store))
    run(store, SECOND, onto, dataset="breast-trial")
    assert datasets(store) == {(dataset_iri("lung-trial"), "lung-trial", "Lung trial"),
                               (dataset_iri("breast-trial"), "breast-trial", None)}
    after = patients(store)
    assert len(after) == len(before) + 2
    assert all(after[p] == {dataset_iri("lung-trial")} for p in before)
    assert all(after[p] == {dataset_iri("breast-trial")} for p in set(after) - before)
    assert violations(store, onto) == []


def test_a_new_title_replaces_the_old_one(lung: tuple[Path, dict[str, Any]], onto: Hyperontology,
                                          tmp_path: Path) -> None:
    store = copy_store(lung[0], tmp_path / "store")
    report = run(store, FIRST, onto, dataset="lung-trial", dataset_title="Lung cancer trial")
    assert report["totals"]["skipped"] == report["totals"]["files"]  # same dataset: the files are unchanged
    assert datasets(store) == {(dataset_iri("lung-trial"), "lung-trial", "Lung cancer trial")}


def test_the_dataset_is_part_of_the_configuration() -> None:
    mappings = MappingSet.load(default_mappings_dir())
    plain, lung, breast = (configuration(IngestOptions(key=KEY, mappings=mappings, dataset=d))
                           for d in (None, "lung-trial", "breast-trial"))
    assert len({plain, lung, breast}) == 3


def test_workers_get_the_dataset() -> None:
    spec = BatchSpec(KEY, MappingSet.load(default_mappings_dir()), dataset=dataset_iri("lung-trial"))
    assert pickle.loads(pickle.dumps(spec)).dataset == dataset_iri("lung-trial")  # noqa: S301 - our own bytes


def test_two_jobs_give_the_same_data_graph(lung: tuple[Path, dict[str, Any]], template: Path, onto: Hyperontology,
                                           tmp_path: Path) -> None:
    store = copy_store(template, tmp_path / "jobs")
    run(store, FIRST, onto, dataset="lung-trial", dataset_title="Lung trial", jobs=2)
    assert graphs(store, ("data",)) == graphs(lung[0], ("data",))


def test_the_cli_ingests_into_a_dataset(lung: tuple[Path, dict[str, Any]], template: Path, tmp_path: Path) -> None:
    store = copy_store(template, tmp_path / "store")
    key = tmp_path / "key"
    key.write_text(bytes(range(32)).hex(), encoding="ascii")
    proc = subprocess.run([sys.executable, "-m", "hyperontology", "ingest", *map(str, FIRST), "--store", str(store),
                           "--key-file", str(key), "--dataset", "lung-trial", "--dataset-title", "Lung trial",
                           "--quiet"], capture_output=True, text=True, timeout=600, check=False, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    assert "dataset 'lung-trial'" in proc.stdout
    assert graphs(store, ("data",)) == graphs(lung[0], ("data",))


@pytest.mark.parametrize(("args", "message"), [
    (["--dataset-title", "Lung trial"], "--dataset-title needs --dataset"),
    (["--dataset", ""], "argument --dataset: a dataset identifier has 1 to 200 characters"),
    (["--dataset", "x" * 201], "argument --dataset: a dataset identifier has 1 to 200 characters"),
    (["--dataset", "lung\ntrial"], "argument --dataset: 'lung\\ntrial': a dataset identifier has printable"),
])
def test_the_cli_refuses_a_bad_dataset(args: list[str], message: str, tmp_path: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["ingest", str(FIRST[1]), "--store", str(tmp_path / "store"), "--new-key", str(tmp_path / "key"), *args]
    try:
        status = main(argv)
    except SystemExit as exc:  # argparse refuses the value
        status = int(exc.code or 0)
    assert status == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "key").exists() and not (tmp_path / "store").exists()


def test_options_refuse_a_bad_dataset() -> None:
    mappings = MappingSet.load(default_mappings_dir())
    with pytest.raises(ValueError, match="control characters"):
        IngestOptions(key=KEY, mappings=mappings, dataset="a\x00b")
    with pytest.raises(ValueError, match="needs a dataset"):
        IngestOptions(key=KEY, mappings=mappings, dataset_title="Lung trial")
