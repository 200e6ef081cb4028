"""Benchmark: relevance of the term search on the graded query set ``tests/ontology/relevance.tsv``.

Run: python bench/bench_search_relevance.py [--show N]

Each query has ideal answers (grade 3) and acceptable ones (grade 2), as CURIEs; answers absent from the bundled
release are left out, and a query left with none is skipped. Printed: hit@1 (the top hit is graded 3 or 2),
MRR@10 (reciprocal rank of the first graded hit in the top 10), nDCG@10 (gain 3 and 2), the search rate over the
set, and every query whose top hit is not graded, with its top 3. Target (tests/ontology/test_relevance.py):
hit@1 >= 0.90. A benchmark, not a test.
"""

from __future__ import annotations

import argparse
import csv
import math
import time
from dataclasses import dataclass
from pathlib import Path

from hyperontology import Hyperontology, load_ontology

RELEVANCE = Path(__file__).resolve().parents[1] / "tests" / "ontology" / "relevance.tsv"


@dataclass(frozen=True)
class Judged:
    """One query with its graded answers (CURIE -> 3 or 2)."""

    query: str
    grades: dict[str, int]
    note: str


def read_judgements(onto: Hyperontology, path: Path = RELEVANCE) -> tuple[list[Judged], int]:
    """The queries of ``path`` with the answers the release holds, and how many answers were left out."""
    judged, absent = [], 0
    with path.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle, delimiter="\t"):
            grades: dict[str, int] = {}
            for column, grade in (("grade2", 2), ("grade3", 3)):
                for curie in filter(None, row[column].split("|")):
                    if curie in onto:
                        grades[curie] = grade
                    else:
                        absent += 1
            if grades:
                judged.append(Judged(row["query"], grades, row["note"]))
    return judged, absent


def dcg(gains: list[int]) -> float:
    return sum(gain / math.log2(rank + 2) for rank, gain in enumerate(gains))


def measure(judged: Judged, ranked: list[str]) -> tuple[float, float, float]:
    """hit@1, reciprocal rank (first graded hit in the top 10) and nDCG@10 of one ranked list of CURIEs."""
    gains = [judged.grades.get(curie, 0) for curie in ranked[:10]]
    hit = 1.0 if gains and gains[0] else 0.0
    rr = next((1.0 / (rank + 1) for rank, gain in enumerate(gains) if gain), 0.0)
    ideal = dcg(sorted(judged.grades.values(), reverse=True)[:10])
    return hit, rr, dcg(gains) / ideal


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--show", type=int, default=3, help="hits shown for each failing query")
    args = parser.parse_args()
    onto = load_ontology()
    judged, absent = read_judgements(onto)
    onto.search("warm up")  # builds the index
    start = time.perf_counter()
    results = [[h.concept.curie for h in onto.search(j.query, limit=10)] for j in judged]
    rate = len(judged) / (time.perf_counter() - start)
    scores = [measure(j, ranked) for j, ranked in zip(judged, results, strict=True)]
    count = len(scores)
    print(f"queries {count} (answers absent from this release, left out: {absent})")
    print(f"hit@1    {sum(s[0] for s in scores) / count:.3f}  target >= 0.90")
    print(f"MRR@10   {sum(s[1] for s in scores) / count:.3f}")
    print(f"nDCG@10  {sum(s[2] for s in scores) / count:.3f}")
    print(f"searches {rate:,.0f} /s over this set")
    failing = [(j, ranked) for j, ranked, s in zip(judged, results, scores, strict=True) if not s[0]]
    print(f"\nqueries whose top hit is not graded: {len(failing)}")
    for j, ranked in failing:
        top = "; ".join(f"{c} {onto.concept(c).label}" for c in ranked[: args.show]) or "(nothing)"
        print(f"  {j.query!r:34} [{j.note}]\n      -> {top}")


if __name__ == "__main__":
    main()
