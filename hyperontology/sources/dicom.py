"""DICOM source: one :class:`~hyperontology.sources.base.Record` per file, read from the headers only.

Files are read once with ``pydicom.dcmread(stop_before_pixels=True)``: explicit and implicit VR, big endian,
deflated and compressed transfer syntaxes (pixels are never decoded), files without the 128-byte preamble or
without file meta information. :func:`header_fields` turns a dataset into plain Python values (str, int, float,
lists; dates as ISO ``YYYY-MM-DD``, times as ``HH:MM:SS``). For enhanced multi-frame objects, attributes absent at
the top level are taken from the shared functional groups, else from the first per-frame functional group.

A file that cannot be used yields one :class:`~hyperontology.sources.base.Rejection` with the reason: not DICOM,
empty, truncated, a DICOMDIR, an instance without SOP Instance, Study Instance or Series Instance UID, or a
deflated dataset that inflates past ``max_inflated_bytes`` (pydicom inflates it whole in memory; checked first, by
inflating it piece by piece without keeping anything).
"""

from __future__ import annotations

import math
import os
import struct
import warnings
import zlib
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import IO, Any

import pydicom
from pydicom.datadict import dictionary_VR, tag_for_keyword
from pydicom.dataelem import RawDataElement
from pydicom.dataset import Dataset

from hyperontology.dates import dicom_date
from hyperontology.sources.base import (
    MAX_INFLATED_BYTES,
    Provenance,
    Record,
    Rejection,
    inflates_past,
    inflation_reason,
)

__all__ = ["DicomSource", "header_fields"]

_SUFFIXES = frozenset({".dcm", ".dicom", ".ima"})
# The first two bytes of a file that starts with a group 0002 or 0008 tag, little or big endian.
_TAG_STARTS = (b"\x02\x00", b"\x08\x00", b"\x00\x02", b"\x00\x08")
_DICOMDIR_UID = "1.2.840.10008.1.3.10"
_DEFLATED_UID = "1.2.840.10008.1.2.1.99"
# Explicit VRs whose length is a 4-byte field after 2 reserved bytes (PS3.5 7.1.2).
_LONG_VRS = frozenset({b"OB", b"OD", b"OF", b"OL", b"OV", b"OW", b"SQ", b"SV", b"UC", b"UN", b"UR", b"UT", b"UV"})
_REQUIRED = (("SOPInstanceUID", "SOP Instance UID"), ("StudyInstanceUID", "Study Instance UID"),
             ("SeriesInstanceUID", "Series Instance UID"))

# keyword -> kind. Kinds: text (multi-values joined with '\'), list (of text), date, time, float, int, floats.
_KINDS: dict[str, tuple[str, ...]] = {
    "text": ("SOPClassUID", "SOPInstanceUID", "StudyInstanceUID", "SeriesInstanceUID", "PatientID", "PatientName",
             "PatientSex", "PatientAge", "StudyDescription", "AccessionNumber", "SeriesDescription", "Modality",
             "BodyPartExamined", "Laterality", "ImageLaterality", "Manufacturer", "ManufacturerModelName",
             "InstitutionName", "FilterType", "ConvolutionKernel", "ContrastBolusAgent", "ContrastBolusRoute",
             "SequenceName", "ProtocolName", "MRAcquisitionType", "FrameLaterality", "Radiopharmaceutical",
             "CodeMeaning", "ContrastBolusAgentAdministered", "TransferSyntaxUID"),
    "list": ("ImageType", "ScanningSequence", "SequenceVariant", "FrameType"),
    "date": ("PatientBirthDate", "StudyDate", "SeriesDate", "AcquisitionDate", "ContentDate"),
    "time": ("StudyTime",),
    "float": ("MagneticFieldStrength", "SliceThickness", "SpacingBetweenSlices", "KVP", "SpiralPitchFactor",
              "RepetitionTime", "EchoTime", "InversionTime", "FlipAngle", "EffectiveEchoTime",
              "XRayTubeCurrentInmA", "ExposureTimeInms"),
    "int": ("SeriesNumber", "XRayTubeCurrent", "Exposure", "ExposureTime", "Rows", "Columns", "NumberOfFrames"),
    "floats": ("PixelSpacing",),
}
_KIND_OF = {keyword: kind for kind, keywords in _KINDS.items() for keyword in keywords}
# Keywords only read inside sequences or from the file meta, never as top-level fields.
_NOT_TOP_LEVEL = frozenset({"FrameLaterality", "Radiopharmaceutical", "CodeMeaning", "ContrastBolusAgentAdministered",
                            "FrameType", "EffectiveEchoTime", "XRayTubeCurrentInmA", "ExposureTimeInms",
                            "TransferSyntaxUID"})
