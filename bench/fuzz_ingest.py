"""Fuzzing ingest (issue 10): N mutated DICOM, FHIR and CSV inputs through `hyperontology ingest`; 0 crashes and
0 unaccounted inputs is the bar.

Run: python bench/fuzz_ingest.py [--count 2000] [--seed 1] [--workdir DIR] [--batch 50] [--jobs 1]
Inputs are made from real files (pydicom's test files, the shipped samples, and ../shared/data/{dicom,fhir,clinical}
when present) by the mutations of tests/fuzz/ (a third of each kind), written in batch directories under --workdir
and ingested a batch per process into one store, with a key file and the shipped mappings. Each input must end
loaded, quarantined, not mapped or rejected with a reason in the run's --report; a crash (a traceback, an exit status
other than 0, a signal, a hang) is narrowed down to the inputs that cause it. Prints the figures; exit status 1 on any
crash or unaccounted input, whose inputs are listed (with their seed and mutations) in DIR/problems.json and kept.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import sys
import tempfile
import time
from itertools import islice
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from hyperontology.sources.base import utf8_safe  # noqa: E402
from tests.fuzz.inputs import generate  # noqa: E402
from tests.fuzz.runs import Figures, Fuzzing  # noqa: E402
from tests.fuzz.seeds import SHARED, bundled_seeds, by_kind, shared_seeds  # noqa: E402


def report(figures: Figures, seconds: float, count: int) -> None:
    kinds = ", ".join(f"{kind} {n}" for kind, n in sorted(figures.kinds.items()))
    print(f"inputs: {sum(figures.kinds.values())} of {count} ({kinds})")
    print("outcomes: " + ", ".join(f"{status} {n}" for status, n in figures.statuses.most_common()))
    print(f"loaded {figures.statuses['loaded']}, rejected {figures.statuses['rejected']}, "
          f"crashes {len(figures.crashes)}, unaccounted {len(figures.unaccounted)}")
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"time {seconds:.1f} s ({figures.processes} ingest processes, largest {peak:.0f} MiB)")
    for outcome in (figures.crashes + figures.unaccounted)[:20]:
        print(utf8_safe(f"  {outcome.item.name} [{', '.join(outcome.item.mutations)}]: {outcome.problem}"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=2000, help="inputs to make (default 2000)")
    parser.add_argument("--seed", type=int, default=1, help="the run's random seed (default 1)")
    parser.add_argument("--workdir", type=Path, help="where inputs, store and reports go (default: a temporary "
                        "directory, removed unless something failed)")
    parser.add_argument("--batch", type=int, default=50, help="inputs per ingest process (default 50)")
    parser.add_argument("--jobs", type=int, default=1, help="--jobs of each ingest (default 1)")
    parser.add_argument("--timeout", type=float, default=900, help="seconds an ingest process may take (default 900)")
    args = parser.parse_args()
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="fuzz-ingest-"))
    workdir.mkdir(parents=True, exist_ok=True)
    seeds = bundled_seeds() + shared_seeds()
    print("seeds: " + ", ".join(f"{k} {len(v)}" for k, v in by_kind(seeds).items())
          + ("" if SHARED.is_dir() else f" ({SHARED} absent: pydicom and sample seeds only)"))
    start = time.monotonic()
    fuzzing = Fuzzing(workdir, jobs=args.jobs, timeout=args.timeout)
    made = generate(seeds, seed=args.seed, count=args.count)
    with (workdir / "manifest.jsonl").open("w", encoding="utf-8") as manifest:
        for number, batch in enumerate(iter(lambda: list(islice(made, args.batch)), [])):
            for item, _ in batch:
                manifest.write(json.dumps(item.__dict__) + "\n")
            outcomes = fuzzing.batch(number, batch)
            bad = sum(o.status == "crash" or o.problem is not None for o in outcomes)
            print(f"batch {number}: {len(outcomes)} inputs, {bad} crashed or unaccounted "
                  f"({time.monotonic() - start:.0f} s)", flush=True)
    figures = fuzzing.figures
    report(figures, time.monotonic() - start, args.count)
    problems = figures.crashes + figures.unaccounted
    (workdir / "problems.json").write_text(json.dumps(
        [{**o.item.__dict__, "status": o.status, "problem": o.problem} for o in problems], indent=2) + "\n")
    if problems:
        print(f"inputs, store and reports kept in {workdir} (problems.json lists the failing inputs)")
        return 1
    if args.workdir is None:
        shutil.rmtree(workdir)
    return 0


if __name__ == "__main__":
    sys.exit(main())
