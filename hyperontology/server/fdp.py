"""The node's dataset descriptions served read-only as a FAIR Data Point (FAIRDataTeam/FAIRDataPoint-Spec).

Routes (public, GET only; docs/catalogue.md):

- ``/fdp``: the FAIR Data Point itself (``fdp-o:FAIRDataPoint``, a ``dcat:DataService``), linking its catalog;
- ``/fdp/catalog``: the node's ``dcat:Catalog`` of every dataset of the store (the profile's Catalogue: title,
  description, applicable legislation and publisher from the metadata's ``catalog:`` entry, the publisher and
  legislation defaulting to the datasets');
- ``/fdp/dataset/{id}``: a dataset's description (:func:`hyperontology.interop.dcat.describe`, the EUCAIM DCAT-AP
  v2.0), validated against the profile's shapes;
- ``/fdp/distribution/{id}``: its distribution.

Each answers Turtle, JSON-LD or RDF/XML as the ``Accept`` header asks (Turtle by default; 406 for anything else).
Descriptions are computed from the node's store through its query runner, with the node's disclosure policy; the
data holder's metadata YAML (:data:`~hyperontology.interop.dcat.TEMPLATE`) is read at start from the file named by
the environment variable ``HYPERONTOLOGY_FDP_METADATA``. Without it, a minimal description is served (the
store's titles and the computed facts) that does not meet the profile: the answer then carries
``X-Profile-Conformance: false`` and names the missing properties in ``X-Profile-Violations``. A computed
description is served from memory for :data:`FDP_TTL_S` seconds, then recomputed in the background (the earlier
one is served meanwhile): a harvester asking for every dataset does not recount the store each time.

Examples
--------
>>> negotiate("application/ld+json;q=0.9, text/turtle;q=0.5")
'jsonld'
>>> negotiate(None), negotiate("*/*"), negotiate("image/png")
('ttl', 'ttl', None)
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import time
from collections.abc import Awaitable, Callable, Hashable, Mapping
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse, Response
from rdflib import Literal, Namespace, URIRef
from rdflib.namespace import DCTERMS, FOAF, RDF

from hyperontology import __version__
from hyperontology.federation.disclosure import Disclosure
from hyperontology.interop import dcat
from hyperontology.ontology import Hyperontology
from hyperontology.server.sparql import QueryRunner

ENV = "HYPERONTOLOGY_FDP_METADATA"
#: seconds a computed description is served from memory before it is recomputed (in the background)
FDP_TTL_S = 300.0
LOG = logging.getLogger("hyperontology.fdp")
FDPO = Namespace("https://w3id.org/fdp/fdp-o#")
LDP = Namespace("http://www.w3.org/ns/ldp#")
SRJ = "application/sparql-results+json"
#: media types -> format names of :data:`hyperontology.interop.dcat.FORMATS`
MEDIA = {"text/turtle": "ttl", "application/x-turtle": "ttl", "application/ld+json": "jsonld",
         "application/json": "jsonld", "application/rdf+xml": "rdfxml", "*/*": "ttl", "text/*": "ttl",
         "application/*": "jsonld"}


def negotiate(accept: str | None) -> str | None:
    """The format name an ``Accept`` header asks for (highest q first; Turtle without one); None when none fits."""
    if not accept or not accept.strip():
        return "ttl"
    ranked = []
    for order, part in enumerate(accept.split(",")):
        media, *params = (p.strip() for p in part.split(";"))
        q = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        if media.lower() in MEDIA and q > 0:
            ranked.append((-q, order, MEDIA[media.lower()]))
    return min(ranked)[2] if ranked else None


def metadata_from_env(environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The metadata YAML named by ``HYPERONTOLOGY_FDP_METADATA`` (empty when unset)."""
    path = (environ if environ is not None else os.environ).get(ENV)
    return dcat.read_metadata(Path(path)) if path else {}


def _rdf(graph: Any, request: Request, headers: Mapping[str, str] | None = None) -> Response:
    fmt = negotiate(request.headers.get("accept"))
    if fmt is None:
        return PlainTextResponse("406: this resource is served as text/turtle, application/ld+json or "
                                 "application/rdf+xml\n", status_code=406)
    return Response(dcat.serialize(graph, fmt), media_type=dcat.FORMATS[fmt][1],
                    headers={"Vary": "Accept", **(headers or {})})


