"""Benchmark: validating a whole store, ``validate_store`` against pyshacl on the exported graph, same run.

Run: python bench/bench_validate.py [--sizes 100000,1000000] [--invalid 0.02] [--seed 1] [--pyshacl-cap SECONDS]
                                   [--quick] [--json PATH]

For each size (data triples), a synthetic cohort (``bench/cohortgen.py``: realistic CDM records, real codes of
the bundled hyperontology, a fraction ``--invalid`` of the patients with one realistic error) is loaded into an
embedded on-disk store. Then, in this one process:

- new: :func:`hyperontology.validation.store.validate_store` on the store (streams the data graph);
- pyshacl: what ``hyperontology validate`` did before, export the data graph, parse it into rdflib and run
  :func:`hyperontology.validation.shacl.validate_store_export` (pyshacl over the data and the ontology triples of
  the concepts it uses). The export and parse time is reported apart from pyshacl's own.

Both result sets are compared (focus, path, component, value, severity, message, shape). Target: at 1M data
triples the new validator is at least 20x faster than pyshacl, with the same results. Machines here are shared:
compare ratios, not absolute times. A benchmark, not a test.

pyshacl takes hours at 1M triples. With ``--pyshacl-cap SECONDS`` it runs in a child process that is stopped after
that long: its time is then reported as "more than the cap", the speed-up as a lower bound (cap / validate_store),
and the results are not compared (marked -1).
"""

from __future__ import annotations

import argparse
import multiprocessing
import resource
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import rdflib

sys.path.insert(0, str(Path(__file__).resolve().parent))

from cohortgen import cohort_quads, load_store  # noqa: E402
from run_all import Row, write_json  # noqa: E402 (the --json contract of every bench)

from hyperontology import load_ontology  # noqa: E402
from hyperontology.store.oxigraph import NodeStore  # noqa: E402
from hyperontology.validation.shacl import Violation, validate_store_export  # noqa: E402
from hyperontology.validation.store import validate_store  # noqa: E402

TRIPLES_PER_PATIENT = 38  # cohortgen's average (its docstring: 35-40)


def _key(v: Violation) -> tuple[str, ...]:
    return (v.focus, v.path, v.component, v.value, v.severity, v.message, v.shape)


def _row(what: str, value: float, unit: str, note: str = "") -> Row:
    """A figure, printed as soon as it is measured (a 1M-triple run takes an hour)."""
    print(f"  {what:<44} {value:>12,.3f} {unit:<8} {note}", flush=True)
    return Row(what, value, unit, note)


def one_size(triples: int, *, invalid: float, seed: int, onto: Any, workdir: Path,
             cap: float | None = None) -> list[Row]:
    patients = max(1, triples // TRIPLES_PER_PATIENT)
    where = workdir / f"store-{triples}"
    loaded = load_store(cohort_quads(patients, seed=seed, ontology=onto, invalid=invalid), where)
    label = f"{loaded / 1e6:.2f}M" if loaded >= 1e6 else f"{loaded // 1000}k"
    print(f"{label} data triples ({patients:,} patients, {invalid:.0%} with an error)", flush=True)
    rows = [_row(f"data triples ({label})", loaded, "triples", f"{patients} patients, seed {seed}")]
    with NodeStore(where, read_only=True) as store:
        start = time.perf_counter()
        new = validate_store(store, onto)
        t_new = time.perf_counter() - start
        rows.append(_row(f"validate_store ({label})", t_new, "s", f"{len(new)} results"))
        start = time.perf_counter()
        data = (store.export(None, "nt", graphs=["data"]) or b"").decode()
    graph = rdflib.Graph().parse(data=data, format="nt")
    del data
    t_export = time.perf_counter() - start
    rows.append(_row(f"export + rdflib parse ({label})", t_export, "s", "before pyshacl, as `validate` did"))
    print(f"  pyshacl started at {time.strftime('%H:%M:%S')}", flush=True)
    start = time.perf_counter()
    old = pyshacl_within(graph, onto, cap)
    t_pyshacl = time.perf_counter() - start
    if old is None:  # stopped at the cap: a lower bound
        return rows + [
            _row(f"pyshacl ({label})", t_pyshacl, "s", f"stopped at the cap ({cap:g} s): did not finish"),
            _row(f"speed-up vs pyshacl ({label})", t_pyshacl / t_new, "x", "a lower bound (pyshacl capped); "
                 "target >= 20x at 1M"),
            _row(f"same results ({label})", -1.0, "bool", "not compared: pyshacl did not finish"),
        ]
    same = Counter(map(_key, new)) == Counter(map(_key, old))
    rows += [
        _row(f"pyshacl ({label})", t_pyshacl, "s", f"{len(old)} results; validate_store_export"),
        _row(f"speed-up vs pyshacl ({label})", t_pyshacl / t_new, "x", "target >= 20x at 1M"),
        _row(f"speed-up vs export + pyshacl ({label})", (t_pyshacl + t_export) / t_new, "x", "the old `validate`"),
        _row(f"same results ({label})", 1.0 if same else 0.0, "bool", "1 = identical result sets"),
    ]
    return rows


def _pyshacl_child(graph: rdflib.Graph, onto: Any, out: Any) -> None:
    out.send(validate_store_export(graph, onto))
    out.close()


def pyshacl_within(graph: rdflib.Graph, onto: Any, cap: float | None) -> list[Violation] | None:
    """pyshacl's results (``validate_store_export``); with a ``cap`` in seconds, run in a forked child and None
    when it has not finished by then (the child is stopped)."""
    if cap is None:
        return validate_store_export(graph, onto)
    context = multiprocessing.get_context("fork")  # the child shares the parsed graph, nothing is copied
    receive, send = context.Pipe(duplex=False)
    child = context.Process(target=_pyshacl_child, args=(graph, onto, send), daemon=True)
    child.start()
    send.close()
    try:
        if not receive.poll(cap):
            return None
        results: list[Violation] = receive.recv()
        return results
    except EOFError:
        raise RuntimeError("pyshacl's process ended without results") from None
    finally:
        if child.is_alive():
            child.kill()
        child.join()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="100000,1000000", help="data triples per run, comma-separated")
    parser.add_argument("--invalid", type=float, default=0.02, help="fraction of patients with one error")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--pyshacl-cap", type=float, help="stop pyshacl after this many seconds (a lower bound)")
    parser.add_argument("--quick", action="store_true", help="one small size (20k triples)")
    parser.add_argument("--json", type=Path, help="write the rows as JSON (bench/run_all.py)")
    args = parser.parse_args(argv)
    sizes = [20_000] if args.quick else [int(s) for s in args.sizes.split(",")]
    onto = load_ontology()
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="bench-validate-") as tmp:
        for size in sizes:
            rows += one_size(size, invalid=args.invalid, seed=args.seed, onto=onto, workdir=Path(tmp),
                             cap=args.pyshacl_cap)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    rows.append(_row("peak RSS of the run", peak, "MiB", "both validators, the largest size"))
    if args.json:
        write_json(args.json, "validate", rows)
    return 0 if all(r.value != 0.0 for r in rows if r.what.startswith("same results")) else 1


if __name__ == "__main__":
    sys.exit(main())
