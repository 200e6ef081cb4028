"""SHACL validation of CDM instance data with pyshacl (the reference validator), against the CDM shapes.

Value-set shapes look at the hyperontology (scheme, kind, is-a ancestors, mappings of the concepts the data
uses). Rather than handing pyshacl the whole ontology (about 290,000 triples), the data graph is extended
with exactly the ontology triples that describe the concepts it references: the same results, much faster.
A violation is a report, not an exception.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import rdflib
from rdflib.namespace import OWL, RDF, RDFS, SH, SKOS

from hyperontology.ontology.api import Hyperontology
from hyperontology.ontology.files import bundled_dir
from hyperontology.ontology.schemes import scheme_iri
from hyperontology.prefixes import HO, curie_to_iri

KIND = rdflib.URIRef(HO + "kind")
DATA_NS = HO + "data/"


@dataclass(frozen=True)
class Violation:
    """One result of a SHACL report."""

    focus: str
    path: str
    value: str
    message: str
    severity: str  # Violation | Warning | Info
    shape: str
    component: str = ""  # the SHACL constraint component (MinCount, MaxCount, Datatype, Class, In, Or...)

    @property
    def whole_instance(self) -> bool:
        """Whether the instance itself is unusable (a missing value, a node-level failure), not just one value."""
        return not self.path or self.component in ("MinCountConstraintComponent", "NodeConstraintComponent")

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def shapes_path() -> Path:
    return bundled_dir() / "cdm-shapes.ttl"


def to_rdflib(term: Any) -> rdflib.term.Node:
    """A pyoxigraph term as the rdflib term."""
    if isinstance(term, ox.NamedNode):
        return rdflib.URIRef(term.value)
    if isinstance(term, ox.Literal):
        datatype = None if term.language else rdflib.URIRef(term.datatype.value)
        return rdflib.Literal(term.value, lang=term.language, datatype=datatype)
    return rdflib.BNode(term.value)


def _graph(quads: Iterable[ox.Quad]) -> rdflib.Graph:
    """The quads' triples as an rdflib graph (terms converted directly: no serialise-and-parse)."""
    graph = rdflib.Graph()
    cache: dict[Any, rdflib.term.Node] = {}
    for q in quads:
        triple = tuple(cache[t] if t in cache else cache.setdefault(t, to_rdflib(t))
                       for t in (q.subject, q.predicate, q.object))
        graph.add(triple)  # type: ignore[arg-type]
    return graph


def support(graph: rdflib.Graph, ontology: Hyperontology) -> None:
    """Add to ``graph`` the ontology triples that describe every concept it references (and their ancestors)."""
    support_for({str(o) for o in graph.objects() if isinstance(o, rdflib.URIRef)}, ontology, graph)


def support_for(iris: Iterable[str], ontology: Hyperontology, target: rdflib.Graph) -> None:
    """Add to ``target`` the ontology triples describing the concepts among ``iris`` and their ancestors."""
    seen: set[str] = set()
    todo = [iri for iri in iris if iri in ontology]
    while todo:
        iri = todo.pop()
        if iri in seen:
            continue
        seen.add(iri)
        concept = ontology.concept(iri)
        node = rdflib.URIRef(iri)
        target.add((node, RDF.type, OWL.Class))
        target.add((node, SKOS.inScheme, rdflib.URIRef(scheme_iri(concept.scheme, concept.code))))
        target.add((node, SKOS.notation, rdflib.Literal(concept.code)))
        target.add((node, KIND, rdflib.Literal(concept.kind)))
        for parent in ontology.parents(concept):
            target.add((node, RDFS.subClassOf, rdflib.URIRef(parent.iri)))
            todo.append(parent.iri)
        for relation, other in ontology.mappings_of(concept):
            if relation in ("exact", "broad"):
                pred = SKOS.exactMatch if relation == "exact" else SKOS.broadMatch
                target.add((node, pred, rdflib.URIRef(other.iri)))
                todo.append(other.iri)


@lru_cache(maxsize=4)
def _shapes(path: Path) -> rdflib.Graph:
    return rdflib.Graph().parse(path, format="turtle")


def _short(shapes: rdflib.Graph, term: rdflib.term.Node) -> str:
    """An IRI as a CURIE of the shapes file's prefixes (``cdm:modality``), else in full."""
    if isinstance(term, rdflib.URIRef):
        return term.n3(shapes.namespace_manager)
    return str(term)


