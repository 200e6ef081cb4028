"""What every source of records shares: records, rejections, provenance, and the Source protocol.

A source reads one input file and yields, for every unit it holds (a DICOM instance, a FHIR resource, a CSV
row), either a :class:`Record` or a :class:`Rejection` saying why that unit cannot be used. A file that
cannot be read at all yields one Rejection naming the file. Sources never raise on bad input.

A file name that is not UTF-8 (Latin-1 names on a Linux disk) reaches Python with its undecodable bytes as lone
surrogates (``os.fsdecode``); provenance and reasons carry them as ``\\xNN`` (:func:`utf8_safe`), so that they can be
hashed into pseudonyms and written in the run report.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

#: the most a compressed input may inflate to: a ``.json.gz`` is parsed whole (about 3.5 times its size in memory),
#: pydicom inflates a deflated dataset whole. A file that inflates to more is rejected, never read
MAX_INFLATED_BYTES = 256 * 1024 * 1024
_CHUNK = 1024 * 1024
_SURROGATE = re.compile("[\ud800-\udfff]")


def _escaped(match: re.Match[str]) -> str:
    code = ord(match[0])
    return f"\\x{code - 0xDC00:02x}" if 0xDC80 <= code <= 0xDCFF else f"\\u{code:04x}"


def utf8_safe(text: str) -> str:
    """``text`` with its lone surrogates written out: an undecodable byte of a file name (``os.fsdecode``) as
    ``\\xNN``, any other as ``\\uNNNN``; text without them unchanged.

    Examples
    --------
    >>> import os
    >>> print(utf8_safe(os.fsdecode(b"caf\\xe9.csv")), utf8_safe("café.csv"), utf8_safe("a\\ud800b"))
    caf\\xe9.csv café.csv a\\ud800b
    """
    return text if text.isascii() else _SURROGATE.sub(_escaped, text)


def inflates_past(read: Callable[[int], bytes], limit: int) -> bool:
    """Whether reading a decompressing stream to its end gives more than ``limit`` bytes (read by the MiB, and
    nothing kept: the check costs time, not memory).

    Examples
    --------
    >>> import gzip, io
    >>> bomb = gzip.GzipFile(fileobj=io.BytesIO(gzip.compress(bytes(10_000_000))))
    >>> inflates_past(bomb.read, 1_000_000), inflates_past(io.BytesIO(b"small").read, 1_000_000)
    (True, False)
    """
    total = 0
    while chunk := read(_CHUNK):
        total += len(chunk)
        if total > limit:
            return True
    return False


def inflation_reason(path: Path, limit: int) -> str:
    """The reason a compressed input that inflates past ``limit`` is rejected (names the file)."""
    return (f"{path.name}: compressed input inflates to more than {limit:,} bytes (the limit for compressed inputs; "
            "a decompression bomb?): not read")


@dataclass(frozen=True, slots=True)
class Provenance:
    """Where a record comes from: the input file and a locator inside it (``row 12``, ``entry 3``, a tag)."""

    path: str
    locator: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "path", utf8_safe(self.path))

    def __str__(self) -> str:
        return f"{self.path}{' ' + self.locator if self.locator else ''}"


@dataclass(frozen=True, slots=True)
class Record:
    """One unit of source data.

    ``source`` is ``dicom``, ``fhir`` or ``csv``. ``entity`` is what the unit is: ``instance`` for a DICOM
    file, the resourceType for FHIR (``Patient``, ``Condition``...), the table name (file stem) for CSV.
    ``fields``: DICOM keyword -> plain Python value (str, int, float, list; dates as ISO ``YYYY-MM-DD``);
    the resource as JSON for FHIR; column -> text for CSV.
    """

    source: str
    entity: str
    fields: Mapping[str, Any]
    provenance: Provenance
    notes: tuple[str, ...] = field(default=())


@dataclass(frozen=True, slots=True)
class Rejection:
    """A unit (or a whole file) that cannot be used, with the reason."""

    provenance: Provenance
    reason: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "reason", utf8_safe(self.reason))


@runtime_checkable
class Source(Protocol):
    """A reader of one kind of input file."""

    name: str

    def accepts(self, path: Path) -> bool:
        """Whether this source reads ``path`` (by extension or by sniffing its first bytes)."""
        ...

    def read(self, path: Path) -> Iterator[Record | Rejection]:
        """Every record or rejection of the file; never raises for bad content."""
        ...
