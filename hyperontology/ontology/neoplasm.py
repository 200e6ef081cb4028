"""Neoplasm facets: behaviour, site and form, the properties that make a cancer expansion right.

A clinician asking for "malignant tumour of lung" means primary malignant neoplasms whose site is the lung,
of any histology. Three facets of each cancer concept decide whether it belongs to such a question:

- **behaviour** (the ICD-O-3 behaviour axis): ``malignant`` (primary, /3), ``metastatic`` (/6, ICD-10
  C77-C79), ``in situ`` (/2, ICD-10 D00-D09), ``uncertain`` (/1, ICD-10 D37-D48), ``benign`` (/0, ICD-10
  D10-D36); ``None`` when a concept says nothing (``Neoplasm of lung``).
- **sites**: ICD-O-3 topography codes (``C34``, ``C50.4``), the axis ICD-10 C00-C80 is built on; ``None`` when
  unknown; ``agnostic`` marks a morphology that holds at any site (ICD-O-3 ``8140/3`` Adenocarcinoma, NOS).
- **form**: ``generic`` (a neoplasm NOS at a site: ``Malignant neoplasm of breast``) or
  ``specific`` (one histology: ``Carcinoma of breast``, which excludes the breast's sarcomas).

Facets come from code structure (ICD-O-3 behaviour digit, ICD-10 blocks; WHO ICD-O-3 topography shares its
codes with ICD-10 C00-C80), from each terminology's own preferred terms, from cited site anchors and the EUCAIM
release's definitions (``hasAssociatedMorphology`` + ``hasFindingSite``), and are inherited down each
terminology's hierarchy and across conflict-free equivalence sets (see :mod:`hyperontology.ontology.equivalence`).

Examples
--------
>>> icd10_facets("D02.2").behaviour, icd10_facets("C34.1", {"C34.1"}).sites
('in situ', frozenset({'C34.1'}))
>>> icdo3_facets("8500/2").behaviour, icdo3_facets("8500/2").agnostic
('in situ', True)
>>> label_facets("Lung Adenocarcinoma In Situ").behaviour, label_facets("Malignant neoplasm of colon").form
('in situ', 'generic')
>>> within(frozenset({"C34.1"}), frozenset({"C34"})), within(frozenset({"C50"}), frozenset({"C34"}))
(True, False)
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

BEHAVIOURS = ("malignant", "metastatic", "in situ", "uncertain", "benign")
_ICDO3_BEHAVIOUR = {"0": "benign", "1": "uncertain", "2": "in situ", "3": "malignant", "6": "metastatic"}

_IN_SITU = re.compile(r"\bin[- ]situ\b|\bdcis\b|\blcis\b", re.I)
#: words that make a malignant-sounding term (carcinoma, malignant ...) an in situ one
_NOT_INVADING = re.compile(r"\bnon-?invasive\b|\bnon-?infiltrating\b|\bstage 0\b|\bintratubular\b", re.I)
_INTRADUCTAL = re.compile(r"\bintraductal\b", re.I)
_INVASIVE = re.compile(r"(?<!non)(?<!non-)\b(invasi\w*|infiltrat\w*)", re.I)
_METASTATIC = re.compile(r"\b(secondary|metastatic|metastasis|metastases|metastasi[sz]ed)\b", re.I)
_UNCERTAIN = re.compile(r"uncertain (or unknown )?behaviou?r|uncertain whether|spontaneously regressed|"
                        r"cystic partially differentiated|unknown behaviou?r|uncertain malignant potential|"
                        r"\bborderline\b|low malignant potential", re.I)
_BENIGN = re.compile(r"\bbenign\b", re.I)
_NOT_MALIGNANT = re.compile(r"\b(pre-?malignan\w*|non-?malignan\w*|potentially malignant|pre-?cancerous)\b", re.I)
#: words that mean malignant whatever else the term says; -blastomas only where the tumour is always malignant
#: (osteoblastoma, ameloblastoma, hemangioblastoma are not), carcinoid and mesothelioma left to their codes
_MALIGNANT = re.compile(
    r"malignan|carcinoma|sarcoma|(?<![a-z])lymphoma|leuka?emia|melanoma|myeloma|cancer|seminoma|"
    r"(glio|neuro|nephro|retino|hepato|medullo|pancreato|pineo|esthesioneuro|pleuropulmonary |pulmonary )blastoma",
    re.I)
#: histology words: a concept naming one is ``specific`` (one morphology), not a neoplasm NOS
_SPECIFIC = re.compile(
    r"carcinoma|sarcoma|lymphoma|leuka?emia|melanoma|myeloma|blastoma|glioma|astrocytoma|ependymoma|"
    r"mesothelioma|seminoma|carcinoid|neuroendocrine|adenoma|papilloma|teratoma|meningioma|plasmacytoma|"
    r"hodgkin|stromal tumou?r|germ cell|squamous|small cell|large cell|ductal|lobular|mucinous|"
    r"\bgist\b|chordoma|thymoma|\w*oma\b|epithelial|glial|mesenchymal|lymphoid|myeloid|ha?ematopoietic|"
    r"melanocytic|neuroectodermal|adenomatous|giant cell|spindle cell|clear cell|mixed", re.I)
_GENERIC = re.compile(
    r"^(primary |secondary )?malignant (neoplasm|tumou?r|neoplastic disease)s?\b|"
    r"^malignant\b.*\bneoplasms?$|^(primary )?neoplasm\b|\bmalignant neoplasms?\b|^tumou?r of\b", re.I)
_NOT_A_TUMOUR_WORD = {"hematoma", "haematoma", "glaucoma", "granuloma", "xanthoma", "stroma", "coma", "diploma",
                      "trachoma", "atheroma", "scotoma", "chloasma"}


@dataclass(frozen=True, slots=True)
class Facets:
    """What a cancer concept says about behaviour, site and histology; ``None`` = says nothing."""

    behaviour: str | None = None
    sites: frozenset[str] | None = None
    form: str | None = None  # "generic" | "specific"
    agnostic: bool = False  # a morphology valid at any site (ICD-O-3 histology, SNOMED CT morphologic abnormality)
    bound: bool = False  # the sites are only an upper bound, inherited from is-a ancestors (ho:siteWithin)

    @property
    def empty(self) -> bool:
        return self.behaviour is None and self.sites is None and self.form is None and not self.agnostic

    def over(self, inherited: Facets) -> Facets:
        """These facets, with what they leave unsaid taken from ``inherited``."""
        mine = self.sites is not None or self.agnostic
        return Facets(
            self.behaviour if self.behaviour is not None else inherited.behaviour,
            self.sites if mine else inherited.sites,
            self.form if self.form is not None else inherited.form,
            self.agnostic or (inherited.agnostic and self.sites is None),
            self.bound if mine else inherited.bound,
        )


def icdo3_facets(code: str) -> Facets:
    """ICD-O-3 morphology: behaviour from the digit after ``/``; valid at any site."""
    morph, _, digit = code.partition("/")
    if not digit:
        return Facets()  # a topography code is an anatomical site, not a neoplasm
    generic = morph in ("8000", "8001")
    return Facets(_ICDO3_BEHAVIOUR.get(digit), None, "generic" if generic else "specific", agnostic=True)


def icd10_facets(code: str, topography: Iterable[str] = ()) -> Facets:
    """ICD-10 chapter II by block; sites from the ICD-O-3 topography code of the same site.

    ``topography`` is the set of ICD-O-3 topography codes (WHO built ICD-O-3 topography on ICD-10 C00-C80, so
    C34.1 is the site of ICD-10 C34.1; melanoma of skin C43.x is coded at skin C44.x).
    """
    first, _, last = code.partition("-")
    if not re.fullmatch(r"[CD]\d\d(\.\d{1,2})?", first):
        return Facets()
    letter, number = first[0], int(first[1:3])
    end = int(last[1:3]) if last else number
    if letter == "C":
        if end <= 76 or number >= 80:
            behaviour = "malignant" if end <= 76 or number >= 80 else None
        else:
            behaviour = "metastatic" if number >= 77 and end <= 79 else None
    else:
        behaviour = ("in situ" if end <= 9 else "benign" if number >= 10 and end <= 36
                     else "uncertain" if number >= 37 and end <= 48 else None)
    if letter == "D" and number > 48:
        return Facets()
    return Facets(behaviour, _icd10_sites(first, last, frozenset(topography)) if letter == "C" else None,
                  _icd10_form(number))


def _icd10_sites(first: str, last: str, topography: frozenset[str]) -> frozenset[str] | None:
    if last:  # a block: the 3-character sites it spans
        start, end = int(first[1:3]), int(last[1:3])
        sites = frozenset(f"C{n:02d}" for n in range(start, end + 1) if f"C{n:02d}" in topography)
        return sites if sites and end <= 76 else None
    number = int(first[1:3])
    if number == 22:  # C22.0-C22.9 are histologies of the liver and intrahepatic bile ducts, not sub-sites
        site = "C22"
    elif number == 43:
        site = "C44" + first[3:]
    elif number in (45, 46) or number > 76:
        return None
    else:
        site = first
    return frozenset({site}) if site in topography else None


def _icd10_form(number: int) -> str:
    """C43 melanoma, C44 other skin (not melanoma), C45 mesothelioma, C46 Kaposi, C81-C96 haematological."""
    return "specific" if number in (43, 44, 45, 46) or 81 <= number <= 96 else "generic"


def label_facets(label: str, semantic_tag: str = "") -> Facets:
    """Behaviour and form from a terminology's own preferred term (and SNOMED CT semantic tag)."""
    text = label.strip()
    agnostic = "morphologic abnormality" in semantic_tag
    return Facets(label_behaviour(text), None, label_form(text), agnostic)


