"""Query worker processes for the embedded store: a query that runs too long is stopped by killing its process.

pyoxigraph cannot cancel a running query, and a thread cannot be killed. So on the embedded store every job (a
query, an update, a graph check) runs in a worker process: ``workers`` of them (one when updates are allowed: a
store has one writer) each open the store, read-only unless updates are allowed (several processes may read a
store), and run one job at a time, sent over a pipe. When a query runs past the timeout the server kills its
process (SIGKILL: its CPU and memory are released at once) and starts another one before the worker takes a
new job. A killed update is not applied (pyoxigraph commits an update as one transaction).

Memory: before each job a worker sets its ``RLIMIT_DATA`` (its heap and private writable mappings) to what it
holds then plus ``query_memory_mb``. A query over that fails to allocate: pyoxigraph aborts the process, or
Python raises MemoryError; the client gets 507 and the worker is replaced. A worker still holding more than half
of that allowance after a job is replaced too, so idle workers stay small. ``RLIMIT_DATA`` rather than
``RLIMIT_AS``: address space that is reserved but unused (thread stacks, malloc arenas, mapped files) counts in
``RLIMIT_AS``, and varies from run to run. The cap needs Linux (``/proc/self/status``); elsewhere there is none.

Workers are forked from a fork server (multiprocessing's ``forkserver``: a single-threaded process that has
imported this module), so one starts in a fraction of a second. A worker ends with its pipe, and on Linux with
the fork server (``PR_SET_PDEATHSIG``), which ends with the server (a worker closes its copy of the fork server's
"alive" pipe, which would keep it running): none outlives a server, even one killed with SIGKILL.
"""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import re
import resource
import signal
import sys
import threading
from contextlib import suppress
from dataclasses import dataclass, field, replace
from multiprocessing.connection import Connection
from multiprocessing.context import ForkServerContext, SpawnContext
from multiprocessing.process import BaseProcess
from pathlib import Path
from types import ModuleType

from hyperontology.server.sparql import Answer, Job, Limits, SparqlError, execute
from hyperontology.store.base import StoreError
from hyperontology.store.oxigraph import NodeStore

START_TIMEOUT_S = 60.0
_Context = ForkServerContext | SpawnContext
MIB = 1 << 20
_PR_SET_PDEATHSIG = 1
_DEATHS_BY_MEMORY = {-signal.SIGABRT, -signal.SIGSEGV, -signal.SIGBUS, -signal.SIGKILL}
#: how a store error says that an allocation failed (RocksDB's std::bad_alloc, ENOMEM's message)
_MEMORY_WORDS = re.compile(r"bad_alloc|cannot allocate|out of memory|memory allocation", re.IGNORECASE)


@dataclass(frozen=True)
class WorkerSpec:
    """What a worker process opens (a store directory, read-only unless ``writable``) and its limits."""

    store: str
    writable: bool = False
    memory_mb: int | None = None
    limits: Limits = field(default_factory=lambda: Limits(max_rows=10_000))


@dataclass(frozen=True)
class _Reply:
    """A worker's answer to a job: status 200 and the media type (the body follows on the pipe), or an error."""

    status: int
    text: str
    truncated: bool = False
    retire: bool = False  # the worker ends after this reply


