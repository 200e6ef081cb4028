"""The server application: :func:`create_app` builds the FastAPI app of a node.

Routes: ``/sparql`` (SPARQL 1.1 Protocol, service description on a bare GET), ``/api/...`` (semantic
search, see :mod:`hyperontology.server.api`), ``/health`` and ``/ready``. OpenAPI at ``/docs``. When
``settings.auth`` is configured, :mod:`hyperontology.server.auth` guards every route but the public ones.
Every route's request body is limited (:mod:`hyperontology.server.limits`), and every store query, the
cohort API's too, goes through the node's :class:`~hyperontology.server.sparql.QueryRunner`: on the embedded
store, worker processes that are killed when a query runs too long (:mod:`hyperontology.server.workers`).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from urllib.parse import parse_qs

from fastapi import APIRouter, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse, PlainTextResponse, Response

from hyperontology import __version__
from hyperontology.ontology import Hyperontology, load_ontology
from hyperontology.server.api import build_router
from hyperontology.server.auth import Authenticator, AuthMiddleware, allows
from hyperontology.server.cohort_api import cohort_router
from hyperontology.server.limits import BodyLimitMiddleware, BodyTooLarge, validation_error
from hyperontology.server.pages import pages_router
from hyperontology.server.settings import ServerSettings
from hyperontology.server.sparql import Answer, Job, Limits, QueryRunner, SparqlError, ThreadWorker, service_description
from hyperontology.server.workers import WorkerSpec, start_workers
from hyperontology.store.base import Store, StoreError, is_remote, open_store

FORM = "application/x-www-form-urlencoded"
QUERY = "application/sparql-query"
UPDATE = "application/sparql-update"


def _respond(answer: Answer) -> Response:
    headers = {"X-Result-Truncated": "true"} if answer.truncated else {}
    return Response(answer.body, media_type=answer.media, headers=headers)


def open_runner(settings: ServerSettings) -> tuple[Store | None, QueryRunner]:
    """The node's query runner, and the store the server process itself keeps (None when it must not open it).

    A remote store: threads on one HTTP client. The embedded store: worker processes (one, read-write, when
    updates are allowed; else ``workers``, read-only, and a read-only handle here for ``/ready``).
    :class:`StoreError` when the store does not open.
    """
    limits = Limits(max_rows=settings.max_rows, max_result_bytes=settings.max_result_bytes)
    if is_remote(settings.store):
        remote = open_store(settings.store, read_only=not settings.allow_update, timeout_s=settings.timeout_s + 5)
        return remote, QueryRunner([ThreadWorker(remote, limits) for _ in range(settings.workers)], settings)
    if not Path(settings.store).is_dir():
        raise StoreError(f"{settings.store}: no store there")
    local = None if settings.allow_update else open_store(settings.store, read_only=True)
    spec = WorkerSpec(str(settings.store), writable=settings.allow_update, memory_mb=settings.query_memory_mb,
                      limits=limits)
    try:
        workers = start_workers(spec, 1 if settings.allow_update else settings.workers)
    except StoreError:
        if local is not None:
            local.close()
        raise
    return local, QueryRunner(workers, settings)


class Node:
    """What the routes serve: the query runner (None when the store did not open, with the reason)."""

    def __init__(self, settings: ServerSettings) -> None:
        self.settings = settings
        self.store: Store | None = None
        self.reason: str | None = None
        self._runner: QueryRunner | None = None
        try:
            self.store, self._runner = open_runner(settings)
        except StoreError as exc:
            self.reason = str(exc)

    @property
    def runner(self) -> QueryRunner:
        if self._runner is None:
            raise SparqlError(503, f"store unavailable: {self.reason}")
        return self._runner

    async def has_graph(self, graph: str) -> bool:
        """Whether a graph of the store holds anything (asked of the workers when this process has no store)."""
        if self.store is not None:
            return await asyncio.to_thread(self.store.has_graph, graph)
        return (await self.runner.run(Job("has_graph", graph))).body == b"true"

    def close(self) -> None:
        if self._runner is not None:
            self._runner.close()
            self._runner = None
        if self.store is not None:
            self.store.close()
            self.store = None


def create_app(settings: ServerSettings, *, ontology: Hyperontology | None = None) -> FastAPI:
    """The FastAPI app serving one node's store and the hyperontology (loaded here unless given)."""
    node = Node(settings)
    onto = ontology if ontology is not None else load_ontology()

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        node.close()

    app = FastAPI(title="hyperontology node", version=__version__, lifespan=lifespan,
                  description="SPARQL 1.1 endpoint and semantic search over a node's cancer-imaging data.")
    if settings.auth is not None and settings.auth.enabled:  # added first: CORS stays outside, answers preflights
        app.add_middleware(AuthMiddleware, authenticator=Authenticator(settings.auth))
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_request_bytes)  # added after: outside auth
    if settings.cors_origins:
        app.add_middleware(CORSMiddleware, allow_origins=list(settings.cors_origins), allow_methods=["GET", "POST"],
                           allow_headers=["*"],
                           expose_headers=["X-Result-Truncated", "Retry-After", "WWW-Authenticate"])

    @app.exception_handler(SparqlError)
    async def sparql_error(_: Request, exc: SparqlError) -> Response:
        return PlainTextResponse(exc.message + "\n", status_code=exc.status)

    @app.exception_handler(BodyTooLarge)
    async def body_too_large(_: Request, exc: BodyTooLarge) -> Response:
        return PlainTextResponse(f"{exc.detail}\n", status_code=exc.status_code)

    app.add_exception_handler(RequestValidationError, validation_error)

    app.include_router(_sparql_routes(node))
    app.include_router(_status_routes(node))
    app.include_router(build_router(onto))
    app.include_router(cohort_router(onto, lambda: node.runner))
    app.include_router(pages_router())
    return app


