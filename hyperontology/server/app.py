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
from dataclasses import dataclass
from pathlib import Path
from typing import Literal
from urllib.parse import parse_qsl

from fastapi import APIRouter, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse, PlainTextResponse, Response

from hyperontology import __version__
from hyperontology.federation.disclosure import Disclosure
from hyperontology.ontology import Hyperontology, load_ontology
from hyperontology.server.api import build_router
from hyperontology.server.auth import Authenticator, AuthMiddleware, allows
from hyperontology.server.cohort_api import cohort_router
from hyperontology.server.explorer_api import ExplorerService, FocusPaths, explorer_router
from hyperontology.server.fdp import fdp_router
from hyperontology.server.limits import BodyLimitMiddleware, BodyTooLarge, validation_error
from hyperontology.server.pages import pages_router
from hyperontology.server.settings import ServerSettings
from hyperontology.server.sparql import Answer, Job, Limits, QueryRunner, SparqlError, ThreadWorker, service_description
from hyperontology.server.workers import WorkerSpec, start_workers
from hyperontology.sparql_parse import is_iri
from hyperontology.store.base import Dataset, Store, StoreError, is_remote, open_store

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

    explorer: list[ExplorerService] = []

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        if node.reason is None:
            explorer[0].warm()
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
                           expose_headers=["X-Result-Truncated", "Retry-After", "WWW-Authenticate",
                                           "X-Unknown-Criteria", "X-Unknown-Criteria-Count"])
    app.add_middleware(FocusPaths)  # outermost: authentication sees the plain path

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
    disclosure = Disclosure(settings.min_count, settings.small_counts)  # type: ignore[arg-type]
    app.include_router(cohort_router(onto, lambda: node.runner, disclosure))
    explorer.append(ExplorerService(onto, lambda: node.runner, disclosure,
                                    default_collection=settings.default_collection))
    app.include_router(explorer_router(explorer[0]))
    app.include_router(fdp_router(onto, lambda: node.runner, disclosure))
    if settings.federation is not None:
        from hyperontology.federation.api import federation_router

        app.include_router(federation_router(settings.federation))
    app.include_router(pages_router())
    return app


def _sparql_routes(node: Node) -> APIRouter:
    settings = node.settings
    router = APIRouter(tags=["sparql"])

    @router.get("/sparql", summary="SPARQL 1.1 query (GET ?query=); the service description without a query")
    async def sparql_get(request: Request) -> Response:
        _aggregate_only(settings)
        if len(request.url.query.encode()) > settings.max_request_bytes:
            raise SparqlError(413, f"query string larger than {settings.max_request_bytes} bytes")
        params = _query_string(request)
        names = {name for name, _ in params}
        if "update" in names:
            raise SparqlError(403 if not settings.allow_update else 405, "updates must be sent with POST")
        if "query" not in names:
            return Response(service_description(_endpoint(request), allow_update=settings.allow_update),
                            media_type="text/turtle")
        operation = _operation("query", params)
        return _respond(await node.runner.query(operation.text, request.headers.get("accept"),
                                                dataset=operation.dataset, base=_endpoint(request)))

    @router.post("/sparql", summary="SPARQL 1.1 query or update (form-encoded, sparql-query or sparql-update body)")
    async def sparql_post(request: Request) -> Response:
        _aggregate_only(settings)
        body = await request.body()  # at most max_request_bytes: BodyLimitMiddleware
        operation = _posted(request.headers.get("content-type", ""), body, _query_string(request))
        if operation.kind == "update":
            if not allows(request, "sparql:update"):
                raise SparqlError(403, "the caller's roles do not allow SPARQL updates (needs sparql:update)")
            answer = await node.runner.update(operation.text, using=operation.dataset, base=_endpoint(request))
        else:
            answer = await node.runner.query(operation.text, request.headers.get("accept"),
                                             dataset=operation.dataset, base=_endpoint(request))
        return _respond(answer)

    return router


