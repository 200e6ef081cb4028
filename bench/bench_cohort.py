"""Benchmark: the cohort API's query (``hyperontology.search.cohort``) on a synthetic node, criterion by criterion.

Run: python bench/bench_cohort.py [--patients N] [--store DIR]

The store is :mod:`bench_sparql`'s deterministic synthetic cohort (patients with diagnoses coded with real
concepts, studies, series with modalities), built once into ``--store`` (reused when it exists). Each criteria
set is counted as the cohort API counts it, in process on the embedded store; the time and the counts are
printed. On 3,000 patients (about 100k data triples) the query of 1.1.0 took 135 s for one diagnosis criterion
(a FILTER EXISTS per patient over a VALUES block) and over 7 minutes with a series-to-patient property path;
both forms were replaced. Machines here are shared: compare runs of one machine, not absolute times.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from hyperontology import load_ontology
from hyperontology.search.cohort import CohortCriteria, cohort_sparql
from hyperontology.store.oxigraph import NodeStore

sys.path.insert(0, str(Path(__file__).parent))
import bench_sparql  # noqa: E402 (the synthetic cohort lives there)

CRITERIA = {
    "lung cancer (SCT:363358000)": CohortCriteria(diagnosis=("SCT:363358000",)),
    "CT (DCM:CT)": CohortCriteria(modality=("DCM:CT",)),
    "lung cancer and CT": CohortCriteria(diagnosis=("SCT:363358000",), modality=("DCM:CT",)),
    "lung or breast cancer (ORed)": CohortCriteria(diagnosis=("SCT:363358000", "SCT:254837009")),
    "everyone": CohortCriteria(),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--patients", type=int, default=3000)
    parser.add_argument("--store", type=Path, default=None, help="where the synthetic store is kept")
    args = parser.parse_args()
    onto = load_ontology()
    path = args.store or Path(f"/tmp/hyperontology-bench-cohort-{args.patients}")  # noqa: S108
    if not path.exists():
        started = time.perf_counter()
        triples = bench_sparql.build_store(path, args.patients, onto)
        took = time.perf_counter() - started
        print(f"built {path}: {args.patients} patients, {triples} data triples in {took:.1f} s")
    with NodeStore(path, read_only=True) as store:
        for name, criteria in CRITERIA.items():
            query = cohort_sparql(criteria, onto)
            started = time.perf_counter()
            row = next(iter(store.query(query)))
            took = time.perf_counter() - started
            counts = {v: int(row[v].value) if row[v] is not None else 0 for v in ("patients", "studies", "series")}
            print(f"{took:8.2f} s  {name}: {counts}")


if __name__ == "__main__":
    main()
