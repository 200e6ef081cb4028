"""Reading DICOM inputs and writing de-identified DICOM Part 10 files (PS3.10 section 7.1).

Every output is a Part 10 file, whatever the input was (with or without a preamble and File Meta Information):
a zeroed 128-byte preamble (the input's may hold anything, e.g. a TIFF header with text), ``DICM``, and File
Meta Information rebuilt from the de-identified dataset: Media Storage SOP Class and Instance UIDs equal to the
dataset's SOP Class UID and (remapped) SOP Instance UID, the Transfer Syntax the input was encoded in, and this
implementation's class UID. Nothing of the input's meta is copied (source and sending AE titles, implementation
names, private information).

Output names never come from input names (folders and files often carry patient names or record numbers):
:func:`output_name` builds ``<patient pseudonym>/<study UID>/<series UID>/<SOP instance UID>.dcm`` from the
de-identified values, which are keyed pseudonyms and keyed UIDs; a component that is not one of them is replaced
by a keyed digest of it.

Examples
--------
>>> from pydicom.dataset import Dataset
>>> from hyperontology.pseudonymize.keys import PseudonymKey
>>> ds = Dataset()
>>> ds.PatientID, ds.SOPInstanceUID = "0123456789abcdef0123456789abcdef", "2.25.1234"
>>> output_name(ds, PseudonymKey(bytes(32))).parts[0], output_name(ds, PseudonymKey(bytes(32))).name
('0123456789abcdef0123456789abcdef', '2.25.1234.dcm')
>>> "Doe" in str(output_name(Dataset(), PseudonymKey(bytes(32))))
False
"""

from __future__ import annotations

import re
from pathlib import Path, PurePosixPath

import pydicom
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import (
    PYDICOM_IMPLEMENTATION_UID,
    UID,
    ExplicitVRBigEndian,
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
)

from hyperontology.errors import HyperontologyError
from hyperontology.pseudonymize.keys import PseudonymKey

#: Elements of which at least one must be present for a file to be taken as a DICOM dataset.
SIGNS_OF_DICOM = (0x00080016, 0x00080018, 0x0020000D, 0x00080060, 0x00100020)
_KEYED = re.compile(r"[0-9a-f]{32}|2\.25\.[0-9]{1,39}")
_FOLDERS = (("PatientID", "patient"), ("StudyInstanceUID", "study"), ("SeriesInstanceUID", "series"))


class DeidentificationError(HyperontologyError):
    """A DICOM file could not be read, de-identified or written.

    ``reason`` says why without naming the file (it goes into the audit); the message adds the path.
    """

    def __init__(self, reason: str, *, path: Path | str | None = None) -> None:
        super().__init__(f"{path}: {reason}" if path is not None else reason)
        self.reason = reason
        self.path = None if path is None else str(path)


def read_dataset(src: Path) -> Dataset:
    """Read a DICOM file, with or without preamble and File Meta Information."""
    try:
        ds = pydicom.dcmread(src, force=True)
    except Exception as exc:  # noqa: BLE001 - pydicom raises many kinds on malformed input
        raise DeidentificationError(f"not readable as DICOM ({exc.__class__.__name__})", path=src) from exc
    if not isinstance(ds, Dataset) or not any(tag in ds for tag in SIGNS_OF_DICOM):
        raise DeidentificationError("not a DICOM dataset (no SOP, study, modality or patient element)", path=src)
    return ds


def transfer_syntax(ds: Dataset) -> UID:
    """The transfer syntax ``ds`` was encoded in: its File Meta's, else the encoding pydicom read it with."""
    meta = getattr(ds, "file_meta", None)
    syntax = str(meta.get("TransferSyntaxUID", "") or "").strip() if isinstance(meta, Dataset) else ""
    if syntax:
        return UID(syntax)
    implicit, little = getattr(ds, "original_encoding", (None, None))
    if implicit and little is not False:
        return ImplicitVRLittleEndian
    if little is False:
        if implicit:
            raise DeidentificationError("implicit VR big endian is not a DICOM transfer syntax")
        return ExplicitVRBigEndian
    return ExplicitVRLittleEndian


def file_meta_for(ds: Dataset, syntax: UID) -> FileMetaDataset:
    """New File Meta Information for ``ds``: SOP class and instance from the dataset, ``syntax``, our class UID."""
    meta = FileMetaDataset()
    meta.FileMetaInformationVersion = b"\x00\x01"
    if "SOPClassUID" in ds:
        meta.MediaStorageSOPClassUID = ds.SOPClassUID
    if "SOPInstanceUID" in ds:
        meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    meta.TransferSyntaxUID = syntax
    meta.ImplementationClassUID = PYDICOM_IMPLEMENTATION_UID
    return meta


def write_part10(ds: Dataset, dst: Path, *, syntax: UID | None = None) -> None:
    """Write ``ds`` to ``dst`` as a Part 10 file (zeroed preamble, rebuilt File Meta Information)."""
    for keyword in ("SOPClassUID", "SOPInstanceUID"):
        if not str(ds.get(keyword, "") or "").strip():
            raise DeidentificationError(f"no {keyword}: cannot write a DICOM Part 10 file", path=dst)
    ds.file_meta = file_meta_for(ds, syntax or transfer_syntax(ds))
    ds.preamble = bytes(128)
    try:
        dst.parent.mkdir(parents=True, exist_ok=True)
        ds.save_as(dst, enforce_file_format=True)
    except Exception as exc:  # noqa: BLE001 - translated at the boundary, names the file only
        dst.unlink(missing_ok=True)
        raise DeidentificationError(f"cannot write ({exc.__class__.__name__})", path=dst) from exc


def output_name(ds: Dataset, key: PseudonymKey) -> PurePosixPath:
    """``<patient>/<study>/<series>/<instance>.dcm`` from the de-identified dataset's keyed values (see above)."""
    parts = [_keyed(str(ds.get(keyword, "") or ""), key, domain) for keyword, domain in _FOLDERS]
    instance = _keyed(str(ds.get("SOPInstanceUID", "") or ""), key, "instance")
    return PurePosixPath(*parts, f"{instance}.dcm")


def _keyed(value: str, key: PseudonymKey, domain: str) -> str:
    value = value.strip()
    return value if _KEYED.fullmatch(value) else key.pseudonym(f"output-{domain}", value)
