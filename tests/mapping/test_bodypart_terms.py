"""The shipped dicom-bodypart value map knows DICOM's own Body Part Examined Defined Terms (PS3.16 Annex L).

Real headers carry the upper-case Defined Terms (CHEST, HEAD, CSPINE, WHOLEBODY...), not the lower-case organ
names of the infrastructure's ETL lookup. Each term must reach the body structure the project already uses for
that site: the EUCAIM class whose SNOMED CT annotation is the code PS3.16 CID 4031 gives the region (pydicom
ships CID 4031), else the SNOMED CT concept itself.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from pydicom.sr.codedict import codes

from hyperontology import Hyperontology, load_ontology
from hyperontology.mapping.valuemaps import read_valuemap

BODYPART = Path(__file__).resolve().parents[2] / "mappings" / "valuemaps" / "dicom-bodypart.sssom.tsv"

# Defined Term -> (CID 4031 keyword in pydicom, the concept it must map to)
COMMON = {
    "HEAD": ("Head", "EUCAIM:BP1000120"),
    "NECK": ("Neck", "EUCAIM:BP1000121"),
    "HEADNECK": ("HeadAndNeck", "EUCAIM:BP1000008"),
    "CHEST": ("Chest", "EUCAIM:BP1000126"),
    "ABDOMEN": ("Abdomen", "EUCAIM:BP1000087"),
    "PELVIS": ("Pelvis", "EUCAIM:BP1000238"),
    "ABDOMENPELVIS": ("AbdomenAndPelvis", "EUCAIM:BP1000094"),
    "CHESTABDOMEN": ("ChestAndAbdomen", "EUCAIM:BP1000183"),
    "CHESTABDPELVIS": ("ChestAbdomenAndPelvis", "EUCAIM:BP1000154"),
    "CSPINE": ("CervicalSpine", "EUCAIM:BP1000240"),
    "TSPINE": ("ThoracicSpine", "EUCAIM:BP1000194"),
    "LSPINE": ("LumbarSpine", "EUCAIM:BP1000064"),
    "SPINE": ("Spine", "EUCAIM:BP1000077"),
    "WHOLEBODY": ("EntireBody", "SCT:38266002"),
    "BREAST": ("Breast", "EUCAIM:CLIN1063727"),  # the ETL lookup's own row ('breast')
    "PROSTATE": ("Prostate", "EUCAIM:BP1000021"),
    "KNEE": ("Knee", "EUCAIM:BP1000112"),
    "SKULL": ("Skull", "EUCAIM:BP1000135"),
}


@pytest.fixture(scope="module")
def ontology() -> Hyperontology:
    return load_ontology()


@pytest.mark.parametrize("term", sorted(COMMON))
def test_common_defined_terms_map(term: str) -> None:
    """The most common Body Part Examined values map, as written in headers (upper case)."""
    assert read_valuemap(BODYPART).lookup(term) == COMMON[term][1]


# rows of the ETL lookup (lower-case organ names) keep the ETL's own target: 'breast' -> CLIN1063727, a class
# the release does not tie to SNOMED CT 76752008 (its BP1000136 'Breast' carries that code)
ETL_ROWS = {"BREAST"}


@pytest.mark.parametrize("term", sorted(set(COMMON) - ETL_ROWS))
def test_target_carries_the_annex_l_code(term: str, ontology: Hyperontology) -> None:
    """The target is the CID 4031 SNOMED CT code of the region, or a concept mapped exactly to it."""
    keyword, target = COMMON[term]
    code = f"SCT:{getattr(codes.SCT, keyword).value}"
    assert target in ontology
    same = {target} | {concept.curie for concept in ontology.equivalents(target)}
    assert code in same, f"{term}: {target} is not {code} nor mapped exactly to it"


def test_lower_case_lookup_rows_kept() -> None:
    """The ETL lookup's organ names still map as before (case-insensitive matching covers 'LUNG')."""
    valuemap = read_valuemap(BODYPART)
    assert valuemap.lookup("lung") == "EUCAIM:BP1000192"
    assert valuemap.lookup("LUNG") == "EUCAIM:BP1000192"
    assert valuemap.lookup("BRAIN") == "EUCAIM:BP1000051"
