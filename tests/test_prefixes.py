import pytest

from hyperontology import PREFIXES, UnknownPrefixError
from hyperontology.prefixes import curie_to_iri, iri_to_curie

REQUIRED = {
    "EUCAIM": "https://cancerimage.eu/ontology/EUCAIM#",
    "SCT": "http://snomed.info/id/",
    "NCIT": "http://purl.obolibrary.org/obo/NCIT_",
    "LOINC": "http://loinc.org/rdf#",
    "DCM": "http://dicom.nema.org/resources/ontology/DCM/",
    "RADLEX": "http://radlex.org/RID/",
}


@pytest.mark.parametrize(("prefix", "namespace"), REQUIRED.items())
def test_required_prefixes(prefix: str, namespace: str) -> None:
    assert PREFIXES[prefix] == namespace


def test_well_known_prefixes_present() -> None:
    assert {"cdm", "ICD10", "ICDO3", "ATC", "UCUM", "TNM"} <= set(PREFIXES)


def test_prefixes_are_read_only() -> None:
    with pytest.raises(TypeError):
        PREFIXES["X"] = "http://example.org/"  # type: ignore[index]


@pytest.mark.parametrize("curie", ["SCT:254637007", "ICDO3:8140/3", "UCUM:mg/dL", "UCUM:[hnsf'U]",
                                   "EUCAIM:CLIN1000065", "cdm:Patient", "RADLEX:RID10312"])
def test_curie_round_trip(curie: str) -> None:
    assert iri_to_curie(curie_to_iri(curie)) == curie


def test_unit_codes_are_iri_safe() -> None:
    assert curie_to_iri("UCUM:[hnsf'U]") == "http://unitsofmeasure.org/%5Bhnsf%27U%5D"


def test_unknown_prefix_is_a_clear_error() -> None:
    with pytest.raises(UnknownPrefixError, match="NOPE"):
        curie_to_iri("NOPE:1")
    assert iri_to_curie("http://example.org/x") is None
