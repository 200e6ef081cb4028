"""What the hyperontology holds: the explorer's codes, real labels, coverage and counts."""

from __future__ import annotations

import re

import pytest
from pydicom.sr._concepts_dict import concepts as ps316

from hyperontology import Hyperontology
from hyperontology.ontology.sources import split_semantic_tag
from hyperontology.ontology.stats import stats

# codes the EUCAIM federated search explorer sends today, with a word of their meaning
EXPLORER = {
    "SCT:263495000": "gender", "SCT:439401001": "diagnosis", "SCT:123037004": "body structure",
    "SCT:248153007": "male", "SCT:248152002": "female", "SCT:74964007": "other", "SCT:261665006": "unknown",
    "SCT:363358000": "lung", "SCT:254837009": "breast", "SCT:399068003": "prostate", "SCT:363406005": "colon",
    "SCT:363484005": "pelvis", "SCT:39607008": "lung", "SCT:76752008": "breast", "SCT:41216001": "prostat",
    "SCT:71854001": "colon", "SCT:12921003": "pelvi", "RADLEX:RID10311": "imaging modality",
    "RADLEX:RID10312": "magnetic resonance", "RADLEX:RID10321": "computed tomography",
    "RADLEX:RID10337": "positron emission", "RADLEX:RID10334": "single photon", "NCIT:C25392": "manufacturer",
    "BIRNLEX:birnlex_3066": "siemens", "BIRNLEX:birnlex_12833": "general electric",
    "BIRNLEX:birnlex_3065": "philips", "BIRNLEX:birnlex_3067": "toshiba",
}


@pytest.mark.parametrize(("curie", "word"), EXPLORER.items())
def test_explorer_codes_have_their_real_meaning(onto: Hyperontology, curie: str, word: str) -> None:
    concept = onto.concept(curie)
    assert word in " ".join([concept.label, *concept.synonyms]).lower()


@pytest.mark.parametrize(("radlex", "dicom"), [("RID10312", "MR"), ("RID10321", "CT"), ("RID10337", "PT"),
                                               ("RID10334", "ST")])
def test_explorer_modalities_map_to_dicom_modality_codes(onto: Hyperontology, radlex: str, dicom: str) -> None:
    assert f"DCM:{dicom}" in {c.curie for c in onto.equivalents(f"RADLEX:{radlex}")}


def _ps316(designator: str) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for entries in ps316[designator].values():
        for code, (meaning, _) in entries.items():  # type: ignore[attr-defined]
            out.setdefault(code, set()).add(split_semantic_tag(meaning)[0])  # tags are kept apart from labels
    return out


@pytest.mark.parametrize(("scheme", "designator"), [("DCM", "DCM"), ("SCT", "SCT"), ("LOINC", "LN")])
def test_labels_agree_with_ps316_where_it_holds_the_code(onto: Hyperontology, scheme: str, designator: str) -> None:
    meanings = _ps316(designator)
    checked = 0
    for concept in onto:
        if concept.scheme == scheme and concept.code in meanings:
            names = {concept.label, *concept.synonyms}
            assert names & meanings[concept.code], concept
            checked += 1
    assert checked > 50


def test_labels_are_the_terminologys_own_terms(onto: Hyperontology) -> None:
    """PS3.16 context meanings are not labels; codes are never labels; semantic tags are not part of labels."""
    assert onto.concept("SCT:64033007").label == "Kidney"  # PS3.16 "Endo-renal" only as an ultrasound approach
    assert onto.concept("SCT:427685000").label == "Human epidermal growth factor 2 positive carcinoma of breast"
    assert onto.concept("SCT:431396003").label == "Human epidermal growth factor 2 negative carcinoma of breast"
    assert onto.concept("SCT:261570006").label != "CLIN1014761"
    tagged = [c.curie for c in onto if c.scheme == "SCT" and split_semantic_tag(c.label)[1]]
    assert tagged == []
    eucaim_code = re.compile(r"(CLIN|COM|BP|IMG|GEN|SPEC|COR)\d+")
    coded = [c.curie for c in onto if c.scheme != "EUCAIM" and eucaim_code.fullmatch(c.label)]
    assert coded == []


def test_counts_meet_the_targets(onto: Hyperontology) -> None:
    figures = stats(onto)
    assert figures["concepts"]["EUCAIM"] == 3991
    assert figures["standard_concepts"] >= 4000
    assert len(figures["terminologies"]) == 10
    assert figures["cancer_diagnoses_histologies"]["total"] >= 600
    assert all(figures["cancer_diagnoses_histologies"][s] > 0 for s in ("SCT", "ICD10", "ICDO3", "NCIT"))
    assert figures["mappings"]["cross_terminology"] >= 3000
    assert figures["eucaim_classes_linked_to"]["SCT"] >= 2200


@pytest.mark.parametrize("site", ["breast", "prostate", "lung", "colon", "pancreas", "liver", "kidney", "brain",
                                  "head and neck", "ovary", "cervix", "melanoma", "lymphoma", "bladder", "stomach",
                                  "esophag", "thyroid", "rectum"])
def test_cancer_coverage(onto: Hyperontology, site: str) -> None:
    cancers = [c for c in onto if c.kind in ("diagnosis", "histology") and site in c.label.lower()]
    assert {c.scheme for c in cancers} & {"NCIT", "SCT", "ICD10"}, site


def test_main_systemic_drugs_and_markers(onto: Hyperontology) -> None:
    assert onto.concept("ATC:L01XA01").label.lower() == "cisplatin"
    assert onto.concept("ATC:L02BA01").label.lower() == "tamoxifen"
    assert "prostate specific" in onto.concept("LOINC:2857-1").label.lower()
    assert onto.concept("UCUM:mm").scheme == "UCUM"
    assert onto.concept("TNM:T1").scheme == "TNM"
