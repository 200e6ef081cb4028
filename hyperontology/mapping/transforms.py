"""Named transformations that mapping files may apply: the only "code" a mapping file can reach.

A transformation takes a value (and an optional argument written ``name(arg)`` in the mapping file, and
the whole record) and returns the new value, or None when the value cannot be transformed (the engine
then reports it); it raises :class:`UnusableValue` when it can say why (an ambiguous date). Third parties add
transformations through the ``hyperontology.transforms`` entry-point group (``name = "module:function"``).
An argument a built-in cannot use (``date(dayfirst)``) is found by :func:`argument_problem` when the mapping
file is checked.

Examples
--------
>>> apply_transform("dicom_age_years", "045Y")
45.0
>>> apply_transform("date", "20200112"), apply_transform("date(day-first)", "31.10.98")
('2020-01-12', '1998-10-31')
>>> apply_transform("code(SCT)", "254637007")
'SCT:254637007'
>>> apply_transform("fhir_reference", {"reference": "Patient/123"})
'123'
>>> [apply_transform("tnm", v) for v in ("cT3", "pN1a", "cM0", "3C", "iva", "Tis")]
['TNM:T3', 'TNM:N1a', 'TNM:M0', 'TNM:IIIC', 'TNM:IVA', 'TNM:Tis']
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from datetime import date, datetime
from functools import cache
from importlib.metadata import entry_points
from typing import Any

from hyperontology.dates import Ambiguous, date_forms, form_problem, read_cell_date
from hyperontology.errors import HyperontologyError
from hyperontology.sources.fhir import reference_id

Transform = Callable[[Any, str | None, Mapping[str, Any]], Any]
_CALL = re.compile(r"^([a-z_][a-z0-9_]*)(?:\((.*)\))?$")

#: FHIR / HL7 code system URIs -> CURIE prefix of the hyperontology
SYSTEMS: Mapping[str, str] = {
    "http://snomed.info/sct": "SCT", "http://loinc.org": "LOINC", "http://hl7.org/fhir/sid/icd-10": "ICD10",
    "http://hl7.org/fhir/sid/icd-10-cm": "ICD10", "http://terminology.hl7.org/CodeSystem/icd-o-3": "ICDO3",
    "urn:oid:2.16.840.1.113883.6.43.1": "ICDO3", "http://ncicb.nci.nih.gov/xml/owl/EVS/Thesaurus.owl": "NCIT",
    "http://ncimeta.nci.nih.gov": "NCIT", "http://unitsofmeasure.org": "UCUM", "http://www.whocc.no/atc": "ATC",
    "http://dicom.nema.org/resources/ontology/DCM": "DCM", "http://radlex.org": "RADLEX",
    "http://www.radlex.org": "RADLEX", "https://cancerimage.eu/ontology/EUCAIM": "EUCAIM",
}


class TransformError(HyperontologyError):
    """A mapping names a transformation that does not exist."""


class UnusableValue(HyperontologyError):
    """A transformation cannot use a value and says why; the engine leaves the value out and reports the reason.

    ``kind`` names the problem in per-field counts (``ambiguous date``). Never escapes the mapping engine.
    """

    def __init__(self, reason: str, *, kind: str) -> None:
        super().__init__(reason)
        self.kind = kind


def _first(value: Any, arg: str | None, record: Mapping[str, Any]) -> Any:
    return value[0] if isinstance(value, list) and value else (None if isinstance(value, list) else value)


def _text(fn: Callable[[str], str]) -> Transform:
    return lambda v, a, r: fn(str(v)) if v is not None else None


def parse_date(value: Any, forms: tuple[str, ...] = ()) -> str | None:
    """ISO ``YYYY-MM-DD`` of a date read in ``forms`` (:func:`hyperontology.dates.read_cell_date`; default: ISO,
    DICOM, year first, or day and month when they read one way only), else None.

    Raises :class:`UnusableValue` for a day and month that read both ways: the mapping must say which.
    """
    if isinstance(value, datetime | date):
        return value.isoformat()[:10]
    day = read_cell_date(value, forms)
    if isinstance(day, Ambiguous):
        raise UnusableValue(f"{day}; say which with date(day-first) or date(month-first)", kind="ambiguous date")
    return None if day is None else day.isoformat()


def parse_number(value: Any) -> float | None:
    """A number from ``3,5``, ``1 234.5``, ``66.89 [in_i]``, ``12 mm``; None when there is none."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        raw: str | int | float = value
    else:
        match = re.match(r"^([-+]?\d[\d ]*(?:[.,]\d+)?(?:[eE][-+]?\d+)?)", str(value).strip().replace("\u00a0", " "))
        if not match:
            return None
        raw = match.group(1).replace(" ", "").replace(",", ".")
    try:
        number = float(raw)
    except (ValueError, OverflowError):
        return None
    return number if math.isfinite(number) else None


