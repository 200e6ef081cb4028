"""De-identification throughput (files/s) against a bare ``dcmread`` + ``save_as`` of the same files.

Inputs: the readable DICOM files of ``../shared/data/dicom`` (else pydicom's bundled test files). Both passes
run in this one process on the same files, so the ratio is measured in one run. Prints the figures.
"""

from __future__ import annotations

import tempfile
import time
import warnings
from pathlib import Path

import pydicom

from hyperontology.pseudonymize.dicom import DeidentificationError, Deidentifier
from hyperontology.pseudonymize.keys import PseudonymKey
from hyperontology.pseudonymize.profile import Profile

SHARED = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "dicom"
ROUNDS = 3


def readable_files() -> list[Path]:
    candidates = sorted(p for p in SHARED.rglob("*") if p.is_file()) if SHARED.is_dir() else []
    if not candidates:
        candidates = sorted((Path(pydicom.__file__).parent / "data" / "test_files").glob("*.dcm"))
    found = []
    for path in candidates:
        try:
            pydicom.dcmread(path)
        except Exception:
            continue
        found.append(path)
    return found


def bare(files: list[Path], out: Path) -> None:
    for index, path in enumerate(files):
        pydicom.dcmread(path, force=True).save_as(out / f"{index}.dcm", enforce_file_format=False)


def deid(files: list[Path], out: Path, engine: Deidentifier) -> None:
    for index, path in enumerate(files):
        try:
            engine.deidentify_file(path, out / f"{index}.dcm")
        except DeidentificationError:
            pass


def main() -> None:
    warnings.simplefilter("ignore")
    files = readable_files()
    size = sum(p.stat().st_size for p in files) / 1e6
    engine = Deidentifier(PseudonymKey(bytes(range(32))), Profile(
        retain_longitudinal_modified_dates=True, retain_patient_characteristics=True,
        retain_device_identity=True, clean_descriptors=True))
    timings: dict[str, float] = {"bare": float("inf"), "deid": float("inf")}
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(ROUNDS):
            start = time.perf_counter()
            bare(files, Path(tmp))
            timings["bare"] = min(timings["bare"], time.perf_counter() - start)
            start = time.perf_counter()
            deid(files, Path(tmp), engine)
            timings["deid"] = min(timings["deid"], time.perf_counter() - start)
    print(f"files: {len(files)} ({size:.1f} MB), best of {ROUNDS}")
    for name, seconds in timings.items():
        print(f"{name:5s}: {seconds:.3f} s  {len(files) / seconds:.1f} files/s")
    print(f"ratio deid/bare time: {timings['deid'] / timings['bare']:.2f}x")


if __name__ == "__main__":
    main()
