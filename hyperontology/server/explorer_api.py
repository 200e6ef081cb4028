"""The node as a data provider of the infrastructure's federated search (Samply Focus), and its own collections API.

Routes (all behind the server's authentication, permission ``api:cohort``):

- ``GET /api/eucaim/search?gender=&diagnosis=&modality=&bodyPart=&manufacturer=`` (Focus ``eucaim-api``);
- ``POST /api/eucaim/ast`` with the explorer's query tree (Focus ``omop``);
- ``POST /api/eucaim/beacon/collections`` with a Beacon v2 request (Focus ``eucaim-beacon``);
- ``POST /api/cohort/collections``: the project's own form (the tree, or the ``/api/cohort`` criteria), ``"<k"``
  for small counts and 400 naming an unknown key or value;
- ``GET /api/eucaim/status``: the disclosure policy and the unknown keys and values seen since the start.

Each of the first three answers HTTP 200 with ``{"collections": [...]}`` (the Beacon one inside a Beacon v2 record
response), one entry per dataset of the node: ``id``, ``name``, ``description``, ``subjects_count``,
``studies_count``, ``age_range {min, max}``, ``gender``, ``modalities``, ``body_parts``. The counts pass through
the node's :class:`~hyperontology.federation.disclosure.Disclosure`; the descriptive fields are the dataset's
(not the cohort's), with a value held by fewer than k patients left out and ages widened to multiples of 5.
An unknown key or value matches nothing, is logged and counted, and is named in the ``X-Unknown-Criteria``
response header. A deployment tool appends ``fhir/`` to provider URLs: ``/api/eucaim/search/fhir/``,
``/api/eucaim/beacon/fhir//collections`` and the like are the same routes (:class:`FocusPaths`).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import re
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Receive, Scope, Send

from hyperontology.federation.collections import DATASETS_SPARQL, dataset_names, own_tree, per_dataset
from hyperontology.federation.criteria import (
    CATALOGUE_WORDS,
    EVERYONE,
    CriteriaError,
    Node,
    Resolver,
    collections_sparql,
    from_ast,
    from_beacon,
    from_params,
)
from hyperontology.federation.disclosure import Disclosure
from hyperontology.ontology import Hyperontology
from hyperontology.search.cohort import CDM
from hyperontology.server.auth import principal_of
from hyperontology.server.sparql import QueryRunner, SparqlError
from hyperontology.store.oxigraph import GRAPHS

SRJ = "application/sparql-results+json"
LOG = logging.getLogger("hyperontology.explorer")
METADATA_TTL_S = 60.0
_HEADER_SAFE = re.compile(r"[^\x20-\x7e]")
#: the words the explorer shows for facet values (the catalogue's and Focus's eucaim-api words), each standing for
#: every concept its code expands to; other values are shown by their label
DISPLAY = {
    "gender": CATALOGUE_WORDS["gender"],
    "modalities": (*CATALOGUE_WORDS["modality"], ("NM", "RADLEX:RID10334"), ("MG", "DCM:MG"), ("US", "DCM:US"),
                   ("CR", "DCM:CR"), ("DX", "DCM:DX")),
    "body_parts": CATALOGUE_WORDS["body_part"],
}
_FACETS = {"gender": "?patient cdm:gender ?v .",
           "modalities": "{ ?s cdm:patient ?patient } UNION { ?st cdm:patient ?patient . ?s cdm:study ?st } "
                         "?s a cdm:ImagingSeries ; cdm:modality ?v .",
           "body_parts": "{ ?s cdm:patient ?patient } UNION { ?st cdm:patient ?patient . ?s cdm:study ?st } "
                         "?s a cdm:ImagingSeries ; cdm:bodySite ?v ."}


class FocusPaths:
    """ASGI middleware: ``/api/eucaim/...`` paths with a ``fhir`` segment or doubled slashes (as deployment tools
    write provider URLs) are served as the plain path."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith("/api/eucaim"):
            parts = [p for p in scope["path"].split("/") if p and p.lower() != "fhir"]
            scope = dict(scope, path="/" + "/".join(parts))
        await self.app(scope, receive, send)


