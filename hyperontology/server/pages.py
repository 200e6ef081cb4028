"""The query page for people: ``/`` (a SPARQL editor with examples and concept search) and its ``/static`` files.

The page is plain HTML, CSS and an ES module (no framework, no build step); it talks to ``/sparql`` and
``/api/terms``. Only the files of the ``static`` folder next to this module are served, by exact name.

Examples
--------
>>> sorted(STATIC_TYPES)[:2]
['app.js', 'index.html']
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, HTTPException
from fastapi.responses import FileResponse

STATIC_DIR = Path(__file__).parent / "static"
_MEDIA = {".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8",
          ".css": "text/css; charset=utf-8", ".svg": "image/svg+xml", ".ico": "image/x-icon"}
#: name -> media type of every servable file (fixed at import: a name not listed is never opened).
STATIC_TYPES: dict[str, str] = {path.name: _MEDIA[path.suffix] for path in sorted(STATIC_DIR.iterdir())
                                if path.is_file() and path.suffix in _MEDIA}
_HEADERS = {"X-Content-Type-Options": "nosniff", "Cache-Control": "no-cache"}


def _file(name: str) -> FileResponse:
    media = STATIC_TYPES.get(name)
    if media is None:
        raise HTTPException(status_code=404, detail="no such static file")
    return FileResponse(STATIC_DIR / name, media_type=media, headers=_HEADERS)


def pages_router() -> APIRouter:
    """The routes of the query page: ``GET /`` and ``GET /static/{name}`` (files of :data:`STATIC_DIR` only)."""
    router = APIRouter(tags=["page"])

    @router.get("/", summary="The query page (SPARQL editor, example queries, concept search)",
                response_class=FileResponse)
    def index() -> FileResponse:
        return _file("index.html")

    @router.get("/static/{name}", summary="A file of the query page (by exact name; no sub-folders)",
                response_class=FileResponse)
    def static(name: str) -> FileResponse:
        return _file(name)

    return router


__all__ = ["STATIC_DIR", "STATIC_TYPES", "pages_router"]
