"""Soak run: many clients against ``hyperontology serve`` for minutes, runaway queries among them; memory must hold.

Run: python bench/soak.py [--minutes 3] [--clients 16] [--attackers 2] [--store DIR] [--patients N]

A synthetic cohort (``bench_sparql.build_store``: the ontology and about 33 triples per patient) is served by a
real ``hyperontology serve`` process on loopback, by default with a 3 s timeout, 4 query workers and 256 MiB
per query (``--server-arg`` adds options). ``--clients`` clients send, back to back, small SELECTs, the semantic
cohort query, cohort API calls, cohort API calls with an unknown concept (404) and malformed queries (400);
``--attackers`` more send runaway queries (the issue's three-way cross product of every triple: on this store its
join buffers past the memory cap first, 507; a four-way cross product of the patients, only CPU: 503 at the
timeout) and memory hogs (the sort of a cross product: 507 at the memory cap). Every 2 s the server's process
tree (server, fork server, query workers) is measured: RSS added up (pages shared by processes count in each) and
CPU.

Printed: queries/s, p50/p99 latency of the ordinary queries and of each kind, answers by status (an answer with a
status its kind should not get counts as unexpected), and the RSS at the start, its maximum, at the end (idle)
and its course. A benchmark, not a test: it exits 1 on an unexpected answer, or when the median RSS of the run's
last third is more than 15% (plus 64 MiB) above that of its first third.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "bench")]
from bench_sparql import build_store  # noqa: E402
from load_sparql import percentile, query_mix  # noqa: E402

from hyperontology import load_ontology  # noqa: E402
from tests.processes import free_port  # noqa: E402
from tests.server.proctree import cpu_seconds, cpu_used, family, rss_bytes  # noqa: E402

SRJ = "application/sparql-results+json"
MIB = 1 << 20
RUNAWAY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
#: 3,000 patients to the fourth power: only CPU, never ends
RUNAWAY_CPU = ("PREFIX cdm: <https://w3id.org/hyperontology/cdm#> SELECT (COUNT(*) AS ?n) WHERE { "
               "?a a cdm:Patient . ?b a cdm:Patient . ?c a cdm:Patient . ?d a cdm:Patient }")
MEMORY_HOG = "SELECT ?a WHERE { ?a ?b ?c . ?d ?e ?f } ORDER BY ?c ?f LIMIT 1"
SERVER_DEFAULTS = ("--timeout", "3", "--workers", "4", "--queue-wait", "20", "--query-memory", "256")


@dataclass(frozen=True)
class Kind:
    """A kind of request: how to send one, the statuses it may get, how often (a weight)."""

    name: str
    weight: float
    request: Callable[[random.Random], tuple[str, str, dict[str, Any]]]
    expected: frozenset[int] = frozenset({200})


def _sparql(text: str | Callable[[random.Random], str]) -> Callable[[random.Random], tuple[str, str, dict[str, Any]]]:
    def request(rng: random.Random) -> tuple[str, str, dict[str, Any]]:
        query = text(rng) if callable(text) else text
        return "POST", "/sparql", {"data": {"query": query}, "headers": {"Accept": SRJ}}

    return request


def ordinary_kinds(onto: object, patients: int) -> list[Kind]:
    """What the ``--clients`` send: the load benchmark's queries, the cohort API, and two kinds of client error."""
    cohort = {"modality": ["DCM:CT"]}  # with a diagnosis or without criteria, the cohort query takes > 10 s here
    return [*(Kind(name, weight, _sparql(query)) for name, weight, query in query_mix(onto, patients)),
            Kind("cohort-api", 0.05, lambda _: ("POST", "/api/cohort", {"json": cohort})),
            Kind("unknown-concept", 0.02, lambda _: ("POST", "/api/cohort", {"json": {"stage": ["SCT:999999999"]}}),
                 frozenset({404})),
            Kind("malformed", 0.02, _sparql("SELEC ?x WHERE { ?x ?p ?o }"), frozenset({400}))]


ATTACKS = [Kind("runaway", 0.4, _sparql(RUNAWAY), frozenset({503, 507})),  # the issue's: here its join buffers
           Kind("runaway-cpu", 0.4, _sparql(RUNAWAY_CPU), frozenset({503})),
           Kind("memory-hog", 0.2, _sparql(MEMORY_HOG), frozenset({503, 507}))]


