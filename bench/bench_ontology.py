"""Benchmark: hyperontology load time (cold, warm) and search throughput.

Run: python bench/bench_ontology.py [--seconds 3] [--json PATH]
Targets (issue 2): warm load under 1 s; at least 1,000 searches per second. Figures and their ratio to the
target are measured in this one run; machines here are shared, so compare ratios, not absolute times.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

from hyperontology import load_ontology

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run_all import Row, write_json  # noqa: E402 (the --json contract of every bench)

QUERIES = [
    "lung cancer", "NSCLC", "adenocarcinoma of lung", "254637007", "SCT:363358000", "breast carcinoma", "prost",
    "glioblastma", "mélanome", "T1 weighted", "MRI", "computed tomography", "C34.1", "8140/3", "cisplatin",
    "gadobutrol", "prostate specific antigen", "Gleason", "hepatocellular carcinoma", "renal cell",
    "diffuse large b-cell lymphoma", "thyroid papillary", "oesophagus", "cervix uteri", "pancreatic ductal",
    "head and neck squamous", "bladder urothelial", "stomach adenocarcinoma", "ovarian serous", "Siemens",
    "slice thickness", "contrast agent", "mm", "ng/mL", "female", "vital status", "radiotherapy", "surgery",
    "colorectal", "metastasis",
]


def timed(fn, repeat: int) -> list[float]:  # type: ignore[no-untyped-def]
    out = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        out.append(time.perf_counter() - start)
    return out


def throughput(fn, items: list[str], seconds: float) -> float:  # type: ignore[no-untyped-def]
    count, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        for item in items:
            fn(item)
        count += len(items)
    return count / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=3.0, help="duration of each throughput run")
    parser.add_argument("--json", type=Path, help="write the figures as JSON")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        cache = Path(tmp)
        cold = timed(lambda: load_ontology(cache=False), 3)
        load_ontology(cache_dir=cache)  # fills the cache
        warm = timed(lambda: load_ontology(cache_dir=cache), 5)
        onto = load_ontology(cache_dir=cache)
    first = timed(lambda: onto.search("lung cancer"), 1)[0]
    search_rate = throughput(lambda q: onto.search(q, limit=10), QUERIES, args.seconds)
    expand_rate = throughput(onto.expand, ["SCT:363358000", "EUCAIM:CLIN1000060", "RID10312", "ICD10:C50"],
                             args.seconds)
    warm_s = statistics.median(warm)
    print(f"concepts {len(onto)}, triples {onto.triples}, mappings {len(onto.mappings)}")
    runs = ", ".join(f"{t:.3f}" for t in cold)
    print(f"cold load (parse RDF)       median {statistics.median(cold):.3f} s  (runs: {runs})")
    print(f"warm load (cached index)    median {warm_s:.3f} s  target < 1 s  ratio {1.0 / warm_s:.1f}x under target")
    print(f"cold/warm ratio             {statistics.median(cold) / warm_s:.1f}x")
    print(f"first search (builds index) {first:.3f} s")
    print(f"search throughput           {search_rate:,.0f} /s  target >= 1,000/s  ratio {search_rate / 1000:.1f}x")
    print(f"expand throughput           {expand_rate:,.0f} /s")
    if args.json:
        cold_s = statistics.median(cold)
        write_json(args.json, "ontology", [
            Row("cold load (parse RDF), median", round(cold_s, 3), "s", f"{len(onto)} concepts"),
            Row("warm load (cached index), median", round(warm_s, 3), "s", "target < 1 s"),
            Row("warm load: target / measured", round(1.0 / warm_s, 2), "x", "> 1 = under target"),
            Row("cold / warm load", round(cold_s / warm_s, 1), "x", ""),
            Row("first search (builds the index)", round(first, 3), "s", ""),
            Row("term search throughput", round(search_rate), "searches/s", f"limit 10, {len(QUERIES)} queries"),
            Row("term search: measured / target", round(search_rate / 1000, 2), "x", "target >= 1,000/s"),
            Row("expand throughput", round(expand_rate), "expansions/s", "4 roots"),
        ])


if __name__ == "__main__":
    main()
