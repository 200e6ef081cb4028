"""Dates read from text: table cells and mapped values (strptime formats) and DICOM DA / DT values.

Every parser returns a :class:`datetime.date`, or None when the text is not a date; none raises. Callers
choose the strictness: :func:`parse_date` (day-first or month-first cells, partial ISO dates),
:func:`read_date` with their own strptime formats, and :func:`dicom_date` for a DA exactly or, with
``partial=True``, for the date a DA or DT starts with (a year or a month alone gives its first day).

:func:`read_cell_date` reads the dates of mapped fields in the forms a mapping names (``date(day-first)``,
``date(%d/%m/%y)``, :data:`DATE_FORMS`); without a form, a day and a month that read both ways as two different
dates give an :class:`Ambiguous` value, never a guess.

Examples
--------
>>> parse_date("12.01.2020"), read_date("2020/01/12", ["%Y/%m/%d"])
(datetime.date(2020, 1, 12), datetime.date(2020, 1, 12))
>>> dicom_date("20200112"), dicom_date("202001"), dicom_date("202001", partial=True)
(datetime.date(2020, 1, 12), None, datetime.date(2020, 1, 1))
>>> read_cell_date("31/10/98"), read_cell_date("10/31/1998", ["month-first"]), read_cell_date("36099", ["excel"])
(datetime.date(1998, 10, 31), datetime.date(1998, 10, 31), datetime.date(1998, 10, 31))
>>> print(read_cell_date("03/04/98"))
'03/04/98' reads as 1998-04-03 (day first) and as 1998-03-04 (month first)
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cache

__all__ = ["DATE_FORMS", "Ambiguous", "date_forms", "dicom_date", "excel_date", "form_problem", "iso_date_part",
           "parse_date", "read_cell_date", "read_date"]

#: the named forms of ``date(...)`` in mapping files; each also reads ISO dates (``iso`` nothing else) and the
#: other year-first dates (``19981031``, ``1998/10/31``), which are never ambiguous
DATE_FORMS = ("day-first", "month-first", "iso", "dicom", "excel")
_DAY_MONTH = re.compile(r"(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4}|\d{2})")
_YEAR_FIRST = re.compile(r"(\d{4})[/.](\d{1,2})[/.](\d{1,2})")
_DICOM_DT = re.compile(r"\d{8}(?:\d{2,6}(?:\.\d{1,6})?)?(?:[+\-]\d{4})?")
_ISO = re.compile(r"(\d{4}-\d\d?-\d\d?)(?:T.*|\s+\d\d?:\d\d(?::\d\d(?:\.\d+)?)?)?", re.DOTALL)
_SERIAL = re.compile(r"\d{1,7}(?:\.\d+)?")
_EXCEL_EPOCH = date(1899, 12, 30)  # serial 61 is 1900-03-01: Excel counts a 29 February 1900 (serial 60)
_EXCEL_LAST = 2958465  # 9999-12-31

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


# ------------------------------------------------------------------------------- mapped fields
@dataclass(frozen=True)
class Ambiguous:
    """A day and a month that read both ways as two valid, different dates, and nothing says which is meant."""

    text: str
    day_first: date
    month_first: date

    def __str__(self) -> str:
        return (f"{self.text!r} reads as {self.day_first} (day first) and as {self.month_first} (month first)")


@cache
def date_forms(arg: str | None) -> tuple[str, ...]:
    """The forms a ``date(...)`` argument names: named forms and strptime formats, alternatives split by ``|``.

    Examples
    --------
    >>> date_forms("day-first"), date_forms("%d/%m/%y | iso"), date_forms(None)
    (('day-first',), ('%d/%m/%y', 'iso'), ())
    """
    return tuple(part.strip() for part in (arg or "").split("|") if part.strip())


def form_problem(arg: str | None) -> str | None:
    """Why a ``date(...)`` argument cannot be used, or None when every form it names is usable.

    Examples
    --------
    >>> form_problem("%d/%m/%y"), form_problem("day-first|excel"), form_problem(None)
    (None, None, None)
    >>> form_problem("dayfirst")
    "'dayfirst' is neither a named form (day-first, month-first, iso, dicom, excel) nor a strptime format"
    >>> form_problem("%d/%m")
    "'%d/%m' reads no year (%Y or %y)"
    """
    for form in date_forms(arg):
        if form in DATE_FORMS:
            continue
        if "%" not in form:
            return f"{form!r} is neither a named form ({', '.join(DATE_FORMS)}) nor a strptime format"
        probe = date(2001, 2, 3)
        try:
            back = datetime.strptime(probe.strftime(form), form).date()
        except ValueError as exc:
            return f"{form!r} is not a strptime date format ({exc})"
        if back.year != probe.year:
            return f"{form!r} reads no year (%Y or %y)"
    return None


def read_cell_date(value: object, forms: Sequence[str] = (), *, today: date | None = None) -> date | Ambiguous | None:
    """The date of a mapped value, read in the first of ``forms`` that fits it; None when none does.

    Forms are strptime formats (exactly) or named forms (:data:`DATE_FORMS`; each also reads ISO dates and,
    but ``iso``, the year-first ``19981031`` and ``1998/10/31``):
    ``day-first`` / ``month-first`` read ``31/10/98``, ``31.10.1998``, ``31-10-98`` (``/``, ``.`` or ``-``, a two-
    or four-digit year), ``iso`` ``1998-10-31`` (a time after it, ``T08:00`` or `` 08:00:00``, is ignored),
    ``dicom`` a DA ``19981031`` or the date of a DT, ``excel`` a serial day number (``36099``, the 1900 date
    system). Without forms: ISO, DICOM,
    ``1998/10/31``, and a day and a month that read one way only (``31/10/98``); when both readings are valid
    dates and differ (``03/04/98``) the value is :class:`Ambiguous`. A two-digit year is the latest year ending in
    those digits that is not after ``today`` (default: the current date): ``98`` is 1998, ``05`` is 2005.
    ``%y`` in a strptime format follows the same rule. :class:`~datetime.date` values are taken as they are.

    Examples
    --------
    >>> read_cell_date("31-10-98"), read_cell_date("1998-10-31T08:00:00Z"), read_cell_date("19981031")
    (datetime.date(1998, 10, 31), datetime.date(1998, 10, 31), datetime.date(1998, 10, 31))
    >>> read_cell_date("03/04/98", ["day-first"]), read_cell_date("03/04/98", ["%m/%d/%y"])
    (datetime.date(1998, 4, 3), datetime.date(1998, 3, 4))
    >>> read_cell_date("31/02/98") is None, read_cell_date("36099") is None
    (True, True)
    """
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, bool) or value is None:
        return None
    today = today or date.today()
    if not forms:
        return _default_date(str(value).strip(), today)
    for form in forms:
        found = _form_date(value, form, today)
        if found is not None:
            return found
    return None


def _year_first(text: str) -> date | None:
    """An ISO date (a time after it ignored), a DICOM DA ``19981031`` or ``1998.10.31``, or ``1998/10/31``."""
    found = _iso(text) or dicom_date(text)
    match = _YEAR_FIRST.fullmatch(text) if found is None else None
    return _ymd(*match.groups()) if match else found


def _default_date(text: str, today: date) -> date | Ambiguous | None:
    found = _year_first(text)
    if found is not None:
        return found
    match = _DAY_MONTH.fullmatch(text)
    if not match:
        return None
    first, second, year = match[1], match[2], str(_year(match[3], today))
    day_first, month_first = _ymd(year, second, first), _ymd(year, first, second)
    if day_first is not None and month_first is not None and day_first != month_first:
        return Ambiguous(text, day_first, month_first)
    return day_first or month_first


def _form_date(value: object, form: str, today: date) -> date | None:
    text = str(value).strip()
    if form not in DATE_FORMS:
        return _strptime(text, form, today)
    found = _iso(text) if form == "iso" else _year_first(text)
    if found is not None or form == "iso":
        return found
    if form == "excel":
        return excel_date(value)
    if form == "dicom":  # the date of a DT (a DA was read above)
        return dicom_date(text, partial=True) if _DICOM_DT.fullmatch(text) else None
    match = _DAY_MONTH.fullmatch(text)
    if not match:
        return None
    day, month = (match[1], match[2]) if form == "day-first" else (match[2], match[1])
    return _ymd(str(_year(match[3], today)), month, day)


def _iso(text: str) -> date | None:
    match = _ISO.fullmatch(text)
    return read_date(match[1], ("%Y-%m-%d",)) if match else None


def _strptime(text: str, form: str, today: date) -> date | None:
    found = read_date(text, (form,))
    if found is None or "%y" not in form:
        return found
    return _ymd(str(_year(f"{found.year % 100:02d}", today)), str(found.month), str(found.day))


def _year(digits: str, today: date) -> int:
    if len(digits) != 2:
        return int(digits)
    year = today.year - today.year % 100 + int(digits)
    return year if year <= today.year else year - 100


def excel_date(value: object) -> date | None:
    """The date of a spreadsheet serial day number (1900 date system; a fraction, the time, is dropped).

    Examples
    --------
    >>> excel_date(36099), excel_date("36099.75"), excel_date(1), excel_date(60)
    (datetime.date(1998, 10, 31), datetime.date(1998, 10, 31), datetime.date(1900, 1, 1), None)
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        number = float(value)
    elif _SERIAL.fullmatch(text := str(value).strip()):
        number = float(text)
    else:
        return None
    if not 1 <= number < _EXCEL_LAST + 1 or int(number) == 60:  # serial 60: the 29 February 1900 Excel counts
        return None
    days = int(number)
    return _EXCEL_EPOCH + timedelta(days=days + (1 if days < 60 else 0))
