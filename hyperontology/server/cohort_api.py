"""The cohort API: ``POST /api/cohort`` counts patients, studies and series meeting coded criteria.

The body names concepts in any terminology of the hyperontology; each is expanded across terminologies (see
:mod:`hyperontology.search.cohort`). The count is one SPARQL query, run like any other query of the node (its
timeout, its workers: see :mod:`hyperontology.server.sparql`). An unknown concept is 404 and a malformed body
422, both naming the field (and the index in its list), never the value sent; 503 when the node's store did
not open, the query timed out or every worker is busy.

Examples
--------
>>> CohortRequest.model_validate({"diagnosis": ["SCT:363358000"], "age": {"min": 40}}).criteria().age_min
40.0
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Request
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator
from starlette.concurrency import run_in_threadpool

from hyperontology.errors import UnknownConceptError
from hyperontology.federation.disclosure import Disclosure
from hyperontology.ontology import Hyperontology
from hyperontology.search.cohort import CohortCriteria, cohort_sparql
from hyperontology.server.auth import allows
from hyperontology.server.limits import MAX_CONCEPT_REF
from hyperontology.server.sparql import QueryRunner, SparqlError

#: the criteria that list concepts, in the order they are checked
CODED = ("diagnosis", "modality", "body_site", "sex", "stage")
COUNTS = ("patients", "studies", "series")
SRJ = "application/sparql-results+json"
ConceptRef = Annotated[str, StringConstraints(max_length=MAX_CONCEPT_REF)]


class AgeRange(BaseModel):
    """Age at diagnosis, in years (either bound may be left out)."""

    model_config = ConfigDict(extra="forbid")
    min: float | None = Field(default=None, ge=0, le=150)
    max: float | None = Field(default=None, ge=0, le=150)

    @model_validator(mode="after")
    def _ordered(self) -> AgeRange:
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError("age.min is greater than age.max")
        return self


class CohortRequest(BaseModel):
    """Criteria: OR within a list of concepts (CURIEs or IRIs), AND across the lists and the age range."""

    model_config = ConfigDict(extra="forbid")
    diagnosis: list[ConceptRef] = Field(default_factory=list, max_length=100)
    modality: list[ConceptRef] = Field(default_factory=list, max_length=100)
    body_site: list[ConceptRef] = Field(default_factory=list, max_length=100)
    sex: list[ConceptRef] = Field(default_factory=list, max_length=100)
    stage: list[ConceptRef] = Field(default_factory=list, max_length=100)
    age: AgeRange | None = None

    def criteria(self) -> CohortCriteria:
        age = self.age or AgeRange()
        return CohortCriteria(diagnosis=tuple(self.diagnosis), modality=tuple(self.modality),
                              body_site=tuple(self.body_site), sex=tuple(self.sex), stage=tuple(self.stage),
                              age_min=age.min, age_max=age.max)


class CohortCounts(BaseModel):
    """The counts and the SPARQL query that produced them (run it on any node's ``/sparql``). For a caller who
    may not run SPARQL the counts pass the node's disclosure control: ``"<k"`` under the threshold, others
    rounded up to a multiple of k (``policy`` says which)."""

    patients: int | str
    studies: int | str
    series: int | str
    sparql: str
    policy: str | None = None


def cohort_query(request: CohortRequest, ontology: Hyperontology) -> str:
    """The SPARQL counting the cohort; 404 naming the field and index of the first unknown concept."""
    for name in CODED:
        for index, ref in enumerate(getattr(request, name)):
            try:
                ontology.concept(ref)
            except UnknownConceptError as exc:
                detail = {"message": "unknown concept", "field": name, "index": index}
                raise HTTPException(status_code=404, detail=detail) from exc
    return cohort_sparql(request.criteria(), ontology)


def counts(answer: bytes) -> dict[str, int]:
    """The counts of a cohort query's SPARQL JSON results (0 for what is absent).

    Examples
    --------
    >>> counts(b'{"head": {}, "results": {"bindings": [{"patients": {"type": "literal", "value": "2"}}]}}')
    {'patients': 2, 'studies': 0, 'series': 0}
    """
    rows = json.loads(answer)["results"]["bindings"]
    first = rows[0] if rows else {}
    return {name: int(first[name]["value"]) if name in first else 0 for name in COUNTS}


def cohort_router(ontology: Hyperontology, runner: Callable[[], QueryRunner],
                  disclosure: Disclosure | None = None) -> APIRouter:
    """The ``/api/cohort`` route over one hyperontology and the node's query runner (``runner()`` raises
    :class:`SparqlError` 503 when the store did not open). Callers without ``sparql:query`` get the counts
    through ``disclosure`` (they could not count them themselves)."""
    policy = disclosure or Disclosure(1)
    router = APIRouter(prefix="/api", tags=["search"])

    @router.post("/cohort", response_model=CohortCounts, response_model_exclude_none=True,
                 summary="Cohort counts: distinct patients, studies and series meeting the criteria")
    async def cohort(request: CohortRequest, http: Request) -> dict[str, Any]:
        query = await run_in_threadpool(cohort_query, request, ontology)
        try:
            answer = await runner().query(query, SRJ)
        except SparqlError as exc:
            raise HTTPException(status_code=exc.status, detail=exc.message) from exc
        found = counts(answer.body)
        if allows(http, "sparql:query") or policy.exact:
            return {**found, "sparql": query}
        return {**{name: policy.shown(n) for name, n in found.items()}, "sparql": query,
                "policy": policy.describe()}

    return router


__all__ = ["AgeRange", "CohortCounts", "CohortRequest", "cohort_query", "cohort_router", "counts"]
