"""Assemble the hyperontology from its sources: the EUCAIM release, curated tables, DICOM PS3.16.

The build is deterministic: the same inputs give byte-identical modules. It is run by
``ontologies/build/build.py`` for the bundled release and by ``hyperontology ontology import`` when
a user merges a newer EUCAIM release.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hyperontology.ontology import codes
from hyperontology.ontology.classify import classify, is_morphology_record
from hyperontology.ontology.eucaim import ANNOTATION_KEYS, labels
from hyperontology.ontology.neoplasm import Facets
from hyperontology.ontology.sources import (
    Mapping,
    TermConcept,
    cancer_kind,
    pydicom_concepts,
    read_concept_table,
    read_mapping_table,
    split_semantic_tag,
    table_scheme,
)

RELEASE = "EUCAIM Hyper-Ontology v2.0 (LIMICS 2025, doi:10.5281/zenodo.10777925)"
STANDARD_KEYS = {"sct": "SCT", "ncit": "NCIT", "radlex": "RADLEX", "icd10": "ICD10", "icdo3": "ICDO3",
                 "loinc": "LOINC", "ucum": "UCUM", "atc": "ATC"}
X_PREFIXES = {"NCIT": "NCIT", "RADLEX": "RADLEX", "RadLex": "RADLEX", "SNOMEDCT": "SCT", "ICDO3": "ICDO3",
              "LOINC": "LOINC", "ICD10": "ICD10"}
FACET_TABLES = {"neoplasm-sites.tsv", "release-errata.tsv"}
# SNOMED CT concepts of PS3.16 kept besides those the other sources name: these context groups.
KEEP_SCT_KINDS = {"anatomy", "modality", "contrast", "diagnosis", "histology"}


@dataclass
class BuildResult:
    concepts: dict[str, TermConcept]
    mappings: list[Mapping]
    warnings: list[str] = field(default_factory=list)
    facets: dict[str, Facets] = field(default_factory=dict)
    errata: list[tuple[Mapping, str]] = field(default_factory=list)
    demoted: list[Mapping] = field(default_factory=list)
    duplicates: list[tuple[str, str]] = field(default_factory=list)
    morphologies: list[str] = field(default_factory=list)


def normalise(scheme: str, value: str) -> str:
    """Tidy a code as written in the release (spaces, ``RID`` prefix, ICD-10 block ends such as ``C63.9``)."""
    value = value.strip()
    prefix = {"LOINC": "LOINC:", "SCT": "SNOMEDCT:", "NCIT": "NCIT:", "RADLEX": "RADLEX:"}.get(scheme)
    if prefix and value.startswith(prefix):
        value = value[len(prefix):]
    if scheme == "RADLEX" and value.isdigit():
        value = "RID" + value
    if scheme == "ICD10":
        value = re.sub(r"^([A-Z]\d\d)-([A-Z]\d\d)\.\d$", r"\1-\2", value)
    return value


class Builder:
    """Collects concepts and mappings from every source, then resolves labels, parents and kinds."""

    def __init__(self) -> None:
        self.concepts: dict[str, TermConcept] = {}
        self.mappings: dict[tuple[str, str, str], Mapping] = {}
        self.warnings: list[str] = []

    # -- sources -------------------------------------------------------------------------------
    def add_tables(self, sources_dir: Path) -> None:
        for path in sorted(sources_dir.glob("*.tsv")):
            if path.name in FACET_TABLES:  # read by the classification (classify.py)
                continue
            if path.name.endswith("-mappings.tsv"):
                for mapping in read_mapping_table(path):
                    self.add_mapping(mapping)
                continue
            scheme = table_scheme(path)
            if scheme is None:
                self.warnings.append(f"{path.name}: no terminology for this file name; skipped")
                continue
            for concept in read_concept_table(path, scheme).values():
                self._merge(concept, authoritative=True)

    def add_pydicom(self) -> None:
        """PS3.16 labels win over labels taken from the release's class names."""
        for concept in pydicom_concepts().values():
            have = self.concepts.get(concept.curie)
            if have is None and concept.scheme == "SCT" and concept.kind not in KEEP_SCT_KINDS:
                continue
            self._merge(concept, authoritative=have is None or have.sources <= {"EUCAIM release"})

    def add_release(self, records: list[dict[str, Any]]) -> None:
        by_code = {r["c"]: r for r in records}
        for record in sorted(records, key=lambda r: str(r["c"])):  # label of a shared code: the first class
            for curie, predicate in self._release_targets(record):
                self.add_mapping(Mapping(f"EUCAIM:{record['c']}", predicate, curie,
                                         "semapv:ManualMappingCuration", RELEASE))
        self._derive_sct_parents(records, by_code)

    def add_mapping(self, mapping: Mapping) -> None:
        key = (mapping.subject, mapping.predicate, mapping.object)
        self.mappings.setdefault(key, mapping)

    # -- internals -----------------------------------------------------------------------------
    def _merge(self, concept: TermConcept, *, authoritative: bool) -> None:
        have = self.concepts.get(concept.curie)
        if have is None:
            self.concepts[concept.curie] = concept
            return
        if authoritative and concept.label != have.label:
            have.synonyms.add(have.label)
            have.label = concept.label
        elif concept.label != have.label:
            have.synonyms.add(concept.label)
        have.synonyms.update(concept.synonyms)
        have.synonyms.discard(have.label)
        have.parents.update(concept.parents)
        have.sources.update(concept.sources)
        if have.kind == "other":
            have.kind = concept.kind

    def _release_targets(self, record: dict[str, Any]) -> Iterable[tuple[str, str]]:
        values: list[tuple[str, str]] = []
        for key, scheme in STANDARD_KEYS.items():
            values += [(scheme, v) for v in record.get(key, [])]
        for literal in record.get("x", []):
            prefix, sep, local = literal.partition(":")
            if sep and prefix in X_PREFIXES:
                values.append((X_PREFIXES[prefix], local))
            elif literal.startswith("birnlex_"):
                values.append(("BIRNLEX", literal))
        seen: set[tuple[str, str]] = set()
        for scheme, raw in values:
            for code, predicate in self._split(scheme, normalise(scheme, raw), record):
                if (scheme, code) in seen or not codes.valid(scheme, code):
                    continue
                seen.add((scheme, code))
                self._ensure(scheme, code, record)
                if predicate:
                    yield f"{scheme}:{code}", predicate

    def _split(self, scheme: str, code: str, record: dict[str, Any]) -> list[tuple[str, str | None]]:
        """ICD-O-3 values are a morphology, a site, or ``morphology-site`` for a neoplasm at a site."""
        if scheme != "ICDO3":
            return [(code, "skos:exactMatch")]
        if "-" in code:
            morph, _, site = code.partition("-")
            return [(morph, "skos:broadMatch"), (site, None)]
        is_site = codes.icdo3_axis(code) == "topography"
        is_anatomy = record["c"].startswith("BP")
        return [(code, "skos:exactMatch" if is_site == is_anatomy else None)]

    def _ensure(self, scheme: str, code: str, record: dict[str, Any]) -> None:
        curie = f"{scheme}:{code}"
        if curie in self.concepts:
            self.concepts[curie].sources.add("EUCAIM release")
            return
        names = [n.strip() for n in [*labels(record), *record.get("pl", []), *record.get("a", [])] if n.strip()]
        if not names:  # a code is never a label: the concept waits for a source that names it
            self.warnings.append(f"{curie}: named by EUCAIM:{record['c']}, which has no label; not a concept")
            return
        label, tag = names[0], ""
        if scheme == "SCT":  # the release's names of SNOMED CT-coded classes are SNOMED CT descriptions; the FSN wins
            fsn = next((split_semantic_tag(n) for n in names if split_semantic_tag(n)[1]), None)
            label, tag = fsn if fsn else split_semantic_tag(label)
        kind = cancer_kind(label, tag) if scheme in ("SCT", "NCIT", "ICDO3", "ICD10") else None
        if scheme == "SCT" and is_morphology_record(record):  # the class stands for a morphology
            kind, tag = "histology", tag or "morphologic abnormality"
        if scheme == "ICDO3":
            kind = "topography" if codes.icdo3_axis(code) == "topography" else (kind or "histology")
        concept = TermConcept(scheme, code, label, kind=kind or "other", sources={"EUCAIM release"},
                              semantic_tag=tag)
        if scheme == "SCT":
            concept.synonyms.update(split_semantic_tag(n)[0] for n in names)
            concept.synonyms.discard(concept.label)
        self.concepts[curie] = concept

    def _derive_sct_parents(self, records: list[dict[str, Any]], by_code: dict[str, Any]) -> None:
        """SNOMED CT is-a from the release's hierarchy: nearest ancestors that carry a SNOMED CT code."""
        for record in records:
            for code in record.get("sct", []):
                concept = self.concepts.get(f"SCT:{code}")
                if concept is None or concept.parents:
                    continue
                concept.parents.update(p for p in self._nearest_sct(record, by_code) if p != code)

    def _nearest_sct(self, record: dict[str, Any], by_code: dict[str, Any]) -> set[str]:
        found: set[str] = set()
        todo, seen = list(record.get("p", [])), set()
        while todo:
            name = todo.pop()
            if name in seen or name not in by_code:
                continue
            seen.add(name)
            sct = [c for c in by_code[name].get("sct", []) if f"SCT:{c}" in self.concepts]
            if sct:
                found.update(sct)
            else:
                todo.extend(by_code[name].get("p", []))
        return found

    # -- result --------------------------------------------------------------------------------
    def result(self, known_eucaim: set[str]) -> BuildResult:
        for concept in self.concepts.values():
            if concept.scheme == "SCT":
                _tidy_sct(concept)
            missing = {p for p in concept.parents if f"{concept.scheme}:{p}" not in self.concepts}
            for parent in sorted(missing):
                self.warnings.append(f"{concept.curie}: parent {parent} is not a concept; is-a dropped")
            concept.parents -= missing | {concept.code}
        mappings = []
        for mapping in sorted(self.mappings.values(), key=lambda m: (m.subject, m.predicate, m.object)):
            dangling = [c for c in (mapping.subject, mapping.object) if not self._known(c, known_eucaim)]
            if dangling:
                self.warnings.append(f"mapping {mapping.subject} {mapping.predicate} {mapping.object}: "
                                     f"{', '.join(dangling)} not a concept; mapping dropped")
                continue
            mappings.append(mapping)
        return BuildResult(self.concepts, mappings, self.warnings)

    def _known(self, curie: str, known_eucaim: set[str]) -> bool:
        if curie.startswith("EUCAIM:"):
            return curie[7:] in known_eucaim
        return curie in self.concepts


def _tidy_sct(concept: TermConcept) -> None:
    """Semantic tags apart from the label and synonyms (``Malignant tumor of ovary (disorder)``)."""
    label, tag = split_semantic_tag(concept.label)
    concept.label, concept.semantic_tag = label, concept.semantic_tag or tag
    synonyms = set()
    for synonym in concept.synonyms:
        text, other = split_semantic_tag(synonym)
        concept.semantic_tag = concept.semantic_tag or other
        synonyms.add(text)
    concept.synonyms = synonyms - {concept.label}


def assemble(records: list[dict[str, Any]], sources_dir: Path) -> BuildResult:
    """Every concept and mapping of the hyperontology's terminology modules."""
    builder = Builder()
    builder.add_tables(sources_dir)
    builder.add_release(records)
    builder.add_pydicom()
    result = builder.result({r["c"] for r in records})
    found = classify(result.concepts, result.mappings, records, sources_dir)
    result.mappings, result.facets, result.errata = found.mappings, found.facets, found.errata
    result.demoted, result.duplicates = found.demoted, found.duplicates
    result.morphologies = found.morphologies
    return result


__all__ = ["ANNOTATION_KEYS", "BuildResult", "assemble", "normalise"]