def _aggregate_only(settings: ServerSettings) -> None:
    if settings.aggregate_only:
        raise SparqlError(403, "this node answers counts only (aggregate-only): /sparql is closed")


@dataclass(frozen=True)
class _Operation:
    """What a request asks (SPARQL 1.1 Protocol, section 2): a query or an update, and the dataset it names."""

    kind: Literal["query", "update"]
    text: str
    dataset: Dataset | None


#: the protocol's dataset parameters of each operation
_DATASET = {"query": ("default-graph-uri", "named-graph-uri"), "update": ("using-graph-uri", "using-named-graph-uri")}


def _query_string(request: Request) -> list[tuple[str, str]]:
    try:
        return parse_qsl(request.url.query, keep_blank_values=True, errors="strict")
    except UnicodeDecodeError:
        raise SparqlError(400, "the query string is not UTF-8") from None


def _posted(content_type: str, body: bytes, in_url: list[tuple[str, str]]) -> _Operation:
    """A POST's operation: form-encoded (parameters in the body, dataset parameters in the URL too) or direct
    (the body is the query or update, the dataset parameters are in the URL). The body must be UTF-8."""
    media, _, options = content_type.partition(";")
    media = media.strip().lower()
    charset = next((value.strip().strip('"').lower() for name, _, value in
                    (option.partition("=") for option in options.split(";")) if name.strip().lower() == "charset"),
                   "utf-8")
    if media not in (FORM, QUERY, UPDATE):
        raise SparqlError(415, f"unsupported Content-Type; use {FORM}, {QUERY} or {UPDATE}")
    if charset not in ("utf-8", "utf8"):
        raise SparqlError(415, f"unsupported charset {charset[:40]!r}: SPARQL requests are UTF-8")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise SparqlError(400, "the request body is not UTF-8") from None
    if media == FORM:
        try:
            form = parse_qsl(text, keep_blank_values=True, errors="strict")
        except UnicodeDecodeError:
            raise SparqlError(400, "the form's values are not UTF-8") from None
        params = form + in_url
        kinds = [name for name, _ in params if name in ("query", "update")]
        if not kinds:
            raise SparqlError(400, "the form has neither query= nor update=")
        return _operation("update" if kinds[0] == "update" else "query", params)
    if any(name in ("query", "update") for name, _ in in_url):
        raise SparqlError(400, f"with Content-Type {media} the body is the operation: the URL must not carry "
                               "query= or update=")
    kind: Literal["query", "update"] = "update" if media == UPDATE else "query"
    return _operation(kind, [(kind, text), *in_url])


def _operation(kind: Literal["query", "update"], params: list[tuple[str, str]]) -> _Operation:
    """The one operation of a request's parameters and its dataset (400 for two operations, or a dataset
    parameter of the other kind of operation)."""
    texts = [value for name, value in params if name in ("query", "update")]
    if len(texts) != 1:
        raise SparqlError(400, f"a request carries one query or update; this one has {len(texts)}")
    other = "update" if kind == "query" else "query"
    wrong = next((name for name, _ in params if name in _DATASET[other]), None)
    if wrong:
        raise SparqlError(400, f"{wrong} is a dataset parameter of {other} requests, not of {kind} requests")
    default_name, named_name = _DATASET[kind]
    default = tuple(value for name, value in params if name == default_name)
    named = tuple(value for name, value in params if name == named_name)
    return _Operation(kind, texts[0], Dataset(default, named) if default or named else None)


def _endpoint(request: Request) -> str:
    """The endpoint's URL, the base IRI of relative IRIs: from the address the server listens on, never from the
    request's Host header (which the client writes)."""
    host, port = (request.scope.get("server") or ("localhost", None))[:2]
    scheme = "https" if request.url.scheme == "https" else "http"
    host = f"[{host}]" if ":" in str(host) else str(host)
    url = f"{scheme}://{host}{f':{port}' if port else ''}{request.scope.get('root_path', '')}/sparql"
    return url if is_iri(url) else "http://localhost/sparql"


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