# ----------------------------------------------------------------------------------------- in the worker
def serve(conn: Connection, spec: WorkerSpec) -> None:
    """The worker process: open the store, then answer jobs from ``conn`` one at a time until it closes."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the whole process group: the server decides
    _release_fork_server()
    _die_with_parent()
    try:
        store = NodeStore(Path(spec.store), read_only=not spec.writable)
    except StoreError as exc:
        with suppress(OSError):
            conn.send(_Reply(503, str(exc), retire=True))
        return
    try:
        conn.send(_Reply(200, "ready"))
        _answer_jobs(conn, store, spec)
    except (EOFError, OSError):  # the server has gone (or given this worker up)
        pass
    finally:
        store.close()


def _answer_jobs(conn: Connection, store: NodeStore, spec: WorkerSpec) -> None:
    idle = _data_bytes()
    while True:
        job = conn.recv()
        _cap_memory(spec.memory_mb)
        reply, body = _run(store, job, spec.limits)
        _trim()
        grown = spec.memory_mb is not None and _data_bytes() > idle + spec.memory_mb * MIB // 2
        reply = replace(reply, retire=reply.retire or grown)
        conn.send(reply)
        if reply.status == 200:
            conn.send_bytes(body)
        if reply.retire:
            return


def _run(store: NodeStore, job: Job, limits: Limits) -> tuple[_Reply, bytes]:
    try:
        answer = execute(store, job, limits)
    except SparqlError as exc:
        if exc.status == 500 and _MEMORY_WORDS.search(exc.message):  # the store's allocation failed, reported
            return _Reply(507, "", retire=True), b""
        return _Reply(exc.status, exc.message, retire=exc.status == 500), b""  # 500: start afresh
    except MemoryError:
        return _Reply(507, "", retire=True), b""  # the server words it: it knows the limit
    except Exception as exc:  # noqa: BLE001 (a pyoxigraph panic, say: this worker goes, the server stays)
        return _Reply(500, f"the query failed: {type(exc).__name__}", retire=True), b""
    return _Reply(200, answer.media, answer.truncated), answer.body


def _data_bytes() -> int:
    """The process's data size (``VmData``: heap and private writable mappings), 0 where /proc does not tell."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmData:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def _cap_memory(memory_mb: int | None) -> None:
    """Let the next job allocate ``memory_mb`` more than the process holds now (``RLIMIT_DATA``)."""
    used = _data_bytes()
    if memory_mb is None or not used:
        return
    _, hard = resource.getrlimit(resource.RLIMIT_DATA)
    soft = used + memory_mb * MIB
    resource.setrlimit(resource.RLIMIT_DATA, (soft if hard == resource.RLIM_INFINITY else min(soft, hard), hard))


def _libc() -> ctypes.CDLL | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        return ctypes.CDLL(None, use_errno=True)
    except OSError:
        return None


def _release_fork_server() -> None:
    """Close this process's copy of the fork server's "alive" pipe, which a forked process inherits: the fork
    server ends when every copy is closed, so with the server, and this worker with it (``PR_SET_PDEATHSIG``)
    even while a query runs here. (A worker never starts processes, which is what the copy is for.)"""
    from multiprocessing import forkserver

    server = getattr(forkserver, "_forkserver", None)
    alive = getattr(server, "_forkserver_alive_fd", None)
    if isinstance(alive, int):
        os.close(alive)
        setattr(server, "_forkserver_alive_fd", None)  # noqa: B010 (a private attribute, set as it was read)


def _die_with_parent() -> None:
    """Linux: the kernel kills this process when the one that forked it ends (the fork server, which ends with
    the server)."""
    libc = _libc()
    if libc is not None and hasattr(libc, "prctl"):
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


def _trim() -> None:
    """Give the memory a job freed back to the system (glibc keeps it otherwise), so an idle worker is small."""
    libc = _libc()
    if libc is not None and hasattr(libc, "malloc_trim"):
        libc.malloc_trim(0)


