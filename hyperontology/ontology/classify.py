"""The build's neoplasm classification: facets of every cancer concept, and conflict-free equivalence.

Steps (all deterministic):

1. own facets of each concept, from its code (ICD-10 blocks, ICD-O-3 behaviour digit), its preferred term, the
   cited site anchors (``sources/neoplasm-sites.tsv``) and, for EUCAIM classes, the release's own definitions
   (``hasAssociatedMorphology`` + ``hasFindingSite``);
2. facets inherited down each terminology's is-a hierarchy (a concept's own facets win);
3. the cited errata of sources (``sources/release-errata.tsv``) applied to the mappings;
4. exact matches resolved into conflict-free equivalence sets (:mod:`hyperontology.ontology.equivalence`),
   the rest demoted with the reason kept;
5. facets spread across each equivalence set and inherited again.
"""

from __future__ import annotations

import graphlib
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from hyperontology.errors import OntologyLoadError
from hyperontology.ontology import codes
from hyperontology.ontology.equivalence import EquivalenceSets, name_key
from hyperontology.ontology.eucaim import labels
from hyperontology.ontology.neoplasm import Facets, icd10_facets, icdo3_facets, label_facets, label_form, meet
from hyperontology.ontology.sources import CANCER_WORDS, Mapping, TermConcept, rows

SITES_HEADER = ["concept_id", "site_ids", "comment"]
ERRATA_HEADER = ["subject_id", "predicate_id", "object_id", "correction", "reason"]
#: which source's exact matches are chained first (a weaker one is demoted when they conflict)
SOURCE_RANK = {"curated-mappings.tsv": 0, "ncit-mappings.tsv": 1, "eucaim-etl-mappings.tsv": 1,
               "tnm-mappings.tsv": 1, "mondo-mappings.tsv": 4}
RELEASE_RANK = 3  # the release's own codes before Mondo's bridges, which fill what the release leaves open
#: a release class names the concept in SNOMED CT first; ICD codes of a class are often residual categories
SCHEME_ORDER = {"SCT": 0, "NCIT": 1, "RADLEX": 2, "LOINC": 2, "DCM": 2, "ATC": 2, "UCUM": 2, "ICDO3": 6, "ICD10": 7}
DEMOTED = {"broad": "skos:broadMatch", "narrow": "skos:narrowMatch", "close": "skos:closeMatch"}
NEOPLASM_KINDS = {"diagnosis", "histology"}
#: labels of observations, procedures, staging values and histories that name a cancer but are not one
NOT_A_DISORDER = re.compile(
    r"\b(history|screening|staging|grade|grading|measurement|risk|specimen|treatment|therapy|surveillance|"
    r"monitoring|antigen|ag|receptor|invasion|margin|excision|syndrome|susceptibility|marker|response|progression|"
    r"burden|examination|patient|condition type|joint committee|allowable|scoring|edition|histologic type|criteria|"
    r"waiting|regression|finding|immunohistochemistry|presence|percent)\b", re.I)


@dataclass
class Classification:
    facets: dict[str, Facets]
    mappings: list[Mapping]
    demoted: list[Mapping] = field(default_factory=list)
    errata: list[tuple[Mapping, str]] = field(default_factory=list)
    sets: list[list[str]] = field(default_factory=list)
    duplicates: list[tuple[str, str]] = field(default_factory=list)
    morphologies: list[str] = field(default_factory=list)  # release classes standing for a morphology


# ----------------------------------------------------------------------------------- tables
def read_site_anchors(path: Path) -> dict[str, frozenset[str]]:
    """``concept -> ICD-O-3 topography codes`` from a cited anchor table."""
    out: dict[str, frozenset[str]] = {}
    if not path.is_file():
        return out
    for lineno, (concept, sites, _comment) in rows(path, SITES_HEADER):
        parts = frozenset(s.strip() for s in sites.split("|") if s.strip())
        if not parts or not all(codes.valid("ICDO3", s) and s.startswith("C") for s in parts):
            raise OntologyLoadError(f"line {lineno}: site_ids must be ICD-O-3 topography codes", path=str(path))
        out[concept] = parts
    return out


def read_errata(path: Path) -> dict[tuple[str, str, str], tuple[str, str]]:
    """``(subject, predicate, object) -> (correction, reason)``; correction a SKOS predicate or ``remove``."""
    out: dict[tuple[str, str, str], tuple[str, str]] = {}
    if not path.is_file():
        return out
    for lineno, (s, p, o, correction, reason) in rows(path, ERRATA_HEADER):
        if correction not in {*DEMOTED.values(), "skos:exactMatch", "skos:relatedMatch", "remove"} or not reason:
            raise OntologyLoadError(f"line {lineno}: correction must be a SKOS mapping predicate or 'remove', "
                                    "with a reason", path=str(path))
        out[(s, p, o)] = (correction, reason)
    return out


