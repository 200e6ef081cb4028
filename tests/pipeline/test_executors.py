"""The executors of the ingest's per-file work: one contract suite run against each of them (inline, local
processes, a real Dask cluster of worker processes), then what a Dask worker dying does.

The clusters are ``dask scheduler`` and ``dask worker`` processes on free loopback ports. The task functions
below are imported by those workers (as ``test_executors``: this folder is on their ``PYTHONPATH``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pytest

from hyperontology.errors import ExecutorError
from hyperontology.executors import DaskExecutor, Executor, ProcessExecutor, SerialExecutor, make_executor
from tests.processes import free_port

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
#: the most any wait for a process to get somewhere takes before the test fails (not a measure of speed)
PATIENCE = 120.0
V = TypeVar("V")


# ------------------------------------------------------------------------------------------ task functions
@dataclass
class Shared:
    tag: str
    calls: int = 0  # how many calls this copy has served: one copy per worker process means 1, 2, 3... there


def square(shared: Shared, item: int) -> tuple[str, int, int, int]:
    if item < 0:
        raise ValueError(f"bad item {item}")
    shared.calls += 1
    return shared.tag, item * item, os.getpid(), shared.calls


@dataclass(frozen=True)
class Gate:
    folder: Path


def held(gate: Gate, item: int) -> tuple[int, int]:
    """Item 0 at once; any other marks that it started (and in which process), then waits for the gate."""
    if item > 0:
        (gate.folder / f"started-{item}-{os.getpid()}").touch()
        while not (gate.folder / "open").exists():
            time.sleep(0.02)
    return item, os.getpid()


def on_worker(dask_worker: Any) -> set[str]:
    """Run on a worker: the names of the plugins holding a map's `shared` value."""
    return {name for name in dask_worker.plugins if name.startswith("hyperontology/")}


def on_scheduler(dask_scheduler: Any) -> set[str]:
    """Run on the scheduler: the names of the worker plugins holding a map's `shared` value."""
    return {name for name in dask_scheduler.worker_plugins if name.startswith("hyperontology/")}


def fatal(shared: None, item: int) -> int:
    """Item 1 ends the process that runs it, as a crash or the out-of-memory killer would."""
    if item == 1:
        os._exit(1)
    return item


# ------------------------------------------------------------------------------------------ Dask processes
def eventually(found: Callable[[], V | None], what: str, procs: Iterable[subprocess.Popen[Any]] = ()) -> V:
    deadline = time.monotonic() + PATIENCE
    while True:
        value = found()
        if value:
            return value
        for proc in procs:
            assert proc.poll() is None, f"{what}: {proc.args!r} exited with {proc.returncode}"
        assert time.monotonic() < deadline, f"{what}: not after {PATIENCE} s"
        time.sleep(0.05)


def _env(extra: dict[str, str]) -> dict[str, str]:
    path = os.pathsep.join([str(HERE), str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])])
    return {**os.environ, "PYTHONPATH": path, **extra}


@contextmanager
def _process(args: list[str], log: Path, env: dict[str, str]) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "dask", *args], stdout=out, stderr=subprocess.STDOUT,
                                env=env, cwd=log.parent)
    try:
        yield proc
    finally:
        proc.kill()
        proc.wait()


@contextmanager
def dask_scheduler(folder: Path, **config: str) -> Iterator[str]:
    """``dask scheduler`` on a free loopback port; yields its address. ``config``: DASK_* environment settings."""
    folder.mkdir(parents=True, exist_ok=True)
    info = folder / "scheduler.json"
    args = ["scheduler", "--host", "127.0.0.1", "--port", str(free_port()), "--no-dashboard",
            "--scheduler-file", str(info)]
    with _process(args, folder / "scheduler.log", _env(config)) as proc:
        yield eventually(lambda: _address(info), "the dask scheduler", [proc])


def _address(info: Path) -> str | None:
    try:
        return str(json.loads(info.read_text())["address"])
    except (OSError, ValueError, KeyError):
        return None  # not written yet, or being written


@contextmanager
def dask_worker(address: str, name: str, folder: Path) -> Iterator[subprocess.Popen[bytes]]:
    """``dask worker`` without a nanny (its process id is the worker's), one thread, on ``address``."""
    (folder / name).mkdir(parents=True, exist_ok=True)
    args = ["worker", address, "--name", name, "--nworkers", "1", "--nthreads", "1", "--no-nanny",
            "--no-dashboard", "--local-directory", str(folder / name), "--death-timeout", "60"]
    with _process(args, folder / f"{name}.log", _env({})) as proc:
        yield proc


