"""Benchmark: the semantic cohort query over ~1M CDM triples, over HTTP, in raw pyoxigraph and in rdflib.

Run: python bench/bench_sparql.py [--patients N] [--repeat R] [--rdflib-cap S] [--json PATH]

A deterministic synthetic cohort (patients, diagnoses coded with real concepts of the bundled ontology:
lung cancer SCT:363358000, breast SCT:254837009 and prostate SCT:399068003 with their expansions; studies;
series with modality DCM:CT/MR/PT) is written with the ontology graph into an on-disk store. The cohort
query counts distinct patients with a diagnosis under SCT:363358000 (the materialised closure
``ho:subsumedBy``, a property path over the hierarchy and the mappings, or a VALUES block from ``expand``) who
have a CT series in a study. Measured in one run:
median latency over HTTP (``hyperontology serve`` on loopback, POST form, JSON results), the same query in
raw pyoxigraph on the same store in process, and in rdflib's in-memory graph (data plus the ontology triples
the path needs; capped). Targets: pyoxigraph >= 500x faster than rdflib; HTTP overhead <= 25% over raw
pyoxigraph. Machines here are shared: compare ratios, not absolute times. A benchmark, not a test.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pyoxigraph as ox

from hyperontology import load_ontology
from hyperontology.federation.synthetic import write_node_store
from hyperontology.ontology.closure import SUBSUMED_BY
from hyperontology.prefixes import HO, curie_to_iri
from hyperontology.store.oxigraph import GRAPHS

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run_all import Row, write_json  # noqa: E402 (the --json contract of every bench)

CDM = HO + "cdm#"
DATA = HO + "data/bench/"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
SKOS = "http://www.w3.org/2004/02/skos/core#"
PATH_PREDICATES = [RDFS + "subClassOf", SKOS + "exactMatch", SKOS + "broadMatch", SKOS + "narrowMatch"]
LUNG, BREAST, PROSTATE = "SCT:363358000", "SCT:254837009", "SCT:399068003"
MODALITIES = ["DCM:CT", "DCM:MR", "DCM:PT"]
TRIPLES_PER_PATIENT = 33.5  # 1 + 1.5 diagnoses x 3 + 2 studies x 2 + 6 series x 4 (expected values)
DEFAULT_PATIENTS = 30_000  # ~1M data triples

PREFIXES = f"""PREFIX cdm: <{CDM}>
PREFIX rdfs: <{RDFS}>
PREFIX skos: <{SKOS}>
PREFIX sct: <http://snomed.info/id/>
PREFIX dcm: <http://dicom.nema.org/resources/ontology/DCM/>
"""
JOINS = """
  ?d a cdm:Diagnosis ; cdm:patient ?p ; cdm:diagnosisCode ?code .
  ?s a cdm:ImagingSeries ; cdm:patient ?p ; cdm:study ?st ; cdm:modality dcm:CT .
  ?st a cdm:ImagingStudy ; cdm:patient ?p ."""
COHORT_BODY = JOINS + "\n}"
PATH = "(rdfs:subClassOf|skos:exactMatch|^skos:exactMatch|skos:broadMatch|^skos:narrowMatch)*"
# The path goes in a sub-select: written inline next to the joins, pyoxigraph 0.5 walks the closure once per
# diagnosis (~10 s at 1,000 patients) instead of once for the query.
CODES = f"{{ SELECT DISTINCT ?code WHERE {{ ?code {PATH} sct:363358000 }} }}"
COHORT_PATH = PREFIXES + f"SELECT (COUNT(DISTINCT ?p) AS ?n) WHERE {{\n  {CODES}" + COHORT_BODY
# the materialised closure (hyperontology.ontology.closure) loaded with the ontology: one more join
COHORT_CLOSURE = (PREFIXES + f"PREFIX ho: <{HO}>\nSELECT (COUNT(DISTINCT ?p) AS ?n) WHERE {{\n"
                  "  ?code ho:subsumedBy sct:363358000 ." + COHORT_BODY)
# pyoxigraph's LATERAL (SPARQL 1.2 draft, not 1.1: not for rdflib) runs the joins once per code found
COHORT_LATERAL = PREFIXES + f"SELECT (COUNT(DISTINCT ?p) AS ?n) WHERE {{\n  {CODES} LATERAL {{{JOINS}\n  }}\n}}"


def cohort_values(onto: Any) -> str:
    """The cohort query with the codes as a VALUES block from ``expand``."""
    codes = " ".join(f"<{c.iri}>" for c in onto.expand(LUNG))
    return PREFIXES + f"SELECT (COUNT(DISTINCT ?p) AS ?n) WHERE {{\n  VALUES ?code {{ {codes} }}" + COHORT_BODY


# ------------------------------------------------------------------------------------------ cohort
def cohort_triples(patients: int, onto: Any, seed: int = 42) -> Iterator[tuple[str, str, str]]:
    """Deterministic synthetic CDM triples (IRIs as strings): patients, diagnoses, studies, series."""
    rng = random.Random(seed)
    pools = [[c.iri for c in onto.expand(root)] for root in (LUNG, BREAST, PROSTATE)]
    weights = [0.25, 0.40, 0.35]
    modalities = [curie_to_iri(m) for m in MODALITIES]
    n_dx = n_st = n_se = 0
    for i in range(patients):
        patient = f"{DATA}patient/{i}"
        yield patient, RDF_TYPE, CDM + "Patient"
        for _ in range(rng.choice((1, 1, 2, 2))):
            dx, n_dx = f"{DATA}diagnosis/{n_dx}", n_dx + 1
            pool = rng.choices(pools, weights)[0]
            yield dx, RDF_TYPE, CDM + "Diagnosis"
            yield dx, CDM + "patient", patient
            yield dx, CDM + "diagnosisCode", rng.choice(pool)
        for _ in range(rng.choice((1, 2, 3))):
            study, n_st = f"{DATA}study/{n_st}", n_st + 1
            yield study, RDF_TYPE, CDM + "ImagingStudy"
            yield study, CDM + "patient", patient
            for _ in range(rng.choice((1, 2, 3, 4, 5))):
                series, n_se = f"{DATA}series/{n_se}", n_se + 1
                yield series, RDF_TYPE, CDM + "ImagingSeries"
                yield series, CDM + "patient", patient
                yield series, CDM + "study", study
                yield series, CDM + "modality", rng.choices(modalities, (0.35, 0.45, 0.20))[0]


def build_store(path: Path, patients: int, onto: Any) -> int:
    """Write the ontology graph and the cohort into a new on-disk store; returns the number of data triples."""
    return write_node_store(path, cohort_triples(patients, onto), onto)


def write_rdflib_input(store: ox.Store, target: Path) -> int:
    """N-Triples for rdflib: the data graph plus the ontology triples the path and the closure use."""
    quads = list(store.quads_for_pattern(None, None, None, GRAPHS["data"]))
    for predicate in [*PATH_PREDICATES, SUBSUMED_BY.value]:
        quads += store.quads_for_pattern(None, ox.NamedNode(predicate), None, GRAPHS["ontology"])
    triples = [ox.Triple(q.subject, q.predicate, q.object) for q in quads]
    ox.serialize(triples, output=str(target), format=ox.RdfFormat.N_TRIPLES)
    return len(triples)


# ------------------------------------------------------------------------------------------ server
def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def serve(store: Path, *extra: str) -> Iterator[str]:
    """Run ``hyperontology serve`` on the store as a real process on loopback; yields its base URL."""
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "hyperontology", "serve", "--store", str(store),
                             "--port", str(port), *extra])
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                raise RuntimeError("the server process exited")
            try:
                if httpx.get(base + "/ready", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("the server did not start")
            time.sleep(0.1)
        yield base
    finally:
        proc.kill()
        proc.wait()


def http_count(client: httpx.Client, query: str) -> int:
    response = client.post("/sparql", data={"query": query}, headers={"Accept": "application/sparql-results+json"})
    response.raise_for_status()
    return int(response.json()["results"]["bindings"][0]["n"]["value"])


def raw_count(store: ox.Store, query: str) -> int:
    solutions = store.query(query, use_default_graph_as_union=True)
    return int(next(iter(solutions))["n"].value)


def interleaved(runs: dict[str, Callable[[], int]], repeat: int) -> tuple[dict[str, float], dict[str, set[int]]]:
    """Median seconds of each function, runs alternated to share the machine's drift; the counts they gave."""
    times: dict[str, list[float]] = {name: [] for name in runs}
    counts: dict[str, set[int]] = {name: set() for name in runs}
    for name, fn in runs.items():  # warm-up
        counts[name].add(fn())
    for _ in range(repeat):
        for name, fn in runs.items():
            start = time.perf_counter()
            counts[name].add(fn())
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(t) for name, t in times.items()}, counts


