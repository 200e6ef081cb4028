"""Dates as real tables write them, read in the form the mapping names; ambiguous values reported, never guessed."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hyperontology.dates import Ambiguous, excel_date, form_problem, read_cell_date
from hyperontology.mapping import transforms
from hyperontology.mapping.checks import AMBIGUOUS_DATE, NOT_A_DATE
from hyperontology.mapping.engine import Mapper
from hyperontology.mapping.model import MappingError, load_mapping
from hyperontology.mapping.transforms import UnusableValue, apply_transform
from hyperontology.pseudonymize.keys import PseudonymKey
from hyperontology.sources.base import Provenance, Record

TODAY = date(2026, 6, 1)
OCT_31 = date(1998, 10, 31)


@pytest.mark.parametrize(
    ("text", "forms", "expected"),
    [
        ("31/10/98", ["day-first"], OCT_31),
        ("31/10/1998", ["day-first"], OCT_31),
        ("31.10.1998", ["day-first"], OCT_31),
        ("31-10-98", ["day-first"], OCT_31),
        ("10/31/1998", ["month-first"], OCT_31),
        ("10/31/98", ["month-first"], OCT_31),
        ("10-31-98", ["month-first"], OCT_31),
        ("1998-10-31", ["iso"], OCT_31),
        ("1998-10-31T08:15:00+01:00", ["iso"], OCT_31),
        ("1998-10-31 08:15:00", ["iso"], OCT_31),
        ("19981031", ["dicom"], OCT_31),
        ("1998.10.31", ["dicom"], OCT_31),
        ("19981031081500.25+0100", ["dicom"], OCT_31),
        ("36099", ["excel"], OCT_31),
        ("36099.625", ["excel"], OCT_31),
        (36099, ["excel"], OCT_31),
        ("31/10/98", ["%d/%m/%y"], OCT_31),
        ("31 Oct 1998", ["%d %b %Y"], OCT_31),
        ("31/10/98", ["%Y-%m-%d", "day-first"], OCT_31),  # the first form that reads it
        # every named form reads the year-first dates, which are never ambiguous
        ("1998-10-31", ["day-first"], OCT_31),
        ("19981031", ["month-first"], OCT_31),
        ("1998/10/31", ["excel"], OCT_31),
        # without a form: what reads one way only
        ("31/10/98", [], OCT_31),
        ("10/31/1998", [], OCT_31),
        ("31.10.1998", [], OCT_31),
        ("1998-10-31", [], OCT_31),
        ("19981031", [], OCT_31),
        ("1998/10/31", [], OCT_31),
        ("03/03/98", [], date(1998, 3, 3)),  # both readings are the same date
    ],
)
def test_forms_real_tables_use(text: object, forms: list[str], expected: date) -> None:
    assert read_cell_date(text, forms, today=TODAY) == expected


@pytest.mark.parametrize(
    ("text", "forms"),
    [
        ("31/02/98", ["day-first"]), ("13/31/98", []), ("unknown", []), ("36099", []),  # a bare number is no date
        ("31/10/98", ["iso"]), ("31/10/98", ["month-first"]), ("1998-10-31", ["%d/%m/%Y"]),
        ("60", ["excel"]),  # 29 February 1900, which Excel counts but did not exist
        ("not a number", ["excel"]), ("2020", ["dicom"]),
    ],
)
def test_values_that_do_not_parse_give_none(text: str, forms: list[str]) -> None:
    assert read_cell_date(text, forms, today=TODAY) is None


def test_a_day_and_month_that_read_two_ways_is_ambiguous_not_guessed() -> None:
    found = read_cell_date("03/04/98", today=TODAY)
    assert found == Ambiguous("03/04/98", date(1998, 4, 3), date(1998, 3, 4))
    assert read_cell_date("03/04/98", ["day-first"], today=TODAY) == date(1998, 4, 3)
    assert read_cell_date("03/04/98", ["month-first"], today=TODAY) == date(1998, 3, 4)


@pytest.mark.parametrize(
    ("text", "form", "year"),
    [("15/03/50", "day-first", 1950), ("15/03/05", "day-first", 2005), ("15/03/26", "day-first", 2026),
     ("15/03/27", "day-first", 1927), ("15/03/50", "%d/%m/%y", 1950), ("15/03/68", "%d/%m/%y", 1968)],
)
def test_two_digit_years_are_never_in_the_future(text: str, form: str, year: int) -> None:
    # Python's %y alone would read 50 and 68 as 2050 and 2068: birth dates in the future
    found = read_cell_date(text, [form], today=TODAY)
    assert isinstance(found, date) and found.year == year


def test_excel_serials_of_the_1900_date_system() -> None:
    assert [excel_date(n) for n in (1, 59, 61, 36099, 45658)] == [
        date(1900, 1, 1), date(1900, 2, 28), date(1900, 3, 1), OCT_31, date(2025, 1, 1)]
    assert excel_date(True) is None and excel_date(0) is None and excel_date(3e6) is None


@given(st.dates(date(1900, 1, 1), date(2099, 12, 31)))
def test_every_named_form_reads_back_what_it_writes(day: date) -> None:
    written = {"day-first": day.strftime("%d/%m/%Y"), "month-first": day.strftime("%m/%d/%Y"),
               "iso": day.isoformat(), "dicom": day.strftime("%Y%m%d"),
               "excel": str((day - date(1899, 12, 30)).days)}
    for form, text in written.items():
        if form == "excel" and day < date(1900, 3, 1):
            continue  # serials before 1 March 1900 are shifted by Excel's 29 February 1900
        assert read_cell_date(text, [form], today=TODAY) == day, (form, text)


@given(st.dates(date(1930, 1, 1), date(2025, 12, 31)), st.sampled_from(["%d/%m/%Y", "%m/%d/%Y", "%d.%m.%y"]))
def test_without_a_form_a_date_is_never_misread(day: date, fmt: str) -> None:
    found = read_cell_date(day.strftime(fmt), today=TODAY)
    assert found == day or (isinstance(found, Ambiguous) and day in (found.day_first, found.month_first))


def test_the_date_transform_honours_its_argument() -> None:
    # before: date(%d/%m/%y) passed mapping check and its argument was ignored; 31/10/98 was dropped
    assert apply_transform("date(%d/%m/%y)", "31/10/98") == "1998-10-31"
    assert apply_transform("date(day-first)", "03/04/98") == "1998-04-03"
    assert apply_transform("date(month-first)", "03/04/98") == "1998-03-04"
    assert apply_transform("date(excel)", "36099") == "1998-10-31"
    assert apply_transform("date(iso | %d/%m/%y)", "31/10/98") == "1998-10-31"
    assert apply_transform("date", "unknown") is None
    with pytest.raises(UnusableValue, match="day first") as caught:
        apply_transform("date", "03/04/98")
    assert caught.value.kind == AMBIGUOUS_DATE


@pytest.mark.parametrize(("arg", "problem"), [
    ("day-first", None), ("%d/%m/%y", None), ("day-first|excel", None),
    ("dayfirst", "neither a named form"), ("%d/%m", "reads no year"), ("%d/%Q/%Y", "not a strptime date format"),
])
def test_form_problem(arg: str, problem: str | None) -> None:
    found = form_problem(arg)
    assert found is None if problem is None else (found is not None and problem in found)


MAPPING = """\
mapping: dates
version: "1"
source: csv
entities:
  - name: patient
    select: {{entity: clinical}}
    class: cdm:Patient
    id: {{value: id, domain: patient}}
    fields:
      - {{property: cdm:patientIdentifier, value: id, pseudonym: patient}}
      - {{property: cdm:birthDate, value: born, transform: "{transform}", datatype: xsd:date}}
