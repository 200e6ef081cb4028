"""The real files fuzzed inputs are made from: pydicom's test files, the samples shipped with the package, and,
when present, the shared data (``../shared/data/{dicom,fhir,clinical}``).

Examples
--------
>>> seeds = bundled_seeds()
>>> sorted({s.kind for s in seeds}), all(s.data for s in seeds)
(['csv', 'dicom', 'fhir'], True)
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from pydicom.data import get_testdata_file

from hyperontology.mapping.loader import default_mappings_dir

KINDS = ("dicom", "fhir", "csv")
SHARED = Path(__file__).resolve().parents[3] / "shared" / "data"
#: pydicom test files (all bundled with pydicom, never downloaded): encodings, meta variants, multi-frame, RT, SR
PYDICOM_FILES = (
    "CT_small.dcm", "MR_small.dcm", "MR_small_implicit.dcm", "MR_small_bigendian.dcm", "MR_small_expb.dcm",
    "ExplVR_BigEnd.dcm", "ExplVR_LitEndNoMeta.dcm", "no_meta.dcm", "image_dfl.dcm", "JPEG2000.dcm",
    "rtplan.dcm", "rtstruct.dcm", "rtdose.dcm", "nested_priv_SQ.dcm", "UN_sequence.dcm", "badVR.dcm",
    "test-SR.dcm", "reportsi.dcm", "liver_1frame.dcm", "meta_missing_tsyntax.dcm", "no_meta_group_length.dcm",
    "SC_rgb_rle.dcm", "SC_rgb_small_odd_big_endian.dcm", "empty_charset_LEI.dcm", "MR_truncated.dcm",
    "dicomdirtests/77654033/CT2/17106", "dicomdirtests/77654033/CR1/6154",
)
_SUFFIXES = {"fhir": (".json", ".ndjson"), "csv": (".csv", ".tsv")}
_NOT_DICOM = frozenset({".md", ".txt", ".csv", ".json", ".ndjson", ".tsv", ".xml"})
_LARGEST = 1_000_000  # larger files are left out: fuzzing them costs time and finds nothing more
_NDJSON_LINES = 25


@dataclass(frozen=True)
class Seed:
    """One real input file: its kind, name (as ingest would see it), where it comes from, and its bytes."""

    kind: str
    name: str
    origin: str
    data: bytes


def _pydicom_seeds() -> list[Seed]:
    seeds = []
    for name in PYDICOM_FILES:
        found = get_testdata_file(name, download=False)
        if isinstance(found, str):
            seeds.append(Seed("dicom", Path(name).name, f"pydicom:{name}", Path(found).read_bytes()))
    return seeds


def _sample_seeds() -> list[Seed]:
    samples = default_mappings_dir().parent / "samples"
    return [seed for kind in ("fhir", "csv") for seed in _files(samples, "samples", kind)]


def _is(kind: str, path: Path) -> bool:
    suffix = path.suffix.lower()
    return suffix not in _NOT_DICOM if kind == "dicom" else suffix in _SUFFIXES[kind]


def _files(root: Path, origin: str, kind: str) -> Iterable[Seed]:
    """The files of ``kind`` under ``root`` (no larger than a MiB; NDJSON cut to its first lines)."""
    for path in sorted(p for p in root.rglob("*") if p.is_file() and _is(kind, p)):
        if path.stat().st_size > _LARGEST:
            continue
        data = path.read_bytes()
        if path.suffix == ".ndjson":  # a bulk export: its first lines are as good a seed as all of it
            data = b"".join(data.splitlines(keepends=True)[:_NDJSON_LINES])
        yield Seed(kind, path.name, f"{origin}:{path.relative_to(root)}", data)


def bundled_seeds() -> list[Seed]:
    """Seeds that always exist: pydicom's test files and the package's samples."""
    return _pydicom_seeds() + _sample_seeds()


def shared_seeds(root: Path = SHARED) -> list[Seed]:
    """Seeds of the shared data (DICOM, FHIR, clinical tables); empty when it is absent."""
    out: list[Seed] = []
    for kind, folder in (("dicom", "dicom"), ("fhir", "fhir"), ("csv", "clinical")):
        if (root / folder).is_dir():
            out += _files(root / folder, f"shared:{folder}", kind)
    return out


def by_kind(seeds: Iterable[Seed]) -> dict[str, list[Seed]]:
    """Seeds grouped by kind (every kind present, possibly empty)."""
    out: dict[str, list[Seed]] = {kind: [] for kind in KINDS}
    for seed in seeds:
        out[seed.kind].append(seed)
    return out