@dataclass
class Tally:
    latencies: dict[str, list[float]] = field(default_factory=dict)
    statuses: Counter[tuple[str, str]] = field(default_factory=Counter)
    unexpected: Counter[str] = field(default_factory=Counter)


async def client_loop(base: str, kinds: list[Kind], seed: int, stop: float, tally: Tally) -> None:
    rng = random.Random(seed)
    weights = [k.weight for k in kinds]
    async with httpx.AsyncClient(base_url=base, timeout=120) as client:
        while time.perf_counter() < stop:
            kind = rng.choices(kinds, weights)[0]
            method, path, kwargs = kind.request(rng)
            start = time.perf_counter()
            try:
                response = await client.request(method, path, **kwargs)
                outcome, ok = str(response.status_code), response.status_code in kind.expected
                why = response.text.strip()[:160]
            except httpx.HTTPError as exc:
                outcome, ok, why = type(exc).__name__, False, str(exc)[:160]
            tally.statuses[kind.name, outcome] += 1
            if ok:
                tally.latencies.setdefault(kind.name, []).append(time.perf_counter() - start)
            else:
                tally.unexpected[f"{kind.name}: {outcome} {why}"] += 1


@dataclass(frozen=True)
class Sample:
    seconds: float
    rss: int
    cpu: dict[int, float]
    processes: int


async def sampler(pid: int, stop: float, samples: list[Sample], every: float = 2.0) -> None:
    start = time.perf_counter()
    while True:
        pids = family(pid)
        samples.append(Sample(time.perf_counter() - start, rss_bytes(pids), cpu_seconds(pids), len(pids)))
        if time.perf_counter() >= stop:
            return
        await asyncio.sleep(every)


async def soak(base: str, pid: int, ordinary: list[Kind],
               args: argparse.Namespace) -> tuple[Tally, list[Sample], float]:
    tally, samples = Tally(), []
    start = time.perf_counter()
    stop = start + args.minutes * 60
    loops = [client_loop(base, ordinary, i, stop, tally) for i in range(args.clients)]
    loops += [client_loop(base, ATTACKS, 1000 + i, stop, tally) for i in range(args.attackers)]
    await asyncio.gather(sampler(pid, stop, samples), *loops)
    elapsed = time.perf_counter() - start
    for pause in (1, 2):  # the last two samples: once every answer is in, and 2 s later (idle)
        await asyncio.sleep(pause)
        pids = family(pid)
        samples.append(Sample(time.perf_counter() - start, rss_bytes(pids), cpu_seconds(pids), len(pids)))
    return tally, samples, elapsed


# ------------------------------------------------------------------------------------------ report
def report(tally: Tally, samples: list[Sample], elapsed: float, ordinary: list[Kind], args: argparse.Namespace) -> bool:
    names = [k.name for k in ordinary if k.expected == {200}]
    answered = sum(tally.statuses.values())
    every = [t for name in names for t in tally.latencies.get(name, [])]
    print(f"\n{args.clients} clients + {args.attackers} sending runaway queries, {elapsed:.0f} s: "
          f"{answered:,} requests, {answered / elapsed:,.1f}/s")
    if every:
        print(f"ordinary queries: {len(every):,}, {len(every) / elapsed:,.1f}/s; latency p50 "
              f"{percentile(every, 0.5) * 1000:.1f} ms, p99 {percentile(every, 0.99) * 1000:.1f} ms")
    for name, times in sorted(tally.latencies.items()):
        print(f"  {name:16} {len(times):7,}  p50 {statistics.median(times) * 1000:8.1f} ms"
              f"  p99 {percentile(times, 0.99) * 1000:8.1f} ms")
    by_status = Counter[str]()
    for (_, outcome), count in tally.statuses.items():
        by_status[outcome] += count
    print("answers by status: " + ", ".join(f"{s}: {n:,}" for s, n in sorted(by_status.items())))
    for (name, outcome), count in sorted(tally.statuses.items()):
        print(f"  {name:16} {outcome:>5} x{count:,}")
    unexpected = sum(tally.unexpected.values())
    print("unexpected answers: none" if not unexpected else f"unexpected answers: {unexpected:,}")
    for message, count in tally.unexpected.most_common(10):
        print(f"  x{count}: {message}")
    return memory(samples) and not unexpected