def label_behaviour(text: str) -> str | None:
    """The behaviour a preferred term states, or None (``Lung neoplasm`` states none)."""
    if _IN_SITU.search(text):
        return "in situ"
    malignant_words = _MALIGNANT.search(text) is not None and not _NOT_MALIGNANT.search(text)
    if malignant_words and (_NOT_INVADING.search(text) or (
            _INTRADUCTAL.search(text) and not _INVASIVE.search(text) and "paget" not in text.casefold())):
        return "in situ"
    if any(not _negated(text, m.start()) for m in _METASTATIC.finditer(text)):
        return "metastatic"
    if _UNCERTAIN.search(text):
        return "uncertain"
    if _BENIGN.search(text):
        return "benign"
    return "malignant" if malignant_words else None


def label_form(text: str) -> str | None:
    for match in _SPECIFIC.finditer(text):
        if match.group(0).casefold() in _NOT_A_TUMOUR_WORD:
            continue
        return "specific"
    return "generic" if _GENERIC.search(text) else None


def _negated(text: str, start: int) -> bool:
    before = text[max(0, start - 4):start].casefold()
    return before.endswith(("non-", "non ", "no "))


# ----------------------------------------------------------------------------------- sites
def within(sites: frozenset[str], scope: frozenset[str]) -> bool:
    """Every site of ``sites`` is one of ``scope`` or inside one (``C34.1`` is inside ``C34``)."""
    return all(any(site == s or site.startswith(s + ".") for s in scope) for site in sites)


