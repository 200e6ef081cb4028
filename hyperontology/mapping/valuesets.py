"""The branch of the hyperontology each coded CDM property expects, read from the CDM's own files.

The value sets are those the SHACL shapes check (``ontologies/cdm-shapes.ttl``, section 4: ``cdmsh:ValueSetsShape``
names, per property, an ``sh:or`` of value-set shapes; each is an ``sh:or`` of simple tests on a concept: its
``ho:kind``, its ``skos:inScheme``, being ``rdfs:subClassOf*`` a root, an ``sh:in`` list, or being mapped one hop to
a member). They are read from the shapes' structure, not restated here, so a value set changed in the shapes
changes what ``mapping suggest`` proposes. A shape that is neither (``cdmsh:StagingOutsideTnm``, an ``sh:and`` with
an ``sh:not``) is left out: suggestions keep to the branch a property names first. ``cdm:valueRoot`` of
``ontologies/cdm.ttl`` adds a root for the coded properties the shapes leave open (``cdm:grade``, ``cdm:stage``).

Examples
--------
>>> from hyperontology import load_ontology
>>> onto = load_ontology()
>>> tnm_t = value_set("cdm:tnmT", onto)
>>> tnm_t.contains(onto.concept("TNM:T2a")), tnm_t.contains(onto.concept("TNM:N1"))
(True, False)
>>> sorted(tnm_t.preferred)
['TNM']
>>> value_set("cdm:patientIdentifier", onto) is None
True
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache, cached_property

import rdflib
from rdflib.collection import Collection

from hyperontology.ontology.api import Hyperontology
from hyperontology.ontology.files import bundled_dir
from hyperontology.ontology.index import Concept
from hyperontology.ontology.schemes import scheme_iri
from hyperontology.prefixes import HO, curie_to_iri, iri_to_curie

SH = rdflib.Namespace("http://www.w3.org/ns/shacl#")
CDM = rdflib.Namespace(f"{HO}cdm#")
CDMSH = rdflib.Namespace(f"{HO}cdm-shapes#")
KIND = rdflib.URIRef(f"{HO}kind")
#: mapping relations (read from a concept's side) that make it a member of a value set its target belongs to
MEMBER_RELATIONS = frozenset({"exact", "broad"})


@dataclass(frozen=True)
class Branch:
    """The tests of one property's value set, as IRIs and strings (what the shapes say)."""

    kinds: frozenset[str] = frozenset()
    schemes: frozenset[str] = frozenset()  # skos:inScheme IRIs
    roots: frozenset[str] = frozenset()  # rdfs:subClassOf* these
    members: frozenset[str] = frozenset()  # sh:in
    mapped: bool = False  # a concept mapped (exact / broad) to a member is a member


@cache
def branches() -> dict[str, Branch]:
    """Property CURIE -> its :class:`Branch`, from ``cdm-shapes.ttl`` and ``cdm:valueRoot`` of ``cdm.ttl``."""
    shapes = rdflib.Graph().parse(bundled_dir() / "cdm-shapes.ttl", format="turtle")
    found: dict[str, Branch] = {}
    for prop in shapes.objects(CDMSH.ValueSetsShape, SH.property):
        path = shapes.value(prop, SH.path)
        parts = _Parts()
        for shape in _items(shapes, shapes.value(prop, SH["or"])):
            if shape != CDMSH.NotInHyperontology:
                parts.read(shapes, shape)
        if isinstance(path, rdflib.URIRef):
            found[iri_to_curie(str(path)) or str(path)] = parts.branch()
    cdm = rdflib.Graph().parse(bundled_dir() / "cdm.ttl", format="turtle")
    for prop, root in cdm.subject_objects(CDM.valueRoot):
        curie = iri_to_curie(str(prop)) or str(prop)
        if curie not in found:
            found[curie] = Branch(roots=frozenset({str(root)}))
    return found


def _items(graph: rdflib.Graph, head: rdflib.term.Node | None) -> list[rdflib.term.Node]:
    return list(Collection(graph, head)) if isinstance(head, rdflib.term.IdentifiedNode) else []


@dataclass
class _Parts:
    kinds: set[str] = field(default_factory=set)
    schemes: set[str] = field(default_factory=set)
    roots: set[str] = field(default_factory=set)
    members: set[str] = field(default_factory=set)
    mapped: bool = False

    def branch(self) -> Branch:
        return Branch(frozenset(self.kinds), frozenset(self.schemes), frozenset(self.roots),
                      frozenset(self.members), self.mapped)

    def read(self, graph: rdflib.Graph, shape: rdflib.term.Node) -> None:
        """The tests of a value-set shape: its ``sh:or`` alternatives, ``sh:in`` lists and property tests."""
        for item in _items(graph, graph.value(shape, SH["or"])):
            self.read(graph, item)
        self.members |= {str(m) for m in _items(graph, graph.value(shape, SH["in"]))}
        for test in graph.objects(shape, SH.property):
            self._test(graph, test)

    def _test(self, graph: rdflib.Graph, test: rdflib.term.Node) -> None:
        if graph.value(test, SH.qualifiedValueShape) is not None:
            self.mapped = True
            return
        path = graph.value(test, SH.path)
        values = [graph.value(test, SH.hasValue), *_items(graph, graph.value(test, SH["in"]))]
        texts = {str(v) for v in values if v is not None}
        if path == KIND:
            self.kinds |= texts
        elif path == rdflib.SKOS.inScheme:
            self.schemes |= texts
        elif path == rdflib.RDFS.subClassOf or graph.value(path, SH.zeroOrMorePath) == rdflib.RDFS.subClassOf:
            self.roots |= texts


class ValueSet:
    """A property's branch over one hyperontology: membership and the terminologies to prefer among equals."""

    def __init__(self, branch: Branch, ontology: Hyperontology) -> None:
        self.branch, self.ontology = branch, ontology

    @cached_property
    def _below(self) -> frozenset[str]:
        found = set(self.branch.members)
        for root in (r for r in self.branch.roots if r in self.ontology):
            found.add(root)
            found.update(c.iri for c in self.ontology.descendants(root))
        return frozenset(found)

    def direct(self, concept: Concept) -> bool:
        return (concept.iri in self._below or concept.kind in self.branch.kinds
                or scheme_iri(concept.scheme, concept.code) in self.branch.schemes)

    def contains(self, concept: Concept) -> bool:
        """Whether the concept lies in the branch, or (when the shapes allow it) is mapped to a concept that does."""
        if self.direct(concept):
            return True
        return self.branch.mapped and any(
            rel in MEMBER_RELATIONS and self.direct(other) for rel, other in self.ontology.mappings_of(concept))

    @cached_property
    def preferred(self) -> frozenset[str]:
        """Terminologies the shapes name (``skos:inScheme``), or the one all roots and members share."""
        named = {c.scheme for c in self._concepts(self.branch.schemes)}
        named |= {s.rsplit("/", 1)[-1].split("-", 1)[0] for s in self.branch.schemes}
        if named:
            return frozenset(named)
        schemes = {c.scheme for c in self._concepts(self.branch.roots | self.branch.members)}
        return frozenset(schemes) if len(schemes) == 1 else frozenset()

    def _concepts(self, iris: frozenset[str]) -> Iterator[Concept]:
        return (self.ontology.concept(i) for i in iris if i in self.ontology)


def value_set(prop: str, ontology: Hyperontology) -> ValueSet | None:
    """The value set a property's values are checked against, or None when the CDM names none (free text, links)."""
    branch = branches().get(prop) or branches().get(iri_to_curie(curie_to_iri(prop)) or prop)
    return ValueSet(branch, ontology) if branch is not None else None
