"""Helpers of the pipeline tests: fresh stores copied from the template, their graphs, what `validate` says."""

from __future__ import annotations

import shutil
from pathlib import Path

import rdflib

from hyperontology import Hyperontology
from hyperontology.store.oxigraph import NodeStore
from hyperontology.validation.shacl import validate_store_export


def copy_store(template: Path, target: Path) -> Path:
    shutil.copytree(template, target)
    return target


def graphs(store: Path, roles: tuple[str, ...] = ("data", "quarantine")) -> dict[str, set[str]]:
    """The quads of some graphs of a store, as N-Quads lines."""
    with NodeStore(store, read_only=True) as node:
        return {role: {str(q) for q in node.quads(role)} for role in roles}


def violations(store: Path, onto: Hyperontology) -> list[str]:
    """What `hyperontology validate` reports as violations of the store's data graph."""
    with NodeStore(store, read_only=True) as node:
        data = (node.export(None, "nt", graphs=["data"]) or b"").decode()
    graph = rdflib.Graph().parse(data=data, format="nt")
    return [f"{v.focus} {v.path}: {v.message}" for v in validate_store_export(graph, onto) if v.severity == "Violation"]