# ------------------------------------------------------------------------------------------ rdflib
def _rdflib_child(nt: str, queries: list[str], runs: int, conn: Any) -> None:
    import rdflib

    start = time.perf_counter()
    graph = rdflib.Graph()
    graph.parse(nt, format="nt")
    conn.send(("loaded", len(graph), time.perf_counter() - start))
    for query in queries:
        for _ in range(runs):
            start = time.perf_counter()
            rows = list(graph.query(query))
            conn.send(("ran", int(rows[0][0]), time.perf_counter() - start))


def run_rdflib(nt: Path, queries: list[str], runs: int, cap: float) -> tuple[float, list[tuple[float, int | None]]]:
    """Load time, then per query (median seconds, count); a capped query gives (elapsed, None) and ends the run."""
    parent, child = mp.get_context("spawn").Pipe()
    proc = mp.get_context("spawn").Process(target=_rdflib_child, args=(str(nt), queries, runs, child), daemon=True)
    proc.start()
    results: list[tuple[float, int | None]] = []
    try:
        if not parent.poll(1800):
            raise RuntimeError("rdflib did not load the triples in 30 minutes")
        _, size, load_s = parent.recv()
        print(f"  rdflib loaded {size:,} triples in {load_s:.1f} s")
        for _ in queries:
            seconds, counts = [], set()
            for _ in range(runs):
                start = time.perf_counter()
                if not parent.poll(cap):
                    results.append((time.perf_counter() - start, None))
                    return load_s, results
                _, n, elapsed = parent.recv()
                seconds.append(elapsed)
                counts.add(n)
            results.append((statistics.median(seconds), counts.pop() if len(counts) == 1 else -1))
        return load_s, results
    finally:
        proc.kill()
        proc.join()


