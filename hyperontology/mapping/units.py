"""Conversion between the UCUM units that cancer-imaging and clinical data use.

Examples
--------
>>> convert(1.5, "cm", "mm")
15.0
>>> convert(7000, "cGy", "Gy")
70.0
>>> convert(1, "kg", "mm") is None
True
"""

from __future__ import annotations

# unit -> (dimension, factor to the dimension's base unit)
_UNITS: dict[str, tuple[str, float]] = {
    "m": ("length", 1.0), "cm": ("length", 1e-2), "mm": ("length", 1e-3), "um": ("length", 1e-6),
    "[in_i]": ("length", 0.0254), "[ft_i]": ("length", 0.3048),
    "kg": ("mass", 1.0), "g": ("mass", 1e-3), "mg": ("mass", 1e-6), "ug": ("mass", 1e-9),
    "[lb_av]": ("mass", 0.45359237),
    "s": ("time", 1.0), "ms": ("time", 1e-3), "us": ("time", 1e-6), "min": ("time", 60.0), "h": ("time", 3600.0),
    "d": ("time", 86400.0), "wk": ("time", 604800.0), "mo": ("time", 2629800.0), "a": ("time", 31557600.0),
    "Gy": ("dose", 1.0), "cGy": ("dose", 1e-2), "mGy": ("dose", 1e-3),
    "T": ("field", 1.0), "mT": ("field", 1e-3), "kV": ("voltage", 1e3), "V": ("voltage", 1.0),
    "mA": ("current", 1e-3), "A": ("current", 1.0), "mA.s": ("charge", 1e-3), "uA.s": ("charge", 1e-6),
    "Bq": ("activity", 1.0), "MBq": ("activity", 1e6), "mCi": ("activity", 3.7e7),
    "L": ("volume", 1e-3), "mL": ("volume", 1e-6), "cm3": ("volume", 1e-6), "mm3": ("volume", 1e-9),
    "ng/mL": ("mass-concentration", 1e-6), "ug/L": ("mass-concentration", 1e-6), "mg/dL": ("mass-concentration", 1e-2),
    "g/dL": ("mass-concentration", 10.0), "g/L": ("mass-concentration", 1.0),
    "U/mL": ("arbitrary-concentration", 1e3), "U/L": ("arbitrary-concentration", 1.0),
    "kU/L": ("arbitrary-concentration", 1e3),
    "mmol/L": ("substance-concentration", 1.0), "umol/L": ("substance-concentration", 1e-3),
    "%": ("ratio", 1e-2), "1": ("ratio", 1.0),
}


def known(unit: str) -> bool:
    return unit in _UNITS


def convert(value: float, source: str, target: str) -> float | None:
    """``value`` in ``source`` units expressed in ``target`` units; None when the units do not convert."""
    if source == target:
        return float(value)
    a, b = _UNITS.get(source), _UNITS.get(target)
    if a is None or b is None or a[0] != b[0]:
        return None
    return float(f"{float(value) * a[1] / b[1]:.12g}")  # 12 significant digits: drops float noise only