_TOP_LEVEL = tuple((keyword, tag_for_keyword(keyword) or 0) for keyword in _KIND_OF if keyword not in _NOT_TOP_LEVEL)

# Functional group macro -> ((attribute in the macro item, field it fills), ...). The top level wins.
_MACROS: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = (
    ("PixelMeasuresSequence", (("PixelSpacing", "PixelSpacing"), ("SliceThickness", "SliceThickness"),
                               ("SpacingBetweenSlices", "SpacingBetweenSlices"))),
    ("MRTimingAndRelatedParametersSequence", (("RepetitionTime", "RepetitionTime"), ("FlipAngle", "FlipAngle"))),
    ("MREchoSequence", (("EffectiveEchoTime", "EchoTime"),)),
    ("CTXRayDetailsSequence", (("KVP", "KVP"), ("FilterType", "FilterType"))),
    ("CTExposureSequence", (("XRayTubeCurrentInmA", "XRayTubeCurrent"), ("ExposureTimeInms", "ExposureTime"))),
    ("CTReconstructionSequence", (("ConvolutionKernel", "ConvolutionKernel"),)),
    ("FrameAnatomySequence", (("FrameLaterality", "Laterality"),)),
    ("MRImageFrameTypeSequence", (("FrameType", "ImageType"),)),
    ("CTImageFrameTypeSequence", (("FrameType", "ImageType"),)),
)


def _strings(value: Any) -> list[str]:
    """Every non-empty value of an element as stripped text (bytes of unknown VR decoded as Latin-1)."""
    items = value if isinstance(value, Sequence) and not isinstance(value, str | bytes) else [value]
    out = []
    for item in items:
        text = item.decode("latin-1") if isinstance(item, bytes) else "" if item is None else str(item)
        text = text.strip(" \x00\t\r\n")
        if text:
            out.append(text)
    return out


def _number(text: str, kind: str) -> int | float:
    """``text`` as an int (IS, US) or a finite float (DS, FD); ValueError if it is neither."""
    number = float(text)
    if not math.isfinite(number):
        raise ValueError(text)
    if kind == "float":
        return number
    if number != int(number):
        raise ValueError(text)
    return int(number)


def _date(text: str) -> str | None:
    """A DICOM DA (``YYYYMMDD``, or the old ``YYYY.MM.DD``) as ISO ``YYYY-MM-DD``; None if not a valid date."""
    day = dicom_date(text)
    return None if day is None else day.isoformat()


def _time(text: str) -> str | None:
    """A DICOM TM (``HHMMSS.FFFFFF``, parts optional, or the old ``HH:MM:SS``) as ISO; None if invalid."""
    main, _, fraction = text.replace(":", "").partition(".")
    if not (main.isascii() and main.isdigit()) or len(main) not in (2, 4, 6) or (
            fraction and not (fraction.isascii() and fraction.isdigit())):
        return None
    parts = [main[i:i + 2] for i in range(0, 6, 2)]
    parts = [part or "00" for part in parts]
    if int(parts[0]) > 23 or int(parts[1]) > 59 or int(parts[2]) > 60:
        return None
    return ":".join(parts) + (f".{fraction}" if fraction else "")


