"""Dates read from text: table cells and mapped values (strptime formats) and DICOM DA / DT values.

Every parser returns a :class:`datetime.date`, or None when the text is not a date; none raises. Callers
choose the strictness: :func:`parse_date` (day-first or month-first cells, partial ISO dates),
:func:`read_date` with their own strptime formats, and :func:`dicom_date` for a DA exactly or, with
``partial=True``, for the date a DA or DT starts with (a year or a month alone gives its first day).

Examples
--------
>>> parse_date("12.01.2020"), read_date("2020/01/12", ["%Y/%m/%d"])
(datetime.date(2020, 1, 12), datetime.date(2020, 1, 12))
>>> dicom_date("20200112"), dicom_date("202001"), dicom_date("202001", partial=True)
(datetime.date(2020, 1, 12), None, datetime.date(2020, 1, 1))
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import date, datetime

__all__ = ["dicom_date", "iso_date_part", "parse_date", "read_date"]

_ISO_DATE_TIME = re.compile(r"(\d{4}-\d\d-\d\d)T(.*)")
_ISO_TIME = re.compile(r"[\d:.+\-Z]*")
_PARTIAL_FORMATS = ("%Y-%m-%d", "%Y-%m", "%Y")


def read_date(text: str, formats: Iterable[str]) -> date | None:
    """The date of ``text`` read with the first strptime format that fits it whole, else None.

    Examples
    --------
    >>> read_date("12 Jan 2020", ["%Y-%m-%d", "%d %b %Y"]), read_date("2020-02-30", ["%Y-%m-%d"])
    (datetime.date(2020, 1, 12), None)
    """
    for fmt in formats:
        try:
            return datetime.strptime(text, fmt).date()
        except (ValueError, TypeError):
            continue
    return None


def iso_date_part(text: str, *, any_time: bool = False) -> str:
    """The ``YYYY-MM-DD`` of an ISO date-time whose time is digits, ``:``, ``.``, ``+``, ``-`` or ``Z``
    (with ``any_time``, whatever follows the ``T``); any other text unchanged.

    Examples
    --------
    >>> iso_date_part("2020-01-12T10:30:00+01:00"), iso_date_part("2020-01-12Tnoon")
    ('2020-01-12', '2020-01-12Tnoon')
    >>> iso_date_part("2020-01-12Tnoon", any_time=True)
    '2020-01-12'
    """
    match = _ISO_DATE_TIME.fullmatch(text)
    if match is not None and (any_time or _ISO_TIME.fullmatch(match[2])):
        return match[1]
    return text


def parse_date(text: str, formats: Sequence[str] | None = None, *, dayfirst: bool = True) -> date | None:
    """A date from ISO ``2020-01-12``, ``20200112``, ``12/01/2020`` (``12.01.2020``, ``12-01-2020``), ``2020-01``
    or ``2020``; a month or a year alone gives its first day. ``formats`` (strptime) replace the defaults.
    An ISO date-time keeps its date. Anything else, two-digit years included: None.

    Examples
    --------
    >>> parse_date("2020-01-12"), parse_date("20200112"), parse_date("2020")
    (datetime.date(2020, 1, 12), datetime.date(2020, 1, 12), datetime.date(2020, 1, 1))
    >>> parse_date("12/01/2020"), parse_date("12/01/2020", dayfirst=False)
    (datetime.date(2020, 1, 12), datetime.date(2020, 12, 1))
    >>> parse_date("12/01/20") is None, parse_date("2020-02-30") is None
    (True, True)
    >>> parse_date("01-2020", formats=["%m-%Y"])
    datetime.date(2020, 1, 1)
    """
    if not isinstance(text, str):
        return None
    value = text.strip()
    if formats is None:
        value = iso_date_part(value)
        slashed = "%d/%m/%Y" if dayfirst else "%m/%d/%Y"
        formats = (*_PARTIAL_FORMATS, slashed, *(("%Y%m%d",) if re.fullmatch(r"\d{8}", value) else ()))
        value = re.sub(r"^(\d{1,2})[.\-](\d{1,2})[.\-](\d{4})$", r"\1/\2/\3", value)
    return read_date(value, formats)


def dicom_date(text: str, *, partial: bool = False) -> date | None:
    """The date of a DICOM DA: ``YYYYMMDD`` or the old ``YYYY.MM.DD``, nothing else; None if not a valid date.

    With ``partial``, the date the stripped text starts with once its dots are dropped: the first eight
    characters of a DA or DT, or a year (``YYYY``) or month (``YYYYMM``) alone, which gives its first day.

    Examples
    --------
    >>> dicom_date("2023.01.02"), dicom_date("20231345"), dicom_date("20200301120000")
    (datetime.date(2023, 1, 2), None, None)
    >>> dicom_date("20200301120000.5+0100", partial=True), dicom_date("2020", partial=True)
    (datetime.date(2020, 3, 1), datetime.date(2020, 1, 1))
    """
    if partial:
        digits = text.strip().replace(".", "")
        if len(digits) in (4, 6):
            return _ymd(digits[:4], digits[4:6] or "1", "1")
        return _ymd(digits[:4], digits[4:6], digits[6:8]) if len(digits) >= 8 else None
    digits = text.replace(".", "") if len(text) == 10 and text[4] == "." == text[7] else text
    if len(digits) != 8 or not digits.isdigit():
        return None
    return _ymd(digits[:4], digits[4:6], digits[6:])


def _ymd(year: str, month: str, day: str) -> date | None:
    try:
        return date(int(year), int(month), int(day))
    except ValueError:
        return None
