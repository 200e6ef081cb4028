"""Terminology sources of the hyperontology build: curated tables, PS3.16 (pydicom), the EUCAIM release.

Examples
--------
>>> concepts = pydicom_concepts(schemes={"DCM"})
>>> concepts["DCM:113076"].label
'Segmentation'
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from hyperontology.errors import OntologyLoadError
from hyperontology.ontology import codes

CONCEPT_HEADER = ["code", "label", "synonyms", "parents", "kind"]
MAPPING_HEADER = ["subject_id", "predicate_id", "object_id", "mapping_justification", "comment"]
#: table file name prefix -> scheme
TABLE_SCHEMES = {
    "icd10": "ICD10", "icdo3": "ICDO3", "ncit": "NCIT", "atc": "ATC", "loinc": "LOINC", "ucum": "UCUM",
    "radlex": "RADLEX", "tnm": "TNM", "sct": "SCT", "dcm": "DCM", "manufacturers": "BIRNLEX",
}
#: pydicom PS3.16 scheme designator -> our prefix
PYDICOM_SCHEMES = {"SCT": "SCT", "DCM": "DCM", "LN": "LOINC", "UCUM": "UCUM", "RADLEX": "RADLEX", "NCIt": "NCIT"}
#: a SNOMED CT fully specified name's trailing semantic tag, e.g. "Kidney structure (body structure)"
SEMANTIC_TAG = re.compile(r"^(?P<term>.*\S)\s+\((?P<tag>disorder|finding|body structure|morphologic abnormality|"
                          r"procedure|qualifier value|observable entity|substance|situation|regime/therapy|"
                          r"product|medicinal product|cell structure|cell|attribute|environment|event|"
                          r"occupation|person|physical object|record artifact|specimen|staging scale|"
                          r"assessment scale|tumor staging|navigational concept|organism|clinical drug|"
                          r"foundation metadata concept|core metadata concept|physical force|social concept|"
                          r"geographic location|context-dependent category|ethnic group|namespace concept)\)$")
CANCER_WORDS = re.compile(
    r"carcinom|neoplas|tumou?r|cancer|lymphoma|leuka?emia|melanoma|sarcoma|glioma|blastoma|adenoma|myeloma|"
    r"mesothelioma|malignan|metasta|seminoma|ependymoma|astrocytoma|meningioma|carcinoid",
    re.IGNORECASE,
)


@dataclass
class TermConcept:
    """One concept of a standard terminology, as the build assembles it from its sources."""

    scheme: str
    code: str
    label: str
    synonyms: set[str] = field(default_factory=set)
    parents: set[str] = field(default_factory=set)
    kind: str = "other"
    sources: set[str] = field(default_factory=set)
    semantic_tag: str = ""  # SNOMED CT semantic tag of the fully specified name, kept apart from the label

    @property
    def curie(self) -> str:
        return f"{self.scheme}:{self.code}"


@dataclass(frozen=True)
class Mapping:
    """One mapping row (SSSOM core columns)."""

    subject: str
    predicate: str
    object: str
    justification: str
    comment: str = ""
    source: str = ""  # the table it was read from ("" = the EUCAIM release); decides which exact match wins


def rows(path: Path, header: list[str]) -> Iterable[tuple[int, list[str]]]:
    with path.open(encoding="utf-8", newline="") as handle:
        lines = [(n, line) for n, line in enumerate(handle, 1) if line.strip() and not line.startswith("#")]
    if not lines or lines[0][1].rstrip("\n").split("\t") != header:
        raise OntologyLoadError(f"header must be {' '.join(header)!r}", path=str(path))
    for lineno, line in lines[1:]:
        cells = line.rstrip("\n").split("\t")
        if len(cells) != len(header):
            raise OntologyLoadError(f"line {lineno}: {len(cells)} fields, expected {len(header)}", path=str(path))
        yield lineno, [c.strip() for c in cells]


def read_concept_table(path: Path, scheme: str) -> dict[str, TermConcept]:
    """Read one curated concept table; malformed codes are an error naming file and line."""
    out: dict[str, TermConcept] = {}
    for lineno, (code, label, synonyms, parents, kind) in rows(path, CONCEPT_HEADER):
        if not codes.valid(scheme, code) or not label:
            raise OntologyLoadError(f"line {lineno}: bad {scheme} code {code!r} or empty label", path=str(path))
        concept = out.setdefault(code, TermConcept(scheme, code, label, kind=kind or "other"))
        concept.synonyms.update(s for s in synonyms.split("|") if s and s != label)
        concept.parents.update(p for p in parents.split("|") if p)
        concept.sources.add(path.name)
    return out


def read_mapping_table(path: Path) -> list[Mapping]:
    return [Mapping(s, p, o, justification, comment, path.name)
            for _, (s, p, o, justification, comment) in rows(path, MAPPING_HEADER)]


def table_scheme(path: Path) -> str | None:
    return TABLE_SCHEMES.get(path.stem.split("-")[0])


def pydicom_concepts(schemes: set[str] | None = None) -> dict[str, TermConcept]:
    """Concepts of DICOM PS3.16 as pydicom ships them, with the context groups (CIDs) they belong to."""
    from pydicom.sr._concepts_dict import concepts as ps316

    out: dict[str, TermConcept] = {}
    for designator, prefix in PYDICOM_SCHEMES.items():
        if schemes is not None and prefix not in schemes:
            continue
        meanings: dict[str, list[tuple[str, list[int]]]] = {}
        for entries in ps316.get(designator, {}).values():
            for code, (meaning, cids) in entries.items():  # type: ignore[attr-defined]
                if codes.valid(prefix, code):
                    meanings.setdefault(code, []).append((meaning, list(cids)))
        for code, found in meanings.items():
            # PS3.16 gives some codes a meaning per context group (SCT 64033007 is "Endo-renal" as an ultrasound
            # approach, "Kidney" in 17 groups): the label is the meaning of the most groups, the others synonyms
            found.sort(key=lambda m: (-len(m[1]), m[0]))
            label, cids = found[0]
            concept = TermConcept(prefix, code, label, sources={"pydicom PS3.16"})
            concept.synonyms.update(m for m, _ in found[1:] if m != label)
            concept.kind = _pydicom_kind(prefix, sorted({c for _, cs in found for c in cs}), label)
            out[f"{prefix}:{code}"] = concept
    return out


def split_semantic_tag(text: str) -> tuple[str, str]:
    """``("Kidney structure", "body structure")`` from a SNOMED CT fully specified name; ``(text, "")`` if none."""
    match = SEMANTIC_TAG.match(text.strip())
    return (match.group("term"), match.group("tag")) if match else (text.strip(), "")


def _pydicom_kind(prefix: str, cids: list[int], meaning: str) -> str:
    if prefix == "UCUM":
        return "unit"
    if 29 in cids or 33 in cids:
        return "modality"
    if 4 in cids or 4030 in cids or 4031 in cids:
        return "anatomy"
    if 12 in cids or 13 in cids:
        return "contrast"
    return cancer_kind(meaning) or "other"


def cancer_kind(label: str, semantic_tag: str = "") -> str | None:
    """``diagnosis`` or ``histology`` for cancer concepts (by label and SNOMED CT semantic tag), else None."""
    if not CANCER_WORDS.search(label) or re.search(r"\b(benign|screening|history of|family)\b", label, re.I):
        return None
    if "morphologic abnormality" in semantic_tag or "morpholog" in label.lower():
        return "histology"
    if semantic_tag and semantic_tag not in ("disorder", "finding"):
        return None
    return "diagnosis"
