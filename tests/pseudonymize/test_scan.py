"""`scan` finds an input's identifiers in the store however they are written (case, spaces, name parts, order)."""

from __future__ import annotations

import pyoxigraph as ox
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hyperontology.mapping.engine import DATA
from hyperontology.pseudonymize.scan import find, identifiers, name_parts, scan_store
from hyperontology.sources.base import Provenance, Record
from hyperontology.store.oxigraph import GRAPHS, NodeStore

DICOM = Record("dicom", "instance", {"PatientID": "MRN12345", "PatientName": "DOE^JOHN", "Modality": "CT",
                                     "StudyInstanceUID": "1.2.3.4"}, Provenance("a.dcm"))
FHIR = Record("fhir", "Patient", {"resourceType": "Patient", "id": "pat-77",
                                  "name": [{"family": "Kowalczyk", "given": ["Anna", "Li"]}],
                                  "identifier": [{"value": "NHS 943 476 5919"}]}, Provenance("p.json"))
CSV = Record("csv", "patient-information", {"mrn": "AB 77", "familyName": "Berg", "givenName": "Ida Marie",
                                            "displayName": "Breast cancer", "gender": "female"}, Provenance("p.csv"))
NEEDLES = identifiers([DICOM, FHIR, CSV])
FHIR_SMITH = Record("fhir", "Patient", {"resourceType": "Patient", "id": "p9", "name": [{"family": "Smith"}]},
                    Provenance("s.json"))
SUBJECT = ox.NamedNode(DATA + "patient/0f3a9c")


def planted(text: str, graph: str = "data") -> dict[str, int]:
    """Scan a store holding ``text`` as one literal of one graph."""
    with NodeStore(None) as store:
        store.load([ox.Quad(SUBJECT, ox.NamedNode("https://w3id.org/hyperontology/cdm#note"), ox.Literal(text),
                            GRAPHS[graph])])
        return scan_store(store, NEEDLES)


def test_the_needles_are_normalised_ids_and_name_parts() -> None:
    assert {"mrn12345", "doe", "john", "pat-77", "kowalczyk", "anna", "nhs 943 476 5919", "ab 77", "berg", "ida",
            "marie", "1.2.3.4"} <= NEEDLES
    assert "li" not in NEEDLES  # a part of fewer than 3 characters identifies nobody
    assert "breast cancer" in NEEDLES and "cancer" not in NEEDLES  # a display name is no person's name: whole only
    assert "female" not in NEEDLES and "ct" not in NEEDLES


@pytest.mark.parametrize(("text", "expected"), [
    ("mrn12345", "mrn12345"),  # a lower-cased MRN
    ("id: Mrn12345.", "mrn12345"),
    ("John", "john"),  # one part of the name
    ("John Doe", "doe"),  # the name reordered
    ("doe, john", "john"),
    ("DOE^JOHN", "doe"),
    ("ab   77", "ab 77"),  # whitespace runs
    ("AB\t77", "ab 77"),
    ("nhs 943  476 5919", "nhs 943 476 5919"),
    ("Anna KOWALCZYK", "kowalczyk"),
    ("Marie-Ida Berg", "berg"),
])
def test_planted_variants_are_found(text: str, expected: str) -> None:
    for graph in ("data", "quarantine", "provenance"):
        assert expected in planted(text, graph), (text, graph)


@pytest.mark.parametrize("text", [
    "Johnson",  # a longer word holding a name part
    "a1234f mrn123456",  # an identifier inside a longer token
    "Li",  # too short to search
    "female CT",
])
def test_chance_is_not_a_hit(text: str) -> None:
    assert planted(text) == {}


