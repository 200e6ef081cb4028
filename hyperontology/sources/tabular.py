"""CSV / TSV tables as records, plus pure parsers for the numbers and quantities found in their cells (and, from
:mod:`hyperontology.dates`, :func:`parse_date` for their dates).

:class:`CsvSource` reads one table: UTF-8 (with or without BOM), UTF-16 with BOM (Excel "Unicode text"),
else Windows-1252 / Latin-1; the delimiter (comma, semicolon or tab) is sniffed from the first lines; the first
non-empty row is the header. Each data row is one Record whose entity is the file stem and whose fields map
the stripped column names to the cell text, unchanged. The locator is ``row N`` (N counts data rows from 1),
followed by ``(line L)`` when the row does not start on physical line N + 1 (blank lines, multi-line cells).

Accounting: fully empty rows are skipped; a row with more non-empty cells than the header is a Rejection; a
short row keeps the missing columns as ``""`` with a note; a header with empty or repeated names gets unique
names (``column 3``, ``name (2)``) and a note on every record. A file that cannot be decoded, has no header or
no data row is one Rejection. ``.csv`` and ``.tsv`` files are accepted by name (so a broken table is reported,
not ignored); ``.txt`` files only when their first lines sniff as a table of two or more columns.
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections import Counter
from collections.abc import Iterator, Sequence
from pathlib import Path

from hyperontology.dates import parse_date
from hyperontology.sources.base import Provenance, Record, Rejection

__all__ = ["CsvSource", "parse_date", "parse_number", "parse_quantity"]

_DELIMITERS = (",", ";", "\t")
_SNIFF_LINES = 50
_SNIFF_CHARS = 64 * 1024
_GROUPED = re.compile(r"\d{1,3}(?:(?P<sep>[ \u00a0\u202f',.])\d{3})(?:(?P=sep)\d{3})*")
_LEADING_NUMBER = re.compile(
    r"\s*(?P<number>[+-]?[\d.,' \u00a0\u202f]*\d[.,]?(?:[eE][+-]?\d+)?)\s*(?P<unit>.*?)\s*", re.DOTALL
)
_UNIT = re.compile(r"[^\s\d+\-.,][^\s]*|\d[^\s]*[A-Za-z%\[\]/*][^\s]*")

Item = Record | Rejection


class CsvSource:
    """Delimited text tables (.csv, .tsv, sniffed .txt), one Record per data row.

    Examples
    --------
    >>> CsvSource().name
    'csv'
    >>> CsvSource().accepts(Path("notes.json"))
    False
    """

    name = "csv"

    def accepts(self, path: Path) -> bool:
        """Whether ``path`` is a .csv/.tsv file, or a .txt file whose first lines sniff as a table."""
        suffix = path.suffix.lower()
        if suffix in (".csv", ".tsv"):
            return path.is_file()
        if suffix != ".txt":
            return False
        text = _decode(_head(path))
        return text is not None and _sniff(text, suffix)[1] >= 2

    def read(self, path: Path) -> Iterator[Item]:
        """Every data row as a Record or a Rejection; one Rejection for an unreadable file; never raises."""
        where = Provenance(str(path))
        try:
            data = path.read_bytes()
        except OSError as exc:
            yield Rejection(where, f"cannot read file: {exc}")
            return
        text = _decode(data)
        if text is None:
            yield Rejection(where, "unreadable encoding: binary content (NUL bytes), not a text table")
            return
        try:
            yield from _rows(text, path)
        except csv.Error as exc:
            yield Rejection(where, f"malformed table: {exc}")


def _head(path: Path) -> bytes:
    try:
        with path.open("rb") as stream:
            return stream.read(_SNIFF_CHARS)
    except OSError:
        return b""


def _decode(data: bytes) -> str | None:
    """The text of ``data``: BOM-marked UTF-8/UTF-16, else UTF-8, else cp1252, else Latin-1; None if binary."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            return None
    if b"\x00" in data:
        return None
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1")


def _sniff(text: str, suffix: str) -> tuple[str, int]:
    """The delimiter whose first lines split most consistently, and the header's number of columns."""
    sample = [line for line in text[:_SNIFF_CHARS].splitlines()[:_SNIFF_LINES] if line.strip()]
    best, best_score = ("\t" if suffix == ".tsv" else ","), (0.0, 1)
    for delimiter in _DELIMITERS:
        try:
            rows = list(csv.reader(sample, delimiter=delimiter))
        except csv.Error:
            continue
        if not rows or len(rows[0]) < 2:
            continue
        width = len(rows[0])
        score = (sum(len(row) == width for row in rows) / len(rows), width)
        if score > best_score:
            best, best_score = delimiter, score
    return best, best_score[1]


