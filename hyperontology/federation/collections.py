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


#: every dataset of the store: its IRI (``?d``), identifier, title and description
DATASETS_SPARQL = (f"PREFIX cdm: <{CDM}> SELECT ?d ?id ?title ?description WHERE {{ GRAPH <{GRAPHS['data'].value}> "
                   "{ ?d a cdm:Dataset OPTIONAL { ?d cdm:datasetIdentifier ?id } OPTIONAL { ?d cdm:title ?title } "
                   "OPTIONAL { ?d cdm:description ?description } } }")


def dataset_names(datasets: list[dict[str, str]], keys: Any, default_collection: str,
                  ) -> dict[str, tuple[str, str, str]]:
    """Dataset IRI ("" for patients without a dataset) -> (id, name, description), for the rows of
    :data:`DATASETS_SPARQL` and every other key a count found (a dataset IRI without its instance: its last part).

    Examples
    --------
    >>> names = dataset_names([{"d": "http://x/dataset/a", "id": "a", "title": "A"}], ["", "http://x/dataset/b"],
    ...                       "default")
    >>> names["http://x/dataset/a"], names[""][0], names["http://x/dataset/b"]
    (('a', 'A', ''), 'default', ('b', 'b', ''))
    """
    names: dict[str, tuple[str, str, str]] = {}
    for row in datasets:
        ident = row.get("id") or row["d"].rsplit("/", 1)[-1]
        names.setdefault(row["d"], (ident, row.get("title") or ident, row.get("description", "")))
    for key in keys:
        if key not in names:
            names[key] = ((default_collection, default_collection, "patients of the node without a dataset")
                          if not key else (key.rsplit("/", 1)[-1], key.rsplit("/", 1)[-1], ""))
    return names


def _select(store: Any, query: str) -> list[dict[str, str]]:
    solutions = store.query(query)
    names = [v.value for v in solutions.variables]
    return [{n: s[n].value for n in names if s[n] is not None} for s in solutions]


def per_dataset(rows: list[dict[str, str]]) -> dict[str, tuple[int, int]]:
    """Dataset IRI ("" for none) -> (patients, studies) of the rows of a :func:`collections_sparql` query."""
    return {row.get("dataset", ""): (int(row["patients"]), int(row["studies"])) for row in rows}


def count_collections(store: Any, body: Any, ontology: Hyperontology, *,
                      default_collection: str = "default") -> list[list[Any]]:
    """``[id, name, subjects, studies]`` per dataset of ``store`` (a :class:`pyoxigraph.Store` or the project's
    store), exact. ValueError (a :class:`CriteriaError`) for malformed criteria or an unknown key or value."""
    resolver = Resolver(ontology)
    tree = own_tree(body, resolver)
    if resolver.unknown:
        raise CriteriaError("unknown criteria: " + "; ".join(resolver.unknown))
    everyone = per_dataset(_select(store, collections_sparql(EVERYONE)))
    names = dataset_names(_select(store, DATASETS_SPARQL), everyone, default_collection)
    counts = per_dataset(_select(store, collections_sparql(tree)))
    return sorted(([*names[key][:2], *counts.get(key, (0, 0))] for key in names), key=lambda row: str(row[0]))


__all__ = ["DATASETS_SPARQL", "count_collections", "dataset_names", "own_tree", "per_dataset"]
