"""Ingestion into a remote store (a real Oxigraph server) gives what ingestion into the embedded store gives."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import pytest

from hyperontology import load_ontology
from hyperontology.mapping.loader import MappingSet, default_mappings_dir
from hyperontology.pipeline import IngestOptions, ingest
from hyperontology.pseudonymize.keys import PseudonymKey
from hyperontology.store.base import open_store
from tests.processes import oxigraph_server

SAMPLES = default_mappings_dir().parent / "samples"
KEY = PseudonymKey(bytes(range(32)))


@pytest.fixture(scope="module")
def remote(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with oxigraph_server(tmp_path_factory.mktemp("oxigraph")) as url:
        yield url


def _ingest(location: Path | str, *, rescan: bool = False) -> dict[str, Any]:
    options = IngestOptions(key=KEY, mappings=MappingSet.load(default_mappings_dir()), store_path=location,
                            rescan=rescan)
    return ingest([SAMPLES], options, ontology=load_ontology())


@pytest.fixture(scope="module")
def reports(remote: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    embedded = tmp_path_factory.mktemp("embedded") / "store"
    return {"embedded": _ingest(embedded), "remote": _ingest(remote), "embedded_path": embedded}


def _graph(location: Path | str, role: str) -> set[ox.Quad]:
    with open_store(location, read_only=True) as store:
        return set(store.quads(role))


def test_reports_agree(reports: dict[str, Any]) -> None:
    embedded, remote = reports["embedded"]["totals"], reports["remote"]["totals"]
    assert embedded == remote
    assert embedded["loaded"] > 0 and embedded["triples_added"] > 0


def test_the_stores_hold_the_same_data(reports: dict[str, Any], remote: str) -> None:
    for role in ("data", "quarantine"):
        assert _graph(reports["embedded_path"], role) == _graph(remote, role), role
    with open_store(remote, read_only=True) as store:
        assert store.count("provenance") > 0


def test_a_second_run_adds_nothing_new(reports: dict[str, Any], remote: str) -> None:
    again = _ingest(remote, rescan=True)
    assert again["totals"]["triples_added"] == 0
    assert again["totals"]["loaded"] == reports["remote"]["totals"]["loaded"]
    unchanged = _ingest(remote)  # the files the store has, unchanged, are skipped
    assert unchanged["totals"]["skipped"] == reports["remote"]["totals"]["files"]
    assert unchanged["totals"]["records"] == unchanged["totals"]["triples_added"] == 0


def test_the_cli_reads_a_remote_store(reports: dict[str, Any], remote: str, tmp_path: Path) -> None:
    out = tmp_path / "data.nq"
    proc = subprocess.run([sys.executable, "-m", "hyperontology", "export", "--store", remote, "--format", "nq",
                           "--output", str(out)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert set(ox.parse(path=str(out), format=ox.RdfFormat.N_QUADS)) == _graph(remote, "data")
    proc = subprocess.run([sys.executable, "-m", "hyperontology", "validate", "--store", remote],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "0 violations" in proc.stdout


def test_the_cli_names_an_unreachable_store(tmp_path: Path) -> None:
    from tests.processes import free_port

    url = f"http://127.0.0.1:{free_port()}"
    proc = subprocess.run([sys.executable, "-m", "hyperontology", "export", "--store", url], capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode != 0
    assert url in proc.stderr and "Traceback" not in proc.stderr


def test_the_cli_refuses_a_store_url_of_another_scheme(tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "hyperontology", "export", "--store", "ftp://example.org/store"],
                          capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert proc.returncode == 2
    assert "http:// or https://" in proc.stderr and not any(tmp_path.iterdir())  # no directory made of it