def _convert(keyword: str, value: Any, notes: list[str]) -> Any:
    """One element value as a plain Python value, or None (left out); problems are added to ``notes``."""
    kind = _KIND_OF[keyword]
    texts = _strings(value)
    if not texts:
        return None
    if kind == "text":
        return "\\".join(texts)
    if kind == "list":
        return texts
    if kind in ("date", "time"):
        iso = _date(texts[0]) if kind == "date" else _time(texts[0])
        if iso is None:
            notes.append(f"{keyword}: invalid {kind} {texts[0]!r} kept as written")
            return texts[0]
        return iso
    try:
        numbers = [_number(text, "float" if kind == "floats" else kind) for text in texts]
    except ValueError:
        notes.append(f"{keyword}: unparsable number {chr(92).join(texts)!r} left out")
        return None
    if kind == "floats":
        return numbers
    if len(numbers) > 1:
        notes.append(f"{keyword}: {len(numbers)} values, the first kept")
    return numbers[0]


def _put(fields: dict[str, Any], field: str, keyword: str, value: Any, notes: list[str]) -> None:
    """Store the converted ``value`` of ``keyword`` under ``field`` unless it is empty or already set."""
    if field in fields:
        return
    converted = _convert(keyword, value, notes)
    if converted is not None:
        fields[field] = converted


def _first_item(dataset: Dataset, keyword: str) -> Dataset | None:
    """The first item of the sequence ``keyword`` in ``dataset``, or None."""
    sequence = dataset.get(keyword)
    if isinstance(sequence, Sequence) and sequence and isinstance(sequence[0], Dataset):
        return sequence[0]
    return None


def _functional_groups(ds: Dataset, fields: dict[str, Any], notes: list[str]) -> None:
    """Fill fields absent at the top level from the shared, else the first per-frame, functional group."""
    groups = [item for item in (_first_item(ds, "SharedFunctionalGroupsSequence"),
                                _first_item(ds, "PerFrameFunctionalGroupsSequence")) if item is not None]
    for group in groups:
        for macro, attributes in _MACROS:
            item = _first_item(group, macro)
            if item is None:
                continue
            for keyword, field in attributes:
                if keyword in item:
                    _put(fields, field, keyword, item[keyword].value, notes)
        _contrast_usage(ds, group, fields, notes)


def _contrast_usage(ds: Dataset, group: Dataset, fields: dict[str, Any], notes: list[str]) -> None:
    """ContrastBolusAgent/Route of the agent a functional group says was administered (enhanced contrast/bolus)."""
    usage = _first_item(group, "ContrastBolusUsageSequence")
    if usage is None or _convert("ContrastBolusAgentAdministered",
                                 usage.get("ContrastBolusAgentAdministered"), notes) != "YES":
        return
    agents = ds.get("ContrastBolusAgentSequence") or []
    number = usage.get("ContrastBolusAgentNumber")
    agent = next((item for item in agents if item.get("ContrastBolusAgentNumber") == number), None)
    if agent is None:
        return
    _put(fields, "ContrastBolusAgent", "CodeMeaning", agent.get("CodeMeaning"), notes)
    route = _first_item(agent, "ContrastBolusAdministrationRouteSequence")
    if route is not None:
        _put(fields, "ContrastBolusRoute", "CodeMeaning", route.get("CodeMeaning"), notes)


def _radiopharmaceutical(ds: Dataset, fields: dict[str, Any], notes: list[str]) -> None:
    """Radiopharmaceutical from the first item of RadiopharmaceuticalInformationSequence (else its code)."""
    info = _first_item(ds, "RadiopharmaceuticalInformationSequence")
    if info is None:
        return
    _put(fields, "Radiopharmaceutical", "Radiopharmaceutical", info.get("Radiopharmaceutical"), notes)
    code = _first_item(info, "RadiopharmaceuticalCodeSequence")
    if code is not None:
        _put(fields, "Radiopharmaceutical", "CodeMeaning", code.get("CodeMeaning"), notes)


