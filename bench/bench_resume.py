"""Benchmark: an ingest killed with SIGKILL mid-run, then run again, leaves the same store as an uninterrupted run.

Run: python bench/bench_resume.py [--files 100000] [--at 0.5] [--seed 1] [--workdir DIR] [--json PATH]

bench/dicomgen.py writes ``--files`` small synthetic DICOM files. The real command line then runs three times, as
a child process, on stores that hold the ontology graph already (loaded by another process first):

1. uninterrupted: ``hyperontology ingest DIR --store A``;
2. killed: the same command on store B, sent SIGKILL after ``--at`` of the uninterrupted run's wall time;
3. resumed: the same command on store B again; it skips the files B remembers unchanged.

Then the data and quarantine graphs of A and B are compared quad by quad (the provenance graph differs by
design: run IRIs and times). Figures: the three wall times, the files the resumed run skipped and read, the
quads of each graph, and whether they are equal (1) or not (0). The test suite does the same at a small scale
(``tests/pipeline/test_streaming.py``); this is the full-scale run issue 12 asks for. A benchmark, not a test.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_memory import make_key, preload_in_child
from dicomgen import generate
from run_all import Row, emit

ROLES = ("data", "quarantine")


def command(files: Path, store: Path, key: Path, report: Path) -> list[str]:
    return [sys.executable, "-m", "hyperontology", "ingest", str(files), "--store", str(store), "--key-file",
            str(key), "--quiet", "--report", str(report)]


def timed(cmd: list[str], *, kill_after: float | None = None) -> tuple[float, int]:
    """Run a command; its wall time and exit status (-9 when killed after ``kill_after`` seconds)."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL)
    try:
        status = proc.wait(timeout=kill_after)
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGKILL)
        status = proc.wait()
    return time.perf_counter() - start, status


def graph_lines(store: Path) -> dict[str, set[str]]:
    """The quads of the compared graphs, as N-Quads lines (read in a child: the store is closed after)."""
    code = ("import json, sys\nfrom hyperontology.store.oxigraph import NodeStore\n"
            "with NodeStore(sys.argv[1], read_only=True) as node:\n"
            f"    print(json.dumps({{r: sorted(str(q) for q in node.quads(r)) for r in {ROLES!r}}}))\n")
    out = subprocess.run([sys.executable, "-c", code, str(store)], check=True, capture_output=True, text=True)
    return {role: set(lines) for role, lines in json.loads(out.stdout).items()}


def totals(report: Path) -> dict[str, int]:
    try:
        found: dict[str, int] = json.loads(report.read_text(encoding="utf-8"))["totals"]
        return found
    except (OSError, ValueError, KeyError):
        return {}


def run(n: int, at: float, seed: int, work: Path) -> list[Row]:
    files, key = work / "dicom", work / "key"
    start = time.perf_counter()
    layout = generate(n, files, seed=seed)
    print(f"{n:,} files generated in {time.perf_counter() - start:.1f} s ({layout.series:,} series)", flush=True)
    make_key(key)
    a, b = work / "store-a", work / "store-b"
    preload_in_child(a)
    preload_in_child(b)
    t_whole, status = timed(command(files, a, key, work / "a.json"))
    print(f"uninterrupted: exit {status}, {t_whole:.1f} s", flush=True)
    t_killed, killed = timed(command(files, b, key, work / "b1.json"), kill_after=t_whole * at)
    print(f"killed after {t_killed:.1f} s (exit {killed})", flush=True)
    t_resumed, resumed = timed(command(files, b, key, work / "b2.json"))
    again = totals(work / "b2.json")
    print(f"resumed: exit {resumed}, {t_resumed:.1f} s, skipped {again.get('skipped', -1):,}", flush=True)
    whole, after = graph_lines(a), graph_lines(b)
    rows = [Row("files", n, "files", f"{layout.series:,} series, seed {seed}"),
            Row("uninterrupted ingest", round(t_whole, 1), "s", f"exit {status}"),
            Row("killed ingest (SIGKILL)", round(t_killed, 1), "s",
                f"at {at:.0%} of the uninterrupted time; exit {killed}"),
            Row("resumed ingest", round(t_resumed, 1), "s", f"exit {resumed}"),
            Row("files skipped by the resumed run", again.get("skipped", -1), "files",
                "committed by the killed run, remembered unchanged"),
            Row("files read by the resumed run", again.get("files", -1) - again.get("skipped", 0), "files", "")]
    for role in ROLES:
        same = whole[role] == after[role]
        rows += [Row(f"{role} graph quads, uninterrupted / resumed", len(whole[role]), "quads",
                     f"resumed: {len(after[role]):,}; only in one: {len(whole[role] ^ after[role]):,}"),
                 Row(f"{role} graph equal", 1 if same else 0, "bool", "1 = the same quads")]
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--files", type=int, default=100_000)
    parser.add_argument("--at", type=float, default=0.5, help="kill at this fraction of the uninterrupted time")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workdir", type=Path, help="where files and stores go (default: a temporary directory)")
    parser.add_argument("--json", type=Path, help="write the figures as JSON")
    args = parser.parse_args()
    if args.workdir:
        args.workdir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="bench-resume-", dir=args.workdir) as tmp:
        rows = run(args.files, args.at, args.seed, Path(tmp))
    emit(rows, "resume", args.json, width=50)
    return 0 if all(r.value == 1 for r in rows if r.what.endswith("equal")) else 1


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main())