# ----------------------------------------------------------------------------------- facets
class _Facts:
    """Own facets of every concept, from codes, labels, anchors and the release's definitions."""

    def __init__(self, concepts: dict[str, TermConcept], records: list[dict[str, Any]],
                 anchors: dict[str, frozenset[str]], mappings: list[Mapping]) -> None:
        self.concepts = concepts
        self.by_code = {r["c"]: r for r in records}
        self.anchors = anchors
        self.topography = frozenset(c.code for c in concepts.values() if c.scheme == "ICDO3" and "/" not in c.code)
        self.site_codes: dict[str, set[str]] = defaultdict(set)  # concept -> ICD-O-3 topography exact matches
        for m in mappings:
            if m.predicate == "skos:exactMatch":
                for a, b in ((m.subject, m.object), (m.object, m.subject)):
                    if b.startswith("ICDO3:C"):
                        self.site_codes[a].add(b[6:])

    def own(self) -> dict[str, Facets]:
        out: dict[str, Facets] = {}
        for curie, concept in self.concepts.items():
            f = self._term(concept)
            if curie in self.anchors:
                f = Facets(f.behaviour, self.anchors[curie], f.form, False)
            if not f.empty:
                out[curie] = f
        for code, record in self.by_code.items():
            f = self._eucaim(record)
            if not f.empty:
                out[f"EUCAIM:{code}"] = f
        return out

    def _term(self, concept: TermConcept) -> Facets:
        if concept.scheme == "ICD10":
            f = icd10_facets(concept.code, self.topography)
            return replace(f, form=label_form(concept.label) or f.form) if not f.empty else f
        if concept.scheme == "ICDO3":
            return icdo3_facets(concept.code)
        if concept.kind not in NEOPLASM_KINDS or NOT_A_DISORDER.search(concept.label):
            return Facets()
        tag = "morphologic abnormality" if concept.scheme == "SCT" and concept.kind == "histology" else ""
        return label_facets(concept.label, tag)

    def _eucaim(self, record: dict[str, Any]) -> Facets:
        curie = f"EUCAIM:{record['c']}"
        label = str(record["l"]) if isinstance(record.get("l"), str) else ""
        if not record["c"].startswith("CLIN") or NOT_A_DISORDER.search(label):
            return Facets()
        own = label_facets(label) if CANCER_WORDS.search(label) else Facets()
        morph, sites = None, None
        for restriction in record.get("r", []):
            prop, _, target = restriction.partition(">")
            if prop == "hasAssociatedMorphology":
                morph = self._morphology(target)
            elif prop == "hasFindingSite":
                sites = self.sites_of(f"EUCAIM:{target}")
        for value in record.get("icdo3", []):  # "8046/3-C34.9": this morphology at this site
            morph_code, _, site = value.strip().partition("-")
            if site and codes.valid("ICDO3", morph_code) and site in self.topography:
                morph = icdo3_facets(morph_code)
                morph = Facets(morph.behaviour, None, morph.form)
                sites = frozenset({site}) if sites is None else sites
        if curie in self.anchors:
            sites = self.anchors[curie]
        if morph is not None:
            own = own.over(morph)
        sites = sites if sites is not None else own.sites
        return Facets(own.behaviour, sites, own.form, sites is None and is_morphology_record(record))

    def _morphology(self, code: str) -> Facets | None:
        record = self.by_code.get(code)
        if record is None:
            return None
        label = record.get("l") if isinstance(record.get("l"), str) else ""
        f = label_facets(str(label))
        if str(label).strip().casefold() in ("malignant neoplasm", "neoplasm, malignant"):
            f = Facets("malignant", None, "generic")
        for value in record.get("icdo3", []):
            if "/" in value and codes.valid("ICDO3", value.strip()):
                f = icdo3_facets(value.strip()).over(f)
        return Facets(f.behaviour, None, f.form, False)

    def sites_of(self, curie: str) -> frozenset[str] | None:
        """ICD-O-3 topography of an anatomy concept: anchor, the release's ICD-O-3 value, or an exact match."""
        if curie in self.anchors:
            return self.anchors[curie]
        found: set[str] = set(self.site_codes.get(curie, ()))
        record = self.by_code.get(curie[7:]) if curie.startswith("EUCAIM:") else None
        for value in (record or {}).get("icdo3", []):
            value = value.strip()
            if value in self.topography:
                found.add(value)
        return frozenset(found) if found else None


