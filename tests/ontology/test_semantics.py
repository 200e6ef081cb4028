"""Expansions a terminologist would sign: every defect measured on the 1.0.0 release, kept fixed.

Each test names what was wrong. The sourced fact set (``terminology_facts.tsv``) measures the same in bulk.
"""

from __future__ import annotations

import pytest

from hyperontology import Hyperontology
from hyperontology.ontology.neoplasm import Facets, compatible, defines, icd10_facets, label_behaviour


def curies(concepts: object) -> set[str]:
    return {c.curie for c in concepts}  # type: ignore[attr-defined]


def expanded(onto: Hyperontology, ref: str) -> set[str]:
    return curies(onto.expand(ref))


def same(onto: Hyperontology, a: str, b: str) -> bool:
    return b in curies(onto.equivalents(a))


# ------------------------------------------------------------------------------------ wrong members
@pytest.mark.parametrize(("query", "member"), [
    ("SCT:254637007", "NCIT:C136486"),  # lung adenocarcinoma in situ under NSCLC
    ("ICD10:C34", "NCIT:C136486"),
    ("ICD10:C50", "ICDO3:8500/2"),  # DCIS under malignant neoplasm of breast
    ("ICD10:C50", "NCIT:C2924"),
    ("ICD10:C50", "ICDO3:8500/3"),  # a site-agnostic morphology under a breast disease
    ("ICD10:C50", "ICDO3:8520/3"),
    ("ICD10:C50", "EUCAIM:CLIN1023862"),  # duct carcinoma of prostate in every breast query
    ("SCT:254838004", "NCIT:C4670"),  # carcinoma queries returned breast sarcoma
    ("ICD10:C34", "ICD10:C78.0"),  # secondary malignant neoplasm of lung
    ("SCT:255056009", "ICD10:C71"),  # head and neck reached brain and meninges
    ("NCIT:C4013", "ICD10:C70"),
    ("EUCAIM:CLIN1059399", "SCT:428061005"),
])
def test_wrong_members_are_gone(onto: Hyperontology, query: str, member: str) -> None:
    assert member not in expanded(onto, query)


def test_no_in_situ_code_under_malignant_neoplastic_disease(onto: Hyperontology) -> None:
    members = expanded(onto, "SCT:363346000")
    in_situ = [c.curie for c in onto if c.curie.startswith("ICD10:D0")]
    assert in_situ and not members & set(in_situ)


@pytest.mark.parametrize(("a", "b"), [
    ("SCT:254838004", "SCT:254837009"),  # carcinoma of breast = its parent malignant neoplasm of breast
    ("EUCAIM:CLIN1000057", "SCT:269533000"),  # malignant neoplasm of colon = carcinoma of colon
    ("NCIT:C4194", "ICDO3:8500/3"),  # breast-specific = site-agnostic
    ("ICD10:C76.1", "NCIT:C3576"),  # ill-defined thorax = malignant thoracic neoplasm
    ("ICDO3:C80.9", "SCT:52530000"),  # unknown primary site = body region structure
    ("DCM:AS", "RADLEX:RID10319"),  # angioscopy = MR angiography
    ("DCM:IVUS", "DCM:US"),
    ("NCIT:C12762", "ICDO3:C05.1"),  # oropharynx = soft palate
    ("NCIT:C136954", "SCT:1229877005"),  # pNX = ypNX
])
def test_wrong_equivalences_are_gone(onto: Hyperontology, a: str, b: str) -> None:
    assert not same(onto, a, b)
    assert not same(onto, b, a)


def test_nab_paclitaxel_is_not_an_immunologic_agent(onto: Hyperontology) -> None:
    assert "SCT:426653008" not in curies(m for _, m in onto.mappings_of("EUCAIM:CLIN1035061"))


def test_pn_codes_are_not_yp_codes(onto: Hyperontology) -> None:
    for code in ("COM1001552", "COM1001555", "COM1001559", "COM1001564", "COM1001570"):
        yp = [c for c in onto.equivalents(f"EUCAIM:{code}") if "ypN" in c.label]
        assert yp == [], code


def test_no_equivalence_set_holds_two_codes_of_one_terminology(onto: Hyperontology) -> None:
    """Except the release's duplicate classes, and a SNOMED CT morphology with the disorder it alone defines
    (Glioblastoma, morphologic abnormality and disorder), which a cohort question cannot tell apart."""
    seen: set[str] = set()
    clashes, pairs = [], 0
    for concept in onto:
        if concept.iri in seen:
            continue
        group = [concept, *onto.equivalents(concept)]
        seen.update(c.iri for c in group)
        for scheme in {c.scheme for c in group} - {"EUCAIM"}:
            codes = [c for c in group if c.scheme == scheme]
            if len(codes) == 2 and sorted(c.kind for c in codes) == ["diagnosis", "histology"]:
                pairs += 1
            elif len(codes) > 1:
                clashes.append(sorted(c.curie for c in codes))
    assert clashes == []
    assert pairs <= 10


# ------------------------------------------------------------------------------------ missed members
LUNG = ("SCT:363358000", "NCIT:C7377", "ICD10:C34", "EUCAIM:CLIN1000065")


@pytest.mark.parametrize("query", LUNG)
@pytest.mark.parametrize("member", ["SCT:254634000", "SCT:254632001", "NCIT:C3493", "NCIT:C4917", "ICD10:C34.1",
                                    "SCT:254637007", "NCIT:C3512"])
def test_lung_cancer_finds_every_lung_cancer(onto: Hyperontology, query: str, member: str) -> None:
    assert member in expanded(onto, query)


