"""Benchmark: a node answering the federated search explorer, and a federator over three nodes.

Run: python bench/bench_federation.py [--triples 1000000] [--repeats 5] [--scale 0.1] [--work DIR] [--quick]
                                     [--part node|federation|all] [--json PATH]

(a) **Node latency.** A synthetic node (``hyperontology.federation.synthetic``, about 45 data triples per patient:
``--triples`` / 45 patients in two datasets) is built once under ``--work`` (reused when present) and served by a
real ``hyperontology serve`` process with the default settings (k = 10, 4 workers). Each of the explorer's queries
(Focus' tree on ``POST /api/eucaim/ast``, the eucaim-api ``GET /api/eucaim/search``, the Beacon
``POST /api/eucaim/beacon/collections``) is sent ``--repeats`` times: median and p95 (nearest rank). The first query
after the start also reads the node's datasets and facets (cached 60 s): it is reported apart, as the cold query.

(b) **Federated latency.** Three nodes of different sizes (30k, 60k and 120k patients times ``--scale``), each
served as in (a), and a federator (``hyperontology serve --federation nodes.yaml``, ``POST /api/federated/cohort``).
Each query is timed through the federator and at the nodes directly, twice: each node alone, and all three
asked at once from three threads (as the federator asks them). The figure (target <= 1.2) is federated / slowest
node asked at once: what the federator adds to the slowest member. On a machine with more cores than nodes, as
in a real federation where every node has its own, "at once" and "alone" are the same; here (2 cores, 3 nodes)
the nodes asked at once compete for the cores, so the ratio to the slowest node alone is printed too and is
larger for that reason, not for the federator's.

Machines here are shared: compare ratios, not absolute times.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_sparql  # noqa: E402
from run_all import Row, emit  # noqa: E402

TRIPLES_PER_PATIENT = 45
FEDERATION_PATIENTS = (30_000, 60_000, 120_000)
TARGET_RATIO = 1.2
DATASETS = (("ds-a", "Dataset A"), ("ds-b", "Dataset B"))


def cond(key: str, value: Any, kind: str = "EQUALS") -> dict[str, Any]:
    return {"key": key, "type": kind, "value": value}


def focus(*conditions: dict[str, Any]) -> dict[str, Any]:
    """The explorer's tree as Focus sends it."""
    return {"ast": {"operand": "OR", "children": [{"operand": "AND", "children": list(conditions)}]}, "id": "bench"}


GENDER, DIAGNOSIS, AGE, MODALITY = "SNOMEDCT263495000", "SNOMEDCT439401001", "SNOMEDCT423493009", "RID10311"
ER = "EUCAIM_Hyper-Ontology_V1.0.CLIN1045815"
#: name -> (method, path, body or query parameters); the tree queries also go through the federator
QUERIES: dict[str, tuple[str, str, Any]] = {
    "everyone": ("POST", "/api/eucaim/ast", focus()),
    "one diagnosis (lung cancer)": ("POST", "/api/eucaim/ast", focus(cond(DIAGNOSIS, "SNOMEDCT363358000"))),
    "female AND breast cancer AND MR": ("POST", "/api/eucaim/ast", focus(
        cond(GENDER, "SNOMEDCT248152002"), cond(DIAGNOSIS, "SNOMEDCT254837009"), cond(MODALITY, "RID10312"))),
    "3 diagnoses ORed": ("POST", "/api/eucaim/ast", focus({"operand": "OR", "children": [
        cond(DIAGNOSIS, v) for v in ("SNOMEDCT363358000", "SNOMEDCT254837009", "SNOMEDCT399068003")]})),
    "age at diagnosis 40-60": ("POST", "/api/eucaim/ast", focus(cond(AGE, {"min": 40, "max": 60}, "BETWEEN"))),
    "ER positive (tumour marker)": ("POST", "/api/eucaim/ast", focus(
        cond(ER, "EUCAIM_Hyper-Ontology_V1.0.COM1001310"))),
    "eucaim-api GET female+MR+breast": ("GET", "/api/eucaim/search",
                                        {"gender": "female", "modality": "MR", "bodyPart": "breast"}),
    "Beacon female+breast cancer": ("POST", "/api/eucaim/beacon/collections", {
        "meta": {"apiVersion": "2.0"}, "query": {"filters": [{"id": "EUCAIM:COM1001370"},
                                                             {"id": "EUCAIM:CLIN1000060"}]}}),
}
FEDERATED = ("everyone", "one diagnosis (lung cancer)", "female AND breast cancer AND MR", "3 diagnoses ORed",
             "age at diagnosis 40-60", "ER positive (tumour marker)")