def _put_raw(ds: Dataset, tag: int, keyword: str, fields: dict[str, Any], notes: list[str], exc: Exception) -> None:
    """Convert the raw bytes of an element pydicom failed to convert (e.g. a DS that is not a number)."""
    raw = ds.get_item(tag)
    if isinstance(raw, RawDataElement) and isinstance(raw.value, bytes):
        _put(fields, keyword, keyword, raw.value.split(b"\\"), notes)
    else:
        notes.append(f"{keyword}: unreadable ({exc})")


#: VRs whose values are in the default repertoire whatever the character set: decoded from their raw bytes
_ASCII_VRS = frozenset({"AE", "AS", "CS", "DA", "DS", "DT", "IS", "TM", "UI"})
#: VRs of text in the dataset's character set -> whether a backslash separates values
_TEXT_VRS = {"LO": True, "SH": True, "LT": False, "ST": False}
#: character sets (Specific Character Set, without code extensions) as pydicom decodes them
_ENCODINGS = {"": "latin-1", "ISO_IR 6": "latin-1", "ISO_IR 100": "latin-1", "ISO_IR 192": "utf-8"}


def _encoding(ds: Dataset) -> str | None:
    """The Python codec of the dataset's text, or None where pydicom must decode it (code extensions...)."""
    try:
        value = ds.get("SpecificCharacterSet")
    except Exception:  # noqa: BLE001 - an unreadable character set: pydicom decides, element by element
        return None
    names = _strings(value)
    return _ENCODINGS.get(names[0] if len(names) == 1 else "" if not names else "?")


def _raw_values(ds: Dataset, tag: int, encoding: str | None) -> list[str] | None:
    """An element's values decoded straight from its raw bytes, as pydicom would decode them; None: the element is
    absent, already converted, or of a VR pydicom must convert (numbers in binary, person names, sequences).

    Converting through pydicom costs most of the time of reading a header; these VRs need no more than this."""
    raw = ds.get_item(tag)
    if not isinstance(raw, RawDataElement):
        return None
    vr = raw.VR or dictionary_VR(tag)
    value = raw.value or b""
    if vr in _ASCII_VRS:
        text, multi = value.decode("latin-1"), True
    elif vr in _TEXT_VRS and encoding is not None:
        try:
            text, multi = value.decode(encoding), _TEXT_VRS[vr]
        except UnicodeDecodeError:
            return None
    else:
        return None
    return text.split("\\") if multi else [text]


def header_fields(ds: Dataset, *, raw: bool = True) -> tuple[dict[str, Any], list[str]]:
    """The fields of one DICOM dataset as plain Python values, and notes on values that could not be used.

    Parameters
    ----------
    ds
        A dataset, as read by ``pydicom.dcmread`` or built in memory; file meta adds ``TransferSyntaxUID``.

    Returns
    -------
    tuple[dict[str, Any], list[str]]
        DICOM keyword -> value (empty values left out), and human-readable notes.

    Examples
    --------
    >>> from pydicom.dataset import Dataset
    >>> ds = Dataset()
    >>> ds.Modality, ds.StudyDate, ds.SliceThickness, ds.PixelSpacing = "CT", "20240131", "1.25", ["0.5", "0.5"]
    >>> header_fields(ds)
    ({'Modality': 'CT', 'StudyDate': '2024-01-31', 'SliceThickness': 1.25, 'PixelSpacing': [0.5, 0.5]}, [])
    """
    fields: dict[str, Any] = {}
    notes: list[str] = []
    encoding = _encoding(ds) if raw else None
    for keyword, tag in _TOP_LEVEL:
        values = _raw_values(ds, tag, encoding) if raw else None
        if values is not None:
            _put(fields, keyword, keyword, values, notes)
            continue
        try:
            element = ds.get(tag)
            if element is not None:
                _put(fields, keyword, keyword, element.value, notes)
        except Exception as exc:  # a value pydicom cannot convert: taken from its raw bytes, never fatal
            _put_raw(ds, tag, keyword, fields, notes, exc)
    for extract in (_functional_groups, _radiopharmaceutical):
        try:
            extract(ds, fields, notes)
        except Exception as exc:
            notes.append(f"{extract.__name__.strip('_')}: unreadable ({exc})")
    meta = getattr(ds, "file_meta", None)
    if meta is not None:
        _put(fields, "TransferSyntaxUID", "TransferSyntaxUID", meta.get("TransferSyntaxUID"), notes)
    return fields, notes


