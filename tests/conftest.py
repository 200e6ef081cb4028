"""Shared fixtures. Data under ../shared/data is optional: tests needing it skip with the reason."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from hyperontology import Hyperontology, load_ontology

# The suite passes on a slow machine (one core, a loaded CI runner): no property test fails on the wall clock
# (Hypothesis' default 200 ms deadline per example, its too_slow health check). Tests set their own examples.
settings.register_profile("hyperontology", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("hyperontology")

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "data"
EUCAIM_DIR = SHARED / "eucaim"


@pytest.fixture(scope="session")
def onto(tmp_path_factory: pytest.TempPathFactory) -> Hyperontology:
    """The bundled hyperontology, loaded once (with its own cache directory)."""
    return load_ontology(cache_dir=tmp_path_factory.mktemp("cache"))


@pytest.fixture(scope="session")
def eucaim_dir() -> Path:
    if not (EUCAIM_DIR / "eucaim_hyperontology-v2.0-classes.jsonl").is_file():
        pytest.skip(f"needs the EUCAIM release transcription in {EUCAIM_DIR} (../shared/data, absent here)")
    return EUCAIM_DIR
