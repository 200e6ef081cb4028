"""Write ``tests/ontology/terminology_facts.tsv``: what a terminologist signs about cohort expansions.

Run from the repository root (reads ``ontologies/sources/`` and ``../shared/data/eucaim/``)::

    python tests/ontology/make_terminology_facts.py            # rewrite the TSV and print a summary
    python tests/ontology/make_terminology_facts.py --check    # exit 1 when the TSV on disk is stale

A fact is a row ``concept relation other source note``. ``relation`` is ``member`` (``other`` must be in
``expand(concept)``), ``non-member`` (must not be), ``same`` (each in the other's expansion) or ``not-same``
(at least one is not in the other's expansion). Facts come from sources, never from this library:

- WHO ICD-10 2019 (``ontologies/sources/icd10-who.tsv``): the subcategories of a malignant category are members;
  D00-D09 (in situ), D10-D36 (benign), D37-D48 (uncertain behaviour) and C77-C79 (secondary) are non-members
  of a malignant query; another organ's category is a non-member.
- ICD-O-3.1 (``icdo3-morphology.tsv``, ``icdo3-topography.tsv``): a morphology code has no site, so it is never a
  member of a site-specific disease; behaviour /0 /1 /2 /6 is never a member of a malignant query.
- NCIt 2020 neoplasm tree (``ncit-neoplasm.tsv``, ``ncit-icdo-axis.tsv``): descendants of a malignant organ
  concept are members, except those the tree nests there although their label says in situ or non-invasive.
- NCI EVS ICD-O-3.1-NCIt Axis Mappings (``ncit-mappings.tsv``, rows citing EVS): NCIt = ICD-O-3 morphology.
- EUCAIM Hyper-Ontology v2.0 release (``eucaim_hyperontology-v2.0-classes.jsonl``): its hierarchy, its
  morphology-of-site classes (ICD-O-3 annotation such as ``8500/3-C61.9``) and its SNOMED CT annotations.
- Mondo (``MONDO`` below, from monarch-initiative/mondo@fad2512b): one Mondo class with skos:exactMatch to a
  SNOMED CT and an NCIt code makes them ``same``; only pairs whose labels mean the same were kept.
- The project's clinical rules: an expansion of a malignant concept never includes in situ, benign, uncertain
  or secondary concepts; a disease expansion never includes a bare morphology nor another organ's disease; two
  codes of one terminology are equivalent only if they mean the same; a concept never equals its parent.

Hand-written facts are ``curated()`` and ``NOT_SAME``, each with its source. ``GROUPS`` says which query
concepts share which organ and which source structures feed them. The output is deterministic, and the
generator refuses contradictory facts (member and non-member of one query, same and not-same, also through
``same`` classes and chains of members).
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
SOURCES = REPO / "ontologies" / "sources"
EUCAIM_JSONL = REPO.parent / "shared" / "data" / "eucaim" / "eucaim_hyperontology-v2.0-classes.jsonl"
OUT = HERE / "terminology_facts.tsv"
HEADER = ("concept", "relation", "other", "source", "note")
RELATIONS = ("member", "non-member", "same", "not-same")

CAP_NCIT, CAP_EUCAIM, CAP_COMBOS, CAP_EXCLUDED = 8, 6, 6, 10
ICD10 = "WHO ICD-10 2019 (icd10-who.tsv)"
NCIT_TREE = "NCIt 2020 neoplasm tree (ncit-neoplasm.tsv)"
RELEASE = "EUCAIM Hyper-Ontology v2.0 release (eucaim_hyperontology-v2.0-classes.jsonl)"
MONDO_AT = "Mondo @fad2512b mondo_exactmatch_{sctid,ncit,icd10who}.sssom.tsv"
BEHAVIOUR = {"0": "benign", "1": "uncertain whether benign or malignant", "2": "in situ", "3": "malignant",
             "6": "metastatic (secondary)", "9": "malignant, uncertain whether primary or metastatic"}
# a label the clinical rule excludes from malignant expansions, with its ICD-O-3 behaviour
EXCLUDED = re.compile(r"\bin situ\b|non-?invasive|noninfiltrating|\bstage 0\b|\bbenign\b|metastatic|secondary", re.I)
# labels whose behaviour a source table does not settle (intramucosal, superficial...): no fact either way
AMBIGUOUS = re.compile(r"intramucosal|superficial|intraductal|intracystic|paget|borderline|uncertain|low malignant"
                       r"|recurrent|refractory|\bby\b|\bstage\b|pseudopapillary|history|\bfh\b|her2|luminal|receptor"
                       r"|risk|basal-like|mesenchymal|immunomodulatory|androgen|cutaneous|skin|external ear", re.I)
CARCINOMA = re.compile(r"carcinoma", re.I)


@dataclass(frozen=True)
class Fact:
    concept: str
    relation: str
    other: str
    source: str
    note: str


@dataclass(frozen=True)
class Group:
    """Query concepts meaning one malignant disease (or site, or histology), and the structures that feed them.

    ``icd10``: ICD-10 codes whose subcategories are members (``icd10_flat``: the codes only); ``icd10_only``:
    codes asserted for the ICD-10 query alone. ``topography``: ICD-O-3 site groups of the release's
    morphology-of-site classes. ``ncit``/``eucaim``: roots whose filtered descendants are members;
    ``ncit_outside``: NCIt concepts outside the root. ``words``: the organ's words a descendant's label must
    name (None: no filter); ``dwords``: words of the non-malignant ICD-10 codes to assert as non-members.
    ``neighbours``: other organs' ICD-10 codes. ``morphology``: ICD-O-3 histology stems whose codes are
    non-members (site-agnostic); ``histology``: ICD-O-3 codes this (morphology) group is about.
    """

    name: str
    system: str
    queries: tuple[str, ...]
    icd10: tuple[str, ...] = ()
    icd10_flat: bool = False
    icd10_only: tuple[str, ...] = ()
    topography: tuple[str, ...] = ()
    ncit: tuple[str, ...] = ()
    ncit_outside: tuple[str, ...] = ()
    eucaim: tuple[str, ...] = ()
    words: str | None = None
    dwords: str | None = None
    neighbours: tuple[str, ...] = ()
    morphology: tuple[str, ...] = ()
    histology: tuple[str, ...] = ()
    sites: tuple[str, ...] = ()


LUNG = r"\blung|pulmonar|bronch"
BREAST = r"breast|nipple|areola|mammary"
COLON = r"colon|c[ae]cum|sigmoid|appendi|hepatic flexure|splenic flexure"
RECTUM = r"\brect(?:um|al)\b"
LIVER = r"liver|hepat(?!ic flexure)|intrahepatic"
HEAD_NECK = (r"head and neck|\blip\b|oral|mouth|tongue|\bgum\b|gingiv|palat|tonsil|pharyn|laryn|glott|salivary"
             r"|parotid|nasal|sinus|\bneck\b")
BRAIN = r"\bbrain|cerebr(?!al meninges)|cerebell|supratentorial|infratentorial|diencephal|gliomatosis"

GROUPS: tuple[Group, ...] = (
    Group("lung", "lung", ("SCT:363358000", "NCIT:C7377", "ICD10:C34", "EUCAIM:CLIN1000065"),
          icd10=("C34",), topography=("C34",), ncit=("C7377",), eucaim=("CLIN1000065",), words=LUNG,
          dwords=r"\blung\b", neighbours=("C33", "C37", "C38.4", "C45.0"), morphology=("8140", "8070", "8041")),
    Group("non-small cell lung cancer", "lung", ("SCT:254637007", "NCIT:C2926"), ncit=("C2926",),
          ncit_outside=("C4917", "C4794"), words=LUNG, dwords=r"\blung\b", morphology=("8046", "8140")),
    Group("lung carcinoma", "lung", ("NCIT:C4878",), ncit=("C4878",), ncit_outside=("C4794", "C45652"),
          words=LUNG, dwords=r"\blung\b"),
    Group("breast", "breast", ("ICD10:C50", "SCT:254837009", "NCIT:C9335", "EUCAIM:CLIN1000060"),
          icd10=("C50",), topography=("C50",), ncit=("C9335",), eucaim=("CLIN1000060",), words=BREAST,
          dwords=r"\bbreast\b", neighbours=("C44.5", "C43.5", "C61"), morphology=("8500", "8520")),
    Group("breast carcinoma", "breast", ("SCT:254838004", "NCIT:C4872", "EUCAIM:CLIN1000169"), ncit=("C4872",),
          ncit_outside=("C4504", "C4670", "C4671"), eucaim=("CLIN1000169",), words=BREAST, dwords=r"\bbreast\b",
          morphology=("8010",)),
    Group("prostate", "prostate", ("ICD10:C61", "SCT:399068003", "NCIT:C7378", "EUCAIM:CLIN1000075"),
          icd10=("C61",), topography=("C61",), ncit=("C7378",), eucaim=("CLIN1000075",), words=r"prostat",
          dwords=r"\bprostate\b", neighbours=("C67", "C62", "C20", "C68.0"), morphology=("8140", "8500")),
    Group("prostate carcinoma", "prostate", ("NCIT:C4863", "SCT:254900004", "EUCAIM:CLIN1000179"),
          ncit=("C4863",), ncit_outside=("C5533", "C161611"), eucaim=("CLIN1000179",), words=r"prostat",
          dwords=r"\bprostate\b"),
    Group("colorectal", "colorectal", ("SCT:363510005", "NCIT:C4978", "SCT:781382000", "EUCAIM:CLIN1000054"),
          icd10=("C18", "C19", "C20"), topography=("C18", "C19", "C20"), ncit=("C4978",), eucaim=("CLIN1000054",),
          words=f"{COLON}|{RECTUM}|colorectal|rectosigmoid|large intestine",
          dwords=r"\bcolon\b|\brectum\b|large intestine", neighbours=("C17", "C21"), morphology=("8140",)),
    Group("colon", "colorectal", ("ICD10:C18", "SCT:363406005", "NCIT:C9242", "EUCAIM:CLIN1000057"),
          icd10=("C18",), topography=("C18",), ncit=("C9242",), eucaim=("CLIN1000057",), words=COLON,
          dwords=r"\bcolon\b", neighbours=("C20", "C17", "C21"), morphology=("8140",)),
    Group("colon carcinoma", "colorectal", ("SCT:269533000", "NCIT:C4910", "EUCAIM:CLIN1000174"), ncit=("C4910",),
          words=COLON, dwords=r"\bcolon\b", morphology=("8010",)),
    Group("rectum", "colorectal", ("ICD10:C20", "SCT:363351006", "NCIT:C7418", "EUCAIM:CLIN1000077"),
          icd10=("C20",), topography=("C20",), ncit=("C7418",), eucaim=("CLIN1000077",), words=RECTUM,
          dwords=r"\brectum\b", neighbours=("C18", "C21"), morphology=("8140",)),
    Group("liver", "liver", ("ICD10:C22", "SCT:93870000", "NCIT:C34803", "EUCAIM:CLIN1000071"),
          icd10=("C22",), topography=("C22",), ncit=("C34803",), eucaim=("CLIN1000071",), words=LIVER,
          dwords=r"\bliver\b", neighbours=("C23", "C24.0", "C25"), morphology=("8140", "8160")),
    Group("hepatocellular carcinoma", "liver", ("NCIT:C3099", "SCT:109841003", "EUCAIM:CLIN1043447"),
          ncit=("C3099",), ncit_outside=("C35417", "C3758"), eucaim=("CLIN1043447",), dwords=r"\bliver\b"),
    Group("stomach", "stomach", ("ICD10:C16", "SCT:363349007", "NCIT:C9331", "EUCAIM:CLIN1000090"),
          icd10=("C16",), topography=("C16",), ncit=("C9331",), eucaim=("CLIN1000090",),
          words=r"stomach|gastric|pylor", dwords=r"\bstomach\b", neighbours=("C15", "C17"),
          morphology=("8140", "8490")),
    Group("pancreas", "pancreas", ("ICD10:C25", "SCT:363418001", "NCIT:C9005", "EUCAIM:CLIN1000079"),
          icd10=("C25",), topography=("C25",), ncit=("C9005",), eucaim=("CLIN1000079",), words=r"pancrea",
          dwords=r"pancrea", neighbours=("C17.0", "C24.1", "C23"), morphology=("8140", "8500")),
    Group("head and neck", "head and neck", ("SCT:255056009", "NCIT:C4013", "EUCAIM:CLIN1059399"),
          icd10=("C00-C14", "C30", "C31", "C32"), ncit=("C4013",), ncit_outside=("C3568",),
          eucaim=("CLIN1059399",), words=HEAD_NECK,
          dwords=r"\blip\b|oral cavity|mouth|pharynx|larynx|tonsil|salivary|tongue",
          neighbours=("C70", "C71", "C69", "C72"), morphology=("8070",)),
    Group("larynx", "head and neck", ("ICD10:C32",), icd10=("C32",), ncit=("C4855",), words=r"laryn|glott",
          dwords=r"larynx", neighbours=("C10", "C13", "C33"), morphology=("8070",)),
    Group("brain", "brain", ("ICD10:C71", "SCT:428061005", "NCIT:C3568", "EUCAIM:CLIN1007976"),
          icd10=("C71",), topography=("C71",), ncit=("C3568",), eucaim=("CLIN1007976",), words=BRAIN,
          dwords=r"\bbrain\b", neighbours=("C70", "C72", "C69", "C75.1"), morphology=("9440", "9400")),
    Group("glioblastoma", "brain", ("NCIT:C3058", "SCT:393563007", "ICDO3:9440/3", "EUCAIM:CLIN1007990"),
          ncit=("C3058",), ncit_outside=("C4047",), eucaim=("CLIN1007990",), histology=("9440/3",)),
    Group("kidney", "kidney", ("ICD10:C64", "SCT:363518003", "NCIT:C7548", "EUCAIM:CLIN1000058"),
          icd10=("C64",), topography=("C64",), ncit=("C7548",), eucaim=("CLIN1000058",),
          words=r"kidney|renal(?! pelvis)|nephr|wilms", dwords=r"\bkidney\b", neighbours=("C74", "C66", "C67"),
          morphology=("8312", "8140")),
    Group("bladder", "bladder", ("ICD10:C67", "SCT:399326009", "NCIT:C9334", "EUCAIM:CLIN1000181"),
          icd10=("C67",), topography=("C67",), ncit=("C9334",), eucaim=("CLIN1000181",),
          words=r"\bbladder|urachal", dwords=r"\bbladder\b", neighbours=("C66", "C68.0", "C61", "C65"),
          morphology=("8120", "8130")),
    Group("melanoma of skin", "skin (melanoma)", ("ICD10:C43", "NCIT:C3510"), icd10=("C43",), ncit=("C3510",),
          dwords=r"melano|naevi", neighbours=("C44", "C69"), morphology=("8720", "8742")),
    Group("melanoma", "skin (melanoma)", ("NCIT:C3224", "ICDO3:8720/3", "SCT:1162635006"), icd10=("C43",),
          icd10_flat=True, ncit=("C3224",), dwords=r"melano|naevi", neighbours=("C44",), histology=("8720/3",)),
    Group("lymphoma", "haematological", ("SCT:118600007", "NCIT:C3208", "EUCAIM:CLIN1039310", "ICDO3:9590/3"),
          icd10=("C81", "C82", "C83", "C84", "C85", "C86"), icd10_flat=True, ncit=("C3208",),
          eucaim=("CLIN1039310",), neighbours=("C90.0", "C92.0"), histology=("9590/3",)),
    Group("myeloma", "haematological", ("ICD10:C90", "NCIT:C3242", "ICDO3:9732/3", "SCT:1162576007"),
          icd10=("C90",), icd10_only=("C90", "C90.1", "C90.2", "C90.3"), dwords=r"gammopathy",
          neighbours=("C81", "C92.0"), histology=("9732/3",)),
    Group("leukaemia", "haematological", ("SCT:93143009", "NCIT:C3161"), icd10=("C91", "C92", "C93", "C95"),
          icd10_flat=True, ncit=("C3161",), dwords=r"myelodysplastic|polycythaemia", neighbours=("C90.0", "C81")),
    Group("malignant neoplasm", "all sites", ("SCT:363346000", "NCIT:C9305", "ICD10:C00-C75"),
          icd10=("C00-C75",)),
    Group("adenocarcinoma", "histology (all sites)", ("ICDO3:8140/3", "NCIT:C2852", "SCT:443961001",
                                                      "EUCAIM:CLIN1047138"),
          ncit=("C2852",), histology=("8140/3",)),
    Group("squamous cell carcinoma", "histology (all sites)", ("ICDO3:8070/3", "NCIT:C2929", "SCT:402815007"),
          ncit=("C2929",), histology=("8070/3",)),
    Group("infiltrating duct carcinoma", "histology (all sites)", ("ICDO3:8500/3", "EUCAIM:CLIN1047035",
                                                                   "EUCAIM:CLIN1063589"),
          histology=("8500/3",)),
    Group("lung (site)", "lung", ("ICDO3:C34",), sites=("C34",)),
    Group("breast (site)", "breast", ("ICDO3:C50",), sites=("C50",)),
)


class Mondo:
    """Mondo classes with skos:exactMatch to a SNOMED CT and an NCIt (or ICD-10) code, both meaning the same.

    From monarch-initiative/mondo@fad2512b4845f483fc1268cdf0bf7a8ef43697cb, src/ontology/mappings/
    mondo_exactmatch_sctid.sssom.tsv, mondo_exactmatch_ncit.sssom.tsv and mondo_exactmatch_icd10who.sssom.tsv
    (release 2026-08-04, CC0). Left out on purpose: pairs whose two labels differ in meaning (e.g. MONDO:0001416
    pairs SNOMED CT 'Neoplasm of female genital organ' with NCIt 'Malignant Female Reproductive System
    Neoplasm'; MONDO:0000552 pairs 'Infiltrating lobular carcinoma of breast' with 'Lobular Breast Carcinoma',
    which NCIt splits into in situ and invasive; MONDO:0004953 pairs a breast disorder with the NCIt concept EVS
    gives to the site-agnostic ICD-O-3 8500/3).
    """

    ROWS: tuple[tuple[str, str, str, str], ...] = (
        ("MONDO:0008903", "lung cancer", "SCT:363358000", "NCIT:C7377"),
        ("MONDO:0005233", "non-small cell lung carcinoma", "SCT:254637007", "NCIT:C2926"),
        ("MONDO:0005097", "squamous cell lung carcinoma", "SCT:254634000", "NCIT:C3493"),
        ("MONDO:0005061", "lung adenocarcinoma", "SCT:254626006", "NCIT:C3512"),
        ("MONDO:0008433", "small cell lung carcinoma", "SCT:254632001", "NCIT:C4917"),
        ("MONDO:0001672", "bronchus cancer", "SCT:363493006", "NCIT:C156885"),
        ("MONDO:0000376", "respiratory system cancer", "SCT:449096009", "NCIT:C4571"),
        ("MONDO:0003274", "thoracic cancer", "SCT:188361007", "NCIT:C3576"),
        ("MONDO:0020641", "respiratory tract neoplasm", "SCT:126667002", "NCIT:C3355"),
        ("MONDO:0021350", "neoplasm of thorax", "SCT:255058005", "NCIT:C3406"),
        ("MONDO:0007254", "breast cancer", "SCT:254837009", "NCIT:C9335"),
        ("MONDO:0004989", "breast carcinoma", "SCT:254838004", "NCIT:C4872"),
        ("MONDO:0006256", "invasive breast carcinoma", "SCT:713609000", "NCIT:C9245"),
        ("MONDO:0006270", "lobular breast carcinoma in situ", "SCT:109888004", "NCIT:C4018"),
        ("MONDO:0006306", "mixed lobular and ductal breast carcinoma", "SCT:444604002", "NCIT:C5160"),
        ("MONDO:0021100", "breast neoplasm", "SCT:126926005", "NCIT:C2910"),
        ("MONDO:0008315", "prostate cancer", "SCT:399068003", "NCIT:C7378"),
        ("MONDO:0000993", "prostate squamous cell carcinoma", "SCT:399590005", "NCIT:C5536"),
        ("MONDO:0006390", "prostate small cell carcinoma", "SCT:396198006", "NCIT:C6766"),
        ("MONDO:0006234", "grade III prostatic intraepithelial neoplasia", "SCT:92691004", "NCIT:C3642"),
        ("MONDO:0005836", "male reproductive organ cancer", "SCT:363515000", "NCIT:C8561"),
        ("MONDO:0024582", "male reproductive system neoplasm", "SCT:126895004", "NCIT:C3054"),
        ("MONDO:0005575", "colorectal cancer", "SCT:363510005", "NCIT:C4978"),
        ("MONDO:0021063", "malignant colon neoplasm", "SCT:363406005", "NCIT:C9242"),
        ("MONDO:0002032", "colon carcinoma", "SCT:269533000", "NCIT:C4910"),
        ("MONDO:0006519", "rectal cancer", "SCT:363351006", "NCIT:C7418"),
        ("MONDO:0002169", "rectum adenocarcinoma", "SCT:254582000", "NCIT:C9383"),
        ("MONDO:0002165", "rectal neoplasm", "SCT:126847008", "NCIT:C3350"),
        ("MONDO:0005008", "colorectal adenocarcinoma", "SCT:408645001", "NCIT:C5105"),
        ("MONDO:0005814", "intestinal cancer", "SCT:363508008", "NCIT:C4572"),
        ("MONDO:0021118", "intestinal neoplasm", "SCT:126769007", "NCIT:C3141"),
        ("MONDO:0002387", "liver angiosarcoma", "SCT:109844006", "NCIT:C4438"),
        ("MONDO:0002397", "liver sarcoma", "SCT:254601002", "NCIT:C4437"),
        ("MONDO:0006210", "fibrolamellar hepatocellular carcinoma", "SCT:253018005", "NCIT:C4131"),
        ("MONDO:0007576", "esophageal cancer", "SCT:363402007", "NCIT:C7478"),
        ("MONDO:0005192", "exocrine pancreatic carcinoma", "SCT:372142002", "NCIT:C3850"),
        ("MONDO:0006047", "pancreatic adenocarcinoma", "SCT:700423003", "NCIT:C8294"),
        ("MONDO:0005586", "head and neck neoplasm", "SCT:255055008", "NCIT:C3077"),
        ("MONDO:0010150", "head and neck squamous cell carcinoma", "SCT:716659002", "NCIT:C34447"),
        ("MONDO:0004958", "oral cavity squamous cell carcinoma", "SCT:307502000", "NCIT:C4833"),
        ("MONDO:0004669", "salivary gland cancer", "SCT:255072001", "NCIT:C3811"),
        ("MONDO:0021310", "malignant tumor of neck", "SCT:363489000", "NCIT:C4940"),
        ("MONDO:0002108", "thyroid cancer", "SCT:363478007", "NCIT:C7510"),
        ("MONDO:0015075", "thyroid gland carcinoma", "SCT:448216007", "NCIT:C4815"),
        ("MONDO:0005075", "thyroid gland papillary carcinoma", "SCT:255029007", "NCIT:C4035"),
        ("MONDO:0015074", "thyroid tumor", "SCT:127018007", "NCIT:C3414"),
        ("MONDO:0001657", "brain cancer", "SCT:428061005", "NCIT:C3568"),
        ("MONDO:0002912", "brainstem cancer", "SCT:363473003", "NCIT:C3570"),
        ("MONDO:0002501", "brain glioblastoma", "SCT:276828006", "NCIT:C4642"),
        ("MONDO:0018177", "glioblastoma", "SCT:393563007", "NCIT:C3058"),
        ("MONDO:0021042", "glioma", "SCT:393564001", "NCIT:C3059"),
        ("MONDO:0021322", "malignant tumor of meninges", "SCT:363497007", "NCIT:C4628"),
        ("MONDO:0005872", "nervous system cancer", "SCT:372063002", "NCIT:C4788"),
        ("MONDO:0002367", "kidney cancer", "SCT:363518003", "NCIT:C7548"),
        ("MONDO:0021163", "kidney neoplasm", "SCT:126880001", "NCIT:C3150"),
        ("MONDO:0001187", "urinary bladder cancer", "SCT:399326009", "NCIT:C9334"),
        ("MONDO:0002529", "skin squamous cell carcinoma", "SCT:254651007", "NCIT:C4819"),
        ("MONDO:0002531", "skin neoplasm", "SCT:126488004", "NCIT:C3372"),
        ("MONDO:0019210", "cutaneous neuroendocrine carcinoma", "SCT:253001006", "NCIT:C9231"),
        ("MONDO:0005062", "lymphoma", "SCT:118600007", "NCIT:C3208"),
        ("MONDO:0018906", "follicular lymphoma", "ICD10:C82", "NCIT:C3209"),
        ("MONDO:0005059", "leukemia", "SCT:93143009", "NCIT:C3161"),
        ("MONDO:0004992", "cancer", "SCT:363346000", "NCIT:C9305"),
        ("MONDO:0005070", "neoplasm", "SCT:55342001", "NCIT:C3262"),
        ("MONDO:0005165", "benign neoplasm", "SCT:20376005", "NCIT:C3677"),
        ("MONDO:0005165", "benign neoplasm", "ICD10:D10-D36", "NCIT:C3677"),
        ("MONDO:0004647", "in situ carcinoma", "SCT:109355002", "NCIT:C2917"),
        ("MONDO:0004993", "carcinoma", "SCT:722688002", "NCIT:C2916"),
        ("MONDO:0004970", "adenocarcinoma", "SCT:443961001", "NCIT:C2852"),
        ("MONDO:0005096", "squamous cell carcinoma", "SCT:402815007", "NCIT:C2929"),
        ("MONDO:0006074", "adenosquamous carcinoma", "SCT:403902008", "NCIT:C3727"),
        ("MONDO:0000402", "small cell carcinoma", "SCT:11010461000119101", "NCIT:C3915"),
        ("MONDO:0002120", "neuroendocrine carcinoma", "SCT:253000007", "NCIT:C3773"),
        ("MONDO:0005089", "sarcoma", "SCT:424413001", "NCIT:C9118"),
        ("MONDO:0016982", "angiosarcoma", "SCT:403977003", "NCIT:C3088"),
        ("MONDO:0005626", "epithelial neoplasm", "SCT:118285006", "NCIT:C3709"),
        ("MONDO:0002129", "bone cancer", "SCT:428281000", "NCIT:C4016"),
        ("MONDO:0002974", "cervical cancer", "SCT:363354003", "NCIT:C9311"),
        ("MONDO:0005131", "cervical carcinoma", "SCT:285432005", "NCIT:C9039"),
        ("MONDO:0008170", "ovarian cancer", "SCT:363443007", "NCIT:C7431"),
        ("MONDO:0002715", "uterine cancer", "SCT:371973000", "NCIT:C3552"),
    )

    def __init__(self) -> None:
        self.sct_by_ncit = {ncit: (mondo, label, sct) for mondo, label, sct, ncit in self.ROWS}

    def cite(self, ncit: str) -> str:
        mondo, label, sct = self.sct_by_ncit[ncit]
        other = sct.replace("SCT:", "SCTID:").replace("ICD10:", "ICD10WHO:")
        return f"Mondo {mondo} '{label}' skos:exactMatch {other} and {ncit} ({MONDO_AT})"

    def sct_of(self, ncit: str) -> str | None:
        row = self.sct_by_ncit.get(ncit)
        return row[2] if row else None

    def same_facts(self) -> Iterator[Fact]:
        for _, label, sct, ncit in self.ROWS:
            yield Fact(sct, "same", ncit, self.cite(ncit), f"{label}: equivalent")


MONDO = Mondo()


# ============================================================================================ source tables
def read_tsv(name: str) -> list[dict[str, str]]:
    lines = [line for line in (SOURCES / name).read_text(encoding="utf-8").splitlines() if not line.startswith("#")]
    return list(csv.DictReader(lines, delimiter="\t", quoting=csv.QUOTE_NONE))


def first(value: str | list[str]) -> str:
    return value if isinstance(value, str) else value[0]


class Sources:
    """The source tables, indexed; every label and path a fact's ``source`` cites comes from here."""

    def __init__(self, eucaim_file: Path = EUCAIM_JSONL) -> None:
        self.icd10 = {r["code"]: (r["label"], r["parents"]) for r in read_tsv("icd10-who.tsv")}
        self.morph = {r["code"]: r["label"] for r in read_tsv("icdo3-morphology.tsv")}
        self.topo = {r["code"]: (r["label"], r["parents"]) for r in read_tsv("icdo3-topography.tsv")}
        self.ncit: dict[str, tuple[str, list[str]]] = {}
        for table in ("ncit-neoplasm.tsv", "ncit-icdo-axis.tsv"):
            for r in read_tsv(table):
                self.ncit.setdefault(r["code"], (r["label"], [p for p in r["parents"].split("|") if p]))
        self.evs = {(r["subject_id"], r["object_id"]): r["comment"] for r in read_tsv("ncit-mappings.tsv")
                    if r["predicate_id"] == "skos:exactMatch" and r["comment"].startswith("NCI EVS")}
        self.eucaim = {}
        for line in eucaim_file.read_text(encoding="utf-8").splitlines():
            record = json.loads(line)
            self.eucaim[record["c"]] = record
        self.icd10_kids = _children({c: [p] for c, (_, p) in self.icd10.items()})
        self.ncit_kids = _children({c: ps for c, (_, ps) in self.ncit.items()})
        self.eucaim_kids = _children({c: r.get("p", []) for c, r in self.eucaim.items()})
        self.sct_labels = {s: first(r["l"]) for r in self.eucaim.values() if "l" in r for s in r.get("sct", [])}

    # ------------------------------------------------------------------------------------------- labels
    def label(self, curie: str) -> str:
        scheme, code = curie.split(":", 1)
        if scheme == "ICD10":
            return self.icd10[code][0]
        if scheme == "NCIT":
            return self.ncit[code][0]
        if scheme == "EUCAIM":
            return first(self.eucaim[code]["l"])
        if scheme == "ICDO3":
            return self.morph[code] if "/" in code else self.topo[code][0]
        return self.sct_labels.get(code, "")

    def cite(self, curie: str) -> str:
        label = self.label(curie)
        return f"{curie} '{label}'" if label else curie

    # ------------------------------------------------------------------------------------------- ICD-10
    def icd10_source(self, code: str) -> str:
        title, parent = self.icd10[code]
        chain = []
        while parent and not re.fullmatch(r"[IVX]+", parent):
            chain.append(f"{parent} '{self.icd10[parent][0]}'")
            parent = self.icd10[parent][1]
        return f"{ICD10}: {code} '{title}' is under " + " < ".join(chain) if chain else f"{ICD10}: {code} '{title}'"

    def icd10_kind(self, code: str) -> str:
        if code[0] == "C" and "C77" <= code[:3] <= "C79":
            return "secondary (ICD-10 C77-C79)"
        if code[0] == "D" and code[:3] <= "D09":
            return "in situ (ICD-10 D00-D09)"
        if code[0] == "D" and code[:3] <= "D36":
            return "benign (ICD-10 D10-D36)"
        return "uncertain or unknown behaviour (ICD-10 D37-D48)"

    def icd10_nonmalignant(self, words: str, cap: int) -> list[str]:
        """In situ, benign, uncertain and secondary codes whose title (or category's) names ``words``."""
        buckets: dict[str, list[str]] = {}
        for code, (title, parent) in sorted(self.icd10.items()):
            if "-" in code or not (code[0] == "D" and code[:3] <= "D48" or "C77" <= code[:3] <= "C79"):
                continue
            # a subcategory naming no site of its own ("Lobular carcinoma in situ") has its category's site
            category = self.icd10[parent][0] if "." in code and ":" not in title else ""
            if re.search(words, title, re.I) or (category and re.search(words, category, re.I)):
                buckets.setdefault(self.icd10_kind(code), []).append(code)
        picked: list[str] = []
        while len(picked) < cap and any(buckets.values()):
            for bucket in buckets.values():
                if bucket and len(picked) < cap:
                    picked.append(bucket.pop(0))
        return sorted(picked)

    # ------------------------------------------------------------------------------------------- ICD-O-3
    def morph_codes(self, stem: str) -> list[str]:
        return [f"{stem}/{b}" for b in "012369" if f"{stem}/{b}" in self.morph]

    def morph_source(self, code: str) -> str:
        return (f"ICD-O-3.1 (icdo3-morphology.tsv): {code} '{self.morph[code]}' is a morphology code, "
                f"without site; behaviour /{code[-1]} = {BEHAVIOUR[code[-1]]}")

    def topo_children(self, site: str) -> list[str]:
        return sorted(c for c, (_, parent) in self.topo.items() if parent == site)

    # ------------------------------------------------------------------------------------------- NCIt
    def ncit_subtree(self, root: str, words: str | None, cap: int) -> tuple[list[str], list[str]]:
        """Nearest-first descendants: (members, capped; excluded by their label)."""
        members, excluded = [], []
        for code in _descendants(self.ncit_kids, root):
            label = self.ncit[code][0]
            if EXCLUDED.search(label):
                excluded.append(code)
            elif not AMBIGUOUS.search(label) and (words is None or re.search(words, label, re.I)):
                members.append(code)
        return members[:cap], excluded[:CAP_EXCLUDED]

    def ncit_path(self, code: str, root: str) -> str:
        path = _path(self.ncit_kids, root, code)
        return " is-a ".join(f"{c} '{self.ncit[c][0]}'" for c in reversed(path))

    # ------------------------------------------------------------------------------------------- EUCAIM
    def eucaim_subtree(self, root: str, words: str | None, cap: int) -> list[str]:
        out = []
        for code in _descendants(self.eucaim_kids, root):
            label = first(self.eucaim[code].get("l", ""))
            if EXCLUDED.search(label) or AMBIGUOUS.search(label) or "icdo3" in self.eucaim[code]:
                continue
            if words is None or re.search(words, label, re.I):
                out.append(code)
        return out[:cap]

    def eucaim_path(self, code: str, root: str) -> str:
        def one(c: str) -> str:
            sct = self.eucaim[c].get("sct")
            return f"{c} '{first(self.eucaim[c]['l'])}'" + (f" (SNOMEDCT {sct[0]})" if sct else "")
        return " subClassOf ".join(one(c) for c in reversed(_path(self.eucaim_kids, root, code)))

    def eucaim_combos(self) -> list[tuple[str, str, str]]:
        """Classes annotated ``morphology-site`` whose label is that morphology's ICD-O-3 term: (code, m, site)."""
        out = []
        for code, record in sorted(self.eucaim.items()):
            for value in record.get("icdo3", []):
                match = re.fullmatch(r"(\d{4}/\d)-(C\d\d(?:\.\d)?)", value)
                if match and match[1] in self.morph and match[2] in self.topo and \
                        first(record["l"]).lower().startswith(self.morph[match[1]].lower()):
                    out.append((code, match[1], match[2]))
        return out

    def eucaim_by_sct(self, sct: str) -> list[str]:
        return sorted(c for c, r in self.eucaim.items() if sct in r.get("sct", []) and c.startswith("CLIN"))