def _sniff(head: bytes) -> str:
    """What the first 132 bytes of a file look like: ``preamble``, ``tag``, ``empty``, ``text`` or ``binary``."""
    if not head:
        return "empty"
    if head[128:132] == b"DICM":
        return "preamble"
    if head[:2] in _TAG_STARTS and (head[4:6].isalpha() and head[4:6].isupper() or head[6:8] == b"\x00\x00"
                                    or head[4:6] == b"\x00\x00"):
        return "tag"
    text = head.decode("utf-8", "ignore")  # "ignore": the 132 bytes may end inside a multi-byte character
    printable = all(char.isprintable() or char in "\t\r\n\f" for char in text)
    return "text" if printable and len(text.encode("utf-8")) >= len(head) - 3 else "binary"


def _truncated(ds: Dataset, size: int) -> bool:
    """Whether the last top-level element read runs past (or stops a few bytes short of) the end of the file."""
    *_, last_tag = ds.keys()  # the last element read, in file order
    last = ds.get_item(last_tag)
    if not isinstance(last, RawDataElement) or last.length == 0xFFFFFFFF:
        return False
    end = last.value_tell + last.length
    return end > size or 0 < size - end < 8


def _pixel_data_end(ds: Dataset, stream: IO[bytes]) -> int | None:
    """Where the pixel data the reader stopped before ends (-1: encapsulated), or None if there is none.

    ``stream`` is positioned on the pixel data tag by ``dcmread(stop_before_pixels=True)``.
    """
    start = stream.tell()
    head = stream.read(12)
    implicit, little = ds.original_encoding
    if len(head) < 8 or implicit is None:
        return None
    order = "<" if little else ">"
    if implicit:
        length, offset = struct.unpack(order + "L", head[4:8])[0], 8
    elif head[4:6] in _LONG_VRS and len(head) == 12:
        length, offset = struct.unpack(order + "L", head[8:12])[0], 12
    else:
        length, offset = struct.unpack(order + "H", head[6:8])[0], 8
    return -1 if length == 0xFFFFFFFF else start + offset + int(length)


def _deflated_start(stream: IO[bytes], start: int) -> int | None:
    """Where the deflated dataset starts if the file meta at ``start`` names the Deflated transfer syntax, else None;
    the stream is left there.

    The file meta (group 0002) is explicit VR little endian (PS3.10 7.1); it is walked element by element.
    """
    stream.seek(start)
    syntax = b""
    while len(head := stream.read(8)) == 8 and struct.unpack("<H", head[:2])[0] == 0x0002:
        if head[4:6] in _LONG_VRS:
            length = struct.unpack("<L", stream.read(4))[0]
        else:
            length = struct.unpack("<H", head[6:8])[0]
        value = stream.read(length)
        if head[2:4] == b"\x10\x00":  # (0002,0010) Transfer Syntax UID
            syntax = value
    end = stream.seek(stream.tell() - len(head))
    return end if syntax.rstrip(b"\x00 ").decode("ascii", "replace") == _DEFLATED_UID else None


def _inflater(stream: IO[bytes]) -> Callable[[int], bytes]:
    """A ``read(n)`` giving the raw-deflate-decompressed rest of ``stream``, at most ``n`` bytes a call."""
    inflate = zlib.decompressobj(-zlib.MAX_WBITS)
    pending = b""

    def read(size: int) -> bytes:
        nonlocal pending
        while not inflate.eof:
            pending = pending or stream.read(size)
            if not pending:
                return b""
            out = inflate.decompress(pending, size)
            pending = inflate.unconsumed_tail
            if out:
                return out
        return b""

    return read