def meet(a: frozenset[str], b: frozenset[str]) -> frozenset[str]:
    """The sites that lie in both (``C34`` and ``C34.1`` meet in ``C34.1``)."""
    return frozenset({x for x in a if within(frozenset({x}), b)} | {y for y in b if within(frozenset({y}), a)})


def compatible(member: Facets, query: Facets) -> bool:
    """False when ``member`` can never answer a question for a concept with facets ``query``.

    Different known behaviours; a site-specific question and a site-agnostic morphology; a known site outside
    the question's sites. (Histology is not a reason: an is-a child of ``Carcinoma of breast`` is a carcinoma
    even when its own term, ``Triple negative malignant neoplasm of breast``, does not say so.)
    """
    if query.behaviour is not None and member.behaviour is not None and member.behaviour != query.behaviour:
        return False
    if not query.agnostic and query.sites is not None:
        if member.agnostic:
            return False
        if member.sites is not None and not (meet(member.sites, query.sites) if member.bound
                                             else within(member.sites, query.sites)):
            return False
    return True


def defines(member: Facets, query: Facets) -> bool:
    """True when ``query`` is a neoplasm NOS at known sites and ``member`` is, by its facets, one of its kinds.

    This is what a reasoner concludes from the release's definitions (morphology + finding site): a malignant
    neoplasm whose site lies in the lung is a malignant neoplasm of lung, whatever its histology.
    """
    return (query.form == "generic" and query.behaviour is not None and query.sites is not None
            and not query.bound and not query.agnostic and not member.agnostic
            and member.behaviour == query.behaviour
            and member.sites is not None and within(member.sites, query.sites))


__all__ = ["BEHAVIOURS", "Facets", "compatible", "defines", "icd10_facets", "icdo3_facets", "label_facets",
           "meet", "within"]