def _children(parents: dict[str, list[str]]) -> dict[str, list[str]]:
    kids: dict[str, list[str]] = {}
    for code, ps in sorted(parents.items()):
        for parent in ps:
            if parent:
                kids.setdefault(parent, []).append(code)
    return kids


def _descendants(kids: dict[str, list[str]], root: str) -> list[str]:
    seen, out, todo = {root}, [], [root]
    while todo:
        for kid in kids.get(todo.pop(0), []):
            if kid not in seen:
                seen.add(kid)
                out.append(kid)
                todo.append(kid)
    return out


def _path(kids: dict[str, list[str]], root: str, target: str) -> list[str]:
    """Shortest root-to-target path (target last)."""
    previous: dict[str, str] = {}
    todo = [root]
    while todo and target not in previous:
        node = todo.pop(0)
        for kid in kids.get(node, []):
            if kid not in previous and kid != root:
                previous[kid] = node
                todo.append(kid)
    path = [target]
    while path[-1] != root:
        path.append(previous[path[-1]])
    return list(reversed(path))


# ============================================================================================ facts per group
def fan(queries: Iterable[str], relation: str, other: str, source: str, note: str) -> list[Fact]:
    return [Fact(query, relation, other, source, note) for query in queries]


def is_icd10(curie: str) -> bool:
    return curie.startswith("ICD10:")


