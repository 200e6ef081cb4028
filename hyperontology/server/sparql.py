"""The SPARQL 1.1 Protocol endpoint (``/sparql``) over the node's pyoxigraph store.

Queries run in a bounded pool of worker threads with a timeout. pyoxigraph cannot cancel a running
query: after a timeout the client gets 503 and the query finishes in the background, holding its thread;
a new query waits for a free thread up to ``queue_wait_s`` and is refused with 503 after that, so the server
keeps answering.

Examples
--------
>>> forbidden_keyword('SELECT * WHERE { SERVICE <http://x> { ?s ?p ?o } }')
'SERVICE'
>>> forbidden_keyword('SELECT ?service WHERE { ?s <http://x/LOAD> "SERVICE" } # LOAD') is None
True
"""

from __future__ import annotations

import asyncio
import re
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from itertools import islice
from typing import Any

import pyoxigraph as ox

from hyperontology.server import results as rs
from hyperontology.server.settings import ServerSettings

# strings (long and short), IRIs and comments: removed before looking for keywords
_SKIPPED = re.compile(
    r'"""(?:[^"\\]|\\.|"(?!""))*"""' r"|'''(?:[^'\\]|\\.|'(?!''))*'''"
    r'|"(?:[^"\\\n]|\\.)*"' r"|'(?:[^'\\\n]|\\.)*'"
    r'|<[^<>"{}|^`\\\x00-\x20]*>' r"|#[^\n]*",
    re.DOTALL,
)
_FORBIDDEN = re.compile(r"(?<![\w?$:])(SERVICE|LOAD)(?![\w:-])", re.IGNORECASE)


def forbidden_keyword(text: str) -> str | None:
    """The first of SERVICE / LOAD used as a keyword (not in a string, IRI, comment or name), else None."""
    match = _FORBIDDEN.search(_SKIPPED.sub(" ", text))
    return match.group(1).upper() if match else None


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

    def __init__(self, store: ox.Store, settings: ServerSettings) -> None:
        self.store = store
        self.settings = settings
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

    @staticmethod
    def _check_keywords(text: str) -> None:
        keyword = forbidden_keyword(text)
        if keyword:
            raise SparqlError(403, f"{keyword} is not allowed on this endpoint")

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
            result = self.store.query(text, use_default_graph_as_union=True)
        except SyntaxError as exc:
            raise SparqlError(400, f"malformed query: {exc}") from exc
        except OSError as exc:
            raise SparqlError(500, f"the store could not be read: {exc}") from exc
        if isinstance(result, ox.QuerySolutions):
            return self._select(result, accept)
        if isinstance(result, ox.QueryBoolean):
            media = _negotiate(accept, rs.ASK_TYPES)
            return Answer(result.serialize(format=rs.BOOLEAN_FORMATS[media]) or b"", media)
        media = _negotiate(accept, rs.GRAPH_TYPES)
        return Answer(result.serialize(format=rs.RDF_FORMATS[media]) or b"", media)

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
        except OSError as exc:
            raise SparqlError(500, f"the store could not be written: {exc}") from exc
        return Answer(b"update done\n", "text/plain")


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


__all__ = ["Answer", "QueryRunner", "SparqlError", "forbidden_keyword", "service_description"]