def test_data_iris_are_searched_by_their_local_part_only() -> None:
    person = Record("fhir", "Patient", {"resourceType": "Patient", "id": "x1",
                                        "name": [{"family": "Patient", "given": ["Data"]}]}, Provenance("p.json"))
    needles = identifiers([person])
    with NodeStore(None) as store:
        store.load([ox.Quad(SUBJECT, ox.NamedNode("http://x/p"), ox.NamedNode(DATA + "series/77aa"), GRAPHS["data"])])
        assert scan_store(store, needles) == {}  # "patient", "data" are the mapping's words in the IRI
        store.load([ox.Quad(ox.NamedNode(DATA + "patient/patient"), ox.NamedNode("http://x/p"), ox.Literal("x"),
                            GRAPHS["data"])])
        assert scan_store(store, needles) == {"patient": 1}  # in the local part, it would be the input's


def test_a_word_the_inputs_hold_innocently_is_not_searched() -> None:
    phantom = Record("dicom", "instance", {"PatientName": "Test^Phantom", "ManufacturerModelName": "Test Model",
                                           "PatientID": "XR220", "Manufacturer": "Optima XR220"}, Provenance("t.dcm"))
    assert identifiers([phantom]) == {"phantom"}  # the store may hold "Test Model" and "Optima XR220": no proof
    described = Record("dicom", "instance", {"PatientName": "DOE^JOHN", "StudyDescription": "CT of John Doe"},
                       Provenance("d.dcm"))
    assert identifiers([described]) == {"doe", "john"}  # free text may name the patient: it explains nothing
    fhir = Record("fhir", "Condition", {"resourceType": "Condition", "code": {"text": "Smith fracture"},
                                        "subject": {"reference": "Patient/1", "display": "Jane Smith"}},
                  Provenance("c.json"))
    assert "smith" not in identifiers([fhir]) and "smith" in identifiers([fhir, FHIR_SMITH])


def test_pipeline_literals_are_not_searched() -> None:
    with NodeStore(None) as store:
        store.load([ox.Quad(SUBJECT, ox.NamedNode("https://w3id.org/hyperontology/quarantineReason"),
                            ox.Literal("value 'John' not in value map"), GRAPHS["quarantine"])])
        assert scan_store(store, NEEDLES) == {}


_NAMES = st.from_regex(r"[A-Z][a-z]{2,9}", fullmatch=True)
_IDS = st.from_regex(r"[A-Z0-9]{2,5}( [A-Z0-9]{2,5})?", fullmatch=True)


def _variant(draw: st.DrawFn, family: str, given_name: str, ident: str) -> tuple[str, str]:
    """A written variant of one identifier of the record, and the needle it must hit."""
    kind = draw(st.sampled_from(["id-case", "id-spaces", "family", "given", "reordered"]))
    if kind == "id-case":
        return draw(st.sampled_from([ident.lower(), ident.swapcase(), ident.title()])), ident.casefold()
    if kind == "id-spaces":
        return ident.replace(" ", draw(st.sampled_from(["  ", "\t", " \n "]))), ident.casefold()
    if kind == "family":
        return draw(st.sampled_from([family, family.upper(), family.lower()])), family.casefold()
    if kind == "given":
        return f"Mr {given_name.lower()} X", given_name.casefold()
    return f"{given_name} {family}", family.casefold()


@st.composite
def cases(draw: st.DrawFn) -> tuple[Record, str, str]:
    family, given_name = draw(_NAMES), draw(_NAMES)
    ident = draw(_IDS.filter(lambda s: len(s) >= 3))
    record = Record("dicom", "instance", {"PatientID": ident, "PatientName": f"{family.upper()}^{given_name.upper()}"},
                    Provenance("x.dcm"))
    text, needle = _variant(draw, family, given_name, ident)
    return record, f"seen: {text}.", needle


@settings(max_examples=150, deadline=None)
@given(cases())
def test_every_written_variant_is_found(case: tuple[Record, str, str]) -> None:
    record, text, needle = case
    needles = identifiers([record])
    assert needle in needles
    assert needle in find(needles, text)
    assert name_parts(record.fields["PatientName"]) <= needles
