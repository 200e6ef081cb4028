"""Benchmark: DICOM ingest throughput of the whole pipeline against bare pydicom header reads, in one run.

Run: python bench/bench_ingest.py [--copies 8] [--source DIR] [--json PATH]
The DICOM files (../shared/data/dicom, else pydicom's bundled test files) are copied --copies times with new
Study/Series/SOP Instance UIDs so that every copy is a distinct series. Then, on the same files:
  bare      pydicom.dcmread(stop_before_pixels=True) of every file
  pipeline  hyperontology ingest (read, map, SHACL-validate, load into an on-disk Oxigraph store), --jobs 1 and 2
Targets (issue 3): pipeline >= 40% of the bare read rate on one process; near-linear with --jobs 2.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import pydicom
from pydicom.uid import generate_uid

from hyperontology import load_ontology
from hyperontology.mapping.loader import MappingSet, default_mappings_dir
from hyperontology.pipeline import IngestOptions, ingest
from hyperontology.pseudonymize.keys import PseudonymKey
from hyperontology.store.oxigraph import NodeStore

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run_all import Row, write_json  # noqa: E402 (the --json contract of every bench)

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "dicom"


def make_corpus(source: Path, copies: int, out: Path, *, instances: int = 1) -> list[Path]:
    """``copies`` copies of every readable file, each copy a new study and series of ``instances`` instances."""
    files = []
    for path in sorted(p for p in source.rglob("*") if p.is_file()):
        try:
            ds = pydicom.dcmread(path)
        except Exception:  # noqa: BLE001, S112 - skip what pydicom cannot read at all
            continue
        if "SOPInstanceUID" not in ds or "SeriesInstanceUID" not in ds or "StudyInstanceUID" not in ds:
            continue
        for n in range(copies):
            ds.StudyInstanceUID, ds.SeriesInstanceUID = generate_uid(), generate_uid()
            for i in range(instances):
                ds.SOPInstanceUID = generate_uid()
                target = out / f"{n:03d}-{i:03d}-{path.name}"
                ds.save_as(target, enforce_file_format=False)
                files.append(target)
    return files


def bare(files: list[Path]) -> float:
    start = time.perf_counter()
    for path in files:
        pydicom.dcmread(path, stop_before_pixels=True)
    return time.perf_counter() - start


def pipeline(files: list[Path], store: Path, jobs: int) -> tuple[float, dict]:  # type: ignore[type-arg]
    onto = load_ontology()
    options = IngestOptions(key=PseudonymKey(bytes(range(32))), mappings=MappingSet.load(default_mappings_dir()),
                            store_path=store, jobs=jobs)
    with NodeStore(store) as node:  # the ontology graph is loaded once per store, not per ingest: load it first
        from hyperontology.ontology.closure import subsumption_triples
        from hyperontology.ontology.files import bundled_dir, module_files
        from hyperontology.ontology.schemes import VERSION

        node.ensure_ontology(module_files(bundled_dir()), VERSION, subsumption_triples(onto))
    start = time.perf_counter()
    report = ingest(files, options, ontology=onto)
    return time.perf_counter() - start, report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--copies", type=int, default=8)
    parser.add_argument("--instances", type=int, default=16, help="instances per series in the second corpus")
    parser.add_argument("--source", type=Path, default=SHARED if SHARED.is_dir() else
                        Path(pydicom.__file__).parent / "data" / "test_files")
    parser.add_argument("--json", type=Path, help="write the figures as JSON")
    args = parser.parse_args()
    rows: list[Row] = []
    for label, instances in (("one file per series (worst case)", 1), (f"{args.instances} files per series",
                                                                        args.instances)):
        with tempfile.TemporaryDirectory() as tmp:
            copies = args.copies if instances == 1 else max(1, args.copies // 4)
            files = make_corpus(args.source, copies, Path(tmp), instances=instances)
            bare(files)  # warm the page cache for both
            t_bare = min(bare(files) for _ in range(3))
            t1, report = pipeline(files, Path(tmp) / "store1", 1)
            t2, _ = pipeline(files, Path(tmp) / "store2", 2)
        n = len(files)
        r_bare, r1, r2 = n / t_bare, n / t1, n / t2
        series = report["totals"]["instances"].get("cdm:ImagingSeries", 0)
        print(f"corpus {label}: {n} DICOM files, {series} series, from {args.source}")
        print(f"  bare pydicom.dcmread(stop_before_pixels=True)  {r_bare:8.1f} files/s")
        pad = " " * 30
        print(f"  pipeline --jobs 1{pad}{r1:8.1f} files/s  = {r1 / r_bare:.0%} of bare (target >= 40%)")
        print(f"  pipeline --jobs 2{pad}{r2:8.1f} files/s  = {r2 / r1:.2f}x --jobs 1 (linear: 2x)")
        totals = report["totals"]
        print(f"  triples added {totals['triples_added']}, quarantined records {totals['quarantined']}")
        rows += corpus_rows(label, n, series, (r_bare, r1, r2))
    if args.json:
        write_json(args.json, "ingest", rows)


def corpus_rows(label: str, n: int, series: int, rates: tuple[float, float, float]) -> list[Row]:
    r_bare, r1, r2 = rates
    note = f"{n} files, {series} series"
    return [Row(f"bare pydicom read, {label}", round(r_bare, 1), "files/s", note),
            Row(f"ingest --jobs 1, {label}", round(r1, 1), "files/s", note),
            Row(f"ingest --jobs 1 / bare read, {label}", round(r1 / r_bare, 3), "x", "target >= 0.40"),
            Row(f"ingest --jobs 2, {label}", round(r2, 1), "files/s", note),
            Row(f"ingest --jobs 2 / --jobs 1, {label}", round(r2 / r1, 3), "x", "linear: 2x")]


if __name__ == "__main__":
    main()
