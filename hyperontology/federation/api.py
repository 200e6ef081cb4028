"""The federator's route: ``POST /api/federated/cohort`` (``hyperontology serve --federation NODES.yaml``).

The body is the explorer's tree (``{"ast": {...}}`` or the tree itself) or the project's own criteria (the body of
``POST /api/cohort``); the answer is :func:`~hyperontology.federation.fanout.federate`'s: every member node with its
status and disclosed counts, and the total of those that answered. The route is behind the server's
authentication (permission ``api:cohort``); the caller's own ``Authorization`` is never passed on: each member is
asked with the credentials the nodes file gives it.

Examples
--------
>>> from hyperontology.federation.nodes import Federation
>>> [route.path for route in federation_router(Federation(())).routes]
['/api/federated/cohort']
"""

from __future__ import annotations

import hashlib
import json
import logging
from typing import Any

import httpx
from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import JSONResponse

from hyperontology.federation.fanout import FederationError, as_ast, federate
from hyperontology.federation.nodes import Federation
from hyperontology.server.auth import principal_of

LOG = logging.getLogger("hyperontology.federation")


def federation_router(federation: Federation) -> APIRouter:
    """The federator's routes over the member nodes of ``federation``."""
    router = APIRouter(tags=["federation"])
    pool: list[httpx.AsyncClient] = []  # one client for the server's life: its connections to the members are kept

    def client() -> httpx.AsyncClient:
        if not pool:
            pool.append(httpx.AsyncClient(follow_redirects=False, limits=httpx.Limits(max_keepalive_connections=64)))
        return pool[0]

    @router.post("/api/federated/cohort", summary="Ask every member node; their disclosed counts and the total")
    async def cohort(request: Request) -> JSONResponse:
        raw = await request.body()
        try:
            body: Any = json.loads(raw or b"{}")
        except (ValueError, UnicodeDecodeError):
            raise HTTPException(status_code=400, detail="the body is not JSON") from None
        try:
            ast = as_ast(body)
        except FederationError as exc:
            raise HTTPException(status_code=400, detail=str(exc)) from None
        answer = await federate(federation, ast, client=client())
        principal = principal_of(request)
        digest = hashlib.sha256(json.dumps(ast, sort_keys=True).encode()).hexdigest()[:16]
        LOG.info("federated answer to %s: criteria %s, %d of %d nodes, subjects %d",
                 principal.id if principal else "anonymous", digest, answer["answered"], answer["asked"],
                 answer["total"]["subjects_count"])
        return JSONResponse(answer)

    return router


__all__ = ["federation_router"]
