"""Mutations of CSV tables: missing, extra, duplicated and renamed columns, ragged rows, odd cell values, very long
fields, many rows or columns, header-only and blank tables; then written with other delimiters, quoting and line
ends, broken quotes, NULs, and other encodings (Latin-1, cp1252, UTF-16 with and without BOM, invalid UTF-8).

The file keeps the seed's table name (``<index>-patient-information.csv``), so the shipped mappings still select it.

Examples
--------
>>> import random
>>> seed = Seed("csv", "patient-information.csv", "test", b"mrn,gender\\n1,female\\n")
>>> data, suffix, names = mutate_table(seed, random.Random(0))
>>> suffix in (".csv", ".tsv", ".txt", ".CSV") and isinstance(data, bytes)
True
"""

from __future__ import annotations

import csv
import io
import random
from collections.abc import Callable
from typing import Literal

from tests.fuzz.seeds import Seed

__all__ = ["mutate_table"]

Table = list[list[str]]
_LARGEST = 8_000_000  # characters a mutation that repeats rows grows a table to, at most
_CELLS = ("", " ", "0001-01-01", "0001", "01/01/0001", "9999-12-31", "31/02/2020", "00/00/0000", "2020-13-01",
          "C50.9 ", "<C50.9>", "363346000>", "C50 9", "=cmd|' /C calc'!A0", "\u202eevil", "NaN", "1e400", "-1",
          "99999999999999999999999", "🙂", "x" * 5000, "female", "FEMALE", "F", "W", "unknown", "T2a", "IIIA",
          "http://snomed.info/sct", "SCT", "ICD10", "Ω", "\t", "a\nb", '"', "'", "\\", "null", "1,5", "3.5 cm")


def drop_column(table: Table, rng: random.Random) -> Table:
    at = rng.randrange(len(table[0])) if table[0] else 0
    return [row[:at] + row[at + 1:] for row in table]


def extra_column(table: Table, rng: random.Random) -> Table:
    name = rng.choice(["extra", "mrn", "", "gender", "  ", "\ufeffmrn", "x" * 300])
    return [table[0] + [name]] + [row + [rng.choice(_CELLS)] for row in table[1:]]


def duplicate_column(table: Table, rng: random.Random) -> Table:
    at = rng.randrange(len(table[0])) if table[0] else 0
    return [row + [row[at] if i == 0 or rng.random() < 0.5 else rng.choice(_CELLS)] if at < len(row) else row
            for i, row in enumerate(table)]


def rename_header(table: Table, rng: random.Random) -> Table:
    header = list(table[0])
    if header:
        at = rng.randrange(len(header))
        header[at] = rng.choice([header[at].upper(), f" {header[at]} ", "", "\ufeff" + header[at], "1", "2020"])
    return [header] + table[1:]


def ragged(table: Table, rng: random.Random) -> Table:
    out = [table[0]]
    for row in table[1:]:
        change = rng.choice([0, 0, -1, 1, 3, -len(row)])
        out.append(row[:change] if change < 0 else row + [rng.choice(["", "x", " "]) for _ in range(change)])
    return out


def odd_cells(table: Table, rng: random.Random) -> Table:
    rows = [list(row) for row in table]
    for _ in range(rng.choice([1, 2, 5])):
        if len(rows) > 1:
            row = rng.choice(rows[1:])
            if row:
                row[rng.randrange(len(row))] = rng.choice(_CELLS)
    return rows


def long_field(table: Table, rng: random.Random) -> Table:
    rows = [list(row) for row in table]
    if len(rows) > 1 and rows[1]:
        rows[1][rng.randrange(len(rows[1]))] = "y" * rng.choice([100_000, 131_073, 2_000_000])
    return rows