def wait_for_workers(address: str, names: set[str], procs: list[subprocess.Popen[Any]]) -> None:
    """Until exactly the workers ``names`` are connected to the scheduler."""
    from distributed import Client

    connect: Any = Client  # only partly typed
    with connect(address, set_as_default=False, timeout=PATIENCE) as client:
        eventually(lambda: {w["name"] for w in client.scheduler_info()["workers"].values()} == names,
                   f"workers {sorted(names)}", procs)


@contextmanager
def dask_cluster(folder: Path, names: list[str], **config: str) -> Iterator[tuple[str, list[subprocess.Popen[bytes]]]]:
    with ExitStack() as stack:
        address = stack.enter_context(dask_scheduler(folder, **config))
        workers = [stack.enter_context(dask_worker(address, name, folder)) for name in names]
        wait_for_workers(address, set(names), workers)
        yield address, workers


# ------------------------------------------------------------------------------------------ the contract
@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, list[subprocess.Popen[bytes]]]]:
    with dask_cluster(tmp_path_factory.mktemp("dask"), ["w1", "w2"]) as running:
        yield running


@pytest.fixture(params=["serial", "processes", "dask"])
def executor(request: pytest.FixtureRequest) -> Iterator[Executor]:
    made: Executor
    if request.param == "serial":
        made = make_executor("local", jobs=1)
        assert isinstance(made, SerialExecutor)
    elif request.param == "processes":
        made = make_executor("local", jobs=2)
        assert isinstance(made, ProcessExecutor)
    else:
        address, _ = request.getfixturevalue("cluster")
        made = make_executor("dask", scheduler=address)
        assert isinstance(made, DaskExecutor) and made.workers == 2
    with made:
        yield made


class Counted:
    """Items that count how many have been taken."""

    def __init__(self, n: int) -> None:
        self.n, self.taken = n, 0

    def __iter__(self) -> Iterator[int]:
        for item in range(self.n):
            self.taken += 1
            yield item


def test_results_come_in_the_order_of_the_items_with_shared_sent_once_per_worker(executor: Executor) -> None:
    results = list(executor.map(square, Shared("run-1"), range(40), window=6))
    assert [(tag, value) for tag, value, _, _ in results] == [("run-1", i * i) for i in range(40)]
    calls: dict[int, list[int]] = {}
    for _, _, pid, count in results:
        calls.setdefault(pid, []).append(count)
    # each worker's copy of `shared` served all of that worker's calls: it was not sent again with each one
    assert all(sorted(counts) == list(range(1, len(counts) + 1)) for counts in calls.values()), calls
    if not isinstance(executor, SerialExecutor):
        assert os.getpid() not in calls


@pytest.mark.parametrize("window", [1, 3])
def test_items_are_taken_lazily_and_at_most_window_ahead(executor: Executor, window: int) -> None:
    items = Counted(25)
    seen = 0
    for index, (_, value, _, _) in enumerate(executor.map(square, Shared("w"), items, window=window)):
        assert value == index * index
        # result `index` is out: items 0..index are yielded, at most `window` more are submitted
        assert items.taken <= index + window, (index, items.taken)
        seen += 1
    assert seen == items.taken == 25


def test_an_exception_of_fn_is_raised_for_its_item(executor: Executor) -> None:
    results = executor.map(square, Shared("e"), [0, 1, 2, -3, 4, 5], window=3)
    assert [next(results)[1] for _ in range(3)] == [0, 1, 4]
    with pytest.raises(ValueError, match="bad item -3"):
        next(results)
    # the executor is still usable after a failed map
    assert [v for _, v, _, _ in executor.map(square, Shared("after"), [6], window=1)] == [36]


def test_no_items_no_results(executor: Executor) -> None:
    assert list(executor.map(square, Shared("none"), [], window=2)) == []


def test_a_window_below_one_is_refused(executor: Executor) -> None:
    with pytest.raises(ValueError, match="window"):
        list(executor.map(square, Shared("x"), [1], window=0))


def test_an_unknown_executor_or_a_dask_one_without_scheduler_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown executor"):
        make_executor("threads")
    with pytest.raises(ValueError, match="scheduler address"):
        make_executor("dask", scheduler=None)


# ------------------------------------------------------------------------------------------ failures
def test_a_killed_local_worker_is_an_executor_error() -> None:
    with ProcessExecutor(2) as executor, pytest.raises(ExecutorError, match="ended abruptly"):
        list(executor.map(fatal, None, range(4), window=2))


POOL = """
import sys
from pathlib import Path
from hyperontology.executors import ProcessExecutor
from test_executors import Gate, held
for _ in ProcessExecutor(2).map(held, Gate(Path(sys.argv[1])), range(6), window=4):
    pass
"""