@dataclass
class Collection:
    """A dataset of the node as the explorer lists it (true counts; disclosed when serialised)."""

    id: str
    name: str
    description: str
    total: int = 0
    studies: int = 0
    facts: dict[str, Any] = field(default_factory=dict)


class ExplorerService:
    """Counts per dataset for the explorer's contracts, through the node's query runner and disclosure policy."""

    def __init__(self, ontology: Hyperontology, runner: Callable[[], QueryRunner], disclosure: Disclosure,
                 *, default_collection: str = "default") -> None:
        self.ontology = ontology
        self.runner = runner
        self.disclosure = disclosure
        self.default_collection = default_collection
        self.unknown_seen: Counter[str] = Counter()
        self.answered = 0
        self._valuemaps = Resolver(ontology).valuemaps
        resolver = self.resolver()
        self._display: dict[str, list[tuple[str, frozenset[str]]]] = {
            facet: [(word, frozenset(resolver.widen("gender" if facet == "gender" else facet,
                                                    resolver.expansion(ref) or ())))
                    for word, ref in words if ref in ontology]
            for facet, words in DISPLAY.items()}
        self._metadata: tuple[float, dict[str, Collection]] | None = None
        self._lock = asyncio.Lock()
        self._refresh: asyncio.Future[None] | None = None  # the background re-read, kept referenced

    def resolver(self) -> Resolver:
        return Resolver(self.ontology, self._valuemaps)

    async def _select(self, query: str) -> list[dict[str, Any]]:
        answer = await self.runner().query(query, SRJ)
        rows = json.loads(answer.body)["results"]["bindings"]
        return [{name: cell["value"] for name, cell in row.items()} for row in rows]

    # ------------------------------------------------------------------ the datasets
    async def datasets(self) -> dict[str, Collection]:
        """The node's datasets by IRI ("" for patients without one). Read once (the first caller waits); then
        answered from memory and re-read in the background when older than :data:`METADATA_TTL_S`."""
        if self._metadata is not None:
            if time.monotonic() - self._metadata[0] >= METADATA_TTL_S and not self._lock.locked():
                self._refresh = asyncio.ensure_future(self._reread())
            return self._metadata[1]
        await self._reread()
        assert self._metadata is not None
        return self._metadata[1]

    async def _reread(self) -> None:
        async with self._lock:
            if self._metadata is not None and time.monotonic() - self._metadata[0] < METADATA_TTL_S:
                return
            try:
                self._metadata = (time.monotonic(), await self._read_datasets())
            except SparqlError:
                if self._metadata is None:
                    raise
                LOG.warning("re-reading the node's datasets failed; the earlier description is kept")

    def warm(self) -> None:
        """Start reading the datasets in the background (at server start: the first question need not wait)."""
        async def quietly() -> None:
            try:
                await self._reread()
            except Exception as exc:  # noqa: BLE001 - the first question will read them again and say why
                LOG.warning("reading the node's datasets at start failed: %s", type(exc).__name__)

        self._refresh = asyncio.ensure_future(quietly())

    async def _read_datasets(self) -> dict[str, Collection]:
        everyone = await self._select(collections_sparql(EVERYONE))  # every patient and study, per dataset
        totals = per_dataset(everyone)
        names = dataset_names(await self._select(DATASETS_SPARQL), totals, self.default_collection)
        found = {key: Collection(*name) for key, name in names.items()}
        for key, (patients, studies) in totals.items():
            found[key].total, found[key].studies = patients, studies
        await self._read_facts(found)
        return found

    async def _read_facts(self, found: dict[str, Collection]) -> None:
        graph = f"GRAPH <{GRAPHS['data'].value}>"
        k = self.disclosure.min_count
        for name, body in _FACETS.items():
            words = " ".join(f'(<{iri}> "{word}")' for word, iris in self._display.get(name, ())
                             for iri in sorted(iris))
            rows = await self._select(
                f"PREFIX cdm: <{CDM}> SELECT ?d ?key (COUNT(DISTINCT ?patient) AS ?n) WHERE {{ {graph} {{ "
                f"?patient a cdm:Patient . {body} OPTIONAL {{ ?patient cdm:dataset ?d }} }} "
                f"OPTIONAL {{ VALUES (?v ?word) {{ {words} }} }} BIND(COALESCE(?word, STR(?v)) AS ?key) }} "
                "GROUP BY ?d ?key")
            for row in rows:  # a value held by fewer than k patients of the dataset is not shown
                target = found.get(row.get("d", ""))
                if target is None or int(row["n"]) < k:
                    continue
                key = row["key"]
                target.facts.setdefault(name, set()).add(key if "://" not in key else self._label(key))
        rows = await self._select(
            f"PREFIX cdm: <{CDM}> PREFIX xsd: <http://www.w3.org/2001/XMLSchema#> "
            f"SELECT ?d (MIN(?age) AS ?low) (MAX(?age) AS ?high) WHERE {{ {graph} {{ "
            "?dx a cdm:Diagnosis ; cdm:patient ?patient . ?dx cdm:ageAtDiagnosis ?a . BIND(xsd:decimal(?a) AS ?age) "
            "OPTIONAL { ?patient cdm:dataset ?d } } } GROUP BY ?d")
        for row in rows:
            target = found.get(row.get("d", ""))
            if target is not None and target.total >= k and "low" in row:
                low, high = float(row["low"]), float(row["high"])
                target.facts["age_range"] = {"min": int(low // 5 * 5), "max": int(-(-high // 5) * 5)}

    def _label(self, iri: str) -> str:
        try:
            return self.ontology.concept(iri).label
        except Exception:  # noqa: BLE001 - a code the ontology lacks is shown as its IRI's last part
            return iri.rsplit("#", 1)[-1].rsplit("/", 1)[-1]

    # ------------------------------------------------------------------ counting
    async def count(self, tree: Node) -> list[tuple[Collection, int, int]]:
        """Every collection of the node with its true counts of subjects and studies meeting ``tree``."""
        query = await run_in_threadpool(collections_sparql, tree)
        rows = await self._select(query)
        datasets = await self.datasets()
        counts = per_dataset(rows)
        missing = [key for key in counts if key not in datasets]
        if missing:  # a dataset ingested after the description was read
            self._metadata = None
            datasets = await self.datasets()
        return [(c, *counts.get(key, (0, 0))) for key, c in sorted(datasets.items(), key=lambda kv: kv[1].id)
                if key or c.total]

    def disclosed(self, counted: list[tuple[Collection, int, int]], *, shown: bool = False) -> list[dict[str, Any]]:
        """The collections as they leave the node: counts through the disclosure policy (``shown``: "<k")."""
        out = []
        policy = self.disclosure
        for c, subjects, studies in counted:
            number = policy.shown if shown else policy.number
            out.append({
                "id": c.id, "name": c.name, "description": c.description,
                "subjects_count": number(subjects, total=c.total),
                "studies_count": number(studies, total=c.studies) if subjects else 0,
                "age_range": c.facts.get("age_range", {"min": None, "max": None}),
                "gender": sorted(c.facts.get("gender", ())),
                "modalities": sorted(c.facts.get("modalities", ())),
                "body_parts": sorted(c.facts.get("body_parts", ())),
            })
        return out

    async def answer(self, request: Request, read: Callable[[Resolver], Node],
                     ) -> tuple[Resolver, Node, list[dict[str, Any]]]:
        """Read the criteria, count and disclose: (the resolver with its unknowns, the tree, the collections)."""
        resolver = self.resolver()
        try:
            tree = read(resolver)
            counted = await self.count(tree)
        except CriteriaError as exc:
            raise HTTPException(status_code=400, detail=str(exc)) from exc
        except SparqlError as exc:
            raise HTTPException(status_code=exc.status, detail=exc.message) from exc
        collections = self.disclosed(counted)
        self.note(request, resolver, tree, collections)
        return resolver, tree, collections

    def note(self, request: Request, resolver: Resolver, tree: Node, collections: list[dict[str, Any]]) -> None:
        """Log the answer for audit (caller, criteria digest, disclosed counts) and count the unknowns."""
        self.answered += 1
        principal = principal_of(request)
        caller = principal.id if principal else "anonymous"
        digest = hashlib.sha256(repr(tree).encode()).hexdigest()[:16]
        for what in resolver.unknown:
            self.unknown_seen[what] += 1
            LOG.warning("explorer query from %s: unknown %s (matches nothing)", caller, _header_text(what))
        LOG.info("explorer answer to %s at %s: criteria %s, subjects %s", caller, request.url.path, digest,
                 [c["subjects_count"] for c in collections])


def _header_text(text: str) -> str:
    return _HEADER_SAFE.sub("?", text)


def unknown_headers(resolver: Resolver) -> dict[str, str]:
    """``X-Unknown-Criteria`` naming what matched nothing (ASCII, at most 2,000 characters), and its count."""
    if not resolver.unknown:
        return {}
    text = _header_text("; ".join(resolver.unknown))
    return {"X-Unknown-Criteria": text if len(text) <= 2000 else text[:1997] + "...",
            "X-Unknown-Criteria-Count": str(len(resolver.unknown))}


async def _json(request: Request) -> Any:
    body = await request.body()
    try:
        return json.loads(body or b"null")
    except (ValueError, UnicodeDecodeError):
        raise HTTPException(status_code=400, detail="the body is not JSON") from None


def explorer_router(service: ExplorerService) -> APIRouter:
    """The routes of the explorer's contracts and of ``/api/cohort/collections``."""
    router = APIRouter(tags=["federated search"])

    answer = service.answer

    @router.get("/api/eucaim/search", summary="Collections meeting the criteria (Focus eucaim-api)")
    async def search(request: Request) -> JSONResponse:
        params = list(request.query_params.multi_items())
        resolver, _, collections = await answer(request, lambda r: from_params(params, r))
        return JSONResponse({"collections": collections}, headers=unknown_headers(resolver))

    @router.post("/api/eucaim/ast", summary="Collections meeting the explorer's query tree (Focus omop)")
    async def ast(request: Request) -> JSONResponse:
        body = await _json(request)
        resolver, _, collections = await answer(request, lambda r: from_ast(body, r))
        return JSONResponse({"collections": collections}, headers=unknown_headers(resolver))

    @router.post("/api/eucaim/beacon/collections", summary="Beacon v2 collections response (Focus eucaim-beacon)")
    async def beacon(request: Request) -> JSONResponse:
        body = await _json(request)
        resolver, _, collections = await answer(request, lambda r: from_beacon(body, r))
        total = sum(c["subjects_count"] for c in collections)
        query = body.get("query", {}) if isinstance(body, dict) else {}
        meta = {"apiVersion": "v2.0", "beaconId": "hyperontology", "returnedGranularity": "record",
                "receivedRequestSummary": {"apiVersion": str((body.get("meta") or {}).get("apiVersion", "2.0")),
                                           "filters": query.get("filters", []), "requestedGranularity":
                                           query.get("requestedGranularity", "record")}}
        reply = {"meta": meta, "responseSummary": {"exists": total > 0, "numTotalResults": total},
                 "response": {"collections": collections}}
        return JSONResponse(reply, headers=unknown_headers(resolver))

    @router.post("/api/cohort/collections", summary="Collections meeting criteria; small counts as \"<k\"")
    async def own(request: Request) -> JSONResponse:
        return await _own(service, request)

    @router.get("/api/eucaim/status", summary="The disclosure policy and the unknown criteria seen so far")
    async def status() -> dict[str, Any]:
        return {"policy": service.disclosure.describe(), "min_count": service.disclosure.min_count,
                "answered": service.answered, "unknown": dict(service.unknown_seen.most_common(100))}

    return router


async def _own(service: ExplorerService, request: Request) -> JSONResponse:
    """The project's own collections request: 400 naming an unknown key or value; small counts as ``"<k"``."""
    body = await _json(request)
    resolver = service.resolver()
    try:
        tree = own_tree(body, resolver)
    except CriteriaError as exc:
        raise HTTPException(status_code=400, detail=str(exc)) from exc
    if resolver.unknown:
        raise HTTPException(status_code=400, detail={"message": "unknown criteria", "unknown": resolver.unknown})
    try:
        counted = await service.count(tree)
    except SparqlError as exc:
        raise HTTPException(status_code=exc.status, detail=exc.message) from exc
    collections = service.disclosed(counted, shown=True)
    service.note(request, resolver, tree, collections)
    return JSONResponse({"collections": collections, "policy": service.disclosure.describe()})


__all__ = ["ExplorerService", "FocusPaths", "explorer_router", "unknown_headers"]