def _age_years(value: Any, arg: str | None, record: Mapping[str, Any]) -> float | None:
    text = str(value).strip().upper()
    match = re.fullmatch(r"(\d{1,3})([DWMY])", text)
    if not match:  # a plain number of years; "045X" or "6 months" is not one
        plain = isinstance(value, int | float) or re.fullmatch(r"[-+]?\d+(?:[.,]\d+)?", text)
        return parse_number(value) if plain else None
    per_year = {"D": 365.25, "W": 52.1775, "M": 12.0, "Y": 1.0}[match.group(2)]
    return round(int(match.group(1)) / per_year, 3)


def _boolean(value: Any, arg: str | None, record: Mapping[str, Any]) -> bool | None:
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "y", "t", "ja", "si", "oui"):
        return True
    if text in ("0", "false", "no", "n", "f", "nein", "non"):
        return False
    return None


def _code(value: Any, arg: str | None, record: Mapping[str, Any]) -> str | None:
    """``code(SCT)``: a bare code as a CURIE of the scheme named by the argument."""
    text = str(value).strip()
    return f"{arg}:{text}" if text and arg else None


def _code_from_system(value: Any, arg: str | None, record: Mapping[str, Any]) -> str | None:
    """``code_in_system(column)``: a bare code whose code-system URI is in another column of the record."""
    system = str(record.get(arg or "", "")).strip().rstrip("/")
    prefix = SYSTEMS.get(system)
    text = str(value).strip()
    return f"{prefix}:{text}" if prefix and text else None


def _fhir_reference(value: Any, arg: str | None, record: Mapping[str, Any]) -> str | None:
    """The id a FHIR Reference points to (:func:`hyperontology.sources.fhir.reference_id`)."""
    return reference_id(dict(value) if isinstance(value, Mapping) else value)


def _fhir_codes(value: Any, arg: str | None, record: Mapping[str, Any]) -> list[str] | None:
    """Codings (a CodeableConcept, a Coding, or lists of them) as CURIEs of the systems the hyperontology knows."""
    items = value if isinstance(value, list) else [value]
    out: list[str] = []
    for item in items:
        codings = item.get("coding", [item]) if isinstance(item, Mapping) else []
        for coding in codings if isinstance(codings, list) else [codings]:
            if not isinstance(coding, Mapping):
                continue
            prefix = SYSTEMS.get(str(coding.get("system", "")).rstrip("/"))
            if prefix and coding.get("code"):
                out.append(f"{prefix}:{str(coding['code']).strip()}")
    return out or None


def _fhir_code(value: Any, arg: str | None, record: Mapping[str, Any]) -> str | None:
    codes = _fhir_codes(value, arg, record)
    if not codes:
        return None
    if arg:  # prefer a system: fhir_code(SCT)
        return next((c for c in codes if c.startswith(arg + ":")), None)
    return codes[0]


def _extension(value: Any, arg: str | None, record: Mapping[str, Any]) -> Any:
    """``extension(name)``: value[x] of the extensions (from an ``extension`` list) whose url ends with ``name``."""
    items = value if isinstance(value, list) else [value]
    found = []
    for ext in items:
        if isinstance(ext, Mapping) and str(ext.get("url", "")).endswith(arg or "\0"):
            found += [v for k, v in ext.items() if k.startswith("value")]
    return found or None


