"""Load run: N concurrent clients against ``hyperontology serve`` on loopback, for D seconds.

Run: python bench/load_sparql.py [--clients 20] [--seconds 60] [--store DIR] [--patients N]

Each client (asyncio + httpx, one connection each) sends, back to back, a mix of queries: the semantic
cohort query (over the materialised closure ``ho:subsumedBy``, and with VALUES from ``expand``) and small
SELECTs (a patient's diagnoses, a study's series, a concept's label). Without --store, a synthetic cohort
is built (see bench_sparql.py). Reports throughput (queries/s), p50/p99 latency, per-query p50, and the error
count (non-2xx answers or exceptions), which must be zero. A benchmark, not a test.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import httpx

from hyperontology import load_ontology

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_sparql import COHORT_CLOSURE, DATA, PREFIXES, build_store, cohort_values, serve  # noqa: E402

SRJ = "application/sparql-results+json"


def query_mix(onto: object, patients: int) -> list[tuple[str, float, object]]:
    """(name, weight, query or a function of a random generator giving one)."""
    n = max(patients, 1)
    return [
        ("cohort-closure", 0.10, COHORT_CLOSURE),
        ("cohort-values", 0.05, cohort_values(onto)),
        ("patient-dx", 0.35, lambda r: PREFIXES + "SELECT ?d ?code WHERE { ?d cdm:patient "
         f"<{DATA}patient/{r.randrange(n)}> ; a cdm:Diagnosis ; cdm:diagnosisCode ?code }}"),
        ("study-series", 0.35, lambda r: PREFIXES + "SELECT ?s ?m WHERE { ?s cdm:study "
         f"<{DATA}study/{r.randrange(n)}> ; cdm:modality ?m }}"),
        ("label", 0.15, PREFIXES + "SELECT ?l WHERE { sct:363358000 rdfs:label ?l } LIMIT 5"),
    ]


class Tally:
    def __init__(self) -> None:
        self.latencies: dict[str, list[float]] = {}
        self.errors: Counter[str] = Counter()


async def client_loop(base: str, mix: list[tuple[str, float, object]], seed: int, stop: float, tally: Tally) -> None:
    rng = random.Random(seed)
    names, weights = [m[0] for m in mix], [m[1] for m in mix]
    queries = {m[0]: m[2] for m in mix}
    async with httpx.AsyncClient(base_url=base, timeout=60) as client:
        while time.perf_counter() < stop:
            name = rng.choices(names, weights)[0]
            query = queries[name]
            text = query(rng) if callable(query) else str(query)
            start = time.perf_counter()
            try:
                response = await client.post("/sparql", data={"query": text}, headers={"Accept": SRJ})
                if response.is_success:
                    response.json()
            except Exception as exc:  # noqa: BLE001 - every failure counts as an error
                tally.errors[f"{name}: {type(exc).__name__}: {exc}"[:200]] += 1
                continue
            if not response.is_success:
                tally.errors[f"{name}: HTTP {response.status_code}: {response.text.strip()[:120]}"] += 1
                continue
            tally.latencies.setdefault(name, []).append(time.perf_counter() - start)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


async def load(base: str, mix: list[tuple[str, float, object]], clients: int, seconds: float) -> tuple[Tally, float]:
    tally = Tally()
    start = time.perf_counter()
    await asyncio.gather(*(client_loop(base, mix, i, start + seconds, tally) for i in range(clients)))
    return tally, time.perf_counter() - start


def report(tally: Tally, elapsed: float, clients: int) -> None:
    every = [t for ts in tally.latencies.values() for t in ts]
    errors = sum(tally.errors.values())
    print(f"\n{clients} clients, {elapsed:.1f} s: {len(every):,} queries answered, {errors} errors")
    if every:
        print(f"throughput {len(every) / elapsed:,.1f} queries/s; latency p50 {percentile(every, 0.5) * 1000:.1f} ms,"
              f" p99 {percentile(every, 0.99) * 1000:.1f} ms")
    for name, ts in sorted(tally.latencies.items()):
        print(f"  {name:14} {len(ts):7,} queries  p50 {statistics.median(ts) * 1000:8.1f} ms"
              f"  p99 {percentile(ts, 0.99) * 1000:8.1f} ms")
    for message, count in tally.errors.most_common(10):
        print(f"  error x{count}: {message}")
    print("errors: zero OK" if errors == 0 else f"errors: {errors} MISSED (must be zero)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=20, help="concurrent clients (default %(default)s)")
    parser.add_argument("--seconds", type=float, default=60.0, help="duration (default %(default)s)")
    parser.add_argument("--store", type=Path, metavar="DIR", help="serve this store instead of building a cohort")
    parser.add_argument("--patients", type=int, default=3_000,
                        help="patients of the cohort built without --store (default %(default)s, ~100k triples)")
    parser.add_argument("--server-arg", action="append", default=[], metavar="ARG",
                        help="extra argument for `hyperontology serve` (repeatable), e.g. --server-arg=--timeout=10")
    args = parser.parse_args()
    onto = load_ontology()
    with tempfile.TemporaryDirectory(prefix="load-sparql-") as tmp:
        store = args.store
        if store is None:
            store = Path(tmp) / "store"
            size = build_store(store, args.patients, onto)
            print(f"store: {args.patients:,} patients, {size:,} data triples")
        with serve(store, *args.server_arg) as base:
            tally, elapsed = asyncio.run(load(base, query_mix(onto, args.patients), args.clients, args.seconds))
    report(tally, elapsed, args.clients)
    return 0 if not tally.errors else 1


if __name__ == "__main__":
    sys.exit(main())