def is_morphology_record(record: dict[str, Any]) -> bool:
    """A release class standing for a morphology: a SNOMED CT morphologic abnormality, or an ICD-O-3 histology code
    with no site, no finding site and no ICD-10 code."""
    names = [*labels(record), *record.get("a", [])]
    if any(str(n).strip().endswith("(morphologic abnormality)") for n in names):
        return True
    histology = [v for v in record.get("icdo3", []) if "/" in v and "-" not in v]
    restricted = any(r.startswith("hasFindingSite>") for r in record.get("r", []))
    return bool(histology) and not restricted and not record.get("icd10")


def _inherit(own: dict[str, Facets], parents: dict[str, set[str]]) -> dict[str, Facets]:
    """Facets down the is-a hierarchy: what a concept leaves unsaid comes from its parents."""
    order = graphlib.TopologicalSorter({c: ps for c, ps in parents.items()})
    try:
        sequence = list(order.static_order())
    except graphlib.CycleError:
        sequence = sorted(set(parents) | {p for ps in parents.values() for p in ps})
    out = dict(own)
    for curie in sequence:
        above = [out[p] for p in parents.get(curie, ()) if p in out]
        if not above:
            continue
        inherited = _from_parents(above)
        mine = own.get(curie, Facets())
        combined = mine.over(inherited)
        if not combined.empty:
            out[curie] = combined
    return out


def _from_parents(above: list[Facets]) -> Facets:
    behaviours = {f.behaviour for f in above if f.behaviour is not None}
    sited = [f.sites for f in above if f.sites is not None and not f.agnostic]
    sites: frozenset[str] | None = None
    for s in sited:
        sites = s if sites is None else meet(sites, s)
    # a child of a morphology is not itself known to hold at any site (Lung Adenocarcinoma is-a Adenocarcinoma)
    # the form (histology or NOS) is each concept's own, never inherited
    return Facets(behaviours.pop() if len(behaviours) == 1 else None, sites or None, None, False, bound=True)


# ----------------------------------------------------------------------------------- hierarchy
def hierarchy(concepts: dict[str, TermConcept], records: list[dict[str, Any]]) -> dict[str, set[str]]:
    """Parents of every concept inside its own terminology (EUCAIM classes included)."""
    parents: dict[str, set[str]] = {}
    for curie, concept in concepts.items():
        parents[curie] = {f"{concept.scheme}:{p}" for p in concept.parents if f"{concept.scheme}:{p}" in concepts}
    known = {r["c"] for r in records}
    for record in records:
        parents[f"EUCAIM:{record['c']}"] = {f"EUCAIM:{p}" for p in record.get("p", []) if p in known}
    return parents


class _Ancestors:
    def __init__(self, parents: dict[str, set[str]]) -> None:
        self.parents = parents
        self.cache: dict[str, frozenset[str]] = {}

    def of(self, curie: str) -> frozenset[str]:
        if curie not in self.cache:
            seen: set[str] = set()
            todo = list(self.parents.get(curie, ()))
            while todo:
                node = todo.pop()
                if node not in seen:
                    seen.add(node)
                    todo.extend(self.parents.get(node, ()))
            self.cache[curie] = frozenset(seen)
        return self.cache[curie]

    def is_ancestor(self, ancestor: str, descendant: str) -> bool:
        return ancestor in self.of(descendant)


# ----------------------------------------------------------------------------------- the pass
def classify(concepts: dict[str, TermConcept], mappings: Iterable[Mapping], records: list[dict[str, Any]],
             sources_dir: Path) -> Classification:
    """Facets, errata and conflict-free equivalence sets for a build (see the module docstring)."""
    anchors = read_site_anchors(sources_dir / "neoplasm-sites.tsv")
    errata = read_errata(sources_dir / "release-errata.tsv")
    result = Classification({}, [])
    fixed = _apply_errata(list(mappings), errata, result)
    facts = _Facts(concepts, records, anchors, fixed)
    parents = hierarchy(concepts, records)
    facets = _inherit(facts.own(), parents)
    ancestors = _Ancestors(parents)
    names = {f"EUCAIM:{r['c']}": {name_key(n) for n in [*labels(r), *r.get("pl", []), *r.get("a", [])]} - {""}
             for r in records}

    def duplicates(a: str, b: str) -> bool:  # two classes of the release with one name are one concept
        return a.startswith("EUCAIM:") and b.startswith("EUCAIM:") and bool(names.get(a, set()) & names.get(b, set()))

    sets = EquivalenceSets(facets.get, ancestors.is_ancestor, duplicates)
    for record in records:  # the release's own named equivalences (owl:equivalentClass) come first
        for other in record.get("eq", []):
            if other in facts.by_code:
                sets.merge(f"EUCAIM:{record['c']}", f"EUCAIM:{other}")
    kept = _resolve(fixed, sets, result)
    result.sets = sets.sets()
    declared = {frozenset((f"EUCAIM:{r['c']}", f"EUCAIM:{o}")) for r in records for o in r.get("eq", [])}
    for group in result.sets:
        eucaim = [c for c in group if c.startswith("EUCAIM:")]
        result.duplicates += [(a, b) for i, a in enumerate(eucaim) for b in eucaim[i + 1:]
                              if frozenset((a, b)) not in declared and duplicates(a, b)]
        combined = Facets()
        for curie in sorted(group, key=lambda c: _precision(facets.get(c))):
            combined = combined.over(facets.get(curie, Facets()))
        for curie in group:
            merged = facets.get(curie, Facets()).over(combined)
            if not merged.empty:
                facets[curie] = merged
    facets = _inherit(facets, parents)
    result.facets = {c: f for c, f in facets.items() if _is_neoplasm(c, f, concepts)}
    result.morphologies = sorted(f"EUCAIM:{r['c']}" for r in records if is_morphology_record(r))
    result.mappings = sorted(kept + _chained(result.sets, kept), key=lambda m: (m.subject, m.predicate, m.object))
    return result


