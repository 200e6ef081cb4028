"""UCUM unit conversion."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hyperontology.mapping.units import _UNITS, convert, known


@pytest.mark.parametrize(
    ("value", "source", "target", "expected"),
    [
        (1.5, "cm", "mm", 15.0),
        (15, "mm", "cm", 1.5),
        (2.5, "m", "mm", 2500.0),
        (7000, "cGy", "Gy", 70.0),
        (2, "Gy", "cGy", 200.0),
        (1500, "mGy", "Gy", 1.5),
        (250, "mA.s", "mA.s", 250.0),
        (1000, "uA.s", "mA.s", 1.0),
        (10, "[in_i]", "cm", 25.4),
        (1, "[ft_i]", "[in_i]", 12.0),
        (90, "min", "h", 1.5),
        (1, "d", "h", 24.0),
        (2, "wk", "d", 14.0),
        (1, "a", "d", 365.25),
        (1, "a", "mo", 12.0),
        (1500, "ms", "s", 1.5),
        (1, "[lb_av]", "g", 453.59237),
        (1, "mCi", "MBq", 37.0),
        (1000, "mm3", "cm3", 1.0),
        (1, "mL", "cm3", 1.0),
        (1, "mg/dL", "g/L", 0.01),
        (35, "U/mL", "kU/L", 35.0),
        (45, "%", "1", 0.45),
        (1.234567, "ug", "kg", 1.234567e-9),
        (1, "ms", "a", 1e-3 / 31557600),
    ],
)
def test_convert(value: float, source: str, target: str, expected: float) -> None:
    result = convert(value, source, target)
    assert result is not None
    assert math.isclose(result, expected, rel_tol=1e-12)
    assert isinstance(result, float)


@pytest.mark.parametrize(
    ("source", "target"),
    [("cm", "Gy"), ("kg", "mm"), ("mA.s", "mA"), ("s", "m"), ("U/L", "g/L"), ("mL", "cm"), ("cm", "furlong"),
     ("parsec", "m"), ("", "mm"), ("CM", "mm")],
)
def test_incompatible_or_unknown_units(source: str, target: str) -> None:
    assert convert(1.0, source, target) is None


def test_same_unit_needs_no_table() -> None:
    assert convert(3, "furlong", "furlong") == 3.0
    assert known("mm") and known("[in_i]") and not known("furlong")


UNITS = sorted(_UNITS)
PAIRS = st.sampled_from([(a, b) for a in UNITS for b in UNITS if _UNITS[a][0] == _UNITS[b][0]])


@given(PAIRS, st.floats(min_value=1e-6, max_value=1e6) | st.floats(min_value=-1e6, max_value=-1e-6))
def test_round_trip(pair: tuple[str, str], value: float) -> None:
    a, b = pair
    there = convert(value, a, b)
    assert there is not None
    back = convert(there, b, a)
    assert back is not None
    assert math.isclose(back, value, rel_tol=1e-9)
