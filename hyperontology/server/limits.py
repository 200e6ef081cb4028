"""What every route of the server bounds: the request body (413), and error answers that never repeat input.

:class:`BodyLimitMiddleware` (pure ASGI, outside every router) refuses a body larger than
:attr:`~hyperontology.server.settings.ServerSettings.max_request_bytes` on every route: at once when
``Content-Length`` says so, else as soon as the bytes read pass the limit (the route's read fails with 413).
:func:`validation_error` answers 422 naming the field (its location) and what is wrong with it, never the value
that was sent, so an answer is never larger than the limits say and never reflects what a caller sent.

Examples
--------
>>> safe_location(("body", "diagnosis", 0))
['body', 'diagnosis', 0]
>>> safe_location(("body", "x" * 100))[1]
'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx...'
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

#: longest concept reference (CURIE, IRI, code) the API takes; longer ones are refused with 422
MAX_CONCEPT_REF = 1000
_MAX_NAME = 40  # a field name echoed in a 422 (an unknown key is the caller's text) is cut to this


class BodyTooLarge(HTTPException):
    """Raised by the request's ``receive`` when the body passes the limit (answered 413)."""

    def __init__(self, limit: int) -> None:
        super().__init__(status_code=413, detail=_too_large(limit))


def _too_large(limit: int) -> str:
    return f"request body larger than {limit} bytes"


class BodyLimitMiddleware:
    """413 for a request body over ``max_bytes``, on every route (see the module docs)."""

    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = Headers(scope=scope).get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_bytes:
            await PlainTextResponse(_too_large(self.max_bytes) + "\n", status_code=413)(scope, receive, send)
            return
        received = 0
        started = False

        async def limited() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise BodyTooLarge(self.max_bytes)
            return message

        async def watched(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited, watched)
        except BodyTooLarge:  # read outside a route (where it is answered as an HTTPException)
            if started:
                raise
            await PlainTextResponse(_too_large(self.max_bytes) + "\n", status_code=413)(scope, receive, send)


def safe_location(location: Iterable[Any]) -> list[Any]:
    """A validation error's location with long names (an unknown key is the caller's text) cut short."""
    return [part[:_MAX_NAME] + "..." if isinstance(part, str) and len(part) > _MAX_NAME else part
            for part in location]


async def validation_error(_: Request, exc: Exception) -> JSONResponse:
    """422 naming each wrong field and what is wrong with it (pydantic's type and message), not its value."""
    errors = exc.errors() if isinstance(exc, RequestValidationError) else []
    detail = [{"loc": safe_location(error.get("loc", ())), "msg": str(error.get("msg", "")),
               "type": str(error.get("type", ""))} for error in errors]
    return JSONResponse({"detail": detail}, status_code=422)


__all__ = ["MAX_CONCEPT_REF", "BodyLimitMiddleware", "BodyTooLarge", "safe_location", "validation_error"]