def shape_name(shapes: rdflib.Graph, shape: rdflib.term.Node) -> str:
    """What a shape is called in reports, never a blank-node id: the class (or property) it targets, the property
    path it checks, and its ``sh:name`` (or ``rdfs:label``).

    Examples
    --------
    >>> g = rdflib.Graph().parse(format="turtle", data='''@prefix sh: <http://www.w3.org/ns/shacl#> .
    ... @prefix cdm: <https://w3id.org/hyperontology/cdm#> .
    ... cdm:S sh:targetClass cdm:Diagnosis ; sh:property [ sh:path cdm:patient ; sh:name "exactly one patient" ] .''')
    >>> shape_name(g, g.value(rdflib.URIRef("https://w3id.org/hyperontology/cdm#S"), SH.property))
    'cdm:Diagnosis cdm:patient: exactly one patient'
    """
    name = shapes.value(shape, SH.name) or shapes.value(shape, RDFS.label)
    path = shapes.value(shape, SH.path)
    owners = [shape, *shapes.subjects(SH.property, shape)]
    targets = [t for owner in owners for t in shapes.objects(owner, SH.targetClass)]
    targets += [t for owner in owners for t in shapes.objects(owner, SH.targetSubjectsOf) if t != path]
    target = targets[0] if len(set(targets)) == 1 else None  # a shape shared by several classes: no class
    where = " ".join(dict.fromkeys(_short(shapes, t) for t in (target, path) if t is not None))
    if name is not None:
        return f"{where}: {name}" if where else str(name)
    return where or _short(shapes, shape)


def validate_graph(graph: rdflib.Graph, shapes: rdflib.Graph) -> list[Violation]:
    """pyshacl's results on ``graph``; ``shape`` is the shape's name (:func:`shape_name`)."""
    import pyshacl

    _conforms, report, _text = pyshacl.validate(graph, shacl_graph=shapes, inference="none", advanced=True,
                                                allow_warnings=True)
    out = []
    names: dict[rdflib.term.Node, str] = {}
    for result in report.subjects(RDF.type, SH.ValidationResult):
        def value(pred: rdflib.URIRef, _r: Any = result) -> str:
            found = report.value(_r, pred)
            return "" if found is None else str(found)
        severity = value(SH.resultSeverity).rsplit("#", 1)[-1]
        component = value(SH.sourceConstraintComponent).rsplit("#", 1)[-1]
        source = report.value(result, SH.sourceShape)
        if source is not None and source not in names:
            names[source] = shape_name(shapes, source)
        out.append(Violation(value(SH.focusNode), value(SH.resultPath), value(SH.value), value(SH.resultMessage),
                             severity, names.get(source, "") if source is not None else "", component))
    return sorted(out, key=lambda v: (v.focus, v.path, v.message))


def validate_quads(quads: list[ox.Quad], ontology: Hyperontology, *, shapes: Path | None = None,
                   fast: bool = True, cache: Any = None) -> list[Violation]:
    """Validate CDM instance quads against the CDM shapes; the report's results about instances, sorted.

    ``fast`` validates each distinct form of instance once (:mod:`hyperontology.validation.fast`), with the same
    results as pyshacl on the whole graph; ``fast=False`` runs pyshacl on the whole graph. ``cache`` (a
    :class:`hyperontology.validation.fast.FormResults`) keeps the results of forms across calls with the same
    shapes and ontology (the batches of one ingest).
    """
    if not quads:
        return []
    shapes_graph = _shapes(shapes or shapes_path())
    if fast:
        from hyperontology.validation.fast import validate_fast

        def extra() -> rdflib.Graph:  # built only when some form is not in the cache
            graph = rdflib.Graph()
            support_for({q.object.value for q in quads if isinstance(q.object, ox.NamedNode)}, ontology, graph)
            return graph

        return validate_fast(quads, extra, shapes_graph, data_ns=DATA_NS, cache=cache)
    graph = _graph(quads)
    support(graph, ontology)
    return [v for v in validate_graph(graph, shapes_graph) if v.focus.startswith(DATA_NS)]


def validate_store_export(data: rdflib.Graph, ontology: Hyperontology) -> list[Violation]:
    """Validate an exported data graph (``hyperontology validate``): results about data instances.

    Results whose focus is a concept (reported by nested value-set shapes) are left out: the instance's own
    result says the same thing in the terms of its property.
    """
    support(data, ontology)
    results = validate_graph(data, rdflib.Graph().parse(shapes_path(), format="turtle"))
    return [v for v in results if v.focus.startswith(DATA_NS)]


__all__ = ["Violation", "curie_to_iri", "shape_name", "validate_graph", "validate_quads"]