def icd10_members(src: Sources, group: Group) -> Iterator[Fact]:
    """A category's subcategories (and the category) are members of every query of the group."""
    for code in group.icd10:
        for member in [code] + ([] if group.icd10_flat else src.icd10_kids.get(code, [])):
            for query in group.queries:
                if member in group.icd10_only and not is_icd10(query):
                    continue
                yield Fact(query, "member", f"ICD10:{member}", src.icd10_source(member),
                           f"{group.name}: ICD-10 structure")


def icd10_exclusions(src: Sources, group: Group) -> Iterator[Fact]:
    """In situ, benign, uncertain and secondary ICD-10 codes naming the group's organ are non-members."""
    for code in src.icd10_nonmalignant(group.dwords, CAP_EXCLUDED) if group.dwords else []:
        yield from fan(group.queries, "non-member", f"ICD10:{code}", src.icd10_source(code),
                       f"{group.name}: {src.icd10_kind(code)}")


def neighbours(src: Sources, group: Group) -> Iterator[Fact]:
    """Another organ's (or disease's) ICD-10 code is a non-member."""
    for code in group.neighbours:
        source = f"{src.icd10_source(code)}; not a kind of {group.name}"
        yield from fan(group.queries, "non-member", f"ICD10:{code}", source, f"{group.name}: other site or disease")