"""


@pytest.mark.parametrize("transform", ["date(dayfirst)", "date(%d/%m)"])
def test_mapping_check_rejects_a_date_form_it_cannot_use(tmp_path: Path, transform: str) -> None:
    path = tmp_path / "dates.yaml"
    path.write_text(MAPPING.format(transform=transform))
    with pytest.raises(MappingError) as caught:
        load_mapping(path, transforms=transforms.names(), valuemaps=set())
    (problem,) = caught.value.problems
    assert problem.startswith(f"{path}:11: [transform] {transform}:")


def _apply(tmp_path: Path, transform: str, born: list[str]) -> tuple[list[str], dict[tuple[str, str], int]]:
    path = tmp_path / "dates.yaml"
    path.write_text(MAPPING.format(transform=transform))
    spec = load_mapping(path, transforms=transforms.names(), valuemaps=set())
    records = [Record("csv", "clinical", {"id": f"P{i}", "born": text}, Provenance("clinical.csv", f"row {i}"))
               for i, text in enumerate(born, 1)]
    outcome = Mapper([spec], key=PseudonymKey(bytes(32)), valuemaps={}, shift_dates=False).apply(records)
    dates = [q.object.value for e in outcome.entities for q in e.quads if q.predicate.value.endswith("#birthDate")]
    return dates, dict(outcome.field_problems)


def test_the_engine_stores_what_reads_one_way_and_counts_the_rest_per_field(tmp_path: Path) -> None:
    dates, problems = _apply(tmp_path, "date", ["31/10/98", "03/04/98", "unknown", "1998-10-31"])
    assert dates == ["1998-10-31", "1998-10-31"]
    field = "dates/patient cdm:birthDate (born)"
    assert problems == {(field, AMBIGUOUS_DATE): 1, (field, NOT_A_DATE): 1}


def test_the_engine_reads_the_form_the_field_names(tmp_path: Path) -> None:
    dates, problems = _apply(tmp_path, "date(day-first)", ["31/10/98", "03/04/98", "31.10.1998", "19981031"])
    assert dates == ["1998-10-31", "1998-04-03", "1998-10-31", "1998-10-31"] and problems == {}
    dates, _ = _apply(tmp_path, "date(excel)", ["36099", str((date(2020, 2, 29) - date(1899, 12, 30)).days)])
    assert dates == ["1998-10-31", "2020-02-29"]
    assert date(1899, 12, 30) + timedelta(days=36099) == OCT_31
