"""Loading: the bundled release, the cache, release directories and their errors."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from hyperontology import OntologyLoadError, load_ontology
from hyperontology.ontology.files import bundled_dir


def test_cache_is_used_and_gives_the_same_index(tmp_path: Path) -> None:
    cold = load_ontology(cache_dir=tmp_path)
    warm = load_ontology(cache_dir=tmp_path)
    assert not cold.from_cache and warm.from_cache
    assert len(cold) == len(warm) and cold.mappings == warm.mappings


def test_corrupt_cache_is_ignored(tmp_path: Path) -> None:
    load_ontology(cache_dir=tmp_path)
    for path in tmp_path.glob("*.pickle"):
        path.write_bytes(b"not a pickle")
    again = load_ontology(cache_dir=tmp_path)
    assert not again.from_cache and len(again) > 30_000


def test_unwritable_cache_is_not_an_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert len(load_ontology(cache_dir=blocker / "sub")) > 30_000


def test_not_a_release_directory(tmp_path: Path) -> None:
    with pytest.raises(OntologyLoadError, match="hyperontology.ttl"):
        load_ontology(tmp_path)


def test_missing_module_is_named(tmp_path: Path) -> None:
    copy = tmp_path / "release"
    shutil.copytree(bundled_dir(), copy, ignore=shutil.ignore_patterns("build", "sources"))
    (copy / "terminologies" / "atc.ttl").unlink()
    with pytest.raises(OntologyLoadError, match="atc.ttl"):
        load_ontology(copy, cache=False)


def test_unparsable_module_is_named(tmp_path: Path) -> None:
    copy = tmp_path / "release"
    shutil.copytree(bundled_dir(), copy, ignore=shutil.ignore_patterns("build", "sources"))
    (copy / "terminologies" / "ucum.ttl").write_text("<broken", encoding="utf-8")
    with pytest.raises(OntologyLoadError, match="ucum.ttl"):
        load_ontology(copy, cache=False)


def test_loading_never_reads_imports_from_the_network() -> None:
    root = (bundled_dir() / "hyperontology.ttl").read_text(encoding="utf-8")
    assert "owl:imports" in root
    catalog = (bundled_dir() / "catalog-v001.xml").read_text(encoding="utf-8")
    for line in root.splitlines():
        if "owl:imports" in line:
            assert line.split("<")[1].split(">")[0] in catalog
