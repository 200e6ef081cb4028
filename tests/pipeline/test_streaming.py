"""An ingest is a stream of batches: any batch size leaves the same store, a series split across batches is counted
whole, a re-run skips the files the store has unchanged, and a run killed between batches loses only the batch in
flight (a real ``hyperontology ingest`` killed with SIGKILL, then run again)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from pydicom.data import get_testdata_file

from hyperontology import Hyperontology
from hyperontology.mapping.loader import MappingSet, default_mappings_dir
from hyperontology.pipeline import IngestOptions, ingest
from hyperontology.pseudonymize.keys import PseudonymKey
from hyperontology.store.oxigraph import NodeStore
from tests.pipeline.stores import copy_store, graphs, violations

KEY = PseudonymKey(bytes(range(32)))
CLINICAL = default_mappings_dir().parent / "samples" / "clinical"
# one CT series of three files, with other DICOM and the clinical tables: sorted, the series falls across batches
CT = [Path(get_testdata_file(f"dicomdirtests/77654033/CT2/{n}")) for n in ("17106", "17136", "17166")]
OTHERS = [Path(get_testdata_file(n)) for n in ("CT_small.dcm", "MR_small.dcm", "rtplan.dcm")]


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The files in one folder (copies: a test changes one file's modification time)."""
    root = tmp_path_factory.mktemp("inputs")
    for n, path in enumerate([*CT, *OTHERS]):
        shutil.copy(path, root / f"{n:02d}-{path.name}.dcm")
    for table in sorted(CLINICAL.glob("*.csv")):
        shutil.copy(table, root / table.name)
    return root


def run(store: Path, inputs: Path, onto: Hyperontology, **kw: Any) -> dict[str, Any]:
    options = IngestOptions(key=KEY, mappings=MappingSet.load(default_mappings_dir()), store_path=store, **kw)
    return ingest([inputs], options, ontology=onto)


def series_counts(store: Path) -> list[int]:
    with NodeStore(store, read_only=True) as node:
        rows = node.query("SELECT ?n WHERE { GRAPH ?g { ?s a <https://w3id.org/hyperontology/cdm#ImagingSeries> ; "
                          "<https://w3id.org/hyperontology/cdm#numberOfInstances> ?n } }")
        return sorted(int(row["n"].value) for row in rows)


@pytest.fixture(scope="module")
def whole(template: Path, inputs: Path, onto: Hyperontology,
          tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    """The store after one run in a single batch."""
    store = copy_store(template, tmp_path_factory.mktemp("whole") / "store")
    report = run(store, inputs, onto, batch_files=10_000)
    assert report["totals"]["batches"] == 1
    return store, report


def test_any_batch_size_gives_the_same_store(whole: tuple[Path, dict[str, Any]], template: Path, inputs: Path,
                                             onto: Hyperontology, tmp_path: Path) -> None:
    reference, first = whole
    store = copy_store(template, tmp_path / "store")
    report = run(store, inputs, onto, batch_files=1)
    files = len(list(inputs.iterdir()))
    assert report["totals"]["batches"] == files
    assert graphs(store) == graphs(reference)
    assert 3 in series_counts(store)  # the CT series, one instance per batch, counted over all three
    for key in ("files", "records", "loaded", "quarantined", "not_mapped", "rejected", "instances"):
        assert report["totals"][key] == first["totals"][key], key
    assert [a["path"] for a in report["inputs"]] == [a["path"] for a in first["inputs"]]
    assert violations(store, onto) == []


def test_a_rerun_skips_unchanged_files(whole: tuple[Path, dict[str, Any]], inputs: Path, onto: Hyperontology,
                                       tmp_path: Path) -> None:
    reference, first = whole
    store = copy_store(reference, tmp_path / "store")
    again = run(store, inputs, onto)
    files = first["totals"]["files"]
    assert (again["totals"]["skipped"], again["totals"]["records"], again["totals"]["batches"]) == (files, 0, 0)
    assert all(a["skipped"] for a in again["inputs"])
    changed = inputs / "01-17136.dcm"
    os.utime(changed, ns=(changed.stat().st_atime_ns, changed.stat().st_mtime_ns + 10**9))
    third = run(store, inputs, onto)
    read = [a for a in third["inputs"] if not a.get("skipped")]
    assert [a["path"] for a in read] == [str(changed)] and read[0]["records"] == 1
    assert third["totals"]["triples_added"] == 0
    assert graphs(store) == graphs(reference)
    rescanned = run(store, inputs, onto, rescan=True)
    assert rescanned["totals"]["skipped"] == 0 and rescanned["totals"]["records"] == first["totals"]["records"]


def ingest_process(store: Path, inputs: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "HYPERONTOLOGY_KEY": KEY.secret.hex()}
    return subprocess.Popen([sys.executable, "-m", "hyperontology", "ingest", str(inputs), "--store", str(store),
                             "--quiet", "--batch-files", "1"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


@pytest.mark.slow
def test_sigkill_between_and_within_batches_then_rerun(whole: tuple[Path, dict[str, Any]], template: Path,
                                                       inputs: Path, onto: Hyperontology, tmp_path: Path) -> None:
    """Killed at points spread over a run of one file per batch; the re-run skips what was committed."""
    reference = graphs(whole[0])
    timing = copy_store(template, tmp_path / "timing")
    start = time.monotonic()
    assert ingest_process(timing, inputs).wait(timeout=600) == 0
    seconds = time.monotonic() - start
    assert graphs(timing) == reference
    skipped = []
    for n, fraction in enumerate((0.3, 0.6, 0.8, 0.95)):
        store = copy_store(template, tmp_path / f"killed-{n}")
        proc = ingest_process(store, inputs)
        time.sleep(seconds * fraction)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=60)
        report = run(store, inputs, onto)
        skipped.append(report["totals"]["skipped"])
        assert graphs(store) == reference, fraction
    assert len(set(skipped)) > 1 or max(skipped) > 0  # the kills fell at different points, after some commits
