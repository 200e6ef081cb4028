"""Run every benchmark and write bench/RESULTS.md: the machine, then each figure with its ratio, in one run.

Run: python bench/run_all.py [--quick] [--only NAME,...] [--out bench/RESULTS.md]

Each benchmark runs as its own process with ``--json PATH`` and writes
``{"bench": NAME, "rows": [{"what": str, "value": number, "unit": str, "note": str}]}`` (ratios are rows
too). A benchmark that fails, times out or writes no JSON is reported as a failure with the end of its error
output: no figure is ever filled in for it. ``--quick`` uses small sizes (a few minutes in all); the default
runs the sizes issue 12 names (10k and 100k DICOM files, 1M and 10M triples, ~1M-triple cohort queries).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
PACKAGES = ("hyperontology", "pyoxigraph", "pyshacl", "rdflib", "pydicom")


@dataclass(frozen=True)
class Row:
    """One figure of a benchmark; ``value`` None only for a figure that could not be measured."""

    what: str
    value: float | None
    unit: str
    note: str = ""


def write_json(path: Path, bench: str, rows: list[Row]) -> None:
    """The ``--json`` contract every bench script follows."""
    path.write_text(json.dumps({"bench": bench, "rows": [asdict(r) for r in rows]}, indent=2) + "\n",
                    encoding="utf-8")


def emit(rows: list[Row], bench: str, json_path: Path | None, *, width: int = 55) -> None:
    """Print a bench's rows, and write them under the ``--json`` contract when asked."""
    for row in rows:
        print(f"{row.what:{width}} {row.value!s:>12} {row.unit:14} {row.note}")
    if json_path:
        write_json(json_path, bench, rows)


@dataclass(frozen=True)
class Bench:
    name: str
    script: str
    quick: tuple[str, ...]
    full: tuple[str, ...]
    timeout: float  # seconds, full size; quick runs get a tenth (at least 10 minutes)


BENCHES = (
    Bench("validate", "bench_validate.py", ("--quick",), ("--pyshacl-cap", "3600"), 3 * 3600),
    Bench("ingest", "bench_ingest.py", ("--copies", "1", "--instances", "4"), (), 3600),
    Bench("memory", "bench_memory.py", ("--sizes", "500,5000"), ("--sizes", "10000,100000"), 4 * 3600),
    Bench("resume", "bench_resume.py", ("--files", "3000"), ("--files", "100000"), 2 * 3600),
    Bench("sparql", "bench_sparql.py", ("--patients", "3000", "--repeat", "5", "--rdflib-cap", "30"), (), 3 * 3600),
    Bench("ontology", "bench_ontology.py", ("--seconds", "1"), (), 1800),
    Bench("store", "bench_store.py", ("--triples", "200000"), ("--full",), 3 * 3600),
    Bench("federation", "bench_federation.py", ("--quick",), (), 2 * 3600),
    Bench("cdm-export", "bench_cdm_export.py", ("--quick",), (), 3600),
)


@dataclass
class Outcome:
    bench: Bench
    command: str
    seconds: float
    status: str  # "ok", "failed", "missing"
    rows: list[dict[str, Any]] = field(default_factory=list)
    error: str = ""