def _rows(text: str, path: Path) -> Iterator[Item]:
    delimiter, _ = _sniff(text, path.suffix.lower())
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    where = Provenance(str(path))
    header = next((row for row in reader if any(cell.strip() for cell in row)), None)
    if header is None:
        yield Rejection(where, "no header row: the file is empty")
        return
    if all(parse_number(cell) is not None or not cell.strip() for cell in header):
        yield Rejection(where, "no header row: the first row holds only numbers")
        return
    columns, header_notes = _columns(header)
    number, line = 0, reader.line_num
    for row in reader:
        start, line = line + 1, reader.line_num
        if not any(cell.strip() for cell in row):
            continue
        number += 1
        locator = f"row {number}" if start == number + 1 else f"row {number} (line {start})"
        yield _row(row, columns, Provenance(str(path), locator), path.stem, header_notes)
    if number == 0:
        yield Rejection(where, "header only: no data row")


def _columns(header: Sequence[str]) -> tuple[list[str], tuple[str, ...]]:
    """Stripped, BOM-free, unique column names, and notes on what had to be renamed."""
    names: list[str] = []
    notes: list[str] = []
    seen: Counter[str] = Counter()
    for index, raw in enumerate(header, start=1):
        name = raw.replace("\ufeff", "").strip() or f"column {index}"
        seen[name] += 1
        if seen[name] > 1:
            name = f"{name} ({seen[name]})"
        if name != raw.replace("\ufeff", "").strip():
            notes.append(f"header column {index} {raw.strip()!r} read as {name!r}")
        names.append(name)
    return names, tuple(notes)


def _row(row: list[str], columns: list[str], where: Provenance, entity: str, notes: tuple[str, ...]) -> Item:
    extra = row[len(columns) :]
    if any(cell.strip() for cell in extra):
        return Rejection(where, f"{where.locator} has {len(row)} cells but the header has {len(columns)} columns")
    notes_here = list(notes)
    if extra:
        notes_here.append(f"{len(extra)} empty cells past the last column ignored")
    if len(row) < len(columns):
        notes_here.append(f"row has {len(row)} of {len(columns)} cells; missing columns set to empty")
    cells = row[: len(columns)] + [""] * (len(columns) - len(row))
    return Record("csv", entity, dict(zip(columns, cells, strict=True)), where, tuple(notes_here))


def parse_number(text: str) -> float | None:
    """The number that ``text`` starts with: ``3,5`` (decimal comma), ``1 234.5`` or ``1.234,5`` (grouped),
    ``66.89 [in_i]`` or ``7 mmol/L`` (a unit after it). A single comma is a decimal comma. None for anything
    else, including NaN and infinities.

    Examples
    --------
    >>> parse_number("3,5"), parse_number("1 234.5"), parse_number("1.234,5"), parse_number("66.89 [in_i]")
    (3.5, 1234.5, 1234.5, 66.89)
    >>> parse_number("T2") is None, parse_number("2020-01-12") is None, parse_number("nan") is None
    (True, True, True)
    """
    quantity = parse_quantity(text)
    return None if quantity is None else quantity[0]


def parse_quantity(text: str) -> tuple[float, str | None] | None:
    """``(value, unit)`` of a number optionally followed by one unit token (UCUM brackets kept), else None.

    Examples
    --------
    >>> parse_quantity("66.89 [in_i]"), parse_quantity("45%"), parse_quantity("-2,5")
    ((66.89, '[in_i]'), (45.0, '%'), (-2.5, None))
    >>> parse_quantity("12 10*3/uL"), parse_quantity("3 years old")
    ((12.0, '10*3/uL'), None)
    """
    if not isinstance(text, str):
        return None
    match = _LEADING_NUMBER.fullmatch(text)
    if match is None:
        return None
    value, unit = _to_float(match["number"]), match["unit"]
    if value is None and len(parts := text.split(None, 1)) == 2:  # "12 10*3/uL": the first word is the number
        value, unit = _to_float(parts[0]) if _LEADING_NUMBER.fullmatch(parts[0]) else None, parts[1].strip()
    if value is None or (unit and not _UNIT.fullmatch(unit)):
        return None
    return value, unit or None


def _to_float(number: str) -> float | None:
    """A float from one number with optional sign, grouping separators, decimal point or comma, exponent."""
    text = number.strip()
    sign = "-" if text.startswith("-") else ""
    text = text.lstrip("+-")
    mantissa, exponent = re.fullmatch(r"(.*?)((?:[eE][+-]?\d+)?)", text).groups()  # type: ignore[union-attr]
    decimal = _decimal_separator(mantissa)
    whole, _, fraction = mantissa.rpartition(decimal) if decimal else (mantissa, "", "")
    if not whole:
        whole = "0"
    if not whole.isdigit():
        grouped = _GROUPED.fullmatch(whole)
        if grouped is None or grouped["sep"] == decimal:
            return None
        whole = re.sub(r"\D", "", whole)
    if not fraction.isdigit() and fraction:
        return None
    try:
        value = float(f"{sign}{whole}.{fraction or '0'}{exponent}")
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _decimal_separator(mantissa: str) -> str:
    """The decimal separator of a mantissa: the last ``.`` or ``,`` when it occurs once, else none."""
    marks = [char for char in mantissa if char in ".,"]
    if not marks or marks.count(marks[-1]) > 1:
        return ""
    return marks[-1]
