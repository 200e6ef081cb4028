"""Figures of a loaded hyperontology: concepts per terminology, cancer concepts, mappings.

Examples
--------
>>> from hyperontology import load_ontology
>>> figures = stats(load_ontology())
>>> figures["concepts"]["EUCAIM"] > 3900
True
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from hyperontology.ontology.api import Hyperontology
from hyperontology.ontology.coverage import coverage

CANCER_SCHEMES = ("SCT", "ICD10", "ICDO3", "NCIT")
STANDARD = ("SCT", "ICD10", "ICDO3", "NCIT", "RADLEX", "DCM", "LOINC", "ATC", "UCUM", "TNM")


def stats(onto: Hyperontology) -> dict[str, Any]:
    """Counts that the issue's targets and the README quote (all computed, none stored)."""
    by_scheme = onto.schemes()
    concepts = {c.iri: c for c in onto}
    cancer = Counter(c.scheme for c in onto if c.scheme in CANCER_SCHEMES and c.kind in ("diagnosis", "histology"))
    relation: Counter[str] = Counter()
    pairs: Counter[str] = Counter()
    linked: dict[str, set[str]] = {}
    for s, rel, o in onto.mappings:
        a, b = concepts[s].scheme, concepts[o].scheme
        relation[rel] += 1
        if a != b:
            pairs["-".join(sorted((a, b)))] += 1
        if a == "EUCAIM" and b != "EUCAIM":
            linked.setdefault(b, set()).add(s)
    cross = sum(pairs.values())
    return {
        "triples": onto.triples,
        "concepts": by_scheme,
        "standard_concepts": sum(n for s, n in by_scheme.items() if s in STANDARD),
        "terminologies": sorted(s for s in by_scheme if s in STANDARD),
        "cancer_diagnoses_histologies": {"total": sum(cancer.values()), **dict(sorted(cancer.items()))},
        "mappings": {"total": len(onto.mappings), "cross_terminology": cross, **dict(sorted(relation.items()))},
        "mappings_by_terminology_pair": dict(sorted(pairs.items())),
        "eucaim_classes_linked_to": {s: len(v) for s, v in sorted(linked.items())},
        "neoplasm_facets": len([c for c in onto if not onto.facets(c).empty]),
        "coverage_by_organ_system": coverage(onto),
    }