# ------------------------------------------------------------------------------------------ main
def verdict(ok: bool) -> str:
    return "OK" if ok else "MISSED"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--patients", type=int, default=DEFAULT_PATIENTS,
                        help="patients in the cohort (default %(default)s: ~1M data triples)")
    parser.add_argument("--repeat", type=int, default=25, help="timed repetitions over HTTP and pyoxigraph")
    parser.add_argument("--rdflib-runs", type=int, default=1, help="timed rdflib runs of each query (1-3)")
    parser.add_argument("--rdflib-cap", type=float, default=120.0, help="seconds before an rdflib query is cut")
    parser.add_argument("--json", type=Path, help="write the figures as JSON")
    args = parser.parse_args()
    onto = load_ontology()
    queries = {"closure": COHORT_CLOSURE, "path": COHORT_PATH, "values": cohort_values(onto),
               "lateral": COHORT_LATERAL}
    portable = ["closure", "values", "path"]  # the queries rdflib runs (the faster first: a capped one ends the run)
    with tempfile.TemporaryDirectory(prefix="bench-sparql-") as tmp:
        path = Path(tmp) / "store"
        start = time.perf_counter()
        size = build_store(path, args.patients, onto)
        print(f"store: {args.patients:,} patients, {size:,} data triples, built in {time.perf_counter() - start:.1f} s")
        store = ox.Store.read_only(str(path))
        medians, counts = measure(path, store, queries, args.repeat)
        nt = Path(tmp) / "rdflib.nt"
        print(f"rdflib input: {write_rdflib_input(store, nt):,} triples")
        del store
        load_s, rdflib_results = run_rdflib(nt, [queries[q] for q in portable], args.rdflib_runs, args.rdflib_cap)
    rdflib_by_query = dict(zip(portable, rdflib_results, strict=False))
    report(queries, medians, counts, rdflib_by_query)
    if args.json:
        note = f"{args.patients:,} patients, {size:,} data triples"
        rows = [Row("rdflib load", round(load_s, 2), "s", note)]
        for name in queries:
            rows += json_rows(name, medians, rdflib_by_query.get(name), note)
        write_json(args.json, "sparql", rows)