# ------------------------------------------------------------------------------------------ stores and servers
def node_store(work: Path, patients: int, *, seed: int, prefix: str) -> Path:
    """A synthetic node store under ``work``, built once (a ``.done`` marker guards against a partial build)."""
    path = work / f"node-{patients}-s{seed}"
    done = path.with_suffix(".done")
    if done.exists():
        return path
    from hyperontology import load_ontology
    from hyperontology.federation.synthetic import build_node_store

    if path.exists():
        import shutil

        shutil.rmtree(path)
    work.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    triples = build_node_store(path, patients=patients, ontology=load_ontology(), seed=seed, datasets=DATASETS,
                               prefix=prefix)
    done.write_text(f"{triples}\n", encoding="utf-8")
    print(f"built {path}: {patients:,} patients, {triples:,} data triples in {time.perf_counter() - started:.0f} s",
          flush=True)
    return path


def data_triples(path: Path) -> int:
    return int(path.with_suffix(".done").read_text(encoding="utf-8").split()[0])


@contextmanager
def serve(store: Path, *extra: str) -> Iterator[httpx.Client]:
    """``hyperontology serve`` as a process (default settings plus ``extra``, see :func:`bench_sparql.serve`); a
    client on it once it is ready."""
    with bench_sparql.serve(store, *extra) as base, httpx.Client(base_url=base, timeout=600) as client:
        yield client


def send(client: httpx.Client, name: str) -> tuple[float, dict[str, Any]]:
    """One query; its wall time in seconds and the answer (fails loudly on an error status)."""
    method, path, payload = QUERIES[name]
    started = time.perf_counter()
    if method == "GET":
        response = client.get(path, params=payload)
    else:
        response = client.post(path, json=payload)
    took = time.perf_counter() - started
    response.raise_for_status()
    if response.headers.get("X-Unknown-Criteria"):
        raise RuntimeError(f"{name}: unknown criteria {response.headers['X-Unknown-Criteria']}")
    return took, response.json()


