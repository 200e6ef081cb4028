"""Where the ingest's per-file work runs: inline, in a pool of local processes, or on a Dask cluster.

The pipeline hands an executor a top-level function ``fn(shared, item)`` (read, pseudonymize and map one batch of
files), the data every call needs (``shared``: the pseudonymization key and the mapping set) and the batches.
:meth:`Executor.map` yields ``fn(shared, item)`` for every item, **in the order of the items**, whatever order the
workers finish in. Items are taken from the iterable lazily and at most ``window`` of them are submitted and not
yet yielded at any time, so memory stays flat however many items there are. An exception raised by ``fn`` is
raised again in the caller, for that item.

- :class:`SerialExecutor`: in the calling process (``--jobs 1``);
- :class:`ProcessExecutor`: ``jobs`` local worker processes; ``shared`` goes to each worker once, when it starts
  (pool initializer), never with every task; the workers end when the calling process does, even if it is
  killed (:func:`hyperontology.sources.workers.watch_parent`);
- :class:`DaskExecutor`: the workers of a Dask ``distributed`` cluster, given by its scheduler's address.
  ``shared`` travels once to each worker, as a worker plugin the scheduler also hands to workers that join
  later; a worker that dies mid-task is replaced by the scheduler running the task again on another worker.
  ``shared`` holds the pseudonymization key: the cluster must be the node's own (see ``docs/scaling.md``).

Examples
--------
>>> with make_executor() as executor:
...     list(executor.map(pow, 2, [1, 2, 3], window=2))
[2, 4, 8]
"""

from __future__ import annotations

import os
import uuid
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import CancelledError, Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import suppress
from types import TracebackType
from typing import TYPE_CHECKING, Any, Protocol, Self, TypeVar

from hyperontology.errors import ExecutorError
from hyperontology.sources.workers import watch_parent

if TYPE_CHECKING:
    import distributed

__all__ = ["DaskExecutor", "Executor", "ProcessExecutor", "SerialExecutor", "make_executor"]

S = TypeVar("S")
T = TypeVar("T")
R = TypeVar("R")
H = TypeVar("H")
#: how long connecting to a Dask scheduler may take before :class:`ExecutorError` (seconds)
CONNECT_SECONDS = 30.0


class Executor(Protocol):
    """Runs ``fn(shared, item)`` for a stream of items; see the module's docstring for the contract."""

    #: how many items run at the same time (worker processes or threads); a sensible ``window`` is a few times it
    workers: int

    def map(self, fn: Callable[[S, T], R], shared: S, items: Iterable[T], *, window: int) -> Iterator[R]:
        """``fn(shared, item)`` for each item, yielded in the order of the items."""
        ...

    def close(self) -> None:
        """Release the workers (or the connection to them)."""
        ...

    def __enter__(self) -> Self: ...

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None: ...


class _Closing:
    """``with executor:`` closes it."""

    def close(self) -> None:
        """Nothing to release."""

    def __enter__(self) -> Self:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()


def _check(window: int) -> None:
    if window < 1:
        raise ValueError(f"window must be at least 1, not {window}")


def _windowed(submit: Callable[[int, T], H], collect: Callable[[int, H], R], items: Iterable[T], window: int,
              cancel: Callable[[list[H]], None]) -> Iterator[R]:
    """The bounded, ordered loop every pooled executor runs: keep ``window`` items submitted, yield the oldest.

    ``submit(index, item)`` starts the work and returns a handle, ``collect(index, handle)`` waits for its result;
    what is still submitted when the consumer stops (or ``collect`` raises) is handed to ``cancel``.
    """
    _check(window)
    source = enumerate(items)
    pending: deque[tuple[int, H]] = deque()
    try:
        while True:
            while len(pending) < window:
                step = next(source, None)
                if step is None:
                    break
                pending.append((step[0], submit(*step)))
            if not pending:
                return
            index, handle = pending.popleft()
            yield collect(index, handle)
    finally:
        if pending:
            cancel([handle for _, handle in pending])


# ------------------------------------------------------------------------------------------ in this process
class SerialExecutor(_Closing):
    """Every call in the calling process, one after the other.

    Examples
    --------
    >>> list(SerialExecutor().map(divmod, 7, [2, 3], window=1))
    [(3, 1), (2, 1)]
    """

    workers = 1

    def map(self, fn: Callable[[S, T], R], shared: S, items: Iterable[T], *, window: int) -> Iterator[R]:
        _check(window)
        return (fn(shared, item) for item in items)


# ------------------------------------------------------------------------------------------ local processes
#: the ``shared`` value of the map a pool worker serves; set once per worker process by its initializer
_worker_shared: dict[str, Any] = {}