def machine() -> dict[str, str]:
    """CPU model, cores, RAM, OS, Python, package versions, date."""
    cpu = next((line.split(":", 1)[1].strip() for line in _read("/proc/cpuinfo").splitlines()
                if line.startswith("model name")), platform.processor() or "unknown")
    mem = next((line.split()[1] for line in _read("/proc/meminfo").splitlines() if line.startswith("MemTotal")), "")
    info = {"CPU": cpu, "cores": str(os.cpu_count()), "RAM": f"{int(mem) / 2**20:.1f} GiB" if mem else "unknown",
            "OS": platform.platform(), "Python": platform.python_version(),
            "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")}
    for name in PACKAGES:
        try:
            info[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            info[name] = "not installed"
    return info


def _read(path: str) -> str:
    try:
        return Path(path).read_text()
    except OSError:
        return ""


# ------------------------------------------------------------------------------------------ running
def run(bench: Bench, quick: bool, tmp: Path) -> Outcome:
    """Run one benchmark as a process with ``--json``; never invents a figure for a failed one."""
    script = HERE / bench.script
    args = list(bench.quick if quick else bench.full)
    shown = " ".join(["python", f"bench/{bench.script}", *args])
    if not script.exists():
        return Outcome(bench, shown, 0.0, "missing", error=f"bench/{bench.script} does not exist")
    out = tmp / f"{bench.name}.json"
    timeout = max(600.0, bench.timeout / 10) if quick else bench.timeout
    start = time.perf_counter()
    try:
        proc = subprocess.run([sys.executable, str(script), *args, "--json", str(out)], capture_output=True,
                              text=True, timeout=timeout, cwd=HERE.parent)
    except subprocess.TimeoutExpired:
        return Outcome(bench, shown, time.perf_counter() - start, "failed", error=f"timed out after {timeout:.0f} s")
    seconds = time.perf_counter() - start
    sys.stdout.write(proc.stdout)
    if proc.returncode != 0 or not out.exists():
        tail = "\n".join((proc.stderr or proc.stdout).strip().splitlines()[-15:])
        return Outcome(bench, shown, seconds, "failed", error=f"exit status {proc.returncode}\n{tail}")
    data = json.loads(out.read_text(encoding="utf-8"))
    return Outcome(bench, shown, seconds, "ok", rows=list(data.get("rows", [])))


# ------------------------------------------------------------------------------------------ rendering
def fmt(value: Any) -> str:
    if value is None:
        return "**not measured**"
    if isinstance(value, float) and not value.is_integer():
        return f"{value:,.3g}" if abs(value) < 100 else f"{value:,.0f}"
    return f"{value:,.0f}" if isinstance(value, int | float) else str(value)


def render(info: dict[str, str], outcomes: list[Outcome], *, quick: bool) -> str:
    """RESULTS.md: the machine, then every benchmark's command, status and figures."""
    lines = ["# Benchmark results", ""]
    if quick:
        lines += ["**Quick run** (`python bench/run_all.py --quick`): small sizes, for a smoke check; the figures of",
                  "issue 12 come from the full run (`python bench/run_all.py`).", ""]
    lines += ["Every figure below was measured in this one run, on this machine; ratios compare figures of the same",
              "run. Machines here are shared: compare ratios, not absolute times.", "",
              "## Machine", "", "| | |", "|---|---|"]
    lines += [f"| {key} | {value} |" for key, value in info.items()]
    lines += ["", "## Summary", "", "| bench | status | time |", "|---|---|---|"]
    lines += [f"| {o.bench.name} | {o.status.upper() if o.status != 'ok' else 'ok'} | {o.seconds:.0f} s |"
              for o in outcomes]
    for o in outcomes:
        lines += ["", f"## {o.bench.name}", "", f"Command: `{o.command} --json FILE`", ""]
        if o.status != "ok":
            lines += [f"**{o.status.upper()}** after {o.seconds:.0f} s: no figures.", "", "```", o.error, "```"]
            continue
        lines += ["| what | value | unit | note |", "|---|---:|---|---|"]
        lines += [f"| {r.get('what', '')} | {fmt(r.get('value'))} | {r.get('unit', '')} | {r.get('note', '')} |"
                  for r in o.rows]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="small sizes: a few minutes in all")
    parser.add_argument("--only", help="comma-separated bench names (default: all)")
    parser.add_argument("--out", type=Path, default=HERE / "RESULTS.md")
    args = parser.parse_args()
    chosen = [b for b in BENCHES if not args.only or b.name in args.only.split(",")]
    info = machine()
    outcomes = []
    with tempfile.TemporaryDirectory(prefix="bench-all-") as tmp:
        for bench in chosen:
            print(f"== {bench.name}", flush=True)
            outcomes.append(run(bench, args.quick, Path(tmp)))
            print(f"== {bench.name}: {outcomes[-1].status} in {outcomes[-1].seconds:.0f} s", flush=True)
    args.out.write_text(render(info, outcomes, quick=args.quick), encoding="utf-8")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
