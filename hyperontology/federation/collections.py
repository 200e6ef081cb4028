"""The project's own form of the explorer's question, and exact counts per dataset on a store of one's own.

:func:`own_tree` reads a request body of ``POST /api/cohort/collections`` (and of :meth:`Client.collections`):
the explorer's tree (``{"ast": ...}``) or the cohort criteria of ``POST /api/cohort``. :func:`count_collections`
counts it per dataset on a store the caller holds (no disclosure control: the store is the caller's own).

Examples
--------
>>> import pyoxigraph
>>> from hyperontology import load_ontology
>>> count_collections(pyoxigraph.Store(), {"diagnosis": ["SCT:363358000"]}, load_ontology())
[]
"""

from __future__ import annotations

from typing import Any

from hyperontology.federation.criteria import (
    EVERYONE,
    CriteriaError,
    Node,
    Resolver,
    collections_sparql,
    from_ast,
    from_criteria,
)
from hyperontology.ontology import Hyperontology
from hyperontology.search.cohort import CDM
from hyperontology.store.oxigraph import GRAPHS


def own_tree(body: Any, resolver: Resolver) -> Node:
    """The tree of a request: ``{"ast": tree}`` (or a bare tree), or the ``/api/cohort`` criteria fields.
    CriteriaError naming the field when malformed."""
    if isinstance(body, dict) and ("ast" in body or "operand" in body or "key" in body):
        return from_ast(body, resolver)
    from pydantic import ValidationError

    from hyperontology.server.cohort_api import CohortRequest

    try:
        request = CohortRequest.model_validate(body if body is not None else {})
    except ValidationError as exc:
        errors = exc.errors()
        where = ".".join(str(p) for p in errors[0]["loc"]) if errors else "body"
        raise CriteriaError(f"{where}: {errors[0]['msg'] if errors else 'invalid'}") from None
    return from_criteria(request.criteria(), resolver)


def _value(cell: Any) -> str:
    return str(getattr(cell, "value", cell))


def count_collections(store: Any, body: Any, ontology: Hyperontology, *,
                      default_collection: str = "default") -> list[list[Any]]:
    """``[id, name, subjects, studies]`` per dataset of ``store`` (a :class:`pyoxigraph.Store` or the project's
    store), exact. ValueError (a :class:`CriteriaError`) for malformed criteria or an unknown key or value."""
    resolver = Resolver(ontology)
    tree = own_tree(body, resolver)
    if resolver.unknown:
        raise CriteriaError("unknown criteria: " + "; ".join(resolver.unknown))
    names: dict[str, tuple[str, str]] = {}
    for row in store.query(f"PREFIX cdm: <{CDM}> SELECT ?d ?id ?title WHERE {{ GRAPH <{GRAPHS['data'].value}> {{ "
                           "?d a cdm:Dataset OPTIONAL { ?d cdm:datasetIdentifier ?id } "
                           "OPTIONAL { ?d cdm:title ?title } } }"):
        key = _value(row["d"])
        ident = _value(row["id"]) if row["id"] is not None else key.rsplit("/", 1)[-1]
        names.setdefault(key, (ident, _value(row["title"]) if row["title"] is not None else ident))
    counts: dict[str, tuple[int, int]] = {}
    for tree_ in (EVERYONE, tree):
        found = {(_value(r["dataset"]) if r["dataset"] is not None else ""): (int(_value(r["patients"])),
                                                                           int(_value(r["studies"])))
                 for r in store.query(collections_sparql(tree_))}
        if tree_ is EVERYONE:
            for key in found:
                names.setdefault(key, (default_collection, default_collection) if not key
                                 else (key.rsplit("/", 1)[-1],) * 2)
        else:
            counts = found
    return sorted(([*names[key], *counts.get(key, (0, 0))] for key in names), key=lambda row: str(row[0]))


__all__ = ["count_collections", "own_tree"]
