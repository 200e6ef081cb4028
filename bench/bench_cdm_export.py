"""Benchmark: export throughput of the relational CDM export (``export_cdm``) to SQLite and to PostgreSQL.

Run: python bench/bench_cdm_export.py [--triples 1000000] [--targets sqlite,postgresql] [--work DIR] [--quick]
                                     [--json PATH]

A synthetic node (``hyperontology.federation.synthetic``, about 45 data triples per patient: ``--triples`` / 45
patients in two datasets) is built into an on-disk store by a child process (so this process's peak RSS is the
export's), under ``--work`` (reused when present) or a temporary directory. The ontology is loaded once. Each
target gets two empty databases: an SQLite file, or databases of a throwaway PostgreSQL cluster on loopback
(``tests/pgcluster.py``, fsync off as in the tests; when PostgreSQL cannot run here the reason is printed and
SQLite alone is reported).

  end to end  ``export_cdm(store, url, ontology=...)`` as one call; the rows are then counted back from the
              target (``SELECT count(*)`` per table) and must equal the report's.
  phases      the same steps one by one, into the second database: reading the data graph
              (``read_instances``), planning the rows (``Planner.plan``), writing (the one transaction: tables
              created and checked, rows inserted), the report (``Planner.report``).

Figures: data triples, rows written (total and per table), seconds per phase, rows/s end to end and of the write
phase, peak RSS of this process after each target, and PostgreSQL / SQLite throughput. The synthetic node has no
study or series UIDs, so its imaging studies and series have no row (``study_uid`` / ``series_uid`` are NOT NULL):
the report counts them as instances not expressed, and their triples are read and planned all the same. Machines
here are shared: compare ratios, not absolute times.
"""

from __future__ import annotations

import argparse
import resource
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))  # tests.pgcluster
from run_all import Row, emit  # noqa: E402

TRIPLES_PER_PATIENT = 45
DATASETS = (("ds-a", "Dataset A"), ("ds-b", "Dataset B"))
SEED = 7
TARGETS = ("sqlite", "postgresql")
NAMES = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}


# ------------------------------------------------------------------------------------------ the node
def build(path: Path, patients: int) -> None:
    """In the child process: the synthetic node at ``path``; prints the number of data triples."""
    from hyperontology.federation.synthetic import build_node_store

    print(build_node_store(path, patients=patients, seed=SEED, datasets=DATASETS))


