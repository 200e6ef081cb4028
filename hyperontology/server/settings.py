"""Settings of the server: one frozen dataclass, passed to :func:`hyperontology.server.create_app`."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class ServerSettings:
    """What the server serves and the limits it enforces.

    Parameters
    ----------
    store
        Directory of the node's pyoxigraph store (opened read-only unless ``allow_update``).
    allow_update
        Accept SPARQL updates (``update=`` or ``application/sparql-update``); refused with 403 otherwise.
    max_rows
        SELECT results are cut to this many rows; the response then carries ``X-Result-Truncated: true``.
    timeout_s
        A query still running after this many seconds is answered with 503. pyoxigraph cannot cancel a
        running query: it finishes in a worker thread in the background (see ``workers``).
    max_request_bytes
        Larger request bodies (or query strings) are refused with 413.
    cors_origins
        Origins allowed by CORS (none by default).
    workers
        Size of the bounded pool of query threads; when every thread is busy (for example with queries
        that timed out and still run) new queries are refused with 503 at once, so the server keeps answering.

    Examples
    --------
    >>> ServerSettings(store="store", max_rows=2).timeout_s
    30.0
    """

    store: Path | str
    allow_update: bool = False
    max_rows: int = 10_000
    timeout_s: float = 30.0
    max_request_bytes: int = 1_000_000
    cors_origins: tuple[str, ...] = ()
    workers: int = 4