def _sparql_routes(node: Node) -> APIRouter:
    settings = node.settings
    router = APIRouter(tags=["sparql"])

    @router.get("/sparql", summary="SPARQL 1.1 query (GET ?query=); the service description without a query")
    async def sparql_get(request: Request) -> Response:
        if len(request.url.query.encode()) > settings.max_request_bytes:
            raise SparqlError(413, f"query string larger than {settings.max_request_bytes} bytes")
        params = request.query_params
        if "update" in params:
            raise SparqlError(403 if not settings.allow_update else 405, "updates must be sent with POST")
        if "query" not in params:
            return Response(service_description(str(request.url), allow_update=settings.allow_update),
                            media_type="text/turtle")
        return _respond(await node.runner.query(params["query"], request.headers.get("accept")))

    @router.post("/sparql", summary="SPARQL 1.1 query or update (form-encoded, sparql-query or sparql-update body)")
    async def sparql_post(request: Request) -> Response:
        body = await request.body()  # at most max_request_bytes: BodyLimitMiddleware
        kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
        text = body.decode("utf-8", "replace")
        return _respond(await _post(node, kind, text, request.headers.get("accept"),
                                    may_update=allows(request, "sparql:update")))

    return router


def _refuse_update(may_update: bool) -> None:
    if not may_update:
        raise SparqlError(403, "the caller's roles do not allow SPARQL updates (needs sparql:update)")


async def _post(node: Node, kind: str, text: str, accept: str | None, *, may_update: bool) -> Answer:
    if kind == FORM:
        form = parse_qs(text, keep_blank_values=True)
        if "update" in form:
            _refuse_update(may_update)
            return await node.runner.update(form["update"][0])
        if "query" not in form:
            raise SparqlError(400, "the form has neither query= nor update=")
        return await node.runner.query(form["query"][0], accept)
    if kind == QUERY:
        return await node.runner.query(text, accept)
    if kind == UPDATE:
        _refuse_update(may_update)
        return await node.runner.update(text)
    raise SparqlError(415, f"unsupported Content-Type; use {FORM}, {QUERY} or {UPDATE}")


def _status_routes(node: Node) -> APIRouter:
    router = APIRouter(tags=["status"])

    @router.get("/health", summary="Liveness: the process answers")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    @router.get("/ready", summary="Readiness: the store is open and holds the hyperontology")
    async def ready() -> Response:
        if node.reason is not None:
            return JSONResponse({"status": "unavailable", "reason": node.reason}, status_code=503)
        try:
            loaded = await node.has_graph("ontology")
        except StoreError as exc:
            return JSONResponse({"status": "unavailable", "reason": str(exc)}, status_code=503)
        except SparqlError as exc:
            return JSONResponse({"status": "unavailable", "reason": exc.message}, status_code=503)
        if not loaded:
            return JSONResponse({"status": "unavailable", "reason": "the ontology graph is missing"}, status_code=503)
        return JSONResponse({"status": "ready"})

    return router


__all__ = ["create_app", "open_runner"]
