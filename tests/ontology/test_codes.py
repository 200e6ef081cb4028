from hypothesis import given
from hypothesis import strategies as st

from hyperontology.ontology.codes import loinc_ok, valid, verhoeff_ok


def test_real_codes_are_valid() -> None:
    for scheme, code in [("SCT", "363358000"), ("SCT", "1730561000004108"), ("LOINC", "2857-1"),
                         ("LOINC", "100761-6"), ("NCIT", "C2926"), ("RADLEX", "RID10312"), ("ATC", "L01XA01"),
                         ("ICD10", "C34.1"), ("ICD10", "C30-C39"), ("ICDO3", "8140/3"), ("ICDO3", "C34.1")]:
        assert valid(scheme, code), (scheme, code)


def test_release_defects_are_invalid() -> None:
    assert not valid("SCT", "1.0826E+15")  # the release's corrupted id (CLIN1041663)
    assert not valid("LOINC", "LP7138-3")  # a LOINC part code, not a term
    assert not valid("LOINC", "LG51306-5")
    assert not valid("ICDO3", "814-838")


def _check_digit(body: str) -> str:
    return next(d for d in "0123456789" if verhoeff_ok(body + d))


@given(st.text(alphabet="0123456789", min_size=5, max_size=17), st.data())
def test_verhoeff_catches_every_single_digit_error(body: str, data: st.DataObject) -> None:
    code = body + _check_digit(body)
    pos = data.draw(st.integers(0, len(code) - 1))
    wrong = data.draw(st.sampled_from([d for d in "0123456789" if d != code[pos]]))
    assert verhoeff_ok(code)
    assert not verhoeff_ok(code[:pos] + wrong + code[pos + 1:])


@given(st.text(alphabet="0123456789", min_size=1, max_size=6), st.data())
def test_loinc_check_digit_catches_single_digit_errors(body: str, data: st.DataObject) -> None:
    digit = next(d for d in "0123456789" if loinc_ok(f"{body}-{d}"))
    other = data.draw(st.sampled_from([d for d in "0123456789" if d != digit]))
    assert not loinc_ok(f"{body}-{other}")