def json_rows(name: str, medians: dict[str, float], rdflib_result: tuple[float, int | None] | None,
              note: str) -> list[Row]:
    """The figures of one cohort query form: latency in raw pyoxigraph, over HTTP, in rdflib, and the ratios."""
    raw, http = medians[f"raw {name}"], medians[f"http {name}"]
    rows = [Row(f"cohort query ({name}), raw pyoxigraph, median", round(raw * 1000, 2), "ms", note),
            Row(f"cohort query ({name}), endpoint over HTTP, median", round(http * 1000, 2), "ms", note),
            Row(f"cohort query ({name}), HTTP overhead over raw", round((http - raw) / raw, 3), "fraction",
                "target <= 0.25")]
    if rdflib_result is None:
        return rows
    rd_s, rd_n = rdflib_result
    capped = "capped: a lower bound" if rd_n is None else ""
    rows += [Row(f"cohort query ({name}), rdflib, median", round(rd_s * 1000, 1), "ms", capped),
             Row(f"cohort query ({name}), rdflib / raw pyoxigraph", round(rd_s / raw, 1), "x",
                 f"target >= 500x; {capped}" if capped else "target >= 500x")]
    return rows


def measure(path: Path, store: ox.Store, queries: dict[str, str],
            repeat: int) -> tuple[dict[str, float], dict[str, set[int]]]:
    with serve(path) as base, httpx.Client(base_url=base, timeout=120) as client:
        runs: dict[str, Callable[[], int]] = {}
        for name, query in queries.items():
            runs[f"raw {name}"] = lambda q=query: raw_count(store, q)  # type: ignore[misc]
            runs[f"http {name}"] = lambda q=query: http_count(client, q)  # type: ignore[misc]
        return interleaved(runs, repeat)


def report(queries: dict[str, str], medians: dict[str, float], counts: dict[str, set[int]],
           rdflib_results: dict[str, tuple[float, int | None]]) -> None:
    print(f"\n{'query':8} {'pyoxigraph':>12} {'HTTP':>12} {'HTTP overhead':>14} {'rdflib':>12} {'rdflib/pyox':>12}"
          "  counts (pyox / HTTP / rdflib)")
    for name in queries:
        raw, http = medians[f"raw {name}"], medians[f"http {name}"]
        overhead = (http - raw) / raw
        if name not in rdflib_results:
            same = counts[f"raw {name}"] == counts[f"http {name}"]
            print(f"{name:8} {raw * 1000:10.1f}ms {http * 1000:10.1f}ms {overhead:13.1%} {'not run':>12} {'':>12}"
                  f"  {sorted(counts[f'raw {name}'])} / {sorted(counts[f'http {name}'])} / -"
                  f"  {'same' if same else 'DIFFERENT'}")
            continue
        rd_s, rd_n = rdflib_results[name]
        capped = rd_n is None
        rd_text = f"> {rd_s:.0f} s" if capped else f"{rd_s:.2f} s"
        ratio = rd_s / raw
        ratio_text = f"> {ratio:,.0f}x" if capped else f"{ratio:,.0f}x"
        oxc, htc = counts[f"raw {name}"], counts[f"http {name}"]
        same = len(oxc) == 1 and oxc == htc and (capped or {rd_n} == oxc)
        print(f"{name:8} {raw * 1000:10.1f}ms {http * 1000:10.1f}ms {overhead:13.1%} {rd_text:>12} {ratio_text:>12}"
              f"  {sorted(oxc)} / {sorted(htc)} / {'n/a (capped)' if capped else rd_n}"
              f"  {'same' if same else 'DIFFERENT'}")
        print(f"         targets: rdflib/pyoxigraph >= 500x {verdict(ratio >= 500)};"
              f" HTTP overhead <= 25% {verdict(overhead <= 0.25)}")
    print("rdflib runs closure, values, then path, each capped; after a capped query the rest are not run.")
    found = {name: sorted(counts[f"raw {name}"]) for name in queries}
    agree = len({str(v) for v in found.values()}) == 1
    verdict_text = "same" if agree else "different: path and expand() disagree"
    print(f"closure vs path vs VALUES vs LATERAL counts: {found} ({verdict_text})")


if __name__ == "__main__":
    main()