def many_rows(table: Table, rng: random.Random) -> Table:
    """The rows repeated up to 50 or 400 rows (and at most about :data:`_LARGEST` characters)."""
    size = sum(len(cell) + 1 for row in table[1:] for cell in row)
    times = min(rng.choice([50, 400]) // max(1, len(table) - 1), _LARGEST // max(1, size))
    return table[:1] + table[1:] * max(1, times)


def many_columns(table: Table, rng: random.Random) -> Table:
    width = rng.choice([200, 3000])
    return [table[0] + [f"c{i}" for i in range(width)]] + [row + ["v"] * width for row in table[1:]]


def header_only(table: Table, rng: random.Random) -> Table:
    return table[:1] + [[""] * len(table[0])] * rng.choice([0, 3])


def conflicting_rows(table: Table, rng: random.Random) -> Table:
    """A row repeated with one value changed: the same instance said two ways."""
    if len(table) < 2:
        return table
    row = list(rng.choice(table[1:]))
    if len(row) > 1:
        row[rng.randrange(1, len(row))] = rng.choice(_CELLS)
    return table + [row]


Mutation = Callable[[Table, random.Random], Table]
MUTATIONS: dict[str, tuple[Mutation, float]] = {
    "drop_column": (drop_column, 2), "extra_column": (extra_column, 1.5), "duplicate_column": (duplicate_column, 1.5),
    "rename_header": (rename_header, 1.5), "ragged": (ragged, 2), "odd_cells": (odd_cells, 4),
    "long_field": (long_field, 0.7), "many_rows": (many_rows, 0.5), "many_columns": (many_columns, 0.3),
    "header_only": (header_only, 0.5), "conflicting_rows": (conflicting_rows, 1.5),
}


# ------------------------------------------------------------------------------------------ text and bytes
def _write(table: Table, rng: random.Random, names: list[str]) -> str:
    delimiter = rng.choice([",", ",", ",", ";", "\t", "|"])
    quoting: Literal[0, 1, 2, 3] = rng.choice([csv.QUOTE_MINIMAL, csv.QUOTE_MINIMAL, csv.QUOTE_ALL, csv.QUOTE_NONE])
    ending = rng.choice(["\n", "\r\n", "\r\n", "\r"])
    if (delimiter, quoting, ending) != (",", csv.QUOTE_MINIMAL, "\n"):
        names.append(f"dialect:{delimiter!r},{quoting},{ending!r}")
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, quoting=quoting, lineterminator=ending, escapechar="\\")
    try:
        writer.writerows(table)
    except csv.Error:  # QUOTE_NONE cannot write a row of one empty cell
        out = io.StringIO()
        csv.writer(out, delimiter=delimiter, lineterminator=ending).writerows(table)
    return out.getvalue()


def broken_quotes(text: str, rng: random.Random) -> str:
    at = rng.randrange(len(text) + 1)
    return text[:at] + rng.choice(['"', '"unclosed', '""', '"a\nb"', "'", '"x"y']) + text[at:]


def nul(text: str, rng: random.Random) -> str:
    at = rng.randrange(len(text) + 1)
    return text[:at] + "\x00" + text[at:]


def blank_lines(text: str, rng: random.Random) -> str:
    lines = text.splitlines(keepends=True)
    at = rng.randrange(len(lines) + 1)
    return "".join(lines[:at] + ["\n", ",,,\n", "   \n"][: rng.choice([1, 3])] + lines[at:])


TEXT_MUTATIONS: dict[str, Callable[[str, random.Random], str]] = {
    "broken_quotes": broken_quotes, "nul": nul, "blank_lines": blank_lines,
}
_ENCODINGS = ("utf-8-sig", "latin-1", "cp1252", "utf-16", "utf-16-le", "utf-16-be", "invalid-utf-8")


def _encode(text: str, rng: random.Random, names: list[str]) -> bytes:
    if rng.random() < 0.15:
        encoding = rng.choice(_ENCODINGS)
        names.append(f"encoding:{encoding}")
        text = text.replace(",", ",é", 1) if rng.random() < 0.5 else text
        if encoding == "invalid-utf-8":
            data = text.encode("utf-8")
            at = rng.randrange(len(data) + 1)
            return data[:at] + rng.choice([b"\xff", b"\xc3\x28", b"\x81\x8d", b"\xed\xa0\x80"]) + data[at:]
        return text.encode(encoding, errors="replace")
    return text.encode("utf-8")


def mutate_table(seed: Seed, rng: random.Random) -> tuple[bytes, str, list[str]]:
    """A mutated copy of a CSV seed: its bytes, a file suffix and the names of the mutations applied."""
    text = seed.data.decode("utf-8-sig", errors="replace")
    table = [row for row in csv.reader(io.StringIO(text, newline=""))] or [[]]
    names: list[str] = []
    for _ in range(rng.choice([0, 1, 1, 2, 2, 3])):
        name = rng.choices(list(MUTATIONS), weights=[w for _, w in MUTATIONS.values()])[0]
        table = MUTATIONS[name][0](table, rng)
        names.append(name)
    text = _write(table, rng, names)
    if rng.random() < 0.25:
        name = rng.choice(list(TEXT_MUTATIONS))
        text, names = TEXT_MUTATIONS[name](text, rng), [*names, name]
    suffix = rng.choice([".csv"] * 8 + [".tsv", ".txt", ".CSV"])
    return _encode(text, rng, names), suffix, names