def _gone(pid: int) -> bool:
    """The process has ended (a zombie waiting for its new parent to reap it has ended too)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ")[1][0] in "ZX"
    except (FileNotFoundError, ProcessLookupError):
        return True


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads process states from /proc")
def test_local_workers_end_with_a_killed_parent(tmp_path: Path) -> None:
    def busy() -> set[int] | None:  # the workers that hold an item, once both do (each holds one: the gate)
        pids = {int(path.name.rsplit("-", 1)[1]) for path in tmp_path.glob("started-*")}
        return pids if len(pids) == 2 else None

    parent = subprocess.Popen([sys.executable, "-c", POOL, str(tmp_path)], env=_env({}))
    try:
        try:
            workers = eventually(busy, "two workers busy", [parent])
        finally:
            parent.kill()
            parent.wait()
        assert parent.pid not in workers
        eventually(lambda: all(_gone(pid) for pid in workers), "the workers of the killed process to end")
    finally:
        (tmp_path / "open").touch()  # were they still there, they would end now


def test_a_scheduler_that_cannot_be_reached_is_named() -> None:
    address = f"tcp://127.0.0.1:{free_port()}"  # nothing listens there
    with pytest.raises(ExecutorError, match=f"cannot reach the Dask scheduler at {address}"):
        DaskExecutor(address, connect_seconds=2)


def test_a_dask_worker_killed_mid_task_is_replaced_without_loss_or_duplicates(tmp_path: Path) -> None:
    gate = Gate(tmp_path / "gate")
    gate.folder.mkdir()
    with dask_cluster(tmp_path / "dask", ["victim"]) as (address, [victim]), DaskExecutor(address) as executor:
        results = executor.map(held, gate, range(12), window=4)
        assert next(results) == (0, victim.pid)
        # item 1 is now running on the only worker, the victim, and waits for the gate
        eventually(lambda: (gate.folder / f"started-1-{victim.pid}").exists(), "item 1 on the victim")
        with dask_worker(address, "survivor", tmp_path / "dask") as survivor:
            wait_for_workers(address, {"victim", "survivor"}, [victim, survivor])
            victim.kill()
            victim.wait()
            (gate.folder / "open").touch()
            rest = list(results)
    assert rest == [(item, survivor.pid) for item in range(1, 12)]
    assert (gate.folder / f"started-1-{survivor.pid}").exists()  # the task the victim died in ran again


ORPHAN = """
import sys
from pathlib import Path
from hyperontology.executors import DaskExecutor
from test_executors import Gate, held
for _ in DaskExecutor(sys.argv[1]).map(held, Gate(Path(sys.argv[2])), range(4), window=2):
    pass
"""


def test_the_key_of_a_killed_ingest_does_not_stay_on_the_cluster(cluster: tuple[str, Any], tmp_path: Path) -> None:
    """A map's process killed mid-run cannot remove its plugin (which holds `shared`: the key); the next map on
    the cluster does."""
    from distributed import Client

    address, _ = cluster
    gate = Gate(tmp_path)
    orphan = subprocess.Popen([sys.executable, "-c", ORPHAN, address, str(tmp_path)], env=_env({}))
    try:
        eventually(lambda: list(tmp_path.glob("started-1-*")), "the map of the process to kill", [orphan])
    finally:
        orphan.kill()
        orphan.wait()
    (gate.folder / "open").touch()  # frees the worker its task held
    connect: Any = Client
    with connect(address, set_as_default=False, timeout=PATIENCE) as client:
        assert len(client.run_on_scheduler(on_scheduler)) == 1
        assert [len(names) for names in client.run(on_worker).values()] == [1, 1]
        with DaskExecutor(address) as executor:
            assert [v for _, v, _, _ in executor.map(square, Shared("next"), [3], window=1)] == [9]
        assert client.run_on_scheduler(on_scheduler) == set()
        assert list(client.run(on_worker).values()) == [set(), set()]


def test_a_task_whose_workers_all_die_is_an_executor_error(tmp_path: Path) -> None:
    failures = {"DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES": "0"}
    with dask_cluster(tmp_path, ["doomed"], **failures) as (address, _), DaskExecutor(address) as executor:
        results = executor.map(fatal, None, range(3), window=1)
        assert next(results) == 0
        with pytest.raises(ExecutorError, match="item #1: every Dask worker that ran it died"):
            next(results)


def niceness(shared: None, item: int) -> int:
    return os.nice(0)


def test_local_workers_run_behind_the_parent() -> None:
    """The ingest's workers give way to the ingest process (the serial commit must not wait for a core)."""
    mine = os.nice(0)
    with ProcessExecutor(2, nice=3) as ex:
        assert set(ex.map(niceness, None, range(4), window=4)) == {min(mine + 3, 19)}
    with ProcessExecutor(2) as ex:
        assert set(ex.map(niceness, None, range(4), window=4)) == {mine}