def _with_mondo(curie: str, source: str) -> list[tuple[str, str]]:
    sct = MONDO.sct_of(curie)
    return [(curie, source)] + ([(sct, f"{source}; {MONDO.cite(curie)}")] if sct else [])


def ncit_members(src: Sources, group: Group) -> Iterator[Fact]:
    """Filtered, nearest-first descendants of the group's NCIt roots (and their Mondo-matched SNOMED CT)."""
    for root in group.ncit:
        for code in src.ncit_subtree(root, group.words, CAP_NCIT)[0]:
            source = f"{NCIT_TREE}: {src.ncit_path(code, root)}"
            carcinoma = bool(CARCINOMA.search(src.ncit[code][0]))
            for curie, cited in _with_mondo(f"NCIT:{code}", source):
                for query in group.queries:
                    if carcinoma or not is_icd10(query):
                        yield Fact(query, "member", curie, cited, f"{group.name}: subsumed")


def ncit_exclusions(src: Sources, group: Group) -> Iterator[Fact]:
    """Descendants the NCIt tree nests under the root although their label says in situ (or benign...)."""
    for root in group.ncit:
        for code in src.ncit_subtree(root, group.words, CAP_NCIT)[1]:
            word = EXCLUDED.search(src.ncit[code][0])
            kind = _behaviour_of(word[0] if word else "")
            source = (f"{NCIT_TREE} nests {src.ncit_path(code, root)}, but the label says {kind} "
                      "(not ICD-O-3.1 behaviour /3 malignant)")
            for curie, cited in _with_mondo(f"NCIT:{code}", source):
                yield from fan(group.queries, "non-member", curie, cited, f"{group.name}: {kind}")