class Cached:
    """Values an async function computes, kept per key: answered from memory, recomputed in the background once
    older than ``ttl`` seconds (the stale value is served meanwhile, and kept if recomputing fails); the first
    caller of a key waits, and concurrent first callers share one computation. Failures are not kept."""

    def __init__(self, ttl: float = FDP_TTL_S) -> None:
        self.ttl = ttl
        self._values: dict[Hashable, tuple[float, Any]] = {}
        self._locks: dict[Hashable, asyncio.Lock] = {}
        self._tasks: set[asyncio.Future[None]] = set()

    def _fresh(self, key: Hashable) -> bool:
        held = self._values.get(key)
        return held is not None and time.monotonic() - held[0] < self.ttl

    async def get(self, key: Hashable, compute: Callable[[], Awaitable[Any]]) -> Any:
        held = self._values.get(key)
        if held is None:
            await self._compute(key, compute, keep_old=False)
            return self._values[key][1]
        lock = self._locks.setdefault(key, asyncio.Lock())
        if not self._fresh(key) and not lock.locked():
            task = asyncio.ensure_future(self._compute(key, compute, keep_old=True))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        return held[1]

    async def _compute(self, key: Hashable, compute: Callable[[], Awaitable[Any]], *, keep_old: bool) -> None:
        async with self._locks.setdefault(key, asyncio.Lock()):
            if self._fresh(key) or (not keep_old and key in self._values):
                return
            try:
                self._values[key] = (time.monotonic(), await compute())
            except Exception as exc:
                if not keep_old:
                    raise
                LOG.warning("recomputing %s failed (%s); the earlier description is served", key,
                            type(exc).__name__)


class FairDataPoint:
    """Builds the FDP's resources from the node's store (``runner``) and the data holder's metadata."""

    def __init__(self, ontology: Hyperontology, runner: Callable[[], QueryRunner], disclosure: Disclosure,
                 metadata: Mapping[str, Any], *, ttl: float = FDP_TTL_S) -> None:
        self.ontology, self.runner, self.disclosure, self.metadata = ontology, runner, disclosure, metadata
        self.codes = dcat.EucaimCodes(ontology)
        self.cache = Cached(ttl)

    async def select(self, sparql: str) -> list[dict[str, str]]:
        answer = await self.runner().query(sparql, SRJ)
        rows = json.loads(answer.body)["results"]["bindings"]
        return [{name: cell["value"] for name, cell in row.items()} for row in rows]

    def _catalog_meta(self) -> Mapping[str, Any]:
        return self.metadata.get("catalog") or {}

    async def root(self, base: str) -> Any:
        graph = dcat.new_graph()
        graph.bind("fdp-o", FDPO)
        graph.bind("ldp", LDP)
        fdp, meta = URIRef(f"{base}/fdp"), self._catalog_meta()
        for kind in (FDPO.FAIRDataPoint, dcat.DCAT.DataService):
            graph.add((fdp, RDF.type, kind))
        graph.add((fdp, DCTERMS.title, Literal(f"{meta.get('title', 'hyperontology node')} FAIR Data Point",
                                               lang="en")))
        graph.add((fdp, DCTERMS.hasVersion, Literal(__version__)))
        graph.add((fdp, dcat.DCAT.endpointURL, fdp))
        graph.add((fdp, FDPO.metadataCatalog, URIRef(f"{base}/fdp/catalog")))
        graph.add((fdp, LDP.contains, URIRef(f"{base}/fdp/catalog")))
        self._publisher(graph, fdp)
        return graph

    def _publisher(self, graph: Any, subject: URIRef) -> None:
        name = (self.metadata.get("publisher") or {}).get("name") if isinstance(self.metadata.get("publisher"),
                                                                                Mapping) else None
        if name:
            agent = URIRef(f"{subject}#publisher")
            graph.add((subject, DCTERMS.publisher, agent))
            graph.add((agent, RDF.type, FOAF.Agent))
            graph.add((agent, FOAF.name, Literal(str(name))))

    async def catalog(self, base: str) -> tuple[Any, dict[str, str]]:
        """The node's catalogue (HealthDCAT-AP's Catalogue, as EUCAIM v2.0 inherits it) and the conformance
        headers."""
        return await self.cache.get((base, "catalog"), lambda: self._catalog(base))  # type: ignore[no-any-return]

    async def _catalog(self, base: str) -> tuple[Any, dict[str, str]]:
        datasets = await dcat.list_datasets(self.select)
        built = dcat.build_catalog(self.metadata, datasets, catalog_iri=f"{base}/fdp/catalog",
                                   dataset_iri=lambda identifier: f"{base}/fdp/dataset/{_safe(identifier)}")
        built.graph.add((URIRef(f"{base}/fdp/catalog"), DCTERMS.isPartOf, URIRef(f"{base}/fdp")))
        return await _conformance(built, dcat.validate_catalog)

    async def dataset(self, base: str, identifier: str) -> tuple[Any, dict[str, str]]:
        """The dataset's description and the conformance headers (kept for :data:`FDP_TTL_S` seconds)."""
        return await self.cache.get((base, identifier),  # type: ignore[no-any-return]
                                    lambda: self._dataset(base, identifier))

    async def _dataset(self, base: str, identifier: str) -> tuple[Any, dict[str, str]]:
        ds, dist = f"{base}/fdp/dataset/{_safe(identifier)}", f"{base}/fdp/distribution/{_safe(identifier)}"
        facts = await dcat.read_facts(self.select, identifier, self.codes)
        built = dcat.build_description(facts, self.metadata, self.disclosure, dataset_iri=ds, distribution_iri=dist)
        built.graph.add((URIRef(ds), DCTERMS.isPartOf, URIRef(f"{base}/fdp/catalog")))
        return await _conformance(built, dcat.validate)


