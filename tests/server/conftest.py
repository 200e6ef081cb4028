"""Fixtures of the server tests that need a store but not the samples: a small synthetic one, built in a second."""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox
import pytest

DATA = ox.NamedNode("https://w3id.org/hyperontology/graph/data")
EX = "http://example.org/small/"


@pytest.fixture(scope="session")
def small_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """3,000 triples in the data graph: small, yet a three-way cross product of them never ends, and sorting a
    two-way one takes gigabytes."""
    path = tmp_path_factory.mktemp("small") / "store"
    store = ox.Store(str(path))
    store.extend(ox.Quad(ox.NamedNode(f"{EX}s{i % 300}"), ox.NamedNode(f"{EX}p{i % 7}"), ox.Literal(f"value {i}"), DATA)
                 for i in range(3000))
    store.flush()
    del store
    return path
