"""Benchmark: peak memory of ``hyperontology ingest`` at 10,000 and 100,000 generated DICOM files.

Run: python bench/bench_memory.py [--sizes 10000,100000] [--jobs 1] [--json PATH]

For each size, bench/dicomgen.py writes that many small synthetic DICOM files (patients -> studies -> series of
several instances), then the real command line runs as a child process on a fresh store:

    hyperontology ingest DIR --store STORE --key-file KEY --quiet --report REPORT

Its peak memory is measured twice: ``ru_maxrss`` from ``os.wait4`` (the largest single process: the ingest or
any worker it waited for), and the peak of the summed RSS of its whole process tree, sampled every 50 ms.
The ontology graph is loaded into the fresh store first, by another process (an ingest loads it once per store:
a fixed cost that would hide the ingest's own memory), so the measured run is the ingest itself. Figures: peak MB at
each size, MB per 10k files, files/s, and the ratio peak(largest)/peak(smallest); target (issue 12): 100,000
files within 1.5x of the peak at 10,000. A benchmark, not a test.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from dicomgen import generate
from run_all import Row, emit

TARGET = 1.5


def tree_rss(pid: int) -> int:
    """Summed resident set size (bytes) of a process and its descendants, 0 once it is gone."""
    total, todo = 0, [pid]
    while todo:
        current = todo.pop()
        try:
            status = Path(f"/proc/{current}/status").read_text()
            children = Path(f"/proc/{current}/task/{current}/children").read_text().split()
        except OSError:
            continue
        rss = next((line.split()[1] for line in status.splitlines() if line.startswith("VmRSS:")), "0")
        total += int(rss) * 1024
        todo += [int(c) for c in children]
    return total


class TreeSampler(threading.Thread):
    """Samples the process tree's summed RSS until stopped; keeps the peak."""

    def __init__(self, pid: int, every: float = 0.05) -> None:
        super().__init__(daemon=True)
        self.pid, self.every, self.peak = pid, every, 0
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.wait(self.every):
            self.peak = max(self.peak, tree_rss(self.pid))


def measured_ingest(files: Path, store: Path, key: Path, report: Path, jobs: int) -> dict[str, float]:
    """Run the ingest CLI as a child; its wall time, exit status and peak memory (MB)."""
    cmd = [sys.executable, "-m", "hyperontology", "ingest", str(files), "--store", str(store), "--key-file",
           str(key), "--quiet", "--report", str(report), "--jobs", str(jobs)]
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL)
    sampler = TreeSampler(proc.pid)
    sampler.start()
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    sampler.done.set()
    proc.returncode = os.waitstatus_to_exitcode(status)
    return {"seconds": seconds, "status": proc.returncode, "maxrss_mb": usage.ru_maxrss / 1024,
            "tree_mb": sampler.peak / 2**20}


def preload_ontology(store: Path) -> None:
    """In a child process: load the ontology graph into the store, as the first ingest into it would."""
    from hyperontology import load_ontology
    from hyperontology.ontology.closure import subsumption_triples
    from hyperontology.ontology.files import bundled_dir, module_files
    from hyperontology.ontology.schemes import VERSION
    from hyperontology.store.oxigraph import NodeStore

    with NodeStore(store) as node:
        node.ensure_ontology(module_files(bundled_dir()), VERSION, subsumption_triples(load_ontology()))


def preload_in_child(store: Path) -> None:
    """:func:`preload_ontology` in another process (the measured process never holds the loading's memory)."""
    subprocess.run([sys.executable, str(Path(__file__).resolve()), "--child-preload", str(store)], check=True)


def accounted(report: Path) -> dict[str, float]:
    """Files loaded and quarantined records, from the ingest's JSON report (absent: nothing accounted)."""
    try:
        totals = json.loads(report.read_text(encoding="utf-8"))["totals"]
    except (OSError, ValueError, KeyError):
        return {"loaded": -1, "quarantined": -1}
    return {"loaded": totals.get("loaded", -1), "quarantined": totals.get("quarantined", -1)}


def make_key(path: Path) -> None:
    from hyperontology.pseudonymize.keys import new_key_file

    new_key_file(path)