def _strip_prefix(value: Any, arg: str | None, record: Mapping[str, Any]) -> Any:
    text = str(value).strip()
    return text[len(arg):] if arg and text.startswith(arg) else text


_ROMAN = {"1": "I", "2": "II", "3": "III", "4": "IV", "0": "0"}


def _tnm(value: Any, arg: str | None, record: Mapping[str, Any]) -> str | None:
    """``cT3`` / ``pN1a`` / ``ypM0`` / ``T2`` -> ``TNM:T3`` ...

    Stage groups ``3C`` / ``IIIC`` / ``iva`` -> ``TNM:IIIC``.
    """
    text = str(value).strip()
    match = re.fullmatch(r"(?:y?[cpra]{0,2})([TNM](?:is|X|x|\d)[a-dA-D0-9()]*)", text)
    if match:
        category = match.group(1)
        suffix = category[1:].lower()
        return f"TNM:{category[0]}{'X' if suffix == 'x' else suffix}"
    match = re.fullmatch(r"(?i)(?:stage\s*)?([0-4]|IV|III|II|I|0)([a-c]?)", text)
    if match:
        group = _ROMAN.get(match.group(1), match.group(1).upper())
        return f"TNM:{group}{match.group(2).upper()}"
    return None


BUILTINS: Mapping[str, Transform] = {
    "strip": _text(str.strip), "upper": _text(str.upper), "lower": _text(str.lower), "first": _first,
    "date": lambda v, a, r: parse_date(v, date_forms(a)), "number": lambda v, a, r: parse_number(v),
    "integer": lambda v, a, r: None if (n := parse_number(v)) is None else int(n),
    "dicom_age_years": _age_years, "boolean": _boolean, "code": _code, "code_in_system": _code_from_system,
    "fhir_reference": _fhir_reference, "fhir_codes": _fhir_codes, "fhir_code": _fhir_code,
    "join": lambda v, a, r: (a or "\\").join(map(str, v)) if isinstance(v, list) else v,
    "prefix": lambda v, a, r: f"{a}{v}" if v is not None else None,
    "strip_prefix": _strip_prefix, "extension": _extension, "tnm": _tnm,
}


@cache
def registry() -> Mapping[str, Transform]:
    """Built-in transformations plus those of installed plugins (entry-point group ``hyperontology.transforms``)."""
    found: dict[str, Transform] = dict(BUILTINS)
    for ep in entry_points(group="hyperontology.transforms"):
        found.setdefault(ep.name, ep.load())
    return found


def names() -> set[str]:
    return set(registry())


#: built-ins whose argument is checked with the mapping file: name -> why an argument is unusable (or None)
ARGUMENT_CHECKS: Mapping[str, Callable[[str | None], str | None]] = {"date": form_problem}


def argument_problem(spec: str) -> str | None:
    """Why the argument of a transformation call cannot be used, or None (also for names it does not know).

    Examples
    --------
    >>> argument_problem("date(%d/%m/%y)") is None, argument_problem("date(%d/%m)")
    (True, "'%d/%m' reads no year (%Y or %y)")
    """
    try:
        name, arg = split_call(spec)
    except TransformError as exc:
        return str(exc)
    check = ARGUMENT_CHECKS.get(name)
    return None if check is None else check(arg)


def split_call(spec: str) -> tuple[str, str | None]:
    match = _CALL.match(spec.strip())
    if not match:
        raise TransformError(f"not a transformation call: {spec!r}")
    return match.group(1), match.group(2)


def apply_transform(spec: str, value: Any, record: Mapping[str, Any] | None = None) -> Any:
    """Apply one transformation (``name`` or ``name(arg)``) to a value."""
    name, arg = split_call(spec)
    fn = registry().get(name)
    if fn is None:
        raise TransformError(f"unknown transformation {name!r}")
    return fn(value, arg, record or {})
