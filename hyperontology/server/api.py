"""The semantic search API: term autocomplete, concept look-up and cross-terminology expansion (JSON).

These answer from the hyperontology loaded in the server process, not from the store. Inputs are bounded
(text 200 characters, a concept reference :data:`~hyperontology.server.limits.MAX_CONCEPT_REF`); an unknown
concept is 404 naming the parameter, not its value.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Query

from hyperontology.errors import UnknownConceptError
from hyperontology.ontology import Concept, Hyperontology
from hyperontology.server.limits import MAX_CONCEPT_REF

CurieParam = Annotated[str, Path(max_length=MAX_CONCEPT_REF, description="a CURIE, IRI or code")]


def _brief(concept: Concept) -> dict[str, str]:
    return {"curie": concept.curie, "label": concept.label, "scheme": concept.scheme}


def _concept(onto: Hyperontology, curie: str) -> Concept:
    try:
        return onto.concept(curie)
    except UnknownConceptError as exc:
        raise HTTPException(status_code=404, detail={"message": "unknown concept", "field": "curie"}) from exc


def build_router(onto: Hyperontology) -> APIRouter:
    """The ``/api`` routes over one loaded hyperontology."""
    router = APIRouter(prefix="/api", tags=["search"])

    @router.get("/terms", summary="Autocomplete: concepts whose code, label or synonym matches the text")
    def terms(q: Annotated[str, Query(min_length=1, max_length=200, description="text typed so far")],
              limit: Annotated[int, Query(ge=1, le=100)] = 10,
              scheme: Annotated[list[str] | None, Query(description="restrict to these schemes (repeatable)")] = None,
              ) -> list[dict[str, Any]]:
        hits = onto.search(q, limit=limit, schemes=scheme or None)
        return [{"curie": h.concept.curie, "iri": h.concept.iri, "label": h.concept.label,
                 "scheme": h.concept.scheme, "score": h.score, "match": h.match} for h in hits]

    @router.get("/concepts/{curie:path}", summary="One concept: labels, kind, parents, children, equivalents")
    def concept(curie: CurieParam) -> dict[str, Any]:
        found = _concept(onto, curie)
        return {"curie": found.curie, "iri": found.iri, "code": found.code, "scheme": found.scheme,
                "label": found.label, "synonyms": list(found.synonyms), "kind": found.kind,
                "parents": [_brief(c) for c in onto.parents(found)],
                "children": [_brief(c) for c in onto.children(found)],
                "equivalents": [_brief(c) for c in onto.equivalents(found)]}

    @router.get("/expand/{curie:path}",
                summary="Expansion: every concept reached through sub-classes and mappings (for cohort queries)")
    def expand(curie: CurieParam) -> dict[str, Any]:
        found = _concept(onto, curie)
        reached = onto.expand(found)
        return {"curie": found.curie, "count": len(reached), "concepts": [_brief(c) for c in reached]}

    return router


__all__ = ["build_router"]