def _behaviour_of(word: str) -> str:
    word = word.lower()
    if word == "benign":
        return "benign (behaviour /0)"
    if word in ("metastatic", "secondary"):
        return "metastatic (behaviour /6)"
    return "in situ (behaviour /2)"


def ncit_outside(src: Sources, group: Group) -> Iterator[Fact]:
    """NCIt concepts outside the group's root (a lymphoma under a carcinoma query, small cell under NSCLC)."""
    root = group.ncit[0] if group.ncit else ""
    for code in group.ncit_outside:
        parents = ", ".join(f"{p} '{src.ncit[p][0]}'" for p in src.ncit[code][1])
        source = f"{NCIT_TREE}: {code} '{src.ncit[code][0]}' is-a {parents}, not under {src.cite('NCIT:' + root)}"
        for curie, cited in _with_mondo(f"NCIT:{code}", source):
            yield from fan(group.queries, "non-member", curie, cited, f"{group.name}: not subsumed")


def eucaim_members(src: Sources, group: Group) -> Iterator[Fact]:
    """Descendants of the group's EUCAIM classes in the release (with their SNOMED CT codes)."""
    for root in group.eucaim:
        for code in src.eucaim_subtree(root, group.words, CAP_EUCAIM):
            record = src.eucaim[code]
            source = f"{RELEASE}: {src.eucaim_path(code, root)}"
            carcinoma = bool(CARCINOMA.search(first(record["l"])))
            for curie in [f"EUCAIM:{code}", *(f"SCT:{sct}" for sct in record.get("sct", []))]:
                for query in group.queries:
                    if carcinoma or not is_icd10(query):
                        yield Fact(query, "member", curie, source, f"{group.name}: subsumed")


def combo_source(src: Sources, code: str, morph: str, site: str) -> str:
    return (f"{RELEASE}: {code} '{first(src.eucaim[code]['l'])}' carries ICD-O-3 {morph}-{site} "
            f"(morphology '{src.morph[morph]}', behaviour /{morph[-1]} = {BEHAVIOUR[morph[-1]]}; "
            f"topography '{src.topo[site][0]}')")


def eucaim_combos(src: Sources, group: Group) -> Iterator[Fact]:
    """Morphology-of-site classes at the group's sites (or of its histology): malignant ones are members."""
    picked = 0
    stems = {h[:4] for h in group.histology}
    for code, morph, site in src.eucaim_combos():
        if site[:3] not in group.topography and morph[:4] not in stems:
            continue
        malignant = morph.endswith("/3") and (not stems or morph in group.histology)
        if malignant and picked >= CAP_COMBOS:
            continue
        picked += malignant
        note = "morphology at this site" if malignant else BEHAVIOUR[morph[-1]]
        for query in group.queries:
            if malignant and is_icd10(query) and not "8000" <= morph[:4] <= "8589":
                continue  # ICD-10 codes lymphomas, melanomas, sarcomas of a site elsewhere (C43-C49, C81-C96)
            yield Fact(query, "member" if malignant else "non-member", f"EUCAIM:{code}",
                       combo_source(src, code, morph, site), f"{group.name}: {note}")


def eucaim_elsewhere(src: Sources, group: Group) -> Iterator[Fact]:
    """Malignant morphology-of-site classes of two other sites: another organ's disease."""
    if not group.topography:
        return
    seen: set[str] = set()
    for code, morph, site in src.eucaim_combos():
        if len(seen) == 2:
            return
        if site[:3] in (*group.topography, *seen, "C72", "C80") or not morph.endswith("/3"):  # C72.9, C80.9: NOS
            continue
        seen.add(site[:3])
        source = f"{combo_source(src, code, morph, site)}; not a site of {group.name}"
        yield from fan(group.queries, "non-member", f"EUCAIM:{code}", source, f"{group.name}: other organ")


def morphology_exclusions(src: Sources, group: Group) -> Iterator[Fact]:
    """ICD-O-3 codes of the group's histologies: no site, so never in a site-specific disease's expansion."""
    for stem in group.morphology:
        for code in src.morph_codes(stem):
            kind = BEHAVIOUR[code[-1]]
            note = "site-agnostic morphology" + ("" if code.endswith("/3") else f", {kind}")
            yield from fan(group.queries, "non-member", f"ICDO3:{code}", src.morph_source(code),
                           f"{group.name}: {note}")


def histology_behaviours(src: Sources, group: Group) -> Iterator[Fact]:
    """The same histology with another behaviour (/0 /1 /2 /6) is not a member of a malignant histology."""
    for histology in group.histology:
        for code in src.morph_codes(histology[:4]):
            if code != histology and code[-1] in "0126":
                yield from fan(group.queries, "non-member", f"ICDO3:{code}", src.morph_source(code),
                               f"{group.name}: {BEHAVIOUR[code[-1]]}")


def topography_members(src: Sources, group: Group) -> Iterator[Fact]:
    """An ICD-O-3 topography group holds its 4-character sites."""
    for site in group.sites:
        for code in src.topo_children(site):
            source = f"WHO ICD-O-3 topography (icdo3-topography.tsv): {code} '{src.topo[code][0]}' is under " \
                     f"{site} '{src.topo[site][0]}'"
            yield Fact(f"ICDO3:{site}", "member", f"ICDO3:{code}", source, f"{group.name}: site structure")


GENERATORS = (icd10_members, ncit_members, eucaim_members, eucaim_combos, topography_members, icd10_exclusions,
              ncit_exclusions, neighbours, ncit_outside, eucaim_elsewhere, morphology_exclusions,
              histology_behaviours)


# ============================================================================================ hand-written facts
LUNG_Q = ("SCT:363358000", "NCIT:C7377", "ICD10:C34", "EUCAIM:CLIN1000065")
BREAST_Q = ("ICD10:C50", "SCT:254837009", "NCIT:C9335", "EUCAIM:CLIN1000060")
HEAD_NECK_Q = ("SCT:255056009", "NCIT:C4013", "EUCAIM:CLIN1059399")
MALIGNANT_Q = ("SCT:363346000", "NCIT:C9305")
RULE_IN_SITU = "project rule: a malignant query never includes in situ, benign, uncertain or secondary concepts"
RULE_HEAD_NECK = ("project rule: head and neck cancer = ICD-10 C00-C14 (lip, oral cavity, pharynx) and C30-C32 "
                  "(nasal cavity, sinuses, larynx); brain (C71) and meninges (C70) are block C69-C72")


def curated(src: Sources) -> list[Fact]:
    """Facts the brief names, with their sources (the mechanical ones above may repeat them)."""
    facts = _curated_lung(src) + _curated_breast(src) + _curated_head_neck(src) + _curated_malignant(src)
    facts += _curated_haematological(src) + _curated_sites(src)
    hcc = (f"{src.icd10_source('C22.0')}; {RELEASE}: CLIN1043447 'Liver cell carcinoma' carries NCIT C3099 and "
           "ICD10 C22.0")
    facts += fan(("NCIT:C3099", "SCT:109841003", "EUCAIM:CLIN1043447"), "member", "ICD10:C22.0", hcc,
                 "hepatocellular carcinoma: equivalent ICD-10 subcategory")
    primary_liver = (f"{MONDO_AT}: MONDO:0002691 'liver cancer' skos:exactMatch SCTID:93870000 and NCIT:C34803; but "
                     f"{RELEASE}: CLIN1000072 'Primary malignant neoplasm of liver' (NCIT C34803) subClassOf "
                     "CLIN1000071 'Malignant neoplasm of liver' (SNOMEDCT 93870000): primary is the narrower")
    facts.append(Fact("SCT:93870000", "member", "NCIT:C34803", primary_liver, "liver cancer: primary is narrower"))
    kidney = f"{src.icd10_source('C64')}; the title excludes the renal pelvis, which is C65"
    facts.append(Fact("ICD10:C64", "non-member", "ICD10:C65", kidney, "kidney: other site"))
    return facts


def _curated_lung(src: Sources) -> list[Fact]:
    c3493 = f"{NCIT_TREE}: {src.ncit_path('C3493', 'C7377')}"
    c4917 = f"{NCIT_TREE}: {src.ncit_path('C4917', 'C7377')}"
    return [
        *fan(LUNG_Q, "member", "SCT:254634000", f"{c3493}; {MONDO.cite('NCIT:C3493')}", "lung: subsumed"),
        *fan(LUNG_Q, "member", "NCIT:C3493", c3493, "lung: subsumed"),
        *fan(LUNG_Q, "member", "NCIT:C4917", c4917, "lung: subsumed"),
        *fan(LUNG_Q, "member", "SCT:254632001", f"{c4917}; {MONDO.cite('NCIT:C4917')}", "lung: subsumed"),
        *fan(LUNG_Q, "member", "ICD10:C34.1", src.icd10_source("C34.1"), "lung: ICD-10 structure"),
        *fan(LUNG_Q, "non-member", "NCIT:C136486", f"{NCIT_TREE}: {src.ncit_path('C136486', 'C7377')}, but the "
             "label says In Situ (ICD-O-3.1 behaviour /2); " + RULE_IN_SITU, "lung: in situ (behaviour /2)"),
        *fan(LUNG_Q, "non-member", "ICD10:D02.2", src.icd10_source("D02.2"), "lung: in situ (ICD-10 D00-D09)"),
        *fan(LUNG_Q, "non-member", "ICD10:C78.0", src.icd10_source("C78.0"), "lung: secondary (ICD-10 C77-C79)"),
        *fan(LUNG_Q, "non-member", "ICDO3:8140/3", src.morph_source("8140/3"), "lung: site-agnostic morphology"),
        *fan(("ICDO3:C34",), "non-member", "ICD10:C34", f"{src.icd10_source('C34')}: a disease, while ICD-O-3 C34 "
             "'BRONCHUS AND LUNG' is a site (topography)", "lung (site): a disease is not a site"),
        *fan(("ICDO3:C34",), "non-member", "SCT:363358000", f"{MONDO.cite('NCIT:C7377')}: a disease, while ICD-O-3 "
             "C34 is a site", "lung (site): a disease is not a site"),
        *fan(("ICDO3:C34",), "non-member", "ICDO3:8140/3", f"{src.morph_source('8140/3')}; ICD-O-3 C34 is a site",
             "lung (site): a histology is not a site"),
        *fan(("ICDO3:C34",), "non-member", "ICDO3:C33", "WHO ICD-O-3 topography: C33 'TRACHEA' is a group of its "
             "own, not under C34 'BRONCHUS AND LUNG'", "lung (site): other site"),
    ]