def federated(client: httpx.Client, name: str) -> tuple[float, dict[str, Any]]:
    body = QUERIES[name][2]
    started = time.perf_counter()
    response = client.post("/api/federated/cohort", json={"ast": body["ast"]})
    took = time.perf_counter() - started
    response.raise_for_status()
    return took, response.json()


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, -(-95 * len(ordered) // 100) - 1)]


def subjects(answer: dict[str, Any]) -> int:
    collections = answer["response"]["collections"] if "response" in answer else answer["collections"]
    return sum(int(c["subjects_count"]) for c in collections)


def ms(seconds: float) -> float:
    return round(seconds * 1000, 1)


def verdict(ok: bool) -> str:
    return "OK" if ok else "MISSED"


# ------------------------------------------------------------------------------------------ (a) one node
def bench_node(work: Path, triples: int, repeats: int) -> list[Row]:
    patients = max(10, triples // TRIPLES_PER_PATIENT)
    store = node_store(work, patients, seed=7, prefix="")
    size = f"{data_triples(store):,} triples, {patients:,} patients"
    rows: list[Row] = []
    with serve(store) as client:
        cold, answer = send(client, "one diagnosis (lung cancer)")
        rows.append(Row("node: cold first query (reads metadata), one diagnosis", ms(cold), "ms", size))
        for name in QUERIES:
            times = []
            try:
                for _ in range(repeats):
                    took, answer = send(client, name)
                    times.append(took)
            except (httpx.HTTPError, RuntimeError) as exc:
                rows.append(Row(f"node: {name}, median", None, "ms", f"FAILED: {str(exc).splitlines()[0][:120]}"))
                print(f"  {name}: FAILED {exc}", flush=True)
                continue
            note = f"{size}; {subjects(answer):,} subjects (k=10)"
            rows.append(Row(f"node: {name}, median", ms(statistics.median(times)), "ms", note))
            rows.append(Row(f"node: {name}, p95", ms(p95(times)), "ms", f"{repeats} repeats"))
            print(f"  {name}: median {ms(statistics.median(times))} ms", flush=True)
    return rows


# ------------------------------------------------------------------------------------------ (b) federation
def bench_federation(work: Path, scale: float, repeats: int) -> list[Row]:
    sizes = [max(10, round(n * scale)) for n in FEDERATION_PATIENTS]
    stores = [node_store(work, n, seed=11 + i, prefix=f"n{i}-") for i, n in enumerate(sizes)]
    rows: list[Row] = []
    with ExitStack() as stack:
        nodes = [stack.enter_context(serve(store)) for store in stores]
        config = work / "nodes.yaml"
        config.write_text("timeout_s: 300\nnodes:\n" + "".join(
            f"  - name: node-{n}\n    url: {str(c.base_url).rstrip('/')}\n" for n, c in zip(sizes, nodes, strict=True)),
            encoding="utf-8")
        federator = stack.enter_context(serve(stores[0], "--federation", str(config)))
        for node in nodes:  # the cold query (metadata) is not part of the comparison
            send(node, "everyone")
        federated(federator, "everyone")
        ratios = []
        for name in FEDERATED:
            direct: list[list[float]] = [[] for _ in nodes]
            together: list[float] = []
            through: list[float] = []
            try:
                for _ in range(repeats):
                    for i, node in enumerate(nodes):
                        direct[i].append(send(node, name)[0])
                    with ThreadPoolExecutor(len(nodes)) as pool:
                        together.append(max(took for took, _ in pool.map(send, nodes, [name] * len(nodes))))
                    took, answer = federated(federator, name)
                    if answer.get("answered") != len(nodes):
                        raise RuntimeError(f"{answer.get('answered')} of {len(nodes)} nodes answered: "
                                           f"{[(n['name'], n['status'], n.get('detail')) for n in answer['nodes']]}")
                    through.append(took)
            except (httpx.HTTPError, RuntimeError) as exc:
                rows.append(Row(f"federation: {name}, federated / slowest node", None, "x",
                                f"FAILED: {str(exc).splitlines()[0][:160]}"))
                ratios.append(float("inf"))
                print(f"  {name}: FAILED {exc}", flush=True)
                continue
            medians = [statistics.median(t) for t in direct]
            slowest = max(medians)
            at_once = statistics.median(together)
            fed = statistics.median(through)
            ratio = fed / at_once
            ratios.append(ratio)
            rows.append(Row(f"federation: {name}, slowest node alone, median", ms(slowest), "ms",
                            "nodes " + " / ".join(f"{ms(m)}" for m in medians) + " ms"))
            rows.append(Row(f"federation: {name}, slowest node asked at once, median", ms(at_once), "ms",
                            "the three nodes asked together, as the federator asks them"))
            rows.append(Row(f"federation: {name}, federated median", ms(fed), "ms",
                            f"{answer['total']['subjects_count']:,} subjects (k=10), p95 {ms(p95(through))} ms"))
            rows.append(Row(f"federation: {name}, federated / slowest node", round(ratio, 2), "x",
                            f"target <= {TARGET_RATIO}: {verdict(ratio <= TARGET_RATIO)}"))
            rows.append(Row(f"federation: {name}, federated / slowest node alone", round(fed / slowest, 2), "x",
                            "the nodes share this machine's cores when asked together"))
            rows.append(Row(f"federation: {name}, federated / sum of nodes", round(fed / sum(medians), 2), "x",
                            "< 1: the nodes answered in parallel (they share this machine's cores)"))
            print(f"  {name}: slowest node alone {ms(slowest)} ms, at once {ms(at_once)} ms, federated {ms(fed)} ms, "
                  f"ratio {ratio:.2f}", flush=True)
        worst = max(ratios)
        rows.append(Row("federation: worst federated / slowest node", round(worst, 2), "x",
                        f"patients {'/'.join(f'{n:,}' for n in sizes)}; target <= {TARGET_RATIO}: "
                        f"{verdict(worst <= TARGET_RATIO)}"))
        print(f"target: federated / slowest node <= {TARGET_RATIO}: worst {worst:.2f} -> "
              f"{verdict(worst <= TARGET_RATIO)}", flush=True)
    return rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--triples", type=int, default=1_000_000, help="data triples of the node of (a)")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--scale", type=float, default=0.1,
                        help="the federation's nodes hold 30k, 60k and 120k patients times this (default 0.1)")
    parser.add_argument("--work", type=Path, default=Path("/tmp/hyperontology-bench-federation"),  # noqa: S108
                        help="where the synthetic stores are kept (reused when present)")
    parser.add_argument("--part", choices=("node", "federation", "all"), default="all")
    parser.add_argument("--quick", action="store_true", help="tiny sizes (a smoke run)")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    if args.quick:
        args.triples, args.repeats, args.scale = min(args.triples, 20_000), min(args.repeats, 2), 0.005
    rows: list[Row] = []
    if args.part in ("node", "all"):
        rows += bench_node(args.work, args.triples, args.repeats)
    if args.part in ("federation", "all"):
        rows += bench_federation(args.work, args.scale, args.repeats)
    emit(rows, "federation", args.json, width=64)


if __name__ == "__main__":
    main()
