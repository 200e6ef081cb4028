"""The SPARQL 1.1 Protocol endpoint (``/sparql``) over the node's store (embedded or remote).

Every query runs on a worker that does one thing at a time: on the embedded store a worker process (see
:mod:`hyperontology.server.workers`), killed and replaced when its query runs past ``timeout_s`` or takes more
memory than ``query_memory_mb``, so that a runaway query stops using CPU and memory; on a remote store a
thread, whose request to the store is abandoned at the timeout. A query waits for a free worker up to
``queue_wait_s`` and is refused with 503 after that, so the server keeps answering. Results are bounded: at
most ``max_rows`` solutions or triples and about ``max_result_bytes`` bytes (``X-Result-Truncated: true``).

``SERVICE``, ``LOAD``, the dataset clauses ``FROM``/``USING``/``WITH`` and the protocol's dataset parameters are
refused with 403 unless their target is on the allow-list of :attr:`ServerSettings.allow_remote` (see
:mod:`hyperontology.server.allowlist`; a dataset naming one of the node's own graphs is always allowed). ``LOAD``
is an update: it also needs ``allow_update``. That decision parses the text, which takes time on a large one: it
is made on the worker, within the query's timeout, never on the server's event loop.

The protocol's dataset (SPARQL 1.1 Protocol, sections 2.1.4 and 2.2.3): ``default-graph-uri`` and
``named-graph-uri`` replace a query's dataset (its ``FROM`` clauses too); ``using-graph-uri`` and
``using-named-graph-uri`` are written into an update as ``USING`` clauses, and an update with ``USING`` or
``WITH`` of its own is then refused (400). Relative IRIs resolve against the endpoint's URL unless the text
declares a ``BASE``.

Examples
--------
>>> from hyperontology.server.allowlist import AllowList
>>> remote_refusal('SELECT * WHERE { SERVICE <http://x/sparql> { ?s ?p ?o } }', AllowList([]))
"SERVICE <http://x/sparql> is not on this endpoint's allow-list"
>>> remote_refusal('SELECT * WHERE { SERVICE <http://x/sparql> { ?s ?p ?o } }', AllowList(["http://x/sparql"]))
>>> remote_refusal('SELECT ?service WHERE { ?s <http://x/LOAD> "SERVICE" } # LOAD', AllowList([])) is None
True
>>> from hyperontology.store.oxigraph import NodeStore
>>> execute(NodeStore(), Job("query", "ASK { }"), Limits(max_rows=10)).body
b'{"head":{},"boolean":true}'
>>> job = Job("update", "INSERT DATA { <s> <p> 1 }", base="http://node/sparql", allow_remote=())
>>> store = NodeStore(); _ = execute(store, job, Limits(max_rows=10))
>>> execute(store, Job("query", "ASK { <http://node/s> <http://node/p> 1 }"), Limits(max_rows=10)).body
b'{"head":{},"boolean":true}'
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from itertools import islice
from typing import Any, Literal, Protocol

import pyoxigraph as ox

from hyperontology.server import results as rs
from hyperontology.server.allowlist import AllowList
from hyperontology.server.allowlist import refusal as remote_refusal
from hyperontology.server.settings import ServerSettings
from hyperontology.sparql_text import DatasetConflict, remote_uses, with_using
from hyperontology.store.base import Dataset, StoreError

#: per term, what a result format adds around a value (tags, quotes, names): to estimate a result's size
_TERM_OVERHEAD = 48


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


@dataclass(frozen=True)
class Job:
    """One piece of work for a worker: a query (and the ``Accept`` header), an update, or whether a graph (a
    role of :data:`hyperontology.store.base.GRAPHS`) holds anything.

    ``dataset``: the protocol's dataset (a query's ``default-graph-uri`` / ``named-graph-uri``, an update's
    ``using-graph-uri`` / ``using-named-graph-uri``); ``base``: the base IRI of relative IRIs; ``allow_remote``:
    for a client's text, the endpoint's allow-list, which the worker checks the text against before it runs
    (None: a text of the node's own, such as the cohort API's).
    """

    kind: Literal["query", "update", "has_graph"]
    text: str
    accept: str | None = None
    dataset: Dataset | None = None
    base: str | None = None
    allow_remote: tuple[str, ...] | None = None

    def parameters(self) -> list[tuple[str, str]]:
        """The protocol's dataset parameters of the job, as a request gives them."""
        if self.dataset is None:
            return []
        default, named = ("using-graph-uri", "using-named-graph-uri") if self.kind == "update" else \
            ("default-graph-uri", "named-graph-uri")
        return [(default, g) for g in self.dataset.default] + [(named, g) for g in self.dataset.named]


@dataclass(frozen=True)
class Limits:
    """The bounds of a result: rows (solutions or triples) and, roughly, bytes."""

    max_rows: int
    max_result_bytes: int = 16_000_000


