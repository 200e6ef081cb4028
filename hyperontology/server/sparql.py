"""The SPARQL 1.1 Protocol endpoint (``/sparql``) over the node's store (embedded or remote).

Queries run in a bounded pool of worker threads with a timeout. pyoxigraph cannot cancel a running
query: after a timeout the client gets 503 and the query finishes in the background, holding its thread;
a new query waits for a free thread up to ``queue_wait_s`` and is refused with 503 after that, so the server
keeps answering.

``SERVICE``, ``LOAD`` and the dataset clauses ``FROM``/``USING`` are refused with 403 unless their target is on
the allow-list of :attr:`ServerSettings.allow_remote` (see :mod:`hyperontology.server.allowlist`; a dataset clause
naming one of the node's own graphs is always allowed). ``LOAD`` is an update: it also needs ``allow_update``.

Examples
--------
>>> from hyperontology.server.allowlist import AllowList
>>> remote_refusal('SELECT * WHERE { SERVICE <http://x/sparql> { ?s ?p ?o } }', AllowList([]))
"SERVICE <http://x/sparql> is not on this endpoint's allow-list"
>>> remote_refusal('SELECT * WHERE { SERVICE <http://x/sparql> { ?s ?p ?o } }', AllowList(["http://x/sparql"]))
>>> remote_refusal('SELECT ?service WHERE { ?s <http://x/LOAD> "SERVICE" } # LOAD', AllowList([])) is None
True
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from itertools import islice
from typing import Any

import pyoxigraph as ox

from hyperontology.server import results as rs
from hyperontology.server.allowlist import AllowList
from hyperontology.server.allowlist import refusal as remote_refusal
from hyperontology.server.settings import ServerSettings
from hyperontology.sparql_text import remote_uses
from hyperontology.store.base import Store, StoreError


class SparqlError(Exception):
    """A request the endpoint answers with an HTTP error (status and a readable message)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class Answer:
    body: bytes
    media: str
    truncated: bool = False


class QueryRunner:
    """Runs queries and updates on one store in a bounded thread pool, with a row cap and a timeout."""

    def __init__(self, store: Store, settings: ServerSettings) -> None:
        self.store = store
        self.settings = settings
        self._allowed = AllowList(settings.allow_remote)
        self._pool = ThreadPoolExecutor(max_workers=settings.workers, thread_name_prefix="sparql")
        self._slots = threading.BoundedSemaphore(settings.workers)

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)

    async def query(self, text: str, accept: str | None) -> Answer:
        self._check_keywords(text)
        return await self._run(lambda: self._query(text, accept))

    async def update(self, text: str) -> Answer:
        if not self.settings.allow_update:
            raise SparqlError(403, "updates are not allowed on this endpoint")
        self._check_keywords(text)
        return await self._run(lambda: self._update(text))

    def _check_keywords(self, text: str) -> None:
        """403 for a SERVICE, LOAD, FROM or USING whose target is not allowed."""
        reason = remote_refusal(text, self._allowed)
        if reason:
            raise SparqlError(403, reason)

    async def _run(self, work: Callable[[], Answer]) -> Answer:
        # wait (off the event loop) for a free query thread, up to queue_wait_s; then refuse, so the server
        # keeps answering instead of piling up work it cannot start
        if not await asyncio.to_thread(self._slots.acquire, True, self.settings.queue_wait_s):
            raise SparqlError(503, "server busy: every query thread is in use, retry later")

        def task() -> Answer:
            try:
                return work()
            finally:
                self._slots.release()

        future = self._pool.submit(task)
        try:
            return await asyncio.wait_for(asyncio.wrap_future(future), timeout=self.settings.timeout_s)
        except TimeoutError:
            raise SparqlError(503, "query timeout") from None

    # ----------------------------------------------------------------------------- in the worker thread
    def _query(self, text: str, accept: str | None) -> Answer:
        try:
            result = self.store.query(text)
            if isinstance(result, ox.QuerySolutions):
                return self._select(result, accept)
            if isinstance(result, ox.QueryBoolean):
                media = _negotiate(accept, rs.ASK_TYPES)
                return Answer(result.serialize(format=rs.BOOLEAN_FORMATS[media]) or b"", media)
            media = _negotiate(accept, rs.GRAPH_TYPES)
            return Answer(result.serialize(format=rs.RDF_FORMATS[media]) or b"", media)
        except SyntaxError as exc:
            raise SparqlError(400, f"malformed query: {exc}") from exc
        except StoreError as exc:
            raise SparqlError(503, f"store unavailable: {exc}") from exc
        except OSError as exc:  # results are read lazily: a SERVICE call may fail while they are written
            raise _failure(text, exc, "the store could not be read") from exc

    def _select(self, result: ox.QuerySolutions, accept: str | None) -> Answer:
        media = _negotiate(accept, rs.SELECT_TYPES)
        variables = list(result.variables)
        cap = self.settings.max_rows
        rows: list[list[Any]] = [[solution[v] for v in variables] for solution in islice(result, cap + 1)]
        truncated = len(rows) > cap
        return Answer(rs.write_select([v.value for v in variables], rows[:cap], media), media, truncated)

    def _update(self, text: str) -> Answer:
        try:
            self.store.update(text)
        except SyntaxError as exc:
            raise SparqlError(400, f"malformed update: {exc}") from exc
        except StoreError as exc:
            raise SparqlError(503, f"store unavailable: {exc}") from exc
        except OSError as exc:
            raise _failure(text, exc, "the store could not be written") from exc
        return Answer(b"update done\n", "text/plain")


def _failure(text: str, exc: OSError, otherwise: str) -> SparqlError:
    """502 when the text calls out (an allowed SERVICE or LOAD, which is then what failed), else 500."""
    if any(use.keyword.split()[0] in ("SERVICE", "LOAD") for use in remote_uses(text)):
        return SparqlError(502, f"a remote call (SERVICE or LOAD) failed: {exc}")
    return SparqlError(500, f"{otherwise}: {exc}")


def _negotiate(accept: str | None, offered: dict[str, str]) -> str:
    media = rs.negotiate(accept, offered)
    if media is None:
        wanted = ", ".join(dict.fromkeys(offered.values()))
        raise SparqlError(406, f"cannot answer with {accept!r}; this result is available as {wanted}")
    return media


def service_description(endpoint: str, *, allow_update: bool) -> str:
    """The SPARQL 1.1 Service Description of the endpoint, in Turtle."""
    languages = "sd:SPARQL11Query, sd:SPARQL11Update" if allow_update else "sd:SPARQL11Query"
    formats = ", ".join(f"<{f.iri}>" for f in (ox.QueryResultsFormat.JSON, ox.QueryResultsFormat.XML,
                                                ox.QueryResultsFormat.CSV, ox.QueryResultsFormat.TSV,
                                                ox.RdfFormat.TURTLE, ox.RdfFormat.N_TRIPLES, ox.RdfFormat.JSON_LD))
    return f"""@prefix sd: <http://www.w3.org/ns/sparql-service-description#> .

[] a sd:Service ;
   sd:endpoint <{endpoint}> ;
   sd:supportedLanguage {languages} ;
   sd:feature sd:UnionDefaultGraph ;
   sd:resultFormat {formats} .
"""


__all__ = ["Answer", "QueryRunner", "SparqlError", "remote_refusal", "service_description"]