def _curated_breast(src: Sources) -> list[Fact]:
    prostate = combo_source(src, "CLIN1023862", "8500/3", "C61.9") + "; the prostate is not the breast"
    return [
        *fan(BREAST_Q, "non-member", "ICDO3:8500/2", src.morph_source("8500/2"), "breast: morphology, in situ"),
        *fan(BREAST_Q, "non-member", "ICDO3:8500/3", src.morph_source("8500/3"), "breast: site-agnostic morphology"),
        *fan(BREAST_Q, "non-member", "ICDO3:8520/3", src.morph_source("8520/3"), "breast: site-agnostic morphology"),
        *fan(BREAST_Q, "non-member", "NCIT:C2924", f"{NCIT_TREE} nests {src.ncit_path('C2924', 'C9335')}, but "
             "the label says In Situ (EVS pairs it with ICD-O-3.1 8500/2, behaviour /2)", "breast: in situ"),
        *fan(BREAST_Q, "non-member", "EUCAIM:CLIN1023862", prostate, "breast: other organ"),
        *fan(("ICDO3:C50",), "non-member", "ICD10:C50", f"{src.icd10_source('C50')}: a disease, while ICD-O-3 C50 "
             "'BREAST' is a site", "breast (site): a disease is not a site"),
        *fan(("ICDO3:C50",), "non-member", "SCT:254837009", f"{MONDO.cite('NCIT:C9335')}: a disease, while "
             "ICD-O-3 C50 is a site", "breast (site): a disease is not a site"),
        *fan(("ICDO3:C50",), "non-member", "ICDO3:8500/3", f"{src.morph_source('8500/3')}; ICD-O-3 C50 is a site",
             "breast (site): a histology is not a site"),
        *fan(("ICDO3:C50",), "non-member", "ICDO3:C44.5", "WHO ICD-O-3 topography: C44.5 'Skin of trunk' (skin of "
             "breast is coded here) is under C44 'SKIN', not C50 'BREAST'", "breast (site): other site"),
    ]


def _curated_head_neck(src: Sources) -> list[Fact]:
    brain = f"{RELEASE}: {src.eucaim_path('CLIN1007976', 'CLIN1059399')}; but {RULE_HEAD_NECK}"
    meninges = f"{RELEASE}: {src.eucaim_path('CLIN1059401', 'CLIN1059399')}; but {RULE_HEAD_NECK}"
    ill_defined = (f"{src.icd10_source('C76.0')}; the release annotates CLIN1059399 'Malignant tumor of head and "
                   "neck' with ICD10 C76.0")
    return [
        *fan(HEAD_NECK_Q, "member", "ICD10:C76.0", ill_defined, "head and neck: ill-defined site of the region"),
        *fan(HEAD_NECK_Q, "non-member", "SCT:428061005", brain, "head and neck: other organ (brain)"),
        *fan(HEAD_NECK_Q, "non-member", "EUCAIM:CLIN1007976", brain, "head and neck: other organ (brain)"),
        *fan(HEAD_NECK_Q, "non-member", "SCT:363474009", meninges, "head and neck: other organ (meninges)"),
        *fan(HEAD_NECK_Q, "non-member", "EUCAIM:CLIN1059401", meninges, "head and neck: other organ (meninges)"),
    ]


def _curated_malignant(src: Sources) -> list[Fact]:
    """Pan-cancer queries: no in situ (every D00-D09 code), benign, uncertain or secondary concept."""
    facts: list[Fact] = []
    for code in ["D00-D09", *sorted(c for c in src.icd10 if c[0] == "D" and "D00" <= c[:3] <= "D09" and "-" not in c)]:
        queries = ["SCT:363346000"] + (["NCIT:C9305", "ICD10:C00-C75"] if "." not in code else [])
        facts += fan(queries, "non-member", f"ICD10:{code}", f"{src.icd10_source(code)}; {RULE_IN_SITU}",
                     "malignant neoplasm: in situ (ICD-10 D00-D09)")
    all_q = (*MALIGNANT_Q, "ICD10:C00-C75")
    for code in ("D10-D36", "D37-D48", "C77", "C78", "C79", "C78.0", "C79.3"):
        facts += fan(all_q, "non-member", f"ICD10:{code}", src.icd10_source(code),
                     f"malignant neoplasm: {src.icd10_kind(code)}")
    for code in ("8000/0", "8000/1", "8000/6"):
        facts += fan(all_q, "non-member", f"ICDO3:{code}", src.morph_source(code),
                     f"malignant neoplasm: {BEHAVIOUR[code[-1]]}")
    for ncit, kind in (("C2917", "in situ (behaviour /2)"), ("C3677", "benign"), ("C3261", "metastatic")):
        parents = ", ".join(f"{p} '{src.ncit[p][0]}'" for p in src.ncit[ncit][1])
        source = f"{NCIT_TREE}: {ncit} '{src.ncit[ncit][0]}' is-a {parents}; {RULE_IN_SITU}"
        for curie, cited in _with_mondo(f"NCIT:{ncit}", source):
            facts += fan(all_q, "non-member", curie, cited, f"malignant neoplasm: {kind}")
    haem = f"{src.icd10_source('C81-C96')}; C00-C75 excludes 'lymphoid, haematopoietic and related tissue'"
    facts += [Fact("ICD10:C00-C75", "non-member", "ICD10:C81-C96", haem, "malignant neoplasm: other block")]
    facts += fan(MALIGNANT_Q, "member", "ICD10:C81-C96", src.icd10_source("C81-C96"), "malignant neoplasm: subsumed")
    facts += fan(MALIGNANT_Q, "member", "NCIT:C9335", f"{NCIT_TREE}: {src.ncit_path('C9335', 'C9305')}",
                 "malignant neoplasm: subsumed")
    return facts


def _curated_haematological(src: Sources) -> list[Fact]:
    lymphoma = ("SCT:118600007", "NCIT:C3208", "EUCAIM:CLIN1039310", "ICDO3:9590/3")
    myeloma = ("NCIT:C3242", "ICDO3:9732/3", "SCT:1162576007")
    leukaemia = ("SCT:93143009", "NCIT:C3161")
    evs = {code: src.evs[(ncit, f"ICDO3:{code}")] for ncit, code in
           (("NCIT:C3211", "9591/3"), ("NCIT:C3171", "9861/3"), ("NCIT:C3163", "9823/3"), ("NCIT:C3242", "9732/3"))}
    nhl = f"{NCIT_TREE}: C3211 'Non-Hodgkin Lymphoma' is-a C3208 'Lymphoma'; {evs['9591/3']}"
    myeloma_icd = f"{src.icd10_source('C90.0')}; ICD-O-3.1 9732/3 '{src.morph['9732/3']}'"
    return [
        *fan(lymphoma, "member", "ICDO3:9591/3", nhl, "lymphoma: subsumed"),
        *fan(lymphoma, "member", "EUCAIM:CLIN1021456", combo_source(src, "CLIN1021456", "9591/3", "C80.9"),
             "lymphoma: subsumed"),
        *fan(lymphoma, "non-member", "ICD10:C77", f"{src.icd10_source('C77')}; {RULE_IN_SITU}",
             "lymphoma: secondary (ICD-10 C77-C79)"),
        *fan(lymphoma, "non-member", "ICDO3:9732/3", f"ICD-O-3.1 9732/3 '{src.morph['9732/3']}': a plasma cell "
             "neoplasm, not a lymphoma (ICD-10 C90, not C81-C86)", "lymphoma: other disease"),
        *fan(lymphoma, "non-member", "ICDO3:9861/3", f"{evs['9861/3']}: a myeloid leukaemia, not a lymphoma",
             "lymphoma: other disease"),
        Fact("ICD10:C90", "member", "ICDO3:9732/3", myeloma_icd, "myeloma: subsumed"),
        *fan(myeloma, "non-member", "ICD10:C90.2", f"{src.icd10_source('C90.2')}; a plasmacytoma is not C90.0 "
             "'Multiple myeloma'", "myeloma: other disease"),
        *fan(myeloma, "non-member", "ICD10:C90.3", f"{src.icd10_source('C90.3')}; a plasmacytoma is not C90.0 "
             "'Multiple myeloma'", "myeloma: other disease"),
        *fan(myeloma, "non-member", "ICDO3:9731/3", f"ICD-O-3.1 9731/3 '{src.morph['9731/3']}' is another code "
             "than 9732/3 'Multiple myeloma'", "myeloma: other disease"),
        *fan(("SCT:1162576007", "ICDO3:9732/3", "ICD10:C90"), "member", "NCIT:C3242", evs["9732/3"],
             "myeloma: equivalent"),
        *fan(("ICDO3:9732/3", "SCT:1162576007"), "member", "ICD10:C90.0", myeloma_icd, "myeloma: equivalent"),
        *fan(leukaemia, "member", "ICDO3:9861/3", f"{evs['9861/3']}; {NCIT_TREE}: "
             f"{src.ncit_path('C3171', 'C3161')}", "leukaemia: subsumed"),
        *fan(leukaemia, "member", "ICDO3:9823/3", f"{evs['9823/3']}; {NCIT_TREE}: "
             f"{src.ncit_path('C3163', 'C3161')}", "leukaemia: subsumed"),
        *fan(leukaemia, "non-member", "ICDO3:9732/3", evs["9732/3"] + ": a plasma cell neoplasm, not a leukaemia",
             "leukaemia: other disease"),
    ]


