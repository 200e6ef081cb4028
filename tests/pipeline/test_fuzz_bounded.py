"""Fuzzing ingest, bounded: mutated DICOM, FHIR and CSV inputs (a third of each, a fixed seed) through the
``hyperontology ingest`` command, a process per batch of 30, as users run it; none may crash it, and the report must
account for every one. ``bench/fuzz_ingest.py`` runs the same fuzzer on thousands of inputs.

Seeds: pydicom's test files and the shipped samples (always there); the shared data (``../shared/data``) as a second
case, skipped when it is absent.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fuzz.inputs import generate
from tests.fuzz.runs import Fuzzing
from tests.fuzz.seeds import SHARED, Seed, bundled_seeds, shared_seeds
from tests.pipeline.stores import copy_store

SEED = 10
COUNT = 60
BATCH = 30


def fuzz(seeds: list[Seed], template: Path, workdir: Path) -> Fuzzing:
    """The fuzzer run on ``COUNT`` inputs into a copy of the template store (the ontology already loaded)."""
    fuzzing = Fuzzing(workdir, store=copy_store(template, workdir / "store"), timeout=600)
    made = list(generate(seeds, seed=SEED, count=COUNT))
    for number, start in enumerate(range(0, COUNT, BATCH)):
        fuzzing.batch(number, made[start:start + BATCH])
    return fuzzing


def check(fuzzing: Fuzzing) -> None:
    figures = fuzzing.figures
    assert sum(figures.kinds.values()) == COUNT
    failing = [f"{o.item.name} {o.item.mutations} from {o.item.seed}: {o.status}: {o.problem}"
               for o in figures.crashes + figures.unaccounted]
    assert failing == [], f"inputs in {fuzzing.workdir}"


def test_fuzzed_inputs_from_bundled_files(template: Path, tmp_path: Path) -> None:
    fuzzing = fuzz(bundled_seeds(), template, tmp_path)
    check(fuzzing)
    assert fuzzing.figures.kinds == {"dicom": COUNT // 3, "fhir": COUNT // 3, "csv": COUNT // 3}
    assert fuzzing.figures.statuses["loaded"] and fuzzing.figures.statuses["rejected"]  # both ends reached


@pytest.mark.shared
def test_fuzzed_inputs_from_shared_data(template: Path, tmp_path: Path) -> None:
    seeds = shared_seeds()
    if not seeds:
        pytest.skip(f"needs DICOM, FHIR or clinical files under {SHARED} (../shared/data, absent here)")
    check(fuzz(seeds, template, tmp_path))
