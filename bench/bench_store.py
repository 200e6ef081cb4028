"""Benchmark: load rate and peak memory of the embedded on-disk store (NodeStore), per million triples.

Run: python bench/bench_store.py [--triples 1000000 | --full] [--json PATH]

A synthetic cohort from bench/cohortgen.py (about 40 triples per patient, real codes) is written once as
N-Quads, then loaded into a fresh on-disk NodeStore by a child process, two ways:
  bulk     ``Store.bulk_load`` of the file (Oxigraph's bulk loader)
  chunked  the quads parsed in a stream and written in transactions of 100,000 (``cohortgen --store``)
Each child's peak RSS comes from ``os.wait4``; a child that only opens an empty store gives the baseline, so
"per million triples" is (peak - baseline) / millions. Sizes: 1M triples, and 10M with ``--full``. The ratio
of the load rates at the largest and smallest size shows how loading scales. A benchmark, not a test.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pyoxigraph as ox
from cohortgen import cohort_quads, load_store, write_nquads
from run_all import Row, emit

TRIPLES_PER_PATIENT = 39.7
MODES = ("bulk", "chunked")


def child(mode: str, source: Path, store: Path) -> None:
    """In the child process: load ``source`` into a new store at ``store``; print seconds and the quad count."""
    from hyperontology.store.oxigraph import NodeStore

    start = time.perf_counter()
    if mode == "bulk":
        with NodeStore(store) as node:
            node.store.bulk_load(path=str(source), format=ox.RdfFormat.N_QUADS)
    elif mode == "chunked":
        load_store(ox.parse(path=str(source), format=ox.RdfFormat.N_QUADS), store)
    else:  # baseline: the interpreter, pyoxigraph and an empty store
        NodeStore(store).close()
    seconds = time.perf_counter() - start
    count = len(ox.Store.read_only(str(store))) if mode != "none" else 0
    print(json.dumps({"seconds": seconds, "quads": count}))


def run_child(mode: str, source: Path, store: Path) -> dict[str, float]:
    cmd = [sys.executable, __file__, "--child", mode, str(source), str(store)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    out = proc.stdout.read() if proc.stdout else ""
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise RuntimeError(f"{mode} load of {source} failed (exit {proc.returncode})")
    result = json.loads(out.strip().splitlines()[-1])
    result["peak_mb"] = usage.ru_maxrss / 1024
    result["disk_mb"] = sum(p.stat().st_size for p in store.rglob("*") if p.is_file()) / 2**20
    return dict(result)


def generate(triples: int, target: Path) -> tuple[int, float]:
    """Write about ``triples`` cohort triples as N-Quads; returns (patients, seconds)."""
    patients = max(1, round(triples / TRIPLES_PER_PATIENT))
    start = time.perf_counter()
    write_nquads(cohort_quads(patients, seed=1), target)
    return patients, time.perf_counter() - start


def measure_size(triples: int, work: Path, baseline: float) -> tuple[list[Row], dict[str, float]]:
    source = work / f"cohort-{triples}.nq"
    patients, gen_s = generate(triples, source)
    rows: list[Row] = []
    rates: dict[str, float] = {}
    for mode in MODES:
        r = run_child(mode, source, work / f"store-{mode}-{triples}")
        shutil.rmtree(work / f"store-{mode}-{triples}", ignore_errors=True)
        rates[mode] = r["quads"] / r["seconds"]
        millions = r["quads"] / 1e6
        print(f"{r['quads']:,} triples ({patients:,} patients), {mode}: {r['seconds']:.1f} s, "
              f"{r['quads'] / r['seconds']:,.0f} triples/s, peak {r['peak_mb']:.0f} MB, disk {r['disk_mb']:.0f} MB")
        rows += [Row(f"{mode} load rate, {r['quads']:,} triples", round(r["quads"] / r["seconds"]), "triples/s",
                     f"{r['seconds']:.1f} s"),
                 Row(f"{mode} load peak RSS, {r['quads']:,} triples", round(r["peak_mb"], 1), "MB", "os.wait4"),
                 Row(f"{mode} load memory per million triples, {r['quads']:,}",
                     round((r["peak_mb"] - baseline) / millions, 1), "MB/M triples",
                     f"(peak - baseline {baseline:.0f} MB) / millions"),
                 Row(f"store on disk per million triples, {mode}, {r['quads']:,}", round(r["disk_mb"] / millions, 1),
                     "MB/M triples", "")]
    rows.append(Row(f"cohort generation rate, {patients:,} patients", round(triples / gen_s), "triples/s",
                    "cohortgen.py to N-Quads"))
    source.unlink()
    return rows, rates


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--triples", default="1000000", help="comma-separated sizes (default %(default)s)")
    parser.add_argument("--full", action="store_true", help="1M and 10M triples")
    parser.add_argument("--workdir", type=Path, help="where files and stores go (default: a temporary directory)")
    parser.add_argument("--json", type=Path, help="write the figures as JSON")
    parser.add_argument("--child", nargs=3, metavar=("MODE", "SOURCE", "STORE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], Path(args.child[1]), Path(args.child[2]))
        return
    sizes = [1_000_000, 10_000_000] if args.full else [int(n) for n in args.triples.split(",")]
    rows: list[Row] = []
    rates: dict[int, dict[str, float]] = {}
    with tempfile.TemporaryDirectory(prefix="bench-store-", dir=args.workdir) as tmp:
        work = Path(tmp)
        baseline = run_child("none", work / "none.nq", work / "store-empty")["peak_mb"]
        rows.append(Row("baseline peak RSS (empty store)", round(baseline, 1), "MB", "interpreter + pyoxigraph"))
        for n in sizes:
            size_rows, rates[n] = measure_size(n, work, baseline)
            rows += size_rows
    if len(sizes) > 1:
        small, large = min(sizes), max(sizes)
        for mode in MODES:
            rows.append(Row(f"{mode} load rate at {large:,} / at {small:,}", round(rates[large][mode] /
                            rates[small][mode], 3), "x", "1.0 = loading scales linearly"))
    emit(rows, "store", args.json, width=60)


if __name__ == "__main__":
    main()
