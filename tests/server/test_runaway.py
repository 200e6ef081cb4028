"""Runaway queries on the embedded store: answered at the timeout and stopped, so that the server stays healthy.

Real servers (``hyperontology serve``) on a small store: a query that never ends is killed with its worker
process, which is replaced; one that takes more memory than the cap is answered 507. Afterwards the process
tree (server, fork server, workers) is idle, has as many processes as before and is no larger. The bounds are
generous (seconds, hundreds of MiB): the tests do not depend on the machine's speed.
"""

from __future__ import annotations

import os
import shutil
import signal
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from tests.processes import node_server
from tests.server.proctree import cpu_seconds, cpu_used, family, rss_bytes

TIMEOUT_S = 2
WORKERS = 4
MIB = 1 << 20
RUNAWAY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
MEMORY_HOG = "SELECT ?a WHERE { ?a ?b ?c . ?d ?e ?f } ORDER BY ?c ?f LIMIT 1"  # sorts 9M rows: gigabytes
SMALL = "SELECT ?s ?o WHERE { ?s <http://example.org/small/p1> ?o } LIMIT 3"
Node = tuple[httpx.Client, int]


@pytest.fixture(scope="module")
def node(small_store: Path) -> Iterator[Node]:
    """A server with four workers, a 2 s timeout and a 512 MiB cap per query; its client and process id."""
    pids: list[int] = []
    with node_server(small_store, "--timeout", str(TIMEOUT_S), "--workers", str(WORKERS), "--queue-wait", "30",
                     "--query-memory", "512", pid=pids) as client:
        yield client, pids[0]


def _settled(pid: int, count: int) -> list[int]:
    """The process tree once it has ``count`` processes again (a replaced worker may still be starting)."""
    deadline = time.monotonic() + 15
    while len(pids := family(pid)) != count and time.monotonic() < deadline:
        time.sleep(0.2)
    return pids


def _goes_idle(pid: int, window_s: float = 2.0, within_s: float = 60.0) -> bool:
    """Whether the process tree has a ``window_s`` window with under a quarter of it in CPU, within ``within_s``
    (replacement workers starting on a slow machine take CPU for a while; a runaway query never stops)."""
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        first = cpu_seconds(family(pid))
        time.sleep(window_s)
        if cpu_used(first, cpu_seconds(family(pid))) < window_s / 4:
            return True
    return False


def _timed(send: Callable[[], httpx.Response]) -> tuple[httpx.Response, float]:
    start = time.monotonic()
    response = send()
    return response, time.monotonic() - start


def test_runaway_queries_are_stopped_and_the_server_recovers(node: Node) -> None:
    client, pid = node
    before = family(pid)
    assert len(before) >= WORKERS + 2  # the server, the fork server and the workers
    size_before = rss_bytes(before)
    with ThreadPoolExecutor(WORKERS + 2) as pool:  # two more than there are workers: they wait for replacements
        answers = list(pool.map(lambda _: _timed(lambda: client.get("/sparql", params={"query": RUNAWAY},
                                                                   timeout=60)), range(WORKERS + 2)))
    for response, seconds in answers:
        assert response.status_code in (503, 504), response.text
        assert "timeout" in response.text
        assert seconds < 60  # the query never ends: any answer in bounded time is the timeout's
    small, seconds = _timed(lambda: client.get("/sparql", params={"query": SMALL}))
    assert small.status_code == 200, small.text
    assert len(small.json()["results"]["bindings"]) == 3
    assert seconds < 30  # not queued behind the runaways, which never end
    after = _settled(pid, len(before))
    assert len(after) == len(before)  # every killed worker was replaced, and reaped
    assert set(after) != set(before)  # the killed workers' replacements are new processes
    assert _goes_idle(pid)  # a query left running would use 2 s of CPU in every 2 s window
    assert rss_bytes(family(pid)) < size_before + 256 * MIB


def test_the_cohort_api_runs_on_the_workers(node: Node) -> None:
    client, _ = node
    response = client.post("/api/cohort", json={"diagnosis": ["SCT:363358000"]})
    assert response.status_code == 200, response.text
    assert {k: response.json()[k] for k in ("patients", "studies", "series")} == {"patients": 0, "studies": 0,
                                                                                  "series": 0}


def test_a_query_over_the_memory_cap_is_507_and_the_server_goes_on(small_store: Path) -> None:
    pids: list[int] = []
    with node_server(small_store, "--timeout", "120", "--workers", "1", "--query-memory", "64", pid=pids) as client:
        count = len(family(pids[0]))
        response, seconds = _timed(lambda: client.get("/sparql", params={"query": MEMORY_HOG}, timeout=150))
        assert response.status_code == 507, response.text
        assert "more memory than a query may use (64 MiB" in response.text
        assert seconds < 60  # stopped by the cap, long before its 120 s timeout
        assert client.get("/sparql", params={"query": SMALL}).status_code == 200
        assert client.get("/health").status_code == 200
        assert len(_settled(pids[0], count)) == count


def test_a_writable_store_recovers_from_a_runaway_query(small_store: Path, tmp_path: Path) -> None:
    """With updates allowed one worker holds the store read-write: killed, it is replaced (the lock is free
    again) and an update made afterwards is seen."""
    store = shutil.copytree(small_store, tmp_path / "store")
    with node_server(store, "--allow-update", "--timeout", str(TIMEOUT_S), "--queue-wait", "30") as client:
        response = client.get("/sparql", params={"query": RUNAWAY})
        assert response.status_code == 503
        assert "timeout" in response.text
        insert = "INSERT DATA { GRAPH <http://example.org/g> { <http://example.org/x> <http://example.org/y> 1 } }"
        assert client.post("/sparql", data={"update": insert}).status_code == 200
        ask = client.get("/sparql", params={"query": "ASK { <http://example.org/x> <http://example.org/y> 1 }"})
        assert ask.json()["boolean"] is True
        assert client.get("/ready").json()["reason"] == "the ontology graph is missing"  # asked of the worker


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux's")
def test_a_killed_server_leaves_no_worker_behind(small_store: Path) -> None:
    """Even a worker busy with a runaway query ends with a server killed with SIGKILL (Linux)."""
    pids: list[int] = []
    with node_server(small_store, "--timeout", "600", "--workers", "2", pid=pids) as client:
        tree = family(pids[0])
        with ThreadPoolExecutor(1) as pool:
            pool.submit(lambda: client.get("/sparql", params={"query": RUNAWAY}, timeout=30))
            time.sleep(1)
            os.kill(pids[0], signal.SIGKILL)
    deadline = time.monotonic() + 15
    while (left := _running(tree)) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not left


def _running(pids: list[int]) -> list[int]:
    """The processes that have not ended (zombies waiting for their parent have)."""
    running = []
    for pid in pids:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
        except OSError:
            continue
        if state not in ("Z", "X"):
            running.append(pid)
    return running
