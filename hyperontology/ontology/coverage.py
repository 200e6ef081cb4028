"""Recall per organ system: does each terminology's top cancer concept reach every cancer of that organ?

For each organ system, its ICD-O-3 sites (or, for haematological malignancies, the ICD-10 block C81-C96) define
the members: every malignant, site-specific cancer concept of any terminology whose sites lie there. The report
gives, for the organ's top concept in SNOMED CT, NCIt, ICD-10 and EUCAIM, how many members its expansion reaches,
and how many ICD-10 codes of the organ it reaches (what registries code in). ``ontology stats`` prints it.

Examples
--------
>>> from hyperontology import load_ontology
>>> report = coverage(load_ontology())
>>> report["lung"]["tops"]["SCT:363358000"]["icd10"] == report["lung"]["icd10_codes"]
True
"""

from __future__ import annotations

from typing import Any

from hyperontology.ontology.api import Hyperontology
from hyperontology.ontology.neoplasm import within

#: organ system -> (ICD-O-3 sites, top concepts per terminology); tops are the generic "malignant neoplasm of X"
ORGAN_SYSTEMS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "lung": (("C34",), ("SCT:363358000", "NCIT:C7377", "ICD10:C34", "EUCAIM:CLIN1000065")),
    "breast": (("C50",), ("SCT:254837009", "NCIT:C9335", "ICD10:C50", "EUCAIM:CLIN1000060")),
    "prostate": (("C61",), ("SCT:399068003", "NCIT:C7378", "ICD10:C61", "EUCAIM:CLIN1000075")),
    "colorectal": (("C18", "C19", "C20"), ("SCT:781382000", "NCIT:C4978", "EUCAIM:CLIN1000054")),
    "liver": (("C22",), ("SCT:93870000", "NCIT:C8609", "ICD10:C22", "EUCAIM:CLIN1000071")),
    "stomach": (("C16",), ("SCT:363349007", "NCIT:C9331", "ICD10:C16", "EUCAIM:CLIN1000090")),
    "pancreas": (("C25",), ("SCT:363418001", "NCIT:C9005", "ICD10:C25", "EUCAIM:CLIN1000079")),
    "head and neck": (("C00", "C01", "C02", "C03", "C04", "C05", "C06", "C07", "C08", "C09", "C10", "C11", "C12",
                       "C13", "C14", "C30", "C31", "C32"),
                      ("SCT:255056009", "NCIT:C4013", "ICD10:C00-C14", "EUCAIM:CLIN1059399")),
    "brain": (("C71",), ("SCT:428061005", "NCIT:C3568", "ICD10:C71", "EUCAIM:CLIN1007976")),
    "kidney": (("C64",), ("SCT:363518003", "NCIT:C7548", "ICD10:C64", "EUCAIM:CLIN1000058")),
    "bladder": (("C67",), ("SCT:399326009", "NCIT:C9334", "ICD10:C67", "EUCAIM:CLIN1000181")),
    "skin": (("C44",), ("SCT:372130007", "NCIT:C2920", "ICD10:C43-C44")),
    "haematological": ((), ("SCT:269475001", "ICD10:C81-C96", "EUCAIM:CLIN1039233")),
}
HAEMATOLOGICAL_BLOCK = "ICD10:C81-C96"


def coverage(onto: Hyperontology) -> dict[str, Any]:
    """``{organ: {members, icd10_codes, tops: {curie: {label, members, icd10}}}}``; counts, never lists."""
    out: dict[str, Any] = {}
    for organ, (sites, tops) in ORGAN_SYSTEMS.items():
        members = _members(onto, frozenset(sites))
        icd10 = {m for m in members  # categories and subcategories, what registries code in (not blocks)
                 if m.startswith("http://purl.bioontology.org/ontology/ICD10/") and "-" not in m.rsplit("/", 1)[1]}
        report: dict[str, Any] = {"members": len(members), "icd10_codes": len(icd10), "tops": {}}
        for top in tops:
            if top not in onto:
                continue
            reached = {c.iri for c in onto.expand(top)}
            report["tops"][top] = {"label": onto.concept(top).label, "members": len(reached & members),
                                   "icd10": len(reached & icd10)}
        out[organ] = report
    return out


def _members(onto: Hyperontology, sites: frozenset[str]) -> set[str]:
    if not sites:  # haematological: the ICD-10 block and every malignant concept its expansion reaches
        return {c.iri for c in onto.expand(HAEMATOLOGICAL_BLOCK)} if HAEMATOLOGICAL_BLOCK in onto else set()
    found = set()
    for concept in onto:
        f = onto.facets(concept)
        if f.behaviour == "malignant" and not f.agnostic and f.sites and within(f.sites, sites):
            found.add(concept.iri)
    return found


__all__ = ["ORGAN_SYSTEMS", "coverage"]
