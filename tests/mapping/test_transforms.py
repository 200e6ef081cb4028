"""Named transformations: the normal case and a value each cannot handle (None, never an exception)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hyperontology.mapping.transforms import BUILTINS, TransformError, apply_transform, names, split_call

SNOMED = "http://snomed.info/sct"
CONDITION_CODE = {
    "coding": [
        {"system": SNOMED, "code": "254637007", "display": "Non-small cell lung cancer"},
        {"system": "http://hl7.org/fhir/sid/icd-10-cm/", "code": " C34.1 "},
        {"system": "http://example.org/local-codes", "code": "LUNG-7"},
    ],
    "text": "NSCLC",
}
LATERALITY_URL = "http://hl7.org/fhir/us/mcode/StructureDefinition/mcode-laterality"

# (transformation call, value, expected result); a record for code_in_system is RECORD below
CASES: list[tuple[str, Any, Any]] = [
    ("strip", "  a b ", "a b"),
    ("upper", "ct", "CT"),
    ("lower", "MR", "mr"),
    ("first", ["a", "b"], "a"),
    ("first", "a", "a"),
    ("date", "2020-01-12", "2020-01-12"),
    ("date", "20200112", "2020-01-12"),
    ("date(day-first)", "12/01/2020", "2020-01-12"),  # without the form, 12/01/2020 reads two ways
    ("date(day-first)", "12.01.2020", "2020-01-12"),
    ("date(day-first)", "12-01-2020", "2020-01-12"),
    ("date", "2020/01/12", "2020-01-12"),
    ("date", "2020-01-12T10:11:12+01:00", "2020-01-12"),
    ("date", date(2020, 1, 12), "2020-01-12"),
    ("date", datetime(2020, 1, 12, 8, 30), "2020-01-12"),
    ("number", "3,5", 3.5),
    ("number", "1 234.5", 1234.5),
    ("number", "1\u00a0234,5", 1234.5),
    ("number", "66.89 [in_i]", 66.89),
    ("number", "12 mm", 12.0),
    ("number", "-1.5e3", -1500.0),
    ("number", 7, 7.0),
    ("integer", "42", 42),
    ("integer", "4,0 cm", 4),
    ("dicom_age_years", "045Y", 45.0),
    ("dicom_age_years", "006M", 0.5),
    ("dicom_age_years", "010D", 0.027),
    ("dicom_age_years", "052W", 0.997),
    ("dicom_age_years", "45", 45.0),
    ("boolean", "yes", True),
    ("boolean", " TRUE ", True),
    ("boolean", "ja", True),
    ("boolean", "1", True),
    ("boolean", "no", False),
    ("boolean", "0", False),
    ("boolean", "F", False),
    ("code(SCT)", " 254637007 ", "SCT:254637007"),
    ("code(ICDO3)", "8140/3", "ICDO3:8140/3"),
    ("code_in_system(system)", "254637007", "SCT:254637007"),
    ("fhir_reference", "Patient/123", "123"),
    ("fhir_reference", {"reference": "Patient/123", "display": "Jane"}, "123"),
    ("fhir_reference", "urn:uuid:129c6ac7-8d06-89de-ad63-0204a93e76c3", "129c6ac7-8d06-89de-ad63-0204a93e76c3"),
    ("fhir_reference", "http://example.org/fhir/Patient/123/_history/2", "123"),
    ("fhir_reference", {"reference": "#contained-1"}, "contained-1"),
    ("fhir_codes", CONDITION_CODE, ["SCT:254637007", "ICD10:C34.1"]),
    ("fhir_codes", [CONDITION_CODE, {"system": "http://loinc.org", "code": "2857-1"}],
     ["SCT:254637007", "ICD10:C34.1", "LOINC:2857-1"]),
    ("fhir_code", CONDITION_CODE, "SCT:254637007"),
    ("fhir_code(ICD10)", CONDITION_CODE, "ICD10:C34.1"),
    ("extension(mcode-laterality)",
     [{"url": LATERALITY_URL, "valueCodeableConcept": CONDITION_CODE}, {"url": "http://x/other", "valueString": "y"}],
     [CONDITION_CODE]),
    ("extension(other)", {"url": "http://x/other", "valueString": "y"}, ["y"]),
    ("strip_prefix(MRN-)", " MRN-0042 ", "0042"),
    ("strip_prefix(MRN-)", "0042", "0042"),
    ("join", ["ORIGINAL", "PRIMARY"], "ORIGINAL\\PRIMARY"),
    ("join(-)", ["a", 1], "a-1"),
    ("join", "x", "x"),
    ("prefix(P-)", "1", "P-1"),
    ("tnm", "cT3", "TNM:T3"),
    ("tnm", "pN1a", "TNM:N1a"),
    ("tnm", "ypM0", "TNM:M0"),
    ("tnm", "T2", "TNM:T2"),
    ("tnm", "TX", "TNM:TX"),
    ("tnm", "Nx", "TNM:NX"),
    ("tnm", "Tis", "TNM:Tis"),
    ("tnm", "3C", "TNM:IIIC"),
    ("tnm", "iva", "TNM:IVA"),
    ("tnm", "IIIB", "TNM:IIIB"),
    ("tnm", "Stage IIA", "TNM:IIA"),
    ("tnm", "0", "TNM:0"),
]

# (transformation call, a value it cannot handle): the result is None
UNUSABLE: list[tuple[str, Any]] = [
    ("strip", None),
    ("upper", None),
    ("lower", None),
    ("first", []),
    ("date", "not a date"),
    ("date", "2020-13-40"),
    ("date", "31/02/2020"),
    ("number", "abc"),
    ("number", True),
    ("number", "1e999"),
    ("number", 10**400),
    ("number", float("nan")),
    ("integer", "x"),
    ("integer", "1e999"),
    ("dicom_age_years", "old"),
    ("dicom_age_years", "045X"),
    ("dicom_age_years", "6 months"),
    ("boolean", "maybe"),
    ("boolean", None),
    ("code(SCT)", "   "),
    ("code", "254637007"),  # no code system named
    ("code_in_system(system)", "L1"),  # with the local system of OTHER_RECORD
    ("fhir_reference", "Patient?identifier=http://hospital.example/mrn|123"),  # conditional: names no id
    ("fhir_reference", {"display": "Jane"}),
    ("fhir_reference", "   "),
    ("fhir_reference", 5),
    ("fhir_codes", {"coding": [{"system": "http://example.org/local-codes", "code": "LUNG-7"}]}),
    ("fhir_codes", {"text": "lung cancer"}),
    ("fhir_codes", "SCT:254637007"),
    ("fhir_code", {"coding": [{"system": "http://example.org/local-codes", "code": "LUNG-7"}]}),
    ("fhir_code(LOINC)", CONDITION_CODE),
    ("extension(mcode-laterality)", [{"url": "http://x/other", "valueString": "y"}]),
    ("extension(mcode-laterality)", "not an extension"),
    ("prefix(P-)", None),
    ("tnm", "garbage"),
    ("tnm", "cT3 N0 M0"),
    ("tnm", "T9x!"),
    ("tnm", "V"),
    ("tnm", ""),
]
RECORD = {"system": SNOMED + "/"}
OTHER_RECORD = {"system": "http://example.org/local-codes"}


def builtin(spec: str) -> str:
    return split_call(spec)[0]


def test_every_builtin_has_cases() -> None:
    normal = {builtin(spec) for spec, _, _ in CASES}
    unusable = {builtin(spec) for spec, _ in UNUSABLE} | {"join", "strip_prefix"}  # these pass any value through
    assert normal == set(BUILTINS)
    assert unusable == set(BUILTINS)
    assert set(BUILTINS) <= names()


@pytest.mark.parametrize(("spec", "value", "expected"), CASES, ids=[f"{c[0]}:{c[1]!r}"[:60] for c in CASES])
def test_normal_case(spec: str, value: Any, expected: Any) -> None:
    assert apply_transform(spec, value, RECORD) == expected


@pytest.mark.parametrize(("spec", "value"), UNUSABLE, ids=[f"{c[0]}:{c[1]!r}"[:60] for c in UNUSABLE])
def test_unusable_value_gives_none(spec: str, value: Any) -> None:
    assert apply_transform(spec, value, OTHER_RECORD) is None


def test_code_in_system_needs_the_column() -> None:
    assert apply_transform("code_in_system(system)", "254637007", {}) is None
    assert apply_transform("code_in_system(codeSystem)", "C34.1", {"codeSystem": "http://hl7.org/fhir/sid/icd-10"}) \
        == "ICD10:C34.1"


def test_unknown_transformation() -> None:
    with pytest.raises(TransformError, match="unknown transformation 'frobnicate'"):
        apply_transform("frobnicate", "x")
    with pytest.raises(TransformError, match="not a transformation call"):
        apply_transform("Bad Name(", "x")


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3)
    | st.dictionaries(st.sampled_from(["coding", "system", "code", "reference", "url", "valueString", "x"]) | st.text(),
                      inner, max_size=3),
    max_leaves=8,
)
ARGS = st.none() | st.text(max_size=8) | st.sampled_from(["SCT", "system", "mcode-laterality"])


@settings(max_examples=300, deadline=None)
@given(name=st.sampled_from(sorted(BUILTINS)), value=JSON, arg=ARGS,
       record=st.dictionaries(st.text(max_size=8) | st.just("system"), JSON, max_size=3))
def test_no_builtin_raises(name: str, value: Any, arg: str | None, record: dict[str, Any]) -> None:
    BUILTINS[name](value, arg, record)
