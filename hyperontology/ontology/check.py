"""``hyperontology ontology check``: is the release well formed, consistent and honest about its sources?

Errors (the check fails): a module that does not parse, a concept lacking label, notation or scheme,
a malformed or duplicated code, a mapping whose target is not a concept, an is-a cycle, an OWL
inconsistency or unsatisfiable class (HermiT), a DICOM code whose label disagrees with PS3.16.
Semantic errors (:func:`check_semantics`): exact-match sets that merge two codes of one terminology, a concept
and its ancestor, or concepts of different behaviour, site or histology; facets contradicting a preferred term;
expansions reaching members their facets exclude.
Warnings (reported, the check passes): defects of the EUCAIM release itself (a corrupted SNOMED CT id,
LOINC group/part codes in its LOINC field, empty values, expressions the transcription could not
express) and what the build dropped.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import networkx as nx
import pyoxigraph as ox

from hyperontology.errors import OntologyLoadError
from hyperontology.ontology import codes
from hyperontology.ontology.build import STANDARD_KEYS, normalise
from hyperontology.ontology.equivalence import EquivalenceSets, name_key
from hyperontology.ontology.eucaim import ANNOTATION_KEYS, EUCAIM
from hyperontology.ontology.neoplasm import compatible, label_behaviour
from hyperontology.ontology.reasoner import ReasonerResult, run_hermit
from hyperontology.prefixes import iri_to_curie

SKOS = "http://www.w3.org/2004/02/skos/core#"
DCM_SCHEME = "https://w3id.org/hyperontology/scheme/DCM"
PREFIX = f"""PREFIX skos: <{SKOS}> PREFIX owl: <http://www.w3.org/2002/07/owl#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#> PREFIX ho: <https://w3id.org/hyperontology/>
PREFIX eucaim: <{EUCAIM}>
"""


@dataclass(frozen=True)
class Finding:
    level: str  # "error" | "warning"
    rule: str
    subject: str
    message: str

    def __str__(self) -> str:
        return f"{self.level}: [{self.rule}] {self.subject}: {self.message}"


@dataclass
class CheckReport:
    findings: list[Finding] = field(default_factory=list)
    reasoner: ReasonerResult | None = None
    triples: int = 0

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.level == "error"]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.level == "warning"]

    @property
    def ok(self) -> bool:
        return not self.errors

    def add(self, level: str, rule: str, subject: str, message: str) -> None:
        self.findings.append(Finding(level, rule, iri_to_curie(subject) or subject, message))

    def summary(self) -> dict[str, int]:
        return dict(Counter(f"{f.level}:{f.rule}" for f in self.findings))


def load_store(files: list[Path]) -> ox.Store:
    """Every module in one in-memory store; a parse error names the module."""
    store = ox.Store()
    for path in files:
        fmt = ox.RdfFormat.TURTLE if path.suffix == ".ttl" else ox.RdfFormat.RDF_XML
        try:
            store.bulk_load(path=str(path), format=fmt)
        except (SyntaxError, OSError, ValueError) as exc:
            raise OntologyLoadError(f"syntax error: {exc}", path=str(path)) from exc
    return store


def _select(store: ox.Store, query: str) -> list[tuple[str, ...]]:
    results = store.query(PREFIX + query)
    return [tuple("" if v is None else v.value for v in row) for row in results]  # type: ignore[union-attr]


def check_concepts(store: ox.Store, report: CheckReport) -> None:
    for (iri,) in _select(store, "SELECT ?c { ?c skos:inScheme ?s FILTER NOT EXISTS { ?c skos:notation ?n } }"):
        report.add("error", "notation", iri, "concept has no skos:notation")
    for (iri,) in _select(store, "SELECT ?c { ?c skos:notation ?n ; a owl:Class "
                                 "FILTER NOT EXISTS { ?c skos:inScheme ?s } }"):
        report.add("error", "scheme", iri, "concept has no skos:inScheme")
    for iri, _scheme in _select(store, "SELECT ?c ?s { ?c skos:inScheme ?s FILTER NOT EXISTS "
                                      "{ ?c skos:prefLabel|rdfs:label ?l FILTER(STRLEN(STR(?l)) > 0) } }"):
        level = "warning" if iri.startswith(EUCAIM) else "error"
        report.add(level, "label", iri, "concept has no label" + (" (so in the release)" if level == "warning" else ""))
    rows = _select(store, "SELECT ?c ?n ?sn { ?c skos:notation ?n ; skos:inScheme ?s . ?s skos:notation ?sn }")
    seen: dict[tuple[str, str], str] = {}
    for iri, code, scheme in rows:
        if scheme not in ("EUCAIM",) and not codes.valid(scheme, code):
            report.add("error", "code", iri, f"{code!r} is not a well-formed {scheme} code")
        other = seen.setdefault((scheme, code), iri)
        if other != iri:
            report.add("error", "duplicate", iri, f"{scheme} code {code} is also {other}")


def check_mappings(store: ox.Store, report: CheckReport) -> None:
    query = """SELECT ?s ?p ?o { VALUES ?p { skos:exactMatch skos:closeMatch skos:broadMatch skos:narrowMatch
               skos:relatedMatch } ?s ?p ?o FILTER(isIRI(?o)) FILTER NOT EXISTS { ?o skos:inScheme ?x } }"""
    for s, p, o in _select(store, query):
        report.add("error", "dangling-mapping", s, f"{p.rsplit('#', 1)[-1]} target {o} is not a concept")
    for (s,) in _select(store, "SELECT ?s { ?s skos:exactMatch ?o FILTER(isLiteral(?o)) }"):
        report.add("warning", "literal-mapping", s, "skos:exactMatch to a literal (release shape), not a concept")


def check_cycles(store: ox.Store, report: CheckReport) -> None:
    graph = nx.DiGraph()
    graph.add_edges_from(_select(store, "SELECT ?c ?p { ?c rdfs:subClassOf ?p FILTER(isIRI(?p) && ?c != ?p) }"))
    for component in nx.strongly_connected_components(graph):
        if len(component) > 1:
            members = sorted(iri_to_curie(c) or c for c in component)
            report.add("error", "is-a-cycle", members[0], f"is-a cycle through {', '.join(members[:8])}")


def check_release(store: ox.Store, report: CheckReport) -> None:
    """Defects of the EUCAIM release's own annotations, reported (not carried into the terminologies)."""
    for key, scheme in STANDARD_KEYS.items():
        prop = EUCAIM + ANNOTATION_KEYS[key]
        for iri, value in _select(store, f"SELECT ?c ?v {{ ?c <{prop}> ?v }}"):
            _release_value(report, iri, ANNOTATION_KEYS[key], scheme, value)
    for (iri,) in _select(store, "SELECT ?c { ?c ho:unparsedRestriction|ho:unparsedEquivalentClass ?x }"):
        report.add("warning", "release-expression", iri, "a class expression of the release was kept as text")