class Queryable(Protocol):
    """What :func:`execute` needs of a store (a :class:`hyperontology.store.base.Store`)."""

    def query(self, sparql: str, *, dataset: Dataset | None = None, base_iri: str | None = None) -> Any: ...

    def update(self, sparql: str, *, base_iri: str | None = None) -> None: ...

    def has_graph(self, graph: str) -> bool: ...


class Worker(Protocol):
    """Runs one job at a time (in a thread of the runner); :meth:`abandon` is called when its job timed out."""

    def call(self, job: Job) -> Answer: ...

    def abandon(self) -> None: ...

    def close(self) -> None: ...


# ----------------------------------------------------------------------------------------- executing a job
def execute(store: Queryable, job: Job, limits: Limits) -> Answer:
    """Run a job on a store and serialise its result; :class:`SparqlError` for what the client is told."""
    if job.kind == "has_graph":
        return Answer(b"true" if store.has_graph(job.text) else b"false", "text/plain")
    text = screened(job)
    if job.kind == "update":
        return _update(store, text, job.base)
    try:
        result = store.query(text, dataset=job.dataset, base_iri=job.base)
        if isinstance(result, ox.QuerySolutions):
            return _select(result, job.accept, limits)
        if isinstance(result, ox.QueryBoolean):
            media = _negotiate(job.accept, rs.ASK_TYPES)
            return Answer(result.serialize(format=rs.BOOLEAN_FORMATS[media]) or b"", media)
        return _graph(result, job.accept, limits)
    except SyntaxError as exc:
        raise SparqlError(400, f"malformed query: {exc}") from exc
    except StoreError as exc:
        raise SparqlError(503, f"store unavailable: {exc}") from exc
    except (OSError, RuntimeError) as exc:  # read lazily: a SERVICE call may fail (or answer nonsense) as they are
        raise _failure(job.text, exc, "the store could not be read") from exc


def screened(job: Job) -> str:
    """The text a job runs: checked against the allow-list (when the job has one), and for an update, with the
    protocol's dataset written in (:class:`SparqlError` 403 or 400 when it may not run)."""
    if job.allow_remote is not None:
        reason = remote_refusal(job.text, AllowList(job.allow_remote), parameters=job.parameters(), base=job.base)
        if reason:
            raise SparqlError(reason.status, reason)  # 403 not allowed, 400 cannot be checked
    if job.kind == "update" and job.dataset is not None:
        try:
            return with_using(job.text, job.dataset.default, job.dataset.named)
        except DatasetConflict as exc:
            raise SparqlError(400, str(exc)) from exc
    return job.text


def _bounded(items: Iterable[Any], size: Any, limits: Limits) -> tuple[list[Any], bool]:
    """The first items (at most ``max_rows``, about ``max_result_bytes`` by ``size``) and whether some were left."""
    taken: list[Any] = []
    budget = limits.max_result_bytes
    for item in islice(items, limits.max_rows + 1):
        budget -= size(item)
        if len(taken) == limits.max_rows or (budget < 0 and taken):
            return taken, True
        taken.append(item)
    return taken, False