async def _conformance(built: dcat.Description, check: Callable[[dcat.Description], Any]) -> tuple[Any, dict[str, str]]:
    """The graph and the ``X-Profile-Conformance`` headers after ``check`` (validation, in a worker thread)."""
    from starlette.concurrency import run_in_threadpool

    try:
        await run_in_threadpool(check, built)
    except dcat.DescriptionError as exc:
        return built.graph, {"X-Profile-Conformance": "false", "X-Profile-Violations": _header(str(exc))}
    return built.graph, {"X-Profile-Conformance": "true"}


_SAFE = re.compile(r"^[A-Za-z0-9._~-]+$")


def _safe(identifier: str) -> str:
    from urllib.parse import quote

    return identifier if _SAFE.match(identifier) else quote(identifier, safe="")


def _header(text: str) -> str:
    return re.sub(r"[^\x20-\x7e]", "?", text.split(": ", 1)[-1])[:2000]


def _base(request: Request) -> str:
    """The server's own address (as ``/sparql``'s base IRI: never the client's Host header)."""
    host, port = (request.scope.get("server") or ("localhost", None))[:2]
    scheme = "https" if request.url.scheme == "https" else "http"
    host = f"[{host}]" if ":" in str(host) else str(host)
    return f"{scheme}://{host}{f':{port}' if port else ''}{request.scope.get('root_path', '')}"


def fdp_router(ontology: Hyperontology, runner: Callable[[], QueryRunner], disclosure: Disclosure, *,
               metadata: Mapping[str, Any] | None = None) -> APIRouter:
    """The FAIR Data Point's routes (``metadata``: the data holder's YAML; default: :func:`metadata_from_env`)."""
    point = FairDataPoint(ontology, runner, disclosure, metadata if metadata is not None else metadata_from_env())
    router = APIRouter(tags=["FAIR Data Point"])

    @router.get("/fdp", summary="The FAIR Data Point (Turtle, JSON-LD or RDF/XML by Accept)")
    async def root(request: Request) -> Response:
        return _rdf(await point.root(_base(request)), request)

    @router.get("/fdp/catalog", summary="The node's catalog of datasets")
    async def catalog(request: Request) -> Response:
        try:
            graph, headers = await point.catalog(_base(request))
        except dcat.DescriptionError as exc:  # a malformed catalog entry in the metadata
            return PlainTextResponse(f"{exc}\n", status_code=500)
        return _rdf(graph, request, headers)

    @router.get("/fdp/dataset/{identifier}", summary="A dataset (EUCAIM DCAT-AP v2.0)")
    async def dataset(identifier: str, request: Request) -> Response:
        try:
            graph, headers = await point.dataset(_base(request), identifier)
        except dcat.DescriptionError as exc:
            return PlainTextResponse(f"{exc}\n", status_code=404)
        return _rdf(graph, request, headers)

    @router.get("/fdp/distribution/{identifier}", summary="A dataset's distribution")
    async def distribution(identifier: str, request: Request) -> Response:
        try:
            graph, _ = await point.dataset(_base(request), identifier)
        except dcat.DescriptionError as exc:
            return PlainTextResponse(f"{exc}\n", status_code=404)
        dist = URIRef(f"{_base(request)}/fdp/distribution/{_safe(identifier)}")
        own = dcat.new_graph()
        for triple in graph.triples((dist, None, None)):
            own.add(triple)
            for inner in graph.triples((triple[2], None, None)):
                own.add(inner)
        return _rdf(own, request)

    return router


__all__ = ["ENV", "FDP_TTL_S", "Cached", "FairDataPoint", "fdp_router", "metadata_from_env", "negotiate"]