def test_squamous_cell_carcinoma_of_lung_is_a_non_small_cell_carcinoma(onto: Hyperontology) -> None:
    assert {"SCT:254634000", "NCIT:C3493"} <= expanded(onto, "SCT:254637007")
    assert {"SCT:254634000", "NCIT:C3493"} <= expanded(onto, "NCIT:C2926")


@pytest.mark.parametrize(("sct", "ncit"), [
    ("SCT:363358000", "NCIT:C7377"), ("SCT:254837009", "NCIT:C9335"), ("SCT:428061005", "NCIT:C3568"),
    ("SCT:363406005", "NCIT:C9242"), ("SCT:363351006", "NCIT:C7418"), ("SCT:399068003", "NCIT:C7378"),
])
def test_ncit_malignant_site_neoplasms_meet_snomed(onto: Hyperontology, sct: str, ncit: str) -> None:
    assert same(onto, sct, ncit)


def test_stomach_reaches_every_icd10_stomach_code_and_ncit_gastric_cancers(onto: Hyperontology) -> None:
    members = expanded(onto, "SCT:363349007")
    stomach = {c.curie for c in onto if c.curie.startswith("ICD10:C16")}
    assert len(stomach) >= 10 and stomach <= members
    assert {"NCIT:C4911", "NCIT:C4004", "NCIT:C9331"} <= members


@pytest.mark.parametrize("query", ["SCT:781382000", "NCIT:C4978", "EUCAIM:CLIN1000054", "SCT:363510005"])
def test_colorectal_includes_the_rectosigmoid_junction(onto: Hyperontology, query: str) -> None:
    assert {"ICD10:C18", "ICD10:C19", "ICD10:C20"} <= expanded(onto, query)
    assert "ICD10:C21" not in expanded(onto, query)


@pytest.mark.parametrize("query", ["SCT:255056009", "NCIT:C4013", "EUCAIM:CLIN1059399"])
def test_head_and_neck_reaches_every_icd10_head_and_neck_code(onto: Hyperontology, query: str) -> None:
    members = expanded(onto, query)
    blocks = [f"ICD10:C{n:02d}" for n in [*range(0, 15), 30, 31, 32]]
    codes = {c.curie for c in onto if any(c.curie == b or c.curie.startswith(b + ".") for b in blocks)}
    assert len(codes) > 80 and codes <= members
    assert not {"ICD10:C71", "ICD10:C70", "ICD10:C70.0"} & members


# ------------------------------------------------------------------------------------ the facets
def test_facets_of_the_main_concepts(onto: Hyperontology) -> None:
    assert onto.facets("SCT:363358000") == Facets("malignant", frozenset({"C34"}), "generic")
    assert onto.facets("ICD10:D05.1").behaviour == "in situ"
    assert onto.facets("ICDO3:8140/3").agnostic
    assert onto.facets("NCIT:C136486").behaviour == "in situ"  # NCIt files it under lung adenocarcinoma
    assert onto.facets("ICD10:C78.0").behaviour == "metastatic"


@pytest.mark.parametrize(("code", "behaviour"), [
    ("C34.1", "malignant"), ("C78.0", "metastatic"), ("D02.2", "in situ"), ("D12.6", "benign"),
    ("D48.6", "uncertain"), ("C81-C96", "malignant"), ("C76-C80", None), ("C00-C97", None), ("E11", None),
])
def test_icd10_behaviour_by_block(code: str, behaviour: str | None) -> None:
    assert icd10_facets(code).behaviour == behaviour


@pytest.mark.parametrize(("term", "behaviour"), [
    ("Lung Adenocarcinoma In Situ", "in situ"), ("Intraductal carcinoma, noninfiltrating, NOS", "in situ"),
    ("Intraductal papilloma", None), ("Secondary malignant neoplasm of lung", "metastatic"),
    ("Non-metastatic prostate cancer", "malignant"), ("Neoplasm of uncertain behavior of lung", "uncertain"),
    ("Benign neoplasm of breast", "benign"), ("Osteoblastoma, NOS", None), ("Glioblastoma", "malignant"),
    ("Adenolymphoma", None), ("Premalignant lesion", None), ("Lung Neoplasm", None),
])
def test_behaviour_from_a_preferred_term(term: str, behaviour: str | None) -> None:
    assert label_behaviour(term) == behaviour


def test_compatible_and_defines() -> None:
    lung = Facets("malignant", frozenset({"C34"}), "generic")
    assert compatible(Facets("malignant", frozenset({"C34.1"})), lung)
    assert not compatible(Facets("in situ", frozenset({"C34"})), lung)
    assert not compatible(Facets("malignant", None, "specific", agnostic=True), lung)
    assert not compatible(Facets("malignant", frozenset({"C50"})), lung)
    assert compatible(Facets("malignant", frozenset({"C30", "C34"}), bound=True), lung)  # an upper bound meets it
    assert defines(Facets("malignant", frozenset({"C34.9"}), "specific"), lung)
    assert not defines(Facets("malignant", frozenset({"C34.9"})), Facets("malignant", frozenset({"C34"}), "specific"))
    assert not defines(Facets("malignant", frozenset({"C34.9"})), Facets("malignant", frozenset({"C34"}), "generic",
                                                                         bound=True))


def test_stats_report_coverage_for_every_organ_system(onto: Hyperontology) -> None:
    from hyperontology.ontology.stats import stats

    report = stats(onto)["coverage_by_organ_system"]
    assert set(report) == {"lung", "breast", "prostate", "colorectal", "liver", "stomach", "pancreas",
                           "head and neck", "brain", "kidney", "bladder", "skin", "haematological"}
    for organ in ("lung", "breast", "prostate", "head and neck", "haematological"):
        for top, reached in report[organ]["tops"].items():
            if top.startswith(("SCT:", "NCIT:", "EUCAIM:")):
                assert reached["icd10"] == report[organ]["icd10_codes"], (organ, top)
