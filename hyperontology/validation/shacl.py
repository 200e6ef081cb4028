"""SHACL validation of CDM instance data with pyshacl (the reference validator), against the CDM shapes.

Value-set shapes look at the hyperontology (scheme, kind, is-a ancestors, mappings of the concepts the data
uses). Rather than handing pyshacl the whole ontology (about 290,000 triples), the data graph is extended
with exactly the ontology triples that describe the concepts it references: the same results, much faster.
A violation is a report, not an exception.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
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


def _graph(quads: Iterable[ox.Quad]) -> rdflib.Graph:
    graph = rdflib.Graph()
    data = ox.serialize([ox.Triple(q.subject, q.predicate, q.object) for q in quads], format=ox.RdfFormat.N_TRIPLES)
    if data:
        graph.parse(data=data.decode("utf-8"), format="nt")
    return graph


def support(graph: rdflib.Graph, ontology: Hyperontology) -> None:
    """Add the ontology triples that describe every concept the data references (and their ancestors)."""
    seen: set[str] = set()
    todo = [str(o) for o in set(graph.objects()) if isinstance(o, rdflib.URIRef) and str(o) in ontology]
    while todo:
        iri = todo.pop()
        if iri in seen:
            continue
        seen.add(iri)
        concept = ontology.concept(iri)
        node = rdflib.URIRef(iri)
        graph.add((node, RDF.type, OWL.Class))
        graph.add((node, SKOS.inScheme, rdflib.URIRef(scheme_iri(concept.scheme, concept.code))))
        graph.add((node, SKOS.notation, rdflib.Literal(concept.code)))
        graph.add((node, KIND, rdflib.Literal(concept.kind)))
        for parent in ontology.parents(concept):
            graph.add((node, RDFS.subClassOf, rdflib.URIRef(parent.iri)))
            todo.append(parent.iri)
        for relation, other in ontology.mappings_of(concept):
            if relation in ("exact", "broad"):
                graph.add((node, SKOS.exactMatch if relation == "exact" else SKOS.broadMatch, rdflib.URIRef(other.iri)))
                todo.append(other.iri)


def validate_graph(graph: rdflib.Graph, shapes: rdflib.Graph) -> list[Violation]:
    import pyshacl

    _conforms, report, _text = pyshacl.validate(graph, shacl_graph=shapes, inference="none", advanced=True,
                                                allow_warnings=True)
    out = []
    for result in report.subjects(RDF.type, SH.ValidationResult):
        def value(pred: rdflib.URIRef, _r: Any = result) -> str:
            found = report.value(_r, pred)
            return "" if found is None else str(found)
        severity = value(SH.resultSeverity).rsplit("#", 1)[-1]
        component = value(SH.sourceConstraintComponent).rsplit("#", 1)[-1]
        out.append(Violation(value(SH.focusNode), value(SH.resultPath), value(SH.value), value(SH.resultMessage),
                             severity, value(SH.sourceShape), component))
    return sorted(out, key=lambda v: (v.focus, v.path, v.message))


def validate_quads(quads: list[ox.Quad], ontology: Hyperontology, *, shapes: Path | None = None) -> list[Violation]:
    """Validate CDM instance quads against the CDM shapes; the report's results, sorted."""
    if not quads:
        return []
    graph = _graph(quads)
    support(graph, ontology)
    shapes_graph = rdflib.Graph().parse(shapes or shapes_path(), format="turtle")
    return validate_graph(graph, shapes_graph)


def validate_store_export(data: rdflib.Graph, ontology: Hyperontology) -> list[Violation]:
    """Validate an exported data graph (``hyperontology validate``): results about data instances.

    Results whose focus is a concept (reported by nested value-set shapes) are left out: the instance's own
    result says the same thing in the terms of its property.
    """
    support(data, ontology)
    results = validate_graph(data, rdflib.Graph().parse(shapes_path(), format="turtle"))
    return [v for v in results if v.focus.startswith(DATA_NS)]


__all__ = ["Violation", "curie_to_iri", "validate_graph", "validate_quads"]