class DicomSource:
    """Reads DICOM files (headers only) into one ``instance`` record per file.

    Examples
    --------
    >>> from pydicom.data import get_testdata_file
    >>> [record] = DicomSource().read(Path(get_testdata_file("CT_small.dcm")))
    >>> record.fields["Modality"], record.fields["StudyDate"]
    ('CT', '2004-01-19')
    """

    name = "dicom"

    def __init__(self, *, max_inflated_bytes: int = MAX_INFLATED_BYTES) -> None:
        self.max_inflated_bytes = max_inflated_bytes

    def accepts(self, path: Path) -> bool:
        """Whether ``path`` is a DICOM file, by extension or by its first bytes; never for text files."""
        try:
            with open(path, "rb") as stream:
                kind = _sniff(stream.read(132))
        except OSError:
            return False
        if kind in ("preamble", "tag"):
            return True
        return kind != "text" and (path.suffix.lower() in _SUFFIXES or not path.suffix)

    def read(self, path: Path) -> Iterator[Record | Rejection]:
        """One Record for the DICOM instance in ``path``, or one Rejection saying why it cannot be used."""
        provenance = Provenance(str(path))
        try:
            stream = open(path, "rb")  # closed by the with below
        except OSError as exc:
            yield Rejection(provenance, f"cannot be opened: {exc.strerror or exc}")
            return
        with stream:
            try:
                result = self._read_stream(stream, provenance)
            except (EOFError, OSError, struct.error, zlib.error) as exc:
                result = f"truncated or corrupt (the data ends early or is unreadable: {exc})"
            except Exception as exc:  # pydicom raises many kinds on corrupt input: a rejection, never fatal
                result = f"not readable as DICOM: {type(exc).__name__}: {exc}"
        yield Rejection(provenance, result) if isinstance(result, str) else result

    def _read_stream(self, stream: IO[bytes], provenance: Provenance) -> Record | str:
        """The record for an open file, or the reason it is rejected."""
        kind = _sniff(stream.read(132))
        if kind == "empty":
            return "empty file"
        if kind not in ("preamble", "tag"):
            return "not a DICOM file (no DICM marker at byte 128 and no DICOM tag at the start)"
        deflated = _deflated_start(stream, 132 if kind == "preamble" else 0)
        if deflated is not None and inflates_past(_inflater(stream), self.max_inflated_bytes):
            return inflation_reason(Path(provenance.path), self.max_inflated_bytes)  # pydicom inflates it whole
        stream.seek(0)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            ds = pydicom.dcmread(stream, stop_before_pixels=True, force=kind == "tag")
            checks: list[str] = []
            reason = self._invalid(ds, stream, checks)
            if reason:
                return reason
            fields, notes = header_fields(ds)
            notes.extend(checks)
        missing = [label for keyword, label in _REQUIRED if keyword not in fields]
        if missing:
            return f"no {', no '.join(missing)}"
        notes.extend(dict.fromkeys(f"pydicom: {warning.message}" for warning in caught))
        return Record("dicom", "instance", fields, provenance, tuple(notes))

    @staticmethod
    def _invalid(ds: Dataset, stream: IO[bytes], notes: list[str]) -> str:
        """Why a dataset just read from ``stream`` is not a usable instance; empty if it is one."""
        meta = getattr(ds, "file_meta", None)
        if (meta is not None and meta.get("MediaStorageSOPClassUID") == _DICOMDIR_UID) or \
                "DirectoryRecordSequence" in ds:
            return "DICOMDIR (a media directory, not an image instance)"
        if not ds:
            return "not a DICOM file (no data elements could be read)"
        if meta is not None and meta.get("TransferSyntaxUID") == _DEFLATED_UID:
            return ""  # positions refer to the inflated stream: nothing to compare with the file size
        size = os.fstat(stream.fileno()).st_size
        if _truncated(ds, size):
            return "truncated (the last data element runs past the end of the file)"
        end = _pixel_data_end(ds, stream)
        if end is not None and end > size:
            return "truncated (the pixel data runs past the end of the file)"
        if end is None and "Rows" in ds:
            notes.append("no pixel data after the header (the file may be truncated)")
        return ""