def _resolve(mappings: list[Mapping], sets: EquivalenceSets, result: Classification) -> list[Mapping]:
    """Exact matches merged strongest first; a conflicting one demoted (kept in ``result.demoted`` too)."""
    kept = [m for m in mappings if m.predicate != "skos:exactMatch"]
    for m in sorted((m for m in mappings if m.predicate == "skos:exactMatch"), key=_strength):
        conflict = sets.conflict(m.subject, m.object)
        if conflict is None:
            sets.merge(m.subject, m.object)
            kept.append(m)
            continue
        relation, reason = conflict
        demoted = Mapping(m.subject, DEMOTED[relation], m.object, m.justification,
                          _join(m.comment, f"demoted from exactMatch: {reason}"), m.source)
        kept.append(demoted)
        result.demoted.append(demoted)
    return kept


def _chained(groups: list[list[str]], mappings: list[Mapping]) -> list[Mapping]:
    """Exact matches between the standard codes of one conflict-free set, written out for one-hop readers
    (SHACL value sets, SKOS property paths) as ``semapv:MappingChaining``."""
    linked = {frozenset((m.subject, m.object)) for m in mappings}
    out = []
    for group in groups:
        codes = [c for c in group if not c.startswith("EUCAIM:")]
        via = ", ".join(c for c in group if c.startswith("EUCAIM:")) or "their mappings"
        for i, a in enumerate(codes):
            for b in codes[i + 1:]:
                if a.split(":")[0] != b.split(":")[0] and frozenset((a, b)) not in linked:
                    out.append(Mapping(a, "skos:exactMatch", b, "semapv:MappingChaining",
                                       f"one equivalence set, through {via}"))
    return out


def _precision(f: Facets | None) -> int:
    """Most precise facets first: own sites before inherited bounds."""
    if f is None:
        return 9
    return (0 if f.sites is not None and not f.bound else 1 if f.sites is not None else 2) - (f.behaviour is not None)


def _strength(m: Mapping) -> tuple[int, str, int, str]:
    """Stronger sources first; within one release class, its SNOMED CT code before NCIt, ..., ICD codes last."""
    target = m.object.split(":", 1)[0]
    return (SOURCE_RANK.get(m.source, RELEASE_RANK), m.subject, SCHEME_ORDER.get(target, 5), m.object)


def _is_neoplasm(curie: str, f: Facets, concepts: dict[str, TermConcept]) -> bool:
    concept = concepts.get(curie)
    if concept is not None and concept.kind in ("anatomy", "topography"):
        return False
    return f.behaviour is not None or f.form is not None or f.agnostic


def _apply_errata(mappings: list[Mapping], errata: dict[tuple[str, str, str], tuple[str, str]],
                  result: Classification) -> list[Mapping]:
    out = []
    for m in mappings:
        fix = errata.get((m.subject, m.predicate, m.object))
        if fix is None:
            out.append(m)
            continue
        correction, reason = fix
        result.errata.append((m, f"{correction}: {reason}"))
        if correction != "remove":
            out.append(Mapping(m.subject, correction, m.object, m.justification,
                               _join(m.comment, f"erratum ({m.predicate} corrected): {reason}"), "curated"))
    return out


def _join(a: str, b: str) -> str:
    return f"{a}; {b}" if a else b


__all__ = ["Classification", "classify", "hierarchy", "is_morphology_record", "read_errata", "read_site_anchors"]