def run_size(n: int, work: Path, key: Path, jobs: int, seed: int, *, preload: bool = True) -> dict[str, float]:
    files = work / f"dicom-{n}"
    start = time.perf_counter()
    layout = generate(n, files, seed=seed)
    gen_s = time.perf_counter() - start
    print(f"{n:,} files generated in {gen_s:.1f} s ({layout.series:,} series, {layout.patients:,} patients)")
    if preload:
        preload_in_child(work / f"store-{n}")
    result = measured_ingest(files, work / f"store-{n}", key, work / f"report-{n}.json", jobs)
    result.update(accounted(work / f"report-{n}.json"))
    shutil.rmtree(files, ignore_errors=True)
    shutil.rmtree(work / f"store-{n}", ignore_errors=True)
    print(f"  ingest exit {result['status']:.0f}, {result['seconds']:.1f} s, peak RSS {result['maxrss_mb']:.0f} MB "
          f"(largest process), {result['tree_mb']:.0f} MB (process tree, sampled)")
    return result


def rows_for(results: dict[int, dict[str, float]], jobs: int, *, preloaded: bool = True) -> list[Row]:
    store = "ontology graph preloaded" if preloaded else "includes loading the ontology graph"
    rows: list[Row] = []
    for n, r in results.items():
        if r["status"] != 0:
            rows.append(Row(f"ingest {n:,} files", None, "", f"FAILED: exit status {r['status']:.0f}"))
            continue
        rows += [Row(f"peak RSS, ingest of {n:,} files", round(r["maxrss_mb"], 1), "MB",
                     f"ru_maxrss (os.wait4), --jobs {jobs}, {store}"),
                 Row(f"peak RSS of the process tree, {n:,} files", round(r["tree_mb"], 1), "MB", "sampled /proc"),
                 Row(f"records loaded of {n:,} files", r["loaded"], "records",
                     f"{r['quarantined']:.0f} quarantined (from the ingest report)"),
                 Row(f"memory per 10k files at {n:,}", round(r["maxrss_mb"] * 10_000 / n, 1), "MB/10k files",
                     "peak / (files / 10,000)"),
                 Row(f"ingest rate at {n:,} files", round(n / r["seconds"], 1), "files/s",
                     f"wall time, {store}")]
    ok = sorted(n for n, r in results.items() if r["status"] == 0)
    if len(ok) >= 2:
        small, large = ok[0], ok[-1]
        ratio = results[large]["maxrss_mb"] / results[small]["maxrss_mb"]
        verdict = "OK" if ratio <= TARGET else "MISSED"
        marginal = (results[large]["maxrss_mb"] - results[small]["maxrss_mb"]) * 10_000 / (large - small)
        rows.append(Row(f"marginal memory per 10k files, {small:,} -> {large:,}", round(marginal, 2),
                        "MB/10k files", "(peak(large) - peak(small)) / (extra files / 10,000)"))
        rows.append(Row(f"ratio peak({large:,}) / peak({small:,})", round(ratio, 3), "x",
                        f"target <= {TARGET}x: {verdict}"))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="10000,100000", help="comma-separated file counts")
    parser.add_argument("--jobs", type=int, default=1, help="--jobs of the ingest")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workdir", type=Path, help="where files and stores go (default: a temporary directory)")
    parser.add_argument("--no-preload", action="store_true", help="let the measured ingest load the ontology graph")
    parser.add_argument("--json", type=Path, help="write the figures as JSON")
    parser.add_argument("--child-preload", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child_preload:
        preload_ontology(args.child_preload)
        return
    sizes = [int(s) for s in args.sizes.split(",")]
    with tempfile.TemporaryDirectory(prefix="bench-memory-", dir=args.workdir) as tmp:
        work = Path(tmp)
        make_key(work / "key")
        results = {n: run_size(n, work, work / "key", args.jobs, args.seed, preload=not args.no_preload)
                   for n in sizes}
    rows = rows_for(results, args.jobs, preloaded=not args.no_preload)
    emit(rows, "memory", args.json, width=55)


if __name__ == "__main__":
    main()
