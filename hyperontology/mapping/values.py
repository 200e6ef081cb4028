"""Reading a record's values as a mapping names them, testing its conditions, and writing values as typed literals.

Examples
--------
>>> from hyperontology.sources.base import Provenance, Record
>>> record = Record("csv", "registry", {"sex": "F", "size": "2,5"}, Provenance("registry.csv", "row 1"))
>>> get_value(record, ("gender", "sex")), make_literal(get_value(record, "size"), "xsd:decimal").value
('F', '2.5')
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any

import pyoxigraph as ox
from pydicom.datadict import keyword_for_tag

from hyperontology.mapping.model import When
from hyperontology.mapping.transforms import apply_transform, parse_date, parse_number
from hyperontology.sources.base import Record

XSD = "http://www.w3.org/2001/XMLSchema#"
_TAG = re.compile(r"^\(?([0-9A-Fa-f]{4}),?([0-9A-Fa-f]{4})\)?$")


def empty(value: Any) -> bool:
    """Whether a value counts as absent: None, an empty or blank text, an empty list."""
    return value is None or value == "" or value == [] or (isinstance(value, str) and not value.strip())


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [] if value is None else [value]


def holds(when: When, record: Record) -> bool:
    """Whether a condition of a mapping file holds for a record."""
    value = get_value(record, when.field)
    if when.exists is not None:
        return (not empty(value)) == when.exists
    values = [str(v).strip() for v in (value if isinstance(value, list) else [value]) if v is not None]
    if when.equals is not None:
        return str(when.equals) in values
    if when.among is not None:
        return bool({str(v) for v in when.among} & set(values))
    if when.matches is not None:
        return any(re.search(when.matches, v) for v in values)
    if when.not_matches is not None:
        return not any(re.search(when.not_matches, v) for v in values)
    return True


def get_value(record: Record, name: str | tuple[str, ...]) -> Any:
    """A DICOM keyword or tag, a FHIR path (``code.coding``, ``subject``), or a CSV column of a record.

    A tuple of names gives alternatives: the first with a value wins.
    """
    if name == "$record":  # the record's own place: file name and locator (for tables without an id column)
        return f"{record.provenance.path.rsplit('/', 1)[-1]}|{record.provenance.locator}"
    if isinstance(name, tuple):
        for alternative in name:
            value = get_value(record, alternative)
            if not empty(value):
                return value
        return None
    if record.source == "fhir":
        from hyperontology.sources.fhir import get_path

        values = get_path(dict(record.fields), name)
        return values[0] if len(values) == 1 else (values or None)
    if record.source == "dicom":
        match = _TAG.match(name)
        if match:
            name = keyword_for_tag(int(match.group(1) + match.group(2), 16)) or name
    return record.fields.get(name)


def make_literal(value: Any, datatype: str) -> ox.Literal | None:
    """A typed literal, or None when the value does not fit the datatype.

    A date whose day and month read both ways raises :class:`~hyperontology.mapping.transforms.UnusableValue`
    (its field must say which, with ``date(day-first)`` or ``date(month-first)``).
    """
    kind = datatype.removeprefix("xsd:")
    if kind == "string":
        return ox.Literal(str(value).strip())
    if kind in ("date", "dateTime"):
        iso = parse_date(value)
        if iso is None:
            return None
        return ox.Literal(iso if kind == "date" else iso + "T00:00:00", datatype=ox.NamedNode(XSD + kind))
    if kind == "boolean":
        flag = apply_transform("boolean", value) if not isinstance(value, bool) else value
        return None if flag is None else ox.Literal("true" if flag else "false", datatype=ox.NamedNode(XSD + kind))
    number = parse_number(value)
    if number is None:
        return None
    if kind == "integer":
        return ox.Literal(str(int(number)), datatype=ox.NamedNode(XSD + kind)) if number == int(number) else None
    try:
        text = str(Decimal(repr(number)).normalize()) if kind == "decimal" else repr(number)
    except InvalidOperation:
        return None
    if kind == "decimal":  # the XSD canonical form: always a decimal point
        text = format(Decimal(repr(number)).normalize(), "f")
        text = text if "." in text else text + ".0"
    return ox.Literal(text, datatype=ox.NamedNode(XSD + kind))
