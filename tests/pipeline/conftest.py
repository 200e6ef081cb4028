"""Fixtures of the pipeline tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from hyperontology import Hyperontology
from hyperontology.ontology.closure import subsumption_triples
from hyperontology.ontology.files import bundled_dir, module_files
from hyperontology.ontology.schemes import VERSION
from hyperontology.store.oxigraph import NodeStore


@pytest.fixture(scope="session")
def template(onto: Hyperontology, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An empty store with the ontology graph loaded (once: loading it takes most of a first ingest)."""
    path = tmp_path_factory.mktemp("template") / "store"
    with NodeStore(path) as node:
        node.ensure_ontology(module_files(bundled_dir()), VERSION, subsumption_triples(onto))
    return path