def memory(samples: list[Sample]) -> bool:
    """Print the RSS of the process tree (start, max, end, thirds, course); whether it held.

    The last sample is taken 2 s after the last answer, the tree idle. The verdict compares the median of the
    run's last third with the median of its first third (past the first 10 s, while the workers' caches fill):
    queries in flight (a memory hog holds up to its cap) come and go, a leak stays.
    """
    run, idle = samples[:-1], samples[-1]
    start, peak = run[0].rss, max(s.rss for s in samples)
    third = run[-1].seconds / 3
    first = [s.rss for s in run if min(10, third / 2) <= s.seconds <= third]
    last = [s.rss for s in run if s.seconds >= 2 * third]
    print(f"server RSS (process tree, {run[0].processes} processes, summed): start {start / MIB:,.0f} MiB, "
          f"max {peak / MIB:,.0f} MiB, end (idle) {idle.rss / MIB:,.0f} MiB; median of the first third "
          f"{statistics.median(first) / MIB:,.0f} MiB, of the last {statistics.median(last) / MIB:,.0f} MiB")
    step = max(1, len(run) // 12)
    course = []
    for before, after in zip(run[::step], run[step::step], strict=False):
        busy = cpu_used(before.cpu, after.cpu) / (after.seconds - before.seconds)
        course.append(f"{after.seconds:4.0f}s {after.rss / MIB:6,.0f} MiB {busy * 100:4.0f}% CPU "
                      f"{after.processes} processes")
    print("  " + "\n  ".join(course))
    busy = cpu_used(run[-1].cpu, idle.cpu) / max(idle.seconds - run[-1].seconds, 1e-9)
    print(f"  idle {idle.rss / MIB:6,.0f} MiB {busy * 100:4.0f}% CPU {idle.processes} processes")
    held = statistics.median(last) <= statistics.median(first) * 1.15 + 64 * MIB
    print("memory: steady" if held else "memory: GREW (last third more than 15% + 64 MiB above the first)")
    return held


@contextmanager
def serve(store: Path, log: Path, *extra: str) -> Iterator[tuple[str, int]]:
    """``hyperontology serve`` on loopback (its stderr, where workers out of memory say so, to ``log``)."""
    port = free_port()
    with log.open("w") as err:
        proc = subprocess.Popen([sys.executable, "-m", "hyperontology", "serve", "--store", str(store),
                                 "--port", str(port), *SERVER_DEFAULTS, *extra], stderr=err)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"the server exited; see {log}")
            try:
                if httpx.get(base + "/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("the server did not start")
            time.sleep(0.2)
        yield base, proc.pid
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=3.0, help="duration (default %(default)s)")
    parser.add_argument("--clients", type=int, default=16, help="clients sending ordinary requests (default 16)")
    parser.add_argument("--attackers", type=int, default=2, help="clients sending runaway queries (default 2)")
    parser.add_argument("--store", type=Path, metavar="DIR", help="serve this store instead of building a cohort")
    parser.add_argument("--patients", type=int, default=3_000, help="patients of the built cohort (default 3000)")
    parser.add_argument("--server-log", type=Path, metavar="FILE", help="keep the server's stderr in this file")
    parser.add_argument("--server-arg", action="append", default=[], metavar="ARG",
                        help="extra argument for `hyperontology serve` (repeatable), e.g. --server-arg=--workers=2")
    args = parser.parse_args()
    onto = load_ontology()
    ordinary = ordinary_kinds(onto, args.patients)
    with tempfile.TemporaryDirectory(prefix="soak-") as tmp:
        store = args.store
        if store is None:
            store = Path(tmp) / "store"
            print(f"store: {args.patients:,} patients, {build_store(store, args.patients, onto):,} data triples")
        with serve(store, args.server_log or Path(tmp) / "server.log", *args.server_arg) as (base, pid):
            tally, samples, elapsed = asyncio.run(soak(base, pid, ordinary, args))
        held = report(tally, samples, elapsed, ordinary, args)
    return 0 if held else 1


if __name__ == "__main__":
    sys.exit(main())