# ----------------------------------------------------------------------------------------- in the server
class ProcessWorker:
    """One worker: its process (started, killed when abandoned, replaced when it ended) and the pipe to it.

    :meth:`call` runs in one of the runner's threads, one call at a time; :meth:`abandon` comes from the event
    loop while a call runs, after a timeout.
    """

    def __init__(self, spec: WorkerSpec, context: _Context) -> None:
        self.spec = spec
        self._context = context
        self._lock = threading.Lock()
        self._process: BaseProcess | None = None
        self._conn: Connection | None = None
        self._abandoned = False
        self._closed = False

    def start(self) -> None:
        """Start the process and wait until its store is open (:class:`StoreError` with the reason if not)."""
        conn, theirs = self._context.Pipe()
        process = self._context.Process(target=serve, args=(theirs, self.spec), name="hyperontology-query",
                                        daemon=True)
        process.start()
        theirs.close()
        try:
            hello = conn.recv() if conn.poll(START_TIMEOUT_S) else _Reply(503, "the query worker did not start")
        except (EOFError, OSError):
            hello = _Reply(503, "the query worker ended as it started")
        with self._lock:
            if hello.status == 200 and not self._closed:
                self._process, self._conn, self._abandoned = process, conn, False
                return
        _end(process, conn)
        raise StoreError(hello.text if hello.status != 200 else "the server is stopping")

    def call(self, job: Job) -> Answer:
        with self._lock:
            stale = self._abandoned or self._process is None
        if stale:
            self._stop()
            self._start_or_refuse()
        reply, body = self._exchange(job)
        with self._lock:
            abandoned = self._abandoned
        if abandoned or reply is None or reply.retire:
            exitcode = self._stop()
            self._restart_quietly()
            if abandoned:
                raise SparqlError(503, "query timeout")
            if reply is None:
                raise self._ended(exitcode)
        if reply.status == 507:
            raise self._out_of_memory()
        if reply.status != 200:
            raise SparqlError(reply.status, reply.text)
        return Answer(body, reply.text, reply.truncated)

    def abandon(self) -> None:
        """Kill the process now; the running :meth:`call` then replaces it."""
        with self._lock:
            self._abandoned = True
            if self._process is not None:
                self._process.kill()

    def close(self) -> None:
        """Stop the process for good (a call still running then fails, and starts no other)."""
        with self._lock:
            self._abandoned = self._closed = True
        self._stop()

    def _exchange(self, job: Job) -> tuple[_Reply | None, bytes]:
        assert self._conn is not None
        try:
            self._conn.send(job)
            reply: _Reply = self._conn.recv()
            body = self._conn.recv_bytes(self.spec.limits.max_result_bytes + MIB) if reply.status == 200 else b""
        except (EOFError, OSError):  # it ended: killed after a timeout, or out of memory
            return None, b""
        return reply, body

    def _start_or_refuse(self) -> None:
        try:
            self.start()
        except StoreError as exc:
            raise SparqlError(503, f"store unavailable: {exc}") from exc

    def _restart_quietly(self) -> None:
        """Replace the process; when that fails, the next call tries again (and says why it cannot)."""
        try:
            self.start()
        except StoreError:
            pass

    def _stop(self) -> int | None:
        """Kill and reap the process; its exit code."""
        with self._lock:
            process, conn, self._process, self._conn = self._process, self._conn, None, None
        return _end(process, conn) if process is not None else None

    def _ended(self, exitcode: int | None) -> SparqlError:
        if self.spec.memory_mb is not None and exitcode in _DEATHS_BY_MEMORY:
            return self._out_of_memory()
        return SparqlError(500, f"query stopped: its worker process ended (exit code {exitcode})")

    def _out_of_memory(self) -> SparqlError:
        return SparqlError(507, f"query stopped: it needed more memory than a query may use "
                                f"({self.spec.memory_mb} MiB; query_memory_mb)")


def _end(process: BaseProcess, conn: Connection | None) -> int | None:
    if process.is_alive():
        process.kill()
    process.join(10)
    if conn is not None:
        conn.close()
    return process.exitcode


def start_workers(spec: WorkerSpec, count: int) -> list[ProcessWorker]:
    """``count`` workers on a store, started (:class:`StoreError` when the store does not open)."""
    context = _context()
    workers = [ProcessWorker(spec, context) for _ in range(count)]
    try:
        for worker in workers:
            worker.start()
    except StoreError:
        for worker in workers:
            worker.close()
        raise
    return workers


def _context() -> _Context:
    """The fork server when the platform has one (workers start fast, from a clean process), else spawn."""
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    context: ForkServerContext = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload([__name__, *_main_imports()])
    return context


def _main_imports() -> list[str]:
    """The modules the main script has imported. multiprocessing runs the script again in every new process
    (its ``__main__`` preload does not take effect before Python 3.14); with these already imported in the fork
    server, that costs next to nothing (``hyperontology serve``: a second less for every new worker)."""
    main = sys.modules.get("__main__")
    names = set()
    for value in vars(main).values() if main is not None else ():
        name = value.__name__ if isinstance(value, ModuleType) else getattr(value, "__module__", None)
        if isinstance(name, str) and name in sys.modules and not name.startswith("_") and name != "builtins":
            names.add(name)
    return sorted(names)


__all__ = ["ProcessWorker", "WorkerSpec", "serve", "start_workers"]
