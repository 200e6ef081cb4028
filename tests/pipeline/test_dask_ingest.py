"""``hyperontology ingest --executor dask --scheduler ADDRESS`` into a remote store (a real Oxigraph server), on a
real Dask cluster of worker processes, with a worker killed while it prepares a batch: the data and quarantine
graphs are the same triples as a single-process ingest of the same files with the same key into an embedded store.

The kill lands mid-run whatever the machine's speed: a worker plugin on the worker named ``victim`` holds the
first batch task that worker starts (it never finishes there) and says so in a marker file; the test then starts
a second worker, kills the victim, and the scheduler runs the batch again on the survivor.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import httpx
import pyoxigraph as ox
import pytest
from distributed import WorkerPlugin

from hyperontology.pseudonymize.keys import new_key_file
from hyperontology.store.base import GRAPHS
from hyperontology.store.oxigraph import NodeStore
from tests.pipeline.stores import copy_store
from tests.pipeline.test_executors import PATIENCE, dask_cluster, dask_worker, eventually, wait_for_workers
from tests.processes import oxigraph_server

ROOT = Path(__file__).resolve().parents[2]
SHARED_DICOM = ROOT.parent / "shared" / "data" / "dicom"
ROLES = ("data", "quarantine")


class HoldFirstBatch(WorkerPlugin):
    """On the worker named ``victim``: the first batch task that starts there holds the worker for good (its
    event loop, so the task is never reported done) after writing its key to ``marker``."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker
        self.active = False

    def setup(self, worker: Any) -> None:
        self.active = worker.name == "victim"

    def transition(self, key: Any, start: str, finish: str, **kwargs: Any) -> None:
        if self.active and finish == "executing" and str(key).startswith("hyperontology-"):  # a map's task
            self.marker.write_text(str(key))
            while True:  # until the test kills this process
                time.sleep(1)


def inputs() -> list[Path]:
    """The shipped samples (CSV, FHIR) and DICOM files: ../shared's when present, else 40 of those pydicom ships
    (its bundled folder; never its test-data download)."""
    if SHARED_DICOM.is_dir():
        return [ROOT / "samples", SHARED_DICOM]
    import pydicom.data

    return [ROOT / "samples", *sorted((Path(pydicom.data.__file__).parent / "test_files").glob("*.dcm"))[:40]]


def ingest(*args: str | Path) -> subprocess.Popen[str]:
    """``hyperontology ingest ARGS`` in batches of 20 files (several batches: the kill lands among others)."""
    command = [sys.executable, "-m", "hyperontology", "ingest", *map(str, args), "--batch-files", "20", "--quiet"]
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=ROOT)


@contextmanager
def running(proc: subprocess.Popen[str]) -> Iterator[subprocess.Popen[str]]:
    try:
        yield proc
    finally:
        proc.kill()
        proc.wait()


def finished(proc: subprocess.Popen[str]) -> str:
    out, _ = proc.communicate(timeout=PATIENCE * 2)
    assert proc.returncode == 0, out
    return out


def embedded_graphs(store: Path) -> dict[str, set[str]]:
    with NodeStore(store, read_only=True) as node:
        return {role: {str(q.triple) for q in node.quads(role)} for role in ROLES}


def remote_graphs(url: str) -> dict[str, set[str]]:
    out = {}
    for role in ROLES:
        query = f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH {GRAPHS[role]} {{ ?s ?p ?o }} }}"
        answer = httpx.get(url + "/query", params={"query": query}, headers={"Accept": "application/n-triples"},
                           timeout=60)
        answer.raise_for_status()
        out[role] = {str(t) for t in ox.parse(answer.content, format=ox.RdfFormat.N_TRIPLES)}
    return out


def totals(report: Path) -> dict[str, Any]:
    kept = ("files", "records", "loaded", "quarantined", "not_mapped", "rejected", "instances")
    found = json.loads(report.read_text(encoding="utf-8"))["totals"]
    return {k: found[k] for k in kept}


@pytest.fixture
def remote(template: Path, tmp_path: Path) -> Iterator[str]:
    """An Oxigraph server on a copy of the template store (the ontology is loaded: not the subject here)."""
    with oxigraph_server(copy_store(template, tmp_path / "remote")) as url:
        yield url


def test_a_dask_ingest_with_a_worker_killed_mid_batch_loads_what_one_process_does(remote: str, template: Path,
                                                                                 tmp_path: Path) -> None:
    from distributed import Client

    key = tmp_path / "key"
    new_key_file(key)
    files = inputs()
    marker = tmp_path / "held"
    with ExitStack() as stack:
        # the single-process ingest runs meanwhile (it mostly waits for the other processes to start)
        single = stack.enter_context(running(ingest(*files, "--store", copy_store(template, tmp_path / "embedded"),
                                                    "--key-file", key, "--report", tmp_path / "single.json")))
        address, [victim] = stack.enter_context(dask_cluster(tmp_path / "dask", ["victim"]))
        connect: Any = Client  # only partly typed
        with connect(address, set_as_default=False, timeout=PATIENCE) as client:
            client.register_plugin(HoldFirstBatch(marker), name="hold-first-batch")
        run = stack.enter_context(running(ingest(*files, "--store", remote, "--key-file", key, "--report",
                                                 tmp_path / "dask.json", "--executor", "dask", "--scheduler", address)))
        eventually(marker.exists, "a batch held on the victim", [victim, run])
        survivor = stack.enter_context(dask_worker(address, "survivor", tmp_path / "dask"))
        wait_for_workers(address, {"victim", "survivor"}, [victim, survivor])
        victim.kill()
        victim.wait()
        finished(run)
        assert "loaded" in finished(single)

    assert totals(tmp_path / "dask.json") == totals(tmp_path / "single.json")
    expected = embedded_graphs(tmp_path / "embedded")
    assert expected["data"] and expected["quarantine"]
    assert remote_graphs(remote) == expected