def node_store(work: Path, patients: int) -> tuple[Path, str]:
    """The node's store under ``work``, built by a child process unless a finished one is there (a ``.done``
    marker guards against a partial build); its path and how it came to be."""
    path = work / f"node-{patients}-s{SEED}"
    done = path.with_suffix(".done")
    if done.exists():
        return path, f"reused from {work}"
    shutil.rmtree(path, ignore_errors=True)
    work.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    proc = subprocess.run([sys.executable, __file__, "--build", str(path), "--patients", str(patients)],
                          check=True, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    done.write_text(proc.stdout, encoding="utf-8")
    print(f"built {path}: {patients:,} patients in {seconds:.0f} s", flush=True)
    return path, f"built in {seconds:.0f} s (child process)"


# ------------------------------------------------------------------------------------------ one export
@dataclass
class Run:
    """One target's figures."""

    rows: int
    per_table: dict[str, int]
    end_to_end: float
    read: float
    plan: float
    write: float
    report: float
    instances: int
    peak_mb: float
    totals: dict[str, int]


def end_to_end(store: Any, url: str, onto: Any) -> tuple[float, dict[str, Any]]:
    from hyperontology.interop.cdm_export import export_cdm

    started = time.perf_counter()
    report = export_cdm(store, url, ontology=onto)
    return time.perf_counter() - started, report


def phases(store: Any, url: str, onto: Any) -> tuple[list[float], int, dict[str, Any]]:
    """``export_cdm``'s steps timed one by one (its body, step by step): seconds of read, plan, write, report."""
    from hyperontology.interop.cdm_export import Codes, Planner, _prepare, _write, read_instances
    from hyperontology.interop.sqldb import transaction

    marks = [time.perf_counter()]
    instances = read_instances(store)
    marks.append(time.perf_counter())
    planner = Planner(instances, Codes(onto))
    rows = planner.plan()
    marks.append(time.perf_counter())
    with transaction(url) as db:
        _prepare(db, False)
        _write(db, rows)
    marks.append(time.perf_counter())
    report = planner.report(rows)
    marks.append(time.perf_counter())
    return [b - a for a, b in zip(marks, marks[1:], strict=False)], len(instances), report


def counted(url: str, tables: list[str]) -> dict[str, int]:
    """Rows per table, counted in the target itself."""
    from hyperontology.interop.ddl import SCHEMA
    from hyperontology.interop.sqldb import sqlite_path

    if url.startswith("sqlite:"):
        with sqlite3.connect(sqlite_path(url)) as conn:
            return {t: conn.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in tables}  # noqa: S608
    import psycopg

    with psycopg.connect(url) as conn:
        return {t: conn.execute(f"SELECT count(*) FROM {SCHEMA}.{t}").fetchone()[0] for t in tables}  # type: ignore[index]


def export_target(store: Any, urls: tuple[str, str], onto: Any) -> Run:
    """End to end into ``urls[0]``, by phase into ``urls[1]``; the rows written must agree everywhere."""
    seconds, report = end_to_end(store, urls[0], onto)
    per_table = {name: entry["rows"] for name, entry in report["tables"].items()}
    if counted(urls[0], list(per_table)) != per_table:
        raise RuntimeError(f"{urls[0]}: the rows in the target differ from the report's")
    times, instances, again = phases(store, urls[1], onto)
    phased = {n: e["rows"] for n, e in again["tables"].items()}
    if phased != per_table or counted(urls[1], list(per_table)) != per_table:
        raise RuntimeError(f"{urls[1]}: the phased export wrote other rows than export_cdm")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    read, plan, write, summary = times
    return Run(sum(per_table.values()), per_table, seconds, read, plan, write, summary, instances, peak,
               report["totals"])


def target_rows(name: str, run: Run, triples: int) -> list[Row]:
    label = NAMES[name]
    total = run.read + run.plan + run.write + run.report
    return [
        Row(f"{label}: rows written", run.rows, "rows", f"{sum(1 for n in run.per_table.values() if n)} tables; "
            "counted back from the target"),
        Row(f"{label}: export_cdm end to end", round(run.end_to_end, 2), "s", f"{triples:,} data triples"),
        Row(f"{label}: rows/s end to end", round(run.rows / run.end_to_end), "rows/s",
            f"{triples / run.end_to_end:,.0f} triples/s"),
        Row(f"{label}: phase 1, read the data graph", round(run.read, 2), "s", f"{run.instances:,} instances"),
        Row(f"{label}: phase 2, plan the rows", round(run.plan, 2), "s", ""),
        Row(f"{label}: phase 3, write (the transaction)", round(run.write, 2), "s", "create, check, insert, commit"),
        Row(f"{label}: phase 4, the report", round(run.report, 2), "s", ""),
        Row(f"{label}: rows/s of the write phase", round(run.rows / run.write), "rows/s", ""),
        Row(f"{label}: sum of the phases / end to end", round(total / run.end_to_end, 2), "x",
            "~1: the phases are the call"),
        Row(f"{label}: peak RSS of the process after this target", round(run.peak_mb), "MB", "ru_maxrss (monotonic)"),
    ]


def ratio_rows(runs: dict[str, Run]) -> list[Row]:
    if not {"sqlite", "postgresql"} <= set(runs):
        return []
    sq, pg = runs["sqlite"], runs["postgresql"]
    return [Row("PostgreSQL / SQLite, rows/s end to end", round(sq.end_to_end / pg.end_to_end, 2), "x",
                "< 1: PostgreSQL slower"),
            Row("PostgreSQL / SQLite, rows/s of the write phase", round(sq.write / pg.write, 2), "x",
                "< 1: PostgreSQL slower")]


# ------------------------------------------------------------------------------------------ the run
def bench(work: Path, triples: int, targets: list[str]) -> list[Row]:
    from hyperontology import load_ontology
    from hyperontology.store.base import open_store
    from tests.pgcluster import Unavailable, cluster, new_database

    patients = max(10, triples // TRIPLES_PER_PATIENT)
    path, how = node_store(work, patients)
    started = time.perf_counter()
    onto = load_ontology()
    rows = [Row("ontology load (once)", round(time.perf_counter() - started, 2), "s", "")]
    runs: dict[str, Run] = {}
    with ExitStack() as stack:
        store = stack.enter_context(open_store(path, read_only=True))
        data = store.count("data")
        rows.append(Row("data triples in the store", data, "triples", f"{patients:,} patients; {how}"))
        for name in targets:
            if name == "sqlite":
                files = [work / f"cdm-{n}.db" for n in ("e2e", "phases")]
                for file in files:
                    file.unlink(missing_ok=True)
                urls = (f"sqlite:///{files[0]}", f"sqlite:///{files[1]}")
            else:
                try:
                    base = stack.enter_context(cluster())
                except Unavailable as exc:
                    print(f"PostgreSQL unavailable: {exc}; SQLite only", flush=True)
                    rows.append(Row("PostgreSQL", None, "", f"not measured: {exc}"))
                    continue
                urls = (new_database(base, "cdm_e2e"), new_database(base, "cdm_phases"))
            print(f"== {NAMES[name]}", flush=True)
            runs[name] = export_target(store, urls, onto)
            rows += target_rows(name, runs[name], data)
    if runs:
        first = next(iter(runs.values()))
        rows += [Row(f"rows in {table}", n, "rows", "the same on every target")
                 for table, n in first.per_table.items() if n]
        rows += [Row(f"report: {what.replace('_', ' ')}", first.totals[what], unit, "from export_cdm's report")
                 for what, unit in (("values_written", "values"), ("values_not_expressed", "values"),
                                    ("instances_not_expressed", "instances"), ("instances_without_table", "instances"))]
    return rows + ratio_rows(runs)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--triples", type=int, default=1_000_000, help="data triples of the node (about)")
    parser.add_argument("--targets", default=",".join(TARGETS), help="comma-separated: sqlite, postgresql")
    parser.add_argument("--work", type=Path, default=None,
                        help="where the node's store (reused when present) and the SQLite files go "
                             "(default: a temporary directory, removed at the end)")
    parser.add_argument("--quick", action="store_true", help="a small node (about 20,000 triples)")
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--build", type=Path, help=argparse.SUPPRESS)  # the child that builds the node
    parser.add_argument("--patients", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.build:
        build(args.build, args.patients)
        return
    targets = [t for t in args.targets.split(",") if t]
    if unknown := set(targets) - set(TARGETS):
        parser.error(f"unknown targets: {', '.join(sorted(unknown))}")
    triples = min(args.triples, 20_000) if args.quick else args.triples
    with ExitStack() as stack:
        work = args.work or Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-cdm-export-")))
        rows = bench(work, triples, targets)
    emit(rows, "cdm-export", args.json, width=58)


if __name__ == "__main__":
    main()
