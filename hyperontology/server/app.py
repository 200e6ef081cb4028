"""The server application: :func:`create_app` builds the FastAPI app of a node.

Routes: ``/sparql`` (SPARQL 1.1 Protocol, service description on a bare GET), ``/api/...`` (semantic
search, see :mod:`hyperontology.server.api`), ``/health`` and ``/ready``. OpenAPI at ``/docs``. When
``settings.auth`` is configured, :mod:`hyperontology.server.auth` guards every route but the public ones.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from urllib.parse import parse_qs

from fastapi import APIRouter, FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse, PlainTextResponse, Response

from hyperontology import __version__
from hyperontology.ontology import Hyperontology, load_ontology
from hyperontology.server.api import build_router
from hyperontology.server.auth import Authenticator, AuthMiddleware, allows
from hyperontology.server.cohort_api import cohort_router
from hyperontology.server.pages import pages_router
from hyperontology.server.settings import ServerSettings
from hyperontology.server.sparql import Answer, QueryRunner, SparqlError, service_description
from hyperontology.store.base import Store, StoreError, is_remote, open_store

FORM = "application/x-www-form-urlencoded"
QUERY = "application/sparql-query"
UPDATE = "application/sparql-update"


def open_node_store(location: Path | str, *, writable: bool, timeout_s: float) -> tuple[Store | None, str | None]:
    """Open the store, a directory or a remote store's URL (read-only unless ``writable``): the store, or None
    and the reason it did not open. A remote store opens without a request: /ready tells whether it answers."""
    if not is_remote(location) and not Path(location).is_dir():
        return None, f"{location}: no store there"
    try:
        return open_store(location, read_only=not writable, timeout_s=timeout_s), None
    except StoreError as exc:
        return None, str(exc)


async def _read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise SparqlError(413, f"request body larger than {limit} bytes")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise SparqlError(413, f"request body larger than {limit} bytes")
    return bytes(body)


def _respond(answer: Answer) -> Response:
    headers = {"X-Result-Truncated": "true"} if answer.truncated else {}
    return Response(answer.body, media_type=answer.media, headers=headers)


class Node:
    """What the routes serve: the store (None when it did not open, with the reason) and its query runner."""

    def __init__(self, settings: ServerSettings) -> None:
        self.settings = settings
        self.store, self.reason = open_node_store(settings.store, writable=settings.allow_update,
                                                  timeout_s=settings.timeout_s + 5)
        self._runner = QueryRunner(self.store, settings) if self.store is not None else None

    @property
    def runner(self) -> QueryRunner:
        if self._runner is None:
            raise SparqlError(503, f"store unavailable: {self.reason}")
        return self._runner

    def close(self) -> None:
        if self._runner is not None:
            self._runner.close()
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
    if settings.cors_origins:
        app.add_middleware(CORSMiddleware, allow_origins=list(settings.cors_origins), allow_methods=["GET", "POST"],
                           allow_headers=["*"],
                           expose_headers=["X-Result-Truncated", "Retry-After", "WWW-Authenticate"])

    @app.exception_handler(SparqlError)
    async def sparql_error(_: Request, exc: SparqlError) -> Response:
        return PlainTextResponse(exc.message + "\n", status_code=exc.status)

    app.include_router(_sparql_routes(node))
    app.include_router(_status_routes(node))
    app.include_router(build_router(onto))
    app.include_router(cohort_router(onto, lambda: node.store))
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
        body = await _read_body(request, settings.max_request_bytes)
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
    raise SparqlError(415, f"unsupported content type {kind!r}; use {FORM}, {QUERY} or {UPDATE}")


def _status_routes(node: Node) -> APIRouter:
    router = APIRouter(tags=["status"])

    @router.get("/health", summary="Liveness: the process answers")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    @router.get("/ready", summary="Readiness: the store is open and holds the hyperontology")
    def ready() -> Response:
        if node.store is None:
            return JSONResponse({"status": "unavailable", "reason": node.reason}, status_code=503)
        try:
            loaded = node.store.has_graph("ontology")
        except StoreError as exc:
            return JSONResponse({"status": "unavailable", "reason": str(exc)}, status_code=503)
        if not loaded:
            return JSONResponse({"status": "unavailable", "reason": "the ontology graph is missing"}, status_code=503)
        return JSONResponse({"status": "ready"})

    return router


__all__ = ["create_app", "open_node_store"]
