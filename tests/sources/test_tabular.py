"""CsvSource on small hand-written tables, on the shared real tables, and on random text; the cell parsers."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hyperontology.sources.base import Record, Rejection, Source
from hyperontology.sources.tabular import CsvSource, parse_date, parse_number, parse_quantity

SHARED_CLINICAL = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "clinical"
REAL_FILES = sorted(SHARED_CLINICAL.rglob("*.csv")) if SHARED_CLINICAL.is_dir() else []
SKIP_REASON = f"needs the shared clinical tables in {SHARED_CLINICAL} (../shared/data, absent here)"


def read(path: Path) -> list[Record | Rejection]:
    return list(CsvSource().read(path))


def write(tmp_path: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def test_is_a_source() -> None:
    assert isinstance(CsvSource(), Source)


def test_rows_become_records(tmp_path: Path) -> None:
    path = write(tmp_path, "patient-information.csv", "\ufeffmrn , sex,age\n123,F,47\n456,M,65\n")
    assert CsvSource().accepts(path)
    items = read(path)
    assert [i.provenance.locator for i in items] == ["row 1", "row 2"]
    first = items[0]
    assert isinstance(first, Record)
    assert (first.source, first.entity) == ("csv", "patient-information")
    assert first.fields == {"mrn": "123", "sex": "F", "age": "47"}


@pytest.mark.parametrize(("delimiter", "suffix"), [(";", ".csv"), ("\t", ".tsv"), ("\t", ".txt"), (",", ".txt")])
def test_delimiter_is_sniffed(tmp_path: Path, delimiter: str, suffix: str) -> None:
    weight = '"3,5"' if delimiter == "," else "3,5"
    text = delimiter.join(["id", "weight", "note"]) + "\n" + delimiter.join(["1", weight, "a b"]) + "\n"
    path = write(tmp_path, f"t{suffix}", text)
    assert CsvSource().accepts(path)
    [record] = read(path)
    assert isinstance(record, Record)
    assert record.fields == {"id": "1", "weight": "3,5", "note": "a b"}


def test_latin1_and_utf16(tmp_path: Path) -> None:
    latin = write(tmp_path, "l.csv", "nom;ville\nRené;Liège\n", encoding="latin-1")
    assert [i.fields for i in read(latin) if isinstance(i, Record)] == [{"nom": "René", "ville": "Liège"}]
    utf16 = write(tmp_path, "u.csv", "a\tb\n1\t2\n", encoding="utf-16")
    assert [i.fields for i in read(utf16) if isinstance(i, Record)] == [{"a": "1", "b": "2"}]


def test_empty_rows_skipped_and_lines_kept(tmp_path: Path) -> None:
    items = read(write(tmp_path, "t.csv", 'a,b\n1,2\n,\n\n3,"multi\nline"\n5,6\n'))
    assert [i.provenance.locator for i in items] == ["row 1", "row 2 (line 5)", "row 3 (line 7)"]
    assert items[1].fields["b"] == "multi\nline"  # type: ignore[union-attr]


def test_long_and_short_rows(tmp_path: Path) -> None:
    items = read(write(tmp_path, "t.csv", "a,b,c\n1,2,3,4\n1,2\n1,2,3,,\n"))
    assert isinstance(items[0], Rejection) and "row 1" in items[0].reason and "4 cells" in items[0].reason
    assert isinstance(items[1], Record) and items[1].fields == {"a": "1", "b": "2", "c": ""}
    assert "missing columns" in items[1].notes[0]
    assert isinstance(items[2], Record) and items[2].fields == {"a": "1", "b": "2", "c": "3"} and items[2].notes


def test_header_names_made_unique(tmp_path: Path) -> None:
    [record] = read(write(tmp_path, "t.csv", "a,,a\n1,2,3\n"))
    assert isinstance(record, Record)
    assert list(record.fields) == ["a", "column 2", "a (2)"]
    assert len(record.notes) == 2


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"", "no header"),
        (b" \n\n", "no header"),
        (b"1,2,3\n4,5,6\n", "no header"),
        (b"a,b\n", "no data row"),
        (b"a,b\x00\n1,2\n", "unreadable encoding"),
    ],
)
def test_unusable_file_is_one_rejection(tmp_path: Path, content: bytes, expected: str) -> None:
    path = tmp_path / "bad.csv"
    path.write_bytes(content)
    [item] = read(path)
    assert isinstance(item, Rejection) and expected in item.reason


def test_accepts(tmp_path: Path) -> None:
    assert not CsvSource().accepts(write(tmp_path, "prose.txt", "Just some notes.\nNothing tabular here.\n"))
    assert not CsvSource().accepts(write(tmp_path, "x.json", "a,b\n1,2\n"))
    assert not CsvSource().accepts(tmp_path / "missing.csv")


@pytest.mark.shared
@pytest.mark.skipif(not REAL_FILES, reason=SKIP_REASON)
@pytest.mark.parametrize("path", REAL_FILES, ids=lambda p: str(p.relative_to(SHARED_CLINICAL)))
def test_real_table_is_accounted_for(path: Path) -> None:
    assert CsvSource().accepts(path)
    items = read(path)
    with path.open(encoding="utf-8-sig", newline="") as stream:
        rows = [row for row in csv.reader(stream) if any(cell.strip() for cell in row)]
    assert len(items) == len(rows) - 1 > 0
    records = [i for i in items if isinstance(i, Record)]
    assert records and all(r.entity == path.stem for r in records)
    assert list(records[0].fields) == [name.strip() for name in rows[0]]
    assert all(not name.startswith("\ufeff") for name in records[0].fields)


@pytest.mark.shared
@pytest.mark.skipif(not (SHARED_CLINICAL / "lung-scc-samsung.csv").is_file(), reason=SKIP_REASON)
def test_real_table_rows() -> None:
    items = read(SHARED_CLINICAL / "lung-scc-samsung.csv")
    assert len(items) == 404 and all(isinstance(i, Record) for i in items)
    assert items[0].fields["Index"] == "1" and items[0].fields["Sex"] == "F"  # type: ignore[union-attr]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(), suffix=st.sampled_from([".csv", ".tsv", ".txt"]), encoding=st.sampled_from(["utf-8", "utf-16"]))
def test_random_text_never_raises(tmp_path: Path, text: str, suffix: str, encoding: str) -> None:
    path = tmp_path / f"random{suffix}"
    path.write_bytes(text.encode(encoding, errors="replace"))
    CsvSource().accepts(path)
    items = read(path)
    assert items and all(isinstance(i, Record | Rejection) for i in items)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.lists(st.text(alphabet='ab ,;"\n1', max_size=4), min_size=1, max_size=4), max_size=6))
def test_every_row_accounted_for(tmp_path: Path, rows: list[list[str]]) -> None:
    path = tmp_path / "t.csv"
    with path.open("w", encoding="utf-8", newline="") as stream:
        csv.writer(stream).writerows([["h1", "h2", "h3"], *rows])
    items = read(path)
    non_empty = [row for row in rows if any(cell.strip() for cell in row)]
    assert len(items) == (len(non_empty) or 1)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2020-01-12", date(2020, 1, 12)),
        ("20200112", date(2020, 1, 12)),
        ("12/01/2020", date(2020, 1, 12)),
        ("12.01.2020", date(2020, 1, 12)),
        ("2020-01", date(2020, 1, 1)),
        ("2020", date(2020, 1, 1)),
        ("2020-01-12T10:30:00+01:00", date(2020, 1, 12)),
        (" 2019-11-11 ", date(2019, 11, 11)),
        ("2020-02-30", None),
        ("13/13/2020", None),
        ("12/01/20", None),
        ("2020112", None),
        ("yesterday", None),
        ("", None),
    ],
)
def test_parse_date(text: str, expected: date | None) -> None:
    assert parse_date(text) == expected


def test_parse_date_options() -> None:
    assert parse_date("12/01/2020", dayfirst=False) == date(2020, 12, 1)
    assert parse_date("25/12/2020", dayfirst=False) is None
    assert parse_date("2020-01-12", formats=["%d/%m/%Y"]) is None
    assert parse_date("12 Jan 2020", formats=["%d %b %Y"]) == date(2020, 1, 12)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("3,5", 3.5),
        ("1 234.5", 1234.5),
        ("1.234,5", 1234.5),
        ("1,234,567", 1234567.0),
        ("66.89 [in_i]", 66.89),
        ("7 mmol/L", 7.0),
        ("-2.5", -2.5),
        ("+4", 4.0),
        ("1e3", 1000.0),
        ("0.4", 0.4),
        ("1.2.3", None),
        ("12 3", None),
        ("2020-01-12", None),
        ("T2", None),
        ("nan", None),
        ("inf", None),
        ("1e999", None),
        ("<5", None),
        ("", None),
        ("3 years old", None),
    ],
)
def test_parse_number(text: str, expected: float | None) -> None:
    assert parse_number(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("66.89 [in_i]", (66.89, "[in_i]")),
        ("5mg", (5.0, "mg")),
        ("45 %", (45.0, "%")),
        ("12 10*3/uL", (12.0, "10*3/uL")),
        ("3,5", (3.5, None)),
        ("kg", None),
    ],
)
def test_parse_quantity(text: str, expected: tuple[float, str | None] | None) -> None:
    assert parse_quantity(text) == expected


@given(st.text())
def test_parsers_never_raise(text: str) -> None:
    value = parse_number(text)
    assert value is None or isinstance(value, float)
    for dayfirst in (True, False):
        parsed = parse_date(text, dayfirst=dayfirst)
        assert parsed is None or isinstance(parsed, date)
    quantity = parse_quantity(text)
    assert quantity is None or quantity[0] == value