def _release_value(report: CheckReport, iri: str, element: str, scheme: str, value: str) -> None:
    code = normalise(scheme, value)
    if not code:
        report.add("warning", "release-empty", iri, f"empty {element} value in the release")
    elif scheme == "LOINC" and code[:2] in ("LG", "LP"):
        report.add("warning", "release-loinc-part", iri,
                   f"{element} holds LOINC {'group' if code[:2] == 'LG' else 'part'} code {code}, not a LOINC term")
    elif scheme == "ICDO3":
        if not all(codes.valid("ICDO3", part) for part in code.split("-")):
            report.add("warning", "release-code", iri, f"{element} value {value!r} is not an ICD-O-3 code")
    elif not codes.valid(scheme, code):
        why = "fails its Verhoeff check digit / format" if scheme == "SCT" else "is malformed"
        report.add("warning", "release-code", iri, f"{element} value {value!r} {why}; not mapped")
    elif code != value.strip():
        report.add("warning", "release-normalised", iri, f"{element} value {value!r} read as {code}")


def check_dicom_labels(store: ox.Store, report: CheckReport) -> None:
    """Labels of DCM codes agree with pydicom's copy of PS3.16."""
    from pydicom.sr._concepts_dict import concepts as ps316

    meanings: dict[str, set[str]] = {}
    for entries in ps316["DCM"].values():
        for code, (meaning, _) in entries.items():  # type: ignore[attr-defined]
            meanings.setdefault(code, set()).add(meaning)
    query = f"SELECT ?n ?l {{ ?c skos:inScheme <{DCM_SCHEME}> ; skos:notation ?n ; skos:prefLabel ?l }}"
    for code, label in _select(store, query):
        if code in meanings and label not in meanings[code]:
            report.add("error", "dicom-label", f"DCM:{code}", f"label {label!r} but PS3.16 says {meanings[code]}")


def check_semantics(files: list[Path], report: CheckReport) -> None:
    """What makes a count right: conflict-free equivalence sets, expansions that keep to their meaning.

    Errors: an exact-match set (transitive) holding two codes of one terminology, a concept and its own is-a
    ancestor, or concepts of different behaviour, site or histology; a cancer concept whose facets contradict its
    own preferred term (``in situ`` in the label, another behaviour in the facets); an expansion reaching a member
    its facets exclude. Warnings: cancer diagnoses no other concept's expansion reaches (orphans).
    """
    from hyperontology.ontology.api import Hyperontology
    from hyperontology.ontology.index import read_index

    onto = Hyperontology(read_index(files), files=files)
    for problem in semantic_problems(onto):
        report.add(*problem)


