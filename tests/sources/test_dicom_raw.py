"""Header values decoded straight from their raw bytes are the values pydicom's conversion gives, file by file."""

from __future__ import annotations

import warnings
from pathlib import Path

import pydicom
import pytest
from pydicom.dataset import Dataset

from hyperontology.sources.dicom import header_fields

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "dicom"


def _both(path: Path) -> tuple[Dataset, Dataset] | None:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return (pydicom.dcmread(path, stop_before_pixels=True, force=True),
                    pydicom.dcmread(path, stop_before_pixels=True, force=True))
    except Exception:  # noqa: BLE001 - files pydicom cannot read are the reader's business, not this test's
        return None


def _compare(files: list[Path]) -> int:
    compared = 0
    for path in files:
        pair = _both(path)
        if pair is None:
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fast, _ = header_fields(pair[0], raw=True)
            slow, _ = header_fields(pair[1], raw=False)
        assert fast == slow, path
        compared += 1
    return compared


def test_pydicom_test_files() -> None:
    files = sorted(p for p in (Path(pydicom.__file__).parent / "data" / "test_files").rglob("*") if p.is_file())
    assert _compare(files) > 50


@pytest.mark.shared
def test_shared_dicom_files() -> None:
    if not SHARED.is_dir():
        pytest.skip(f"{SHARED} is absent (the shared data set: see the README)")
    assert _compare(sorted(p for p in SHARED.rglob("*") if p.is_file() and p.suffix != ".csv")) > 50


def test_character_sets(tmp_path: Path) -> None:
    """Latin-1 and UTF-8 text decode directly; other character sets are left to pydicom: the same values."""
    cases = (("ISO_IR 100", "Müller^Zoë"), ("ISO_IR 192", "Ελληνικό^Ζ"), ("ISO_IR 144", "Иванов^Пётр"),
             ("", "Plain^Name"))
    for n, (charset, name) in enumerate(cases):
        ds = Dataset()
        if charset:
            ds.SpecificCharacterSet = charset
        ds.InstitutionName, ds.StudyDescription, ds.Modality = name, f"{name} study", "CT"
        ds.SliceThickness, ds.StudyDate = "1.25", "20240131"
        ds.file_meta = pydicom.dataset.FileMetaDataset()
        ds.file_meta.TransferSyntaxUID = pydicom.uid.ExplicitVRLittleEndian
        path = tmp_path / f"{n}.dcm"
        ds.save_as(path, enforce_file_format=False, implicit_vr=False, little_endian=True)
        assert _compare([path]) == 1
        fields, _ = header_fields(pydicom.dcmread(path, force=True))
        assert (fields["InstitutionName"], fields["SliceThickness"]) == (name, 1.25), charset
