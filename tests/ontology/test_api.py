"""Look-up, hierarchy, equivalents and expansion on the bundled hyperontology."""

from __future__ import annotations

import pytest

from hyperontology import Hyperontology, UnknownConceptError


def curies(concepts) -> set[str]:  # type: ignore[no-untyped-def]
    return {c.curie for c in concepts}


def test_concept_fields(onto: Hyperontology) -> None:
    c = onto.concept("SCT:254637007")
    assert (c.iri, c.curie) == ("http://snomed.info/id/254637007", "SCT:254637007")
    assert (c.code, c.scheme) == ("254637007", "SCT")
    assert c.label == "Non-small cell lung cancer"
    assert "NSCLC" in onto.concept("NCIT:C2926").synonyms


@pytest.mark.parametrize(("ref", "curie"), [
    ("SCT:363358000", "SCT:363358000"), ("http://snomed.info/id/363358000", "SCT:363358000"),
    ("SNOMEDCT363358000", "SCT:363358000"), ("RID10312", "RADLEX:RID10312"), ("C2926", "NCIT:C2926"),
    ("birnlex_3066", "BIRNLEX:birnlex_3066"), ("CLIN1000065", "EUCAIM:CLIN1000065"),
    ("EUCAIM_Hyper-Ontology_V1.0.CLIN1045815", "EUCAIM:CLIN1045815"), ("ICDO3:8140/3", "ICDO3:8140/3"),
    ("UCUM:mg/dL", "UCUM:mg/dL"),
])
def test_reference_forms(onto: Hyperontology, ref: str, curie: str) -> None:
    assert onto.concept(ref).curie == curie
    assert ref in onto


def test_unknown_concept_is_a_clear_error_with_suggestions(onto: Hyperontology) -> None:
    with pytest.raises(UnknownConceptError, match="SCT:999999999"):
        onto.concept("SCT:999999999")
    with pytest.raises(UnknownConceptError, match="did you mean"):
        onto.concept("Lung adenocarcinoma")
    with pytest.raises(KeyError):  # also a KeyError, for dict-like callers
        onto.concept("NOPE:1")
    assert "NOPE:1" not in onto


def test_icd10_and_icdo3_topography_are_kept_apart(onto: Hyperontology) -> None:
    assert "neoplasm" in onto.concept("ICD10:C34.1").label.lower()
    assert "neoplasm" not in onto.concept("ICDO3:C34.1").label.lower()
    assert onto.concept("ICD10:C34.1").iri != onto.concept("ICDO3:C34.1").iri


def test_hierarchy(onto: Hyperontology) -> None:
    assert "ICD10:C34" in curies(onto.parents("ICD10:C34.1"))
    assert {"ICD10:C34", "ICD10:C30-C39", "ICD10:II"} <= curies(onto.ancestors("ICD10:C34.1"))
    assert "ICD10:C34.1" in curies(onto.descendants("ICD10:C34"))
    assert "NCIT:C3512" in curies(onto.descendants("NCIT:C2926"))
    assert "NCIT:C2926" in curies(onto.ancestors("NCIT:C3512"))
    assert "NCIT:C3512" in curies(onto.children("NCIT:C2926"))


def test_equivalents_cross_terminologies_both_ways(onto: Hyperontology) -> None:
    # Malignant tumor of lung = Malignant Lung Neoplasm (Mondo MONDO:0008903), never the narrower Lung Carcinoma
    assert {"EUCAIM:CLIN1000065", "NCIT:C7377"} <= curies(onto.equivalents("SCT:363358000"))
    assert "NCIT:C4878" not in curies(onto.equivalents("SCT:363358000"))
    assert "NCIT:C4878" in curies(onto.expand("SCT:363358000"))
    assert "SCT:363358000" in curies(onto.equivalents("EUCAIM:CLIN1000065"))
    assert "DCM:CT" in curies(onto.equivalents("RADLEX:RID10321"))
    assert "RADLEX:RID10321" in curies(onto.equivalents("EUCAIM:IMG1000042"))


LUNG = {"SCT:254637007", "SCT:254626006", "NCIT:C2926", "NCIT:C3512", "ICD10:C34", "ICD10:C34.1", "ICD10:C34.9"}


@pytest.mark.parametrize("start", ["SCT:363358000", "EUCAIM:CLIN1000065", "SNOMEDCT363358000"])
def test_expand_lung_cancer_reaches_nsclc_adenocarcinoma_and_icd10(onto: Hyperontology, start: str) -> None:
    expanded = curies(onto.expand(start))
    assert expanded >= LUNG


def test_expand_stays_within_its_meaning(onto: Hyperontology) -> None:
    labels = [c.label.lower() for c in onto.expand("SCT:363358000")]
    assert not [x for x in labels if any(w in x for w in ("breast", "prostat", "colon", "kidney", "skin"))]
    assert "SCT:363358000" not in curies(onto.expand("SCT:254637007"))  # broader concepts are not reached


def test_expand_modality_meets_dicom_codes(onto: Hyperontology) -> None:
    assert {"DCM:MR", "EUCAIM:IMG1000038"} <= curies(onto.expand("RID10312"))
    assert "DCM:CT" in curies(onto.expand("RID10321"))
    assert "DCM:PT" in curies(onto.expand("RID10337"))


def test_mappings_of_reads_from_the_concepts_side(onto: Hyperontology) -> None:
    rels = {(rel, c.curie) for rel, c in onto.mappings_of("SCT:363358000")}
    assert ("narrow", "ICD10:C34") in rels
    assert ("broad", "SCT:363358000") in {(rel, c.curie) for rel, c in onto.mappings_of("ICD10:C34")}


def test_similarity(onto: Hyperontology) -> None:
    assert onto.similarity("SCT:363358000", "EUCAIM:CLIN1000065") == 1.0  # exact matches are one node
    near = onto.similarity("NCIT:C3512", "NCIT:C4917")  # two lung carcinomas
    far = onto.similarity("NCIT:C3512", "UCUM:mm")
    assert 0.0 <= far < near < 1.0
    assert onto.similarity("NCIT:C3512", "NCIT:C4917") == onto.similarity("NCIT:C4917", "NCIT:C3512")