def _fitted(items: list[Any], truncated: bool, write: Any, limit: int) -> tuple[bytes, bool]:
    """``write(items)``, with items dropped from the end (halving) until it is at most ``limit`` bytes."""
    body = write(items)
    while len(body) > limit and items:
        items, truncated = items[:len(items) // 2], True
        body = write(items)
    return body, truncated


def _term_size(term: Any) -> int:
    return _TERM_OVERHEAD + (len(str(term)) if term is not None else 0)


def _select(result: ox.QuerySolutions, accept: str | None, limits: Limits) -> Answer:
    media = _negotiate(accept, rs.SELECT_TYPES)
    variables = list(result.variables)
    names = [v.value for v in variables]
    solutions = ([solution[v] for v in variables] for solution in result)
    rows, truncated = _bounded(solutions, lambda row: sum(map(_term_size, row)), limits)
    body, truncated = _fitted(rows, truncated, lambda kept: rs.write_select(names, kept, media),
                              limits.max_result_bytes)
    return Answer(body, media, truncated)


def _graph(result: Iterable[ox.Triple], accept: str | None, limits: Limits) -> Answer:
    media = _negotiate(accept, rs.GRAPH_TYPES)
    triples, truncated = _bounded(result, lambda t: 3 * _TERM_OVERHEAD + len(str(t)), limits)
    body, truncated = _fitted(triples, truncated, lambda kept: ox.serialize(kept, format=rs.RDF_FORMATS[media]) or b"",
                              limits.max_result_bytes)
    return Answer(body, media, truncated)


def _update(store: Queryable, text: str, base: str | None) -> Answer:
    try:
        store.update(text, base_iri=base)
    except SyntaxError as exc:
        raise SparqlError(400, f"malformed update: {exc}") from exc
    except StoreError as exc:
        raise SparqlError(503, f"store unavailable: {exc}") from exc
    except (OSError, RuntimeError) as exc:
        raise _failure(text, exc, "the store could not be written") from exc
    return Answer(b"update done\n", "text/plain")


def _failure(text: str, exc: Exception, otherwise: str) -> SparqlError:
    """502 when the text calls out (an allowed SERVICE or LOAD, which is then what failed), else 500."""
    if any(use.keyword.split()[0] in ("SERVICE", "LOAD") for use in remote_uses(text)):
        return SparqlError(502, f"a remote call (SERVICE or LOAD) failed: {exc}")
    return SparqlError(500, f"{otherwise}: {exc}")


def _negotiate(accept: str | None, offered: dict[str, str]) -> str:
    media = rs.negotiate(accept, offered)
    if media is None:
        wanted = ", ".join(dict.fromkeys(offered.values()))
        raise SparqlError(406, f"cannot answer in a media type of the Accept header; this result is available as "
                               f"{wanted}")
    return media


# ----------------------------------------------------------------------------------------- the runner
class ThreadWorker:
    """A worker thread on a store it shares (a remote store: a timed-out request ends by the store's own HTTP
    timeout, and the thread is free again then)."""

    def __init__(self, store: Queryable, limits: Limits) -> None:
        self.store, self.limits = store, limits

    def call(self, job: Job) -> Answer:
        return execute(self.store, job, self.limits)

    def abandon(self) -> None:
        """Nothing to stop: the thread finishes the request and is given back then."""

    def close(self) -> None:
        """The store is closed by its owner."""


class QueryRunner:
    """Runs queries and updates on a node's workers, first come first served, with a queue wait and a timeout.

    A worker is busy from the moment it is taken until its job has ended, including, after a timeout, until
    it has stopped (a worker process killed and replaced, a thread's request given up).
    """

    def __init__(self, workers: Sequence[Worker], settings: ServerSettings) -> None:
        self.settings = settings
        self.workers = list(workers)
        self._allowed = tuple(AllowList(settings.allow_remote).entries)
        self._threads = ThreadPoolExecutor(max_workers=max(1, len(self.workers)), thread_name_prefix="sparql")
        self._loop: asyncio.AbstractEventLoop | None = None
        self._free: asyncio.Queue[Worker] = asyncio.Queue()

    def close(self) -> None:
        for worker in self.workers:
            worker.close()
        self._threads.shutdown(wait=False, cancel_futures=True)

    async def query(self, text: str, accept: str | None, *, dataset: Dataset | None = None,
                    base: str | None = None) -> Answer:
        """A client's query, with the protocol's dataset and the endpoint's base IRI; checked on its worker."""
        return await self.run(Job("query", text, accept, dataset=dataset, base=base, allow_remote=self._allowed))

    async def update(self, text: str, *, using: Dataset | None = None, base: str | None = None) -> Answer:
        """A client's update (``using``: its ``using-graph-uri`` / ``using-named-graph-uri``)."""
        if not self.settings.allow_update:
            raise SparqlError(403, "updates are not allowed on this endpoint")
        return await self.run(Job("update", text, dataset=using, base=base, allow_remote=self._allowed))

    def _queue(self) -> asyncio.Queue[Worker]:
        """The free workers, on the running event loop (a server has one; a new loop starts with all free)."""
        loop = asyncio.get_running_loop()
        if self._loop is not loop:
            self._loop, self._free = loop, asyncio.Queue()
            for worker in self.workers:
                self._free.put_nowait(worker)
        return self._free

    async def run(self, job: Job) -> Answer:
        """Run a job on the next free worker: 503 when none is free within ``queue_wait_s`` or the job is still
        running after ``timeout_s`` (its worker is then abandoned: stopped, and free again once it has)."""
        free = self._queue()
        try:
            worker = await asyncio.wait_for(free.get(), timeout=self.settings.queue_wait_s)
        except TimeoutError:
            raise SparqlError(503, "server busy: every query worker is in use, retry later") from None
        future = asyncio.get_running_loop().run_in_executor(self._threads, worker.call, job)
        future.add_done_callback(lambda done: _give_back(done, free, worker))
        try:
            return await asyncio.wait_for(asyncio.shield(future), timeout=self.settings.timeout_s)
        except TimeoutError:
            worker.abandon()
            raise SparqlError(503, "query timeout") from None
        except asyncio.CancelledError:  # the request was dropped: its query must not run on
            worker.abandon()
            raise


def _give_back(done: asyncio.Future[Answer], free: asyncio.Queue[Worker], worker: Worker) -> None:
    if not done.cancelled():
        done.exception()  # retrieved: the client of a timed-out job has had its answer already
    free.put_nowait(worker)


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


__all__ = ["Answer", "Job", "Limits", "QueryRunner", "SparqlError", "ThreadWorker", "Worker", "execute",
           "remote_refusal", "service_description"]