def _curated_sites(src: Sources) -> list[Fact]:
    melanoma = ("NCIT:C3224", "ICDO3:8720/3", "SCT:1162635006", "ICD10:C43", "NCIT:C3510")
    lentigo = src.evs[("NCIT:C43372", "ICDO3:8742/2")]
    evs_melanoma = src.evs[("NCIT:C3224", "ICDO3:8720/3")]
    bp = f"{RELEASE}: BP1000192 'Bronchus and lung' carries ICDO3 C34 and SNOMEDCT 110736001"
    upper = f"{RELEASE}: BP1000263 'Structure of upper lobe of lung' carries ICDO3 C34.1 and is-a BP1000192"
    return [
        *fan(melanoma, "non-member", "ICDO3:8742/2", f"{src.morph_source('8742/2')}; {lentigo}",
             "melanoma: in situ"),
        *fan(melanoma[:3], "member", "ICD10:C43", f"{src.icd10_source('C43')}; {evs_melanoma}", "melanoma: subsumed"),
        Fact("ICDO3:C34", "same", "EUCAIM:BP1000192", bp, "lung (site): equivalent"),
        Fact("ICDO3:C34", "member", "EUCAIM:BP1000263", upper, "lung (site): site structure"),
    ]


NOT_SAME_ROWS: tuple[tuple[str, str, str], ...] = (
    ("ICD10:C76.1", "NCIT:C3576", "WHO ICD-10 2019: C76.1 'Malignant neoplasm of other and ill-defined sites: "
     "Thorax' is an ill-defined site (C76); NCIt C3576 'Malignant Thoracic Neoplasm' holds C7377 'Malignant Lung "
     "Neoplasm' (NCIt 2020 tree), which ICD-10 codes C34, not C76.1"),
    ("ICD10:C76.1", "SCT:188361007", "WHO ICD-10 2019: C76.1 is an ill-defined thoracic site; SNOMED CT 188361007 "
     "'Malignant neoplasm of thorax' = NCIt C3576 (Mondo MONDO:0003274), which holds lung cancer"),
    ("ICD10:C76.0", "SCT:255056009", "WHO ICD-10 2019: C76.0 'Malignant neoplasm of other and ill-defined sites: "
     "Head, face and neck' is only the ill-defined region; SNOMED CT 255056009 'Malignant tumor of head and neck' "
     "holds the defined sites C00-C14, C30-C32 too"),
    ("ICD10:C76.0", "EUCAIM:CLIN1059399", "WHO ICD-10 2019: C76.0 is only the ill-defined head, face and neck; the "
     "release's CLIN1059399 'Malignant tumor of head and neck' (annotated ICD10 C76.0) holds the defined sites too"),
    ("ICD10:C76.0", "NCIT:C4013", "WHO ICD-10 2019: C76.0 is only the ill-defined head, face and neck; NCIt C4013 "
     "'Malignant Head and Neck Neoplasm' holds C35850 'Head and Neck Carcinoma' of defined sites (NCIt 2020 tree)"),
    ("ICDO3:C80.9", "SCT:52530000", "WHO ICD-O-3 topography: C80.9 'Unknown primary site' (group C80 'UNKNOWN "
     "PRIMARY SITE') says the site is not known; SNOMED CT 52530000 'Body region structure' is an anatomy concept"),
    ("ICDO3:C80.9", "EUCAIM:BP1000116", "WHO ICD-O-3 topography: C80.9 'Unknown primary site'; the release's "
     "BP1000116 'Body region structure' (SNOMEDCT 52530000) is an anatomy concept"),
    ("ICDO3:C80.9", "RADLEX:RID13390", "WHO ICD-O-3 topography: C80.9 'Unknown primary site'; RadLex RID13390 "
     "'anatomical structure' (radlex-imaging.tsv) is the root of anatomy"),
    ("DCM:AS", "RADLEX:RID10319", "DICOM PS3.16 (pydicom 3.0.2): AS 'Angioscopy' (retired modality); RadLex RID10319 "
     "'magnetic resonance angiography' (radlex-imaging.tsv, under RID10312 magnetic resonance): different "
     "modalities"),
    ("DCM:AS", "DCM:MA", "DICOM PS3.16: AS 'Angioscopy' and MA 'Magnetic resonance angiography' are two modality "
     "codes with different meanings"),
    ("DCM:IVUS", "DCM:US", "DICOM PS3.16 CID 29: IVUS 'Intravascular Ultrasound' and US 'Ultrasound' are two codes "
     "of one terminology; IVUS is one kind of ultrasound, not all of it"),
    ("DCM:IVUS", "RADLEX:RID10326", "DICOM PS3.16: IVUS 'Intravascular Ultrasound'; RadLex RID10326 'ultrasound' "
     "(radlex-imaging.tsv) is all ultrasound"),
    ("NCIT:C12762", "ICDO3:C05.1", "WHO ICD-O-3 topography: C05.1 'Soft palate, NOS' is under C05 'PALATE' (oral "
     "cavity); NCIt C12762 'Oropharynx' is ICD-O-3 C10 'OROPHARYNX' (NCI EVS Axis Mappings, topography HT row)"),
    ("ICDO3:C05.1", "ICDO3:C10", "WHO ICD-O-3 topography: C05.1 'Soft palate, NOS' is under C05 'PALATE'; C10 "
     "'OROPHARYNX' is another group"),
    ("SCT:254838004", "SCT:254837009", "SNOMED CT 254838004 'Carcinoma of breast' is-a 254837009 'Malignant neoplasm "
     "of breast' (EUCAIM release: CLIN1000169 subClassOf CLIN1000060); a carcinoma is narrower than a malignant "
     "neoplasm (Mondo: MONDO:0004989 breast carcinoma vs MONDO:0007254 breast cancer)"),
    ("SCT:254837009", "NCIT:C4872", "Mondo MONDO:0007254 'breast cancer' = SNOMED CT 254837009 = NCIt C9335; NCIt "
     "2020 tree: C4872 'Breast Carcinoma' is-a C9335 'Malignant Breast Neoplasm' (narrower)"),
    ("EUCAIM:CLIN1000060", "NCIT:C4872", "EUCAIM release annotates NCIT C4872 on CLIN1000060 'Malignant neoplasm of "
     "breast' and on its child CLIN1000169 'Carcinoma of breast'; NCIt 2020 tree: C4872 'Breast Carcinoma' is-a "
     "C9335 'Malignant Breast Neoplasm', so C4872 is the child's meaning, not the parent's"),
    ("EUCAIM:CLIN1000057", "SCT:269533000", "EUCAIM release: CLIN1000174 'Carcinoma of colon' (SNOMEDCT 269533000) "
     "subClassOf CLIN1000057 'Malignant neoplasm of colon'; a carcinoma is narrower than a malignant neoplasm"),
    ("EUCAIM:CLIN1000057", "NCIT:C4910", "EUCAIM release annotates NCIT C4910 on CLIN1000057 'Malignant neoplasm of "
     "colon' and on its child CLIN1000174 'Carcinoma of colon'; NCIt 2020 tree: C4910 'Colon Carcinoma' is-a "
     "C9242 'Malignant Colon Neoplasm' (= SNOMED CT 363406005, Mondo MONDO:0021063)"),
    ("SCT:363406005", "NCIT:C4910", "Mondo MONDO:0021063 'malignant colon neoplasm' = SNOMED CT 363406005 = NCIt "
     "C9242; NCIt 2020 tree: C4910 'Colon Carcinoma' is-a C9242 (narrower)"),
    ("EUCAIM:CLIN1000065", "NCIT:C4878", "EUCAIM release annotates NCIT C4878 on CLIN1000065 'Malignant tumor of "
     "lung'; NCIt 2020 tree: C4878 'Lung Carcinoma' is-a C7377 'Malignant Lung Neoplasm' (= SNOMED CT 363358000, "
     "Mondo MONDO:0008903), beside C4794 'Lung Lymphoma'"),
    ("SCT:363358000", "NCIT:C4878", "Mondo MONDO:0008903 'lung cancer' = SNOMED CT 363358000 = NCIt C7377; NCIt 2020 "
     "tree: C4878 'Lung Carcinoma' is-a C7377 (narrower)"),
    ("EUCAIM:CLIN1000071", "NCIT:C7927", "EUCAIM release annotates NCIT C7927 on CLIN1000071 'Malignant neoplasm of "
     "liver'; NCIt 2020 tree: C7927 'Liver and Intrahepatic Bile Duct Carcinoma' is-a C34803 'Primary Malignant "
     "Liver Neoplasm' (= SNOMED CT 93870000, Mondo MONDO:0002691), beside C4949 'Liver Lymphoma'"),
    ("SCT:93870000", "NCIT:C7927", "Mondo MONDO:0002691 'liver cancer' = SNOMED CT 93870000 = NCIt C34803; NCIt "
     "2020 tree: C7927 'Liver and Intrahepatic Bile Duct Carcinoma' is-a C34803 (narrower)"),
    ("EUCAIM:CLIN1000077", "NCIT:C9382", "EUCAIM release annotates NCIT C9382 on CLIN1000077 'Malignant neoplasm of "
     "rectum'; NCIt 2020 tree: C9382 'Rectal Carcinoma' is-a C7418 'Malignant Rectal Neoplasm' (= SNOMED CT "
     "363351006, Mondo MONDO:0006519; C9382 is Mondo MONDO:0044937 'rectal carcinoma')"),
    ("SCT:363351006", "NCIT:C9382", "Mondo MONDO:0006519 'rectal cancer' = SNOMED CT 363351006 = NCIt C7418; NCIt "
     "2020 tree: C9382 'Rectal Carcinoma' is-a C7418 (narrower)"),
    ("SCT:93880001", "SCT:363358000", "EUCAIM release: CLIN1051722 'Primary malignant neoplasm of lung' (SNOMEDCT "
     "93880001) subClassOf CLIN1000065 'Malignant tumor of lung' (SNOMEDCT 363358000): two SNOMED CT codes, a "
     "primary tumour is narrower"),
    ("SCT:255056009", "SCT:428061005", f"{RULE_HEAD_NECK}; SNOMED CT 428061005 'Malignant neoplasm of brain' is not "
     "255056009 'Malignant tumor of head and neck'"),
    ("ICDO3:8140/3", "ICDO3:8010/3", "ICD-O-3.1: 8140/3 'Adenocarcinoma, NOS' and 8010/3 'Carcinoma, NOS' are two "
     "codes; NCIt 2020 tree: C2852 'Adenocarcinoma' (EVS = 8140/3) is-a C2916 'Carcinoma' (EVS = 8010/3)"),
    ("NCIT:C2926", "NCIT:C4917", "NCIt 2020 tree: C2926 'Lung Non-Small Cell Carcinoma' and C4917 'Lung Small Cell "
     "Carcinoma' are both under C4878 'Lung Carcinoma', neither under the other"),
)
NOT_SAME = tuple(Fact(a, "not-same", b, source, "different meanings") for a, b, source in NOT_SAME_ROWS)