def semantic_problems(onto: Any) -> Iterator[tuple[str, str, str, str]]:
    """``(level, rule, subject, message)`` for every semantic defect of a loaded hyperontology."""
    yield from _equivalence_problems(onto)
    reached: set[str] = set()
    for concept in onto:
        facets = onto.facets(concept)
        said = label_behaviour(concept.label) if concept.kind in ("diagnosis", "histology") else None
        if said and facets.behaviour and said != facets.behaviour:
            yield ("error", "facets", concept.iri,
                   f"label {concept.label!r} says {said} but its facets say {facets.behaviour}")
        members = onto.expand(concept, include_self=False)
        reached.update(m.iri for m in members)
        if facets.empty:
            continue
        for member in members:
            if not compatible(onto.facets(member), facets):
                yield ("error", "expansion", concept.iri,
                       f"expansion reaches {member.curie} {member.label!r}, which its facets exclude")
    for concept in onto:
        if concept.kind == "diagnosis" and onto.facets(concept).behaviour == "malignant" and concept.iri not in reached:
            yield ("warning", "orphan", concept.iri,
                   f"{concept.label!r} is in no other concept's expansion (no parent, no mapping reaches it)")


def _equivalence_problems(onto: Any) -> Iterator[tuple[str, str, str, str]]:
    seen: set[str] = set()
    for concept in onto:
        if concept.iri in seen:
            continue
        group = sorted([concept, *onto.equivalents(concept)], key=lambda c: c.curie)
        seen.update(c.iri for c in group)
        clash = _first_conflict(onto, group) if len(group) > 1 else None
        if clash is not None:
            names = ", ".join(c.curie for c in group[:8])
            yield "error", "equivalence", concept.iri, f"exact matches make one concept of {names}: {clash}"


def _first_conflict(onto: Any, group: list[Any]) -> str | None:
    """Merge the group's members one by one as the build does; the first conflict found, if any."""
    by_curie = {c.curie: c for c in group}

    def duplicates(a: str, b: str) -> bool:
        """The release's duplicate classes, or a morphology and the disorder it alone defines (as the build)."""
        if {_role(onto, by_curie[a]), _role(onto, by_curie[b])} == {"histology", "diagnosis"}:
            return True
        if not a.startswith("EUCAIM:") or not b.startswith("EUCAIM:"):
            return False
        return bool(_name_keys(by_curie[a]) & _name_keys(by_curie[b]))

    sets = EquivalenceSets(lambda curie: onto.facets(curie), lambda a, b: _is_ancestor(onto, a, b), duplicates)
    for member in group:  # EUCAIM = EUCAIM is the release's own owl:equivalentClass, never a mapping
        for relation, other in onto.mappings_of(member):
            if relation == "exact" and member.scheme == other.scheme == "EUCAIM":
                sets.merge(member.curie, other.curie)
    for member in group:
        for other in group:
            clash = sets.conflict(member.curie, other.curie)
            if clash is not None:
                return clash[1]
            sets.merge(member.curie, other.curie)
    return None


def _role(onto: Any, concept: Any) -> str:
    """``histology`` or ``diagnosis``: the concept's kind, or for a release class that of its direct SNOMED CT code."""
    if concept.scheme != "EUCAIM" or concept.kind == "histology":
        return str(concept.kind)
    kinds = {other.kind for relation, other in onto.mappings_of(concept) if relation == "exact" and
             other.scheme in ("SCT", "ICDO3")}
    return "histology" if kinds == {"histology"} else "other" if onto.facets(concept).empty else "diagnosis"


def _name_keys(concept: Any) -> set[str]:
    return {name_key(n) for n in (concept.label, *concept.synonyms)} - {""}


def _is_ancestor(onto: Any, ancestor: str, descendant: str) -> bool:
    return ancestor in {c.curie for c in onto.ancestors(descendant)}


def check_build_notes(directory: Path, report: CheckReport) -> None:
    manifest = directory / "manifest.json"
    if manifest.is_file():
        for note in json.loads(manifest.read_text(encoding="utf-8")).get("build_warnings", []):
            report.add("warning", "build", "manifest.json", note)


def run_check(files: list[Path], *, reasoner: bool = True, timeout: float = 600.0,
              step: Callable[[str], None] | None = None) -> CheckReport:
    """Run every check on a release's module files; ``step(name)`` is called as each part starts (progress)."""
    announce = step or (lambda _name: None)
    report = CheckReport()
    announce("parsing the modules")
    try:
        store = load_store(files)
    except OntologyLoadError as exc:
        report.add("error", "syntax", exc.path or "", str(exc))
        return report
    report.triples = len(store)
    for check in (check_concepts, check_mappings, check_cycles, check_release, check_dicom_labels):
        announce(check.__name__.removeprefix("check_").replace("_", " "))
        check(store, report)
    announce("semantics: equivalence, facets, expansions")
    if not any(f.rule == "is-a-cycle" for f in report.errors):
        check_semantics(files, report)
    check_build_notes(files[0].parent, report)
    if reasoner:
        announce("HermiT reasoner (about a minute)")
        report.reasoner = run_hermit(store, timeout=timeout)
        for problem in report.reasoner.problems:
            report.add("error", "reasoner", problem.subject, problem.message)
    return report
