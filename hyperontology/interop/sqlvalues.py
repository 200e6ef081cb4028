"""RDF literals <-> values of the relational CDM's column types, both ways, with the limits of each type.

A value that does not fit its column (a text longer than the VARCHAR, a number too large for DECIMAL(5,2), a
date that is not one) raises :class:`NotExpressible` with the reason; the export reports it. Changes that keep
the value (a decimal rounded to the column's scale, the time of a date-time dropped in a DATE column) are
returned with a note.

Examples
--------
>>> import pyoxigraph as ox
>>> to_sql(ox.Literal("1958-01-03T00:00:00", datatype=ox.NamedNode(XSD + "dateTime")), "DATE", ())
(datetime.date(1958, 1, 3), None)
>>> to_sql(ox.Literal("12.345", datatype=ox.NamedNode(XSD + "decimal")), "DECIMAL", (5, 2))
(Decimal('12.35'), 'rounded to 2 decimals')
>>> to_sql(ox.Literal("1234.5"), "DECIMAL", (5, 2))
Traceback (most recent call last):
...
hyperontology.interop.sqlvalues.NotExpressible: 1234.5 does not fit DECIMAL(5,2)
>>> to_rdf(datetime.date(2020, 5, 1), "DATE").value
'2020-05-01T00:00:00'
"""

from __future__ import annotations

import datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

import pyoxigraph as ox

from hyperontology.errors import HyperontologyError

XSD = "http://www.w3.org/2001/XMLSchema#"
INT_RANGE = (-(2**31), 2**31 - 1)


class NotExpressible(HyperontologyError):
    """A value the relational CDM cannot hold (the message is the reason, without the value when it is text)."""


def _date(text: str) -> tuple[datetime.date, str | None]:
    try:
        if "T" in text:
            moment = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
            note = None if moment.time() == datetime.time(0) else "time of day dropped (DATE column)"
            return moment.date(), note
        return datetime.date.fromisoformat(text[:10]), None
    except ValueError as exc:
        raise NotExpressible("not a date") from exc


def _decimal(text: str, size: tuple[int, ...]) -> tuple[Decimal, str | None]:
    try:
        number = Decimal(text)
    except InvalidOperation as exc:
        raise NotExpressible("not a number") from exc
    if not number.is_finite():
        raise NotExpressible("not a finite number")
    precision, scale = size
    rounded = number.quantize(Decimal(1).scaleb(-scale), rounding=ROUND_HALF_UP)
    if abs(rounded) >= Decimal(10) ** (precision - scale):
        raise NotExpressible(f"{text} does not fit DECIMAL({precision},{scale})")
    return rounded, (f"rounded to {scale} decimals" if rounded != number else None)


def _integer(text: str) -> int:
    try:
        number = Decimal(text)
    except InvalidOperation as exc:
        raise NotExpressible("not an integer") from exc
    if not number.is_finite() or number != number.to_integral_value():
        raise NotExpressible("not an integer")
    if not INT_RANGE[0] <= int(number) <= INT_RANGE[1]:
        raise NotExpressible(f"{text} does not fit INTEGER")
    return int(number)


def _boolean(text: str) -> bool:
    if text.lower() in ("true", "1"):
        return True
    if text.lower() in ("false", "0"):
        return False
    raise NotExpressible("not a boolean")


def to_sql(literal: ox.Literal, base: str, size: tuple[int, ...]) -> tuple[Any, str | None]:
    """The value of ``literal`` for a column of type ``base`` (``VARCHAR``...) and ``size``, and a note when it
    was adjusted to fit."""
    text = literal.value
    if base == "VARCHAR":
        if len(text) > size[0]:
            raise NotExpressible(f"longer than VARCHAR({size[0]})")
        return text, None
    if base == "DATE":
        return _date(text)
    if base == "DECIMAL":
        return _decimal(text, size)
    if base == "INTEGER":
        return _integer(text), None
    if base == "BOOLEAN":
        return _boolean(text), None
    raise NotExpressible(f"no conversion to {base}")


def to_rdf(value: Any, base: str) -> ox.Literal:
    """The RDF literal of a column value as the mapping engine writes it (dates as ``xsd:dateTime`` at midnight)."""
    if base == "DATE":
        day = value if isinstance(value, datetime.date) else datetime.date.fromisoformat(str(value)[:10])
        return ox.Literal(f"{day.isoformat()}T00:00:00", datatype=ox.NamedNode(XSD + "dateTime"))
    if base == "DECIMAL":
        return ox.Literal(str(Decimal(str(value))), datatype=ox.NamedNode(XSD + "decimal"))
    if base == "INTEGER":
        return ox.Literal(str(int(value)), datatype=ox.NamedNode(XSD + "integer"))
    if base == "BOOLEAN":
        return ox.Literal("true" if value else "false", datatype=ox.NamedNode(XSD + "boolean"))
    return ox.Literal(str(value))


__all__ = ["NotExpressible", "to_rdf", "to_sql"]