EVS_SAME = (("NCIT:C2852", "8140/3"), ("NCIT:C2929", "8070/3"), ("NCIT:C2916", "8010/3"), ("NCIT:C3224", "8720/3"),
            ("NCIT:C3242", "9732/3"), ("NCIT:C3058", "9440/3"), ("NCIT:C3208", "9590/3"), ("NCIT:C3211", "9591/3"),
            ("NCIT:C9305", "8000/3"), ("NCIT:C3915", "8041/3"))
EUCAIM_SAME_NCIT = {"CLIN1000075": "C7378", "CLIN1039310": "C3208", "CLIN1043447": "C3099", "CLIN1000169": "C4872",
                    "CLIN1000174": "C4910", "CLIN1000179": "C4863"}
EUCAIM_SAME_ICDO = ("CLIN1047138", "CLIN1047035", "CLIN1063589", "CLIN1000067", "CLIN1049660", "CLIN1049661",
                    "CLIN1049630")


def equivalences(src: Sources) -> Iterator[Fact]:
    """EVS NCIt = ICD-O-3 pairs; EUCAIM classes = the SNOMED CT, NCIt or ICD-O-3 code the release gives them."""
    for ncit, morph in EVS_SAME:
        yield Fact(f"ICDO3:{morph}", "same", ncit, src.evs[(ncit, f"ICDO3:{morph}")], "equivalent (NCI EVS)")
    queries = sorted({q[7:] for g in GROUPS for q in g.queries if q.startswith("EUCAIM:")} | set(EUCAIM_SAME_NCIT))
    for code in queries:
        record = src.eucaim[code]
        label = first(record["l"])
        if len(record.get("sct", [])) == 1:
            yield Fact(f"EUCAIM:{code}", "same", f"SCT:{record['sct'][0]}",
                       f"{RELEASE}: {code} '{label}' carries SNOMEDCT {record['sct'][0]}", "equivalent (release)")
        if code in EUCAIM_SAME_NCIT:
            ncit = EUCAIM_SAME_NCIT[code]
            yield Fact(f"EUCAIM:{code}", "same", f"NCIT:{ncit}", f"{RELEASE}: {code} '{label}' carries NCIT {ncit}; "
                       f"NCIt label '{src.ncit[ncit][0]}'", "equivalent (release)")
    for code in EUCAIM_SAME_ICDO:
        morph = src.eucaim[code]["icdo3"][0]
        yield Fact(f"EUCAIM:{code}", "same", f"ICDO3:{morph}", f"{RELEASE}: {code} '{first(src.eucaim[code]['l'])}' "
                   f"carries ICDO3 {morph} ('{src.morph[morph]}')", "equivalent (release)")


BROADER = re.compile(r"^neoplasm|thorax|respiratory|digestive|intestin|genital|urinary|nervous system|abdom|pelv"
                     r"|trunk|intrathoracic|intra-abdominal", re.I)


def parents_not_same(src: Sources) -> Iterator[Fact]:
    """A query concept is not equivalent to its parent (NCIt tree, ICD-10 structure, release hierarchy)."""
    for group in GROUPS:
        for query in group.queries:
            scheme, code = query.split(":", 1)
            pairs: list[tuple[str, str]] = []
            if scheme == "NCIT":
                pairs = [(f"NCIT:{p}", f"{NCIT_TREE}: {src.cite(query)} is-a {src.cite('NCIT:' + p)}")
                         for p in src.ncit[code][1]]
            elif scheme == "ICD10" and not re.fullmatch(r"[IVX]+", src.icd10[code][1]) and \
                    src.icd10_kids[src.icd10[code][1]] != [code]:  # a one-category block (C50-C50) is the same
                pairs = [(f"ICD10:{src.icd10[code][1]}", src.icd10_source(code))]
            elif scheme in ("EUCAIM", "SCT"):
                pairs = list(_release_parents(src, scheme, code))
            for parent, source in pairs:
                yield Fact(query, "not-same", parent, source, f"{group.name}: parent is broader")


def _release_parents(src: Sources, scheme: str, code: str) -> Iterator[tuple[str, str]]:
    classes = [code] if scheme == "EUCAIM" else src.eucaim_by_sct(code)
    for cls in classes:
        for parent in src.eucaim[cls].get("p", []):
            label = first(src.eucaim[parent].get("l", ""))
            if not BROADER.search(label):
                continue
            source = f"{RELEASE}: {src.eucaim_path(cls, parent)}; the parent is broader"
            if scheme == "EUCAIM":
                yield f"EUCAIM:{parent}", source
            for sct in src.eucaim[parent].get("sct", []):
                yield f"SCT:{sct}", source


# ============================================================================================ assembly and checks
def all_facts(src: Sources) -> list[Fact]:
    facts = curated(src)
    for group in GROUPS:
        for generate in GENERATORS:
            facts.extend(generate(src, group))
    facts += MONDO.same_facts()
    facts += equivalences(src)
    facts += NOT_SAME
    facts += parents_not_same(src)
    unique: dict[tuple[str, str, str], Fact] = {}
    for fact in facts:
        if fact.concept != fact.other:
            unique.setdefault((fact.concept, fact.relation, fact.other), fact)
    return list(unique.values())


class Classes:
    """Union-find over ``same`` facts: a query and its equivalents share their members."""

    def __init__(self, facts: list[Fact]) -> None:
        self.parent: dict[str, str] = {}
        for fact in facts:
            if fact.relation == "same":
                self.parent[self.find(fact.concept)] = self.find(fact.other)

    def find(self, curie: str) -> str:
        while self.parent.get(curie, curie) != curie:
            curie = self.parent[curie]
        return curie


def contradictions(facts: list[Fact]) -> list[str]:
    """Facts that cannot all hold: non-members reached through members (and ``same``), same vs not-same."""
    classes = Classes(facts)
    members: dict[str, set[str]] = {}
    for fact in facts:
        if fact.relation == "member":
            members.setdefault(classes.find(fact.concept), set()).add(classes.find(fact.other))

    def reach(start: str) -> set[str]:
        seen, todo = {start}, [start]
        while todo:
            for nxt in members.get(todo.pop(), ()):
                if nxt not in seen:
                    seen.add(nxt)
                    todo.append(nxt)
        return seen

    bad = []
    for fact in facts:
        a, b = classes.find(fact.concept), classes.find(fact.other)
        if fact.relation == "non-member" and b in reach(a):
            bad.append(f"{fact.concept} non-member {fact.other}, but members (or same) lead there")
        if fact.relation == "not-same" and (a == b or (b in reach(a) and a in reach(b))):
            bad.append(f"{fact.concept} not-same {fact.other}, but same (or mutual members) lead there")
    return bad


def render(facts: list[Fact]) -> str:
    rows = ["\t".join(HEADER)] + ["\t".join((f.concept, f.relation, f.other, f.source, f.note)) for f in facts]
    return "\n".join(rows) + "\n"


def summary(facts: list[Fact]) -> str:
    """Facts per relation; query concepts per terminology; facts and query concepts per organ system."""
    counts = {r: sum(f.relation == r for f in facts) for r in RELATIONS}
    queries = sorted({f.concept for f in facts if f.relation in ("member", "non-member")})
    schemes = {s: sum(q.startswith(s + ":") for q in queries) for s in ("SCT", "ICD10", "ICDO3", "NCIT", "EUCAIM")}
    system_of = {q: g.system for g in reversed(GROUPS) for q in g.queries}
    per_system: dict[str, list[int]] = {}
    for fact in facts:
        system = system_of.get(fact.concept, "equivalences across terminologies")
        per_system.setdefault(system, [0, 0])[0] += 1
    for query in queries:
        per_system[system_of[query]][1] += 1
    order = [*dict.fromkeys(g.system for g in GROUPS), "equivalences across terminologies"]
    lines = [f"  {name:36} {per_system[name][0]:5} facts, {per_system[name][1]:3} query concepts"
             for name in order if name in per_system]
    return f"{len(facts)} facts {counts}\n{len(queries)} query concepts {schemes}\n" + "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT, help=f"output TSV (default {OUT.name})")
    parser.add_argument("--eucaim", type=Path, default=EUCAIM_JSONL, help="the release's classes JSONL")
    parser.add_argument("--check", action="store_true", help="exit 1 when the TSV on disk is not what this writes")
    args = parser.parse_args(argv)
    facts = all_facts(Sources(args.eucaim))
    bad = contradictions(facts)
    if bad:
        print("contradictory facts:\n  " + "\n  ".join(bad[:40]), file=sys.stderr)
        return 2
    text = render(facts)
    if args.check:
        stale = not args.out.is_file() or args.out.read_text(encoding="utf-8") != text
        print(f"{args.out}: {'stale' if stale else 'up to date'}")
        return int(stale)
    args.out.write_text(text, encoding="utf-8")
    print(f"wrote {args.out}\n{summary(facts)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