def _start_worker(parent: int, shared: object, nice: int = 0) -> None:
    """Pool initializer: end with the parent process, keep ``shared`` for every call of this worker, and lower
    its priority by ``nice`` (the parent is then the first served)."""
    watch_parent(parent)
    _worker_shared["value"] = shared
    if nice:
        with suppress(OSError):
            os.nice(nice)


def _call_in_worker(fn: Callable[[Any, T], R], item: T) -> R:
    return fn(_worker_shared["value"], item)


class ProcessExecutor(_Closing):
    """``jobs`` worker processes on this machine (``ingest --jobs N``).

    The pool starts with the first :meth:`map` and is kept for the next ones with the same ``shared`` object;
    a map with another ``shared`` starts a new pool (``shared`` is given to the workers only when they start).
    A worker that dies (killed, out of memory) breaks the pool: :class:`ExecutorError` for the item it was on.

    Examples
    --------
    >>> with ProcessExecutor(2) as executor:
    ...     list(executor.map(max, 0, [-1, 2, 5], window=4))
    [0, 2, 5]
    """

    def __init__(self, jobs: int, *, nice: int = 0) -> None:
        if jobs < 1:
            raise ValueError(f"jobs must be at least 1, not {jobs}")
        self.workers = jobs
        self.nice = nice
        self._pool: ProcessPoolExecutor | None = None
        self._shared: object = None

    def _pool_for(self, shared: object) -> ProcessPoolExecutor:
        if self._pool is None or self._shared is not shared:
            self.close()
            self._pool = ProcessPoolExecutor(self.workers, initializer=_start_worker,
                                             initargs=(os.getpid(), shared, self.nice))
            self._shared = shared
        return self._pool

    def map(self, fn: Callable[[S, T], R], shared: S, items: Iterable[T], *, window: int) -> Iterator[R]:
        _check(window)
        pool = self._pool_for(shared)

        def submit(index: int, item: T) -> Future[R]:
            return pool.submit(_call_in_worker, fn, item)

        def collect(index: int, future: Future[R]) -> R:
            try:
                return future.result()
            except BrokenProcessPool as exc:
                self.close()
                raise ExecutorError(f"item #{index}: a worker process ended abruptly (killed, or out of memory); "
                                    "the pool is broken") from exc

        def cancel(futures: list[Future[R]]) -> None:
            for future in futures:
                future.cancel()

        return _windowed(submit, collect, items, window, cancel)

    def close(self) -> None:
        """Stop the worker processes (calls under way are finished first, queued ones are dropped)."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
        self._pool, self._shared = None, None


# ------------------------------------------------------------------------------------------ a Dask cluster
#: the names of the worker plugins holding a map's ``shared`` value: PLUGIN/<the client's id>/<a unique token>
PLUGIN = "hyperontology"


def _plugin_for(shared: object) -> distributed.WorkerPlugin:
    """A worker plugin that holds ``shared`` on every worker, present and future, until it is unregistered.

    The class is made here so that importing this module does not import ``distributed`` (which sets up its
    loggers when imported); the plugin is pickled with its class (cloudpickle) for the workers.
    """
    from distributed import WorkerPlugin

    class SharedValue(WorkerPlugin):
        def __init__(self, value: object) -> None:
            self.value = value

    return SharedValue(shared)


def _call_on_worker(fn: Callable[[Any, T], R], name: str, item: T) -> R:
    """A Dask task: ``fn`` with the ``shared`` value that the plugin ``name`` holds on this worker."""
    from distributed import get_worker

    return fn(get_worker().plugins[name].value, item)  # type: ignore[attr-defined]


def _plugins_and_clients(dask_scheduler: Any) -> tuple[list[str], set[str]]:
    """Run on the scheduler: the names of its worker plugins, and the ids of the clients connected to it."""
    return list(dask_scheduler.worker_plugins), set(dask_scheduler.clients)


class DaskExecutor(_Closing):
    """The workers of a Dask ``distributed`` cluster (``ingest --executor dask --scheduler ADDRESS``).

    ``address`` is the scheduler's, e.g. ``tcp://127.0.0.1:8786`` (``tls://...`` with the security settings of
    Dask's configuration). Tasks are submitted in the order of the items under unique keys and their results
    taken once each, in order: a worker that dies mid-task has its tasks run again by the scheduler on another
    worker, without loss or duplicates. A task whose workers kept dying (the scheduler's
    ``distributed.scheduler.allowed-failures``), or a lost scheduler, is an :class:`ExecutorError`.

    ``shared`` reaches each worker once, held by a worker plugin that is removed when the map ends; the plugins
    of maps whose process died (killed: it could not remove its own) are removed by the next map on the cluster.
    """

    def __init__(self, address: str, *, connect_seconds: float = CONNECT_SECONDS) -> None:
        try:
            from distributed import Client
        except ImportError as exc:
            raise ExecutorError("the Dask executor needs the 'dask' extra: pip install 'hyperontology[dask]'") from exc
        self.address = address
        connect: Any = Client  # distributed's client is only partly typed
        try:
            self._client: Any = connect(address, timeout=connect_seconds, set_as_default=False)
        except (OSError, TimeoutError, ValueError) as exc:
            raise ExecutorError(f"cannot reach the Dask scheduler at {address}: {exc}") from exc
        self.workers = max(1, sum(self._client.nthreads().values()))

    def map(self, fn: Callable[[S, T], R], shared: S, items: Iterable[T], *, window: int) -> Iterator[R]:
        _check(window)
        return self._map(fn, shared, items, window)

    def _map(self, fn: Callable[[S, T], R], shared: S, items: Iterable[T], window: int) -> Iterator[R]:
        from distributed.scheduler import KilledWorker  # (distributed's CancelledError is concurrent.futures')

        client = self._client
        token = uuid.uuid4().hex
        plugin = f"{PLUGIN}/{client.id}/{token}"
        prefix = f"hyperontology-{getattr(fn, '__name__', 'task')}-{token}"
        try:
            self._remove_orphans()
            client.register_plugin(_plugin_for(shared), name=plugin)
        except ImportError as exc:  # raised on the scheduler
            raise ExecutorError(f"the Dask scheduler at {self.address} cannot import hyperontology ({exc}): the "
                                "scheduler and the workers need it installed, the version the ingest runs") from exc
        except (OSError, TimeoutError) as exc:
            raise ExecutorError(f"the Dask scheduler at {self.address} stopped answering: {exc}") from exc

        def submit(index: int, item: T) -> Any:  # a distributed.Future
            return client.submit(_call_on_worker, fn, plugin, item, key=f"{prefix}-{index}", pure=False)

        def collect(index: int, future: Any) -> R:
            try:
                result: R = future.result()
                return result
            except KilledWorker as exc:
                raise ExecutorError(f"item #{index}: every Dask worker that ran it died ({exc})") from exc
            except (CancelledError, OSError) as exc:
                raise ExecutorError(f"item #{index}: lost the Dask scheduler at {self.address} ({exc})") from exc
            finally:
                future.release()

        def cancel(futures: list[Any]) -> None:
            with suppress(Exception):  # the scheduler may be gone: nothing left to cancel then
                client.cancel(futures)

        try:
            yield from _windowed(submit, collect, items, window, cancel)
        finally:
            with suppress(Exception):  # as above; the workers drop the plugin (and the key) with it
                client.unregister_worker_plugin(plugin)

    def _remove_orphans(self) -> None:
        """Remove the plugins (each holding a ``shared`` value) of maps whose client is no longer connected."""
        names, clients = self._client.run_on_scheduler(_plugins_and_clients)
        for name in names:
            parts = name.split("/")
            if len(parts) == 3 and parts[0] == PLUGIN and parts[1] not in clients:
                with suppress(ValueError):  # another map removed it first
                    self._client.unregister_worker_plugin(name)

    def close(self) -> None:
        """Disconnect from the scheduler (the cluster itself stays up)."""
        self._client.close()


def make_executor(kind: str = "local", *, jobs: int = 1, scheduler: str | None = None, nice: int = 0) -> Executor:
    """The executor of ``ingest --executor KIND --jobs N --scheduler ADDRESS``.

    ``local``: :class:`SerialExecutor` for one job, else :class:`ProcessExecutor` (its workers at ``nice``);
    ``dask``: :class:`DaskExecutor` on the scheduler at ``scheduler`` (required).

    Examples
    --------
    >>> type(make_executor("local", jobs=1)).__name__
    'SerialExecutor'
    >>> make_executor("dask")
    Traceback (most recent call last):
    ...
    ValueError: the dask executor needs a scheduler address, e.g. tcp://127.0.0.1:8786
    """
    if kind == "local":
        return SerialExecutor() if jobs <= 1 else ProcessExecutor(jobs, nice=nice)
    if kind == "dask":
        if not scheduler:
            raise ValueError("the dask executor needs a scheduler address, e.g. tcp://127.0.0.1:8786")
        return DaskExecutor(scheduler)
    raise ValueError(f"unknown executor {kind!r}: 'local' or 'dask'")
