"""The cohort API: ``POST /api/cohort`` counts patients, studies and series meeting coded criteria.

The body names concepts in any terminology of the hyperontology; each is expanded across terminologies (see
:mod:`hyperontology.search.cohort`). Unknown concepts are 404 (the detail names the concept), malformed
bodies 422, and 503 when the node's store did not open.

Examples
--------
>>> CohortRequest.model_validate({"diagnosis": ["SCT:363358000"], "age": {"min": 40}}).criteria().age_min
40.0
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, HTTPException
from pydantic import BaseModel, ConfigDict, Field, model_validator

from hyperontology.errors import UnknownConceptError
from hyperontology.ontology import Hyperontology
from hyperontology.search.cohort import CohortCriteria, run_cohort
from hyperontology.store.base import Store, StoreError


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
    diagnosis: list[str] = Field(default_factory=list, max_length=100)
    modality: list[str] = Field(default_factory=list, max_length=100)
    body_site: list[str] = Field(default_factory=list, max_length=100)
    sex: list[str] = Field(default_factory=list, max_length=100)
    stage: list[str] = Field(default_factory=list, max_length=100)
    age: AgeRange | None = None

    def criteria(self) -> CohortCriteria:
        age = self.age or AgeRange()
        return CohortCriteria(diagnosis=tuple(self.diagnosis), modality=tuple(self.modality),
                              body_site=tuple(self.body_site), sex=tuple(self.sex), stage=tuple(self.stage),
                              age_min=age.min, age_max=age.max)


class CohortCounts(BaseModel):
    """The counts and the SPARQL query that produced them (run it on any node's ``/sparql``)."""

    patients: int
    studies: int
    series: int
    sparql: str


def cohort_router(ontology: Hyperontology, store: Callable[[], Store | None]) -> APIRouter:
    """The ``/api/cohort`` route over one hyperontology and the node's store (``store()`` is None when closed)."""
    router = APIRouter(prefix="/api", tags=["search"])

    @router.post("/cohort", response_model=CohortCounts,
                 summary="Cohort counts: distinct patients, studies and series meeting the criteria")
    def cohort(request: CohortRequest) -> dict[str, Any]:
        opened = store()
        if opened is None:
            raise HTTPException(status_code=503, detail="store unavailable")
        try:
            return run_cohort(opened, request.criteria(), ontology)
        except UnknownConceptError as exc:
            raise HTTPException(status_code=404, detail={"message": str(exc), "concept": exc.ref}) from exc
        except StoreError as exc:
            raise HTTPException(status_code=503, detail=f"store unavailable: {exc}") from exc

    return router


__all__ = ["AgeRange", "CohortCounts", "CohortRequest", "cohort_router"]
