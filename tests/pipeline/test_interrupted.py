"""A run killed at any point and then run again leaves the store the uninterrupted run leaves."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from pydicom.data import get_testdata_file

from hyperontology import Hyperontology, pipeline
from hyperontology.mapping.loader import MappingSet, default_mappings_dir
from hyperontology.pipeline import IngestOptions, ingest
from hyperontology.pseudonymize.keys import PseudonymKey
from tests.pipeline.stores import copy_store, graphs, violations

KEY = PseudonymKey(bytes(range(32)))
CLINICAL = default_mappings_dir().parent / "samples" / "clinical"
CT = [Path(get_testdata_file(f"dicomdirtests/77654033/CT2/{n}")) for n in ("17106", "17136", "17166")]
# the first run: a series' first file, and a condition whose patient is not there yet (quarantined)
FIRST = [CT[0], CLINICAL / "condition-information.csv"]
# the second: the series' other files (its count goes from 1 to 3), the patient (the condition loads), its stage
SECOND = [*CT[1:], CLINICAL / "patient-information.csv", CLINICAL / "staging-information.csv"]


class Interrupted(BaseException):
    """Stands for the process being killed."""


def run(store: Path, files: list[Path], onto: Hyperontology) -> dict:  # type: ignore[type-arg]
    options = IngestOptions(key=KEY, mappings=MappingSet.load(default_mappings_dir()), store_path=store)
    return ingest(files, options, ontology=onto)


@pytest.fixture(scope="module")
def base(template: Path, onto: Hyperontology, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store after the first run."""
    store = copy_store(template, tmp_path_factory.mktemp("base") / "store")
    run(store, FIRST, onto)
    return store


@pytest.fixture(scope="module")
def reference(base: Path, onto: Hyperontology, tmp_path_factory: pytest.TempPathFactory) -> dict[str, set[str]]:
    """The graphs after the second run, uninterrupted."""
    store = copy_store(base, tmp_path_factory.mktemp("reference") / "store")
    report = run(store, SECOND, onto)
    assert report["totals"]["triples_removed"] > 0  # the second run replaces (an old count) as well as adds
    assert violations(store, onto) == []
    return graphs(store)


def test_killed_between_writing_and_deleting(base: Path, reference: dict[str, set[str]], onto: Hyperontology,
                                             tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The one point where a run has written part of its change: the new triples are in, the stale ones not out."""
    store = copy_store(base, tmp_path / "store")

    def killed(*_args: object) -> None:
        raise Interrupted

    with monkeypatch.context() as patch:
        patch.setattr(pipeline, "_delete", killed)
        with pytest.raises(Interrupted):
            run(store, SECOND, onto)
    half = graphs(store)
    assert half != reference and half["data"] > reference["data"]  # stale triples next to the new ones
    run(store, SECOND, onto)
    assert graphs(store) == reference
    assert violations(store, onto) == []


def ingest_process(store: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "HYPERONTOLOGY_KEY": KEY.secret.hex()}
    return subprocess.Popen([sys.executable, "-m", "hyperontology", "ingest", *map(str, SECOND), "--store",
                             str(store), "--quiet"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


@pytest.mark.slow
def test_sigkill_at_any_point_then_rerun(base: Path, reference: dict[str, set[str]], onto: Hyperontology,
                                         tmp_path: Path) -> None:
    """A real `hyperontology ingest` killed (SIGKILL) at points spread over its run, then run again."""
    timing = copy_store(base, tmp_path / "timing")
    start = time.monotonic()
    assert ingest_process(timing).wait(timeout=600) == 0
    seconds = time.monotonic() - start
    assert graphs(timing) == reference
    for n, fraction in enumerate((0.2, 0.5, 0.7, 0.8, 0.9, 0.95)):
        store = copy_store(base, tmp_path / f"killed-{n}")
        proc = ingest_process(store)
        time.sleep(seconds * fraction)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=60)
        run(store, SECOND, onto)
        assert graphs(store) == reference, fraction
