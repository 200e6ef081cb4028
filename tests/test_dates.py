from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hyperontology.dates import dicom_date, iso_date_part, parse_date, read_date


@pytest.mark.parametrize(
    ("text", "partial", "expected"),
    [
        ("20200112", False, date(2020, 1, 12)),
        ("2020.01.12", False, date(2020, 1, 12)),
        ("2020.01.12", True, date(2020, 1, 12)),
        (" 20200112 ", False, None),
        (" 20200112 ", True, date(2020, 1, 12)),
        ("20200230", False, None),
        ("00000101", False, None),
        ("20200112101010.5+0100", False, None),
        ("20200112101010.5+0100", True, date(2020, 1, 12)),
        ("202001", True, date(2020, 1, 1)),
        ("2020", True, date(2020, 1, 1)),
        ("20201", True, None),
        ("2020-01-12", True, None),
        ("", True, None),
    ],
)
def test_dicom_date(text: str, partial: bool, expected: date | None) -> None:
    assert dicom_date(text, partial=partial) == expected


def test_iso_date_part_keeps_other_text() -> None:
    assert iso_date_part("2020-01-12T10:11") == "2020-01-12"
    assert iso_date_part("2020-01-12 10:11") == "2020-01-12 10:11"
    assert iso_date_part("2020-01-12Tnoon") == "2020-01-12Tnoon"
    assert iso_date_part("2020-01-12Tnoon", any_time=True) == "2020-01-12"


def test_read_date_takes_the_first_format_that_fits() -> None:
    assert read_date("01/02/2020", ["%m/%d/%Y", "%d/%m/%Y"]) == date(2020, 1, 2)
    assert read_date("2020", []) is None


@given(st.text(), st.booleans())
def test_parsers_never_raise(text: str, flag: bool) -> None:
    for parsed in (dicom_date(text, partial=flag), parse_date(text, dayfirst=flag),
                   read_date(iso_date_part(text, any_time=flag), ["%Y-%m-%d", "%Y%m%d"])):
        assert parsed is None or isinstance(parsed, date)
