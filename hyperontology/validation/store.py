"""Validate a whole store's data graph, with exactly the results of pyshacl on the exported graph.

``hyperontology validate`` used to export the data graph into rdflib and run pyshacl over all of it: minutes for
a few hundred thousand triples, and memory growing with the store. :func:`validate_store` gives the same results
(:func:`~hyperontology.validation.shacl.validate_store_export`) by streaming the data graph out of the store into
the canonical-form reducer of :mod:`hyperontology.validation.fast`:

1. one SPARQL query reads the ``rdf:type`` set of every instance (what a link to it shows the shapes);
2. the data graph is streamed instance by instance; each instance is reduced to its canonical form and split into
   *facets* (:func:`facets`): one per predicate (its types, its values of that predicate, and which of its other
   predicates make a shape on that predicate target it) and one for the instance as a whole (its types and
   predicates: results on the properties it lacks). Only the distinct facets, and the instances of each, are kept;
3. pyshacl (the reference, and the fallback for every SHACL feature) validates one representative per facet, with
   the hyperontology triples describing the concepts they use. Facets do not multiply like whole forms (a
   diagnosis' code, histology and stage are checked apart, not per combination);
4. each result is copied to every instance of its facet; where it names a value standing in for the instance's
   own (a date, a link), that value is read back from the store for just the instances concerned.

An instance whose triples the stream does not give together (a remote store's Graph Store answer is in no
particular order) is read again by itself with SPARQL.

The reduction needs the shapes to be *local* (:func:`local_shapes`): targets by class or by subject-of, top-level
property shapes on plain predicates with their own messages, no constraint of a targeted shape on the focus
itself nor one comparing two properties. Shapes that are not (an ``sh:inversePath`` or a sequence path on the
instances, ``sh:targetObjectsOf``) are validated by pyshacl over the whole data graph: the same results, slowly.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import rdflib
from rdflib.namespace import RDF, SH

from hyperontology.ontology.api import Hyperontology
from hyperontology.store.base import GRAPHS, Store
from hyperontology.validation.fast import Canonicaliser, Form, ShapeFacts, instance_form
from hyperontology.validation.shacl import (
    DATA_NS,
    Violation,
    _shapes,
    shapes_path,
    support,
    support_for,
    to_rdflib,
    validate_graph,
)

__all__ = ["validate_store"]

_CHUNK = 400  # instances per VALUES query
#: constraints of a node shape on its focus node itself, and constraints comparing two properties
_ON_FOCUS = (SH.node, SH["or"], SH["and"], SH["not"], SH.xone, SH["class"], SH["in"], SH.hasValue, SH.datatype,
             SH.nodeKind, SH.closed, SH.sparql)
_PAIRS = (SH.equals, SH.disjoint, SH.lessThan, SH.lessThanOrEquals)
Pair = tuple[rdflib.URIRef, rdflib.term.Node]


def validate_store(store: Store, ontology: Hyperontology, *, shapes: Path | None = None) -> list[Violation]:
    """The SHACL results about the instances of the store's data graph, sorted: the same as pyshacl's on the
    exported graph (:func:`~hyperontology.validation.shacl.validate_store_export`), in a fraction of the time.

    Examples
    --------
    >>> from hyperontology import load_ontology
    >>> from hyperontology.store.oxigraph import NodeStore
    >>> node = NodeStore(None)
    >>> patient = ox.NamedNode(DATA_NS + "patient/p1")
    >>> _ = node.load([ox.Quad(patient, ox.NamedNode(str(RDF.type)),
    ...                        ox.NamedNode("https://w3id.org/hyperontology/cdm#Patient"), GRAPHS["data"])])
    >>> [(v.component, v.path) for v in validate_store(node, load_ontology())]
    [('MinCountConstraintComponent', 'https://w3id.org/hyperontology/cdm#patientIdentifier')]
    """
    shapes_graph = _shapes(shapes or shapes_path())
    if not local_shapes(shapes_graph):
        return _whole(store, ontology, shapes_graph)
    canon = Canonicaliser(ShapeFacts.of(shapes_graph), DATA_NS)
    reducer = Reducer(canon, instance_types(store), targeting(shapes_graph))
    split: set[str] = set()
    for subject, pairs in _instances(store.quads("data"), split):
        reducer.add(subject, pairs)
    for subject in split:
        reducer.drop(subject)
    for chunk in _chunks(split):
        for subject, pairs in _read(store, chunk).items():
            reducer.add(subject, pairs)
    return reducer.results(store, ontology, shapes_graph)


def local_shapes(shapes: rdflib.Graph) -> bool:
    """Whether an instance's results depend only on its own triples, its links' types and its concepts: targets
    by class or subject-of only, and every property shape of a targeted shape on a plain predicate, with its own
    ``sh:message``."""
    if any(True for p in (SH.targetObjectsOf, SH.targetNode) for _ in shapes.subject_objects(p)):
        return False
    targeted = {s for p in (SH.targetClass, SH.targetSubjectsOf) for s in shapes.subjects(p, None)}
    props = [prop for shape in targeted for prop in shapes.objects(shape, SH.property)]
    paths = [shapes.value(shape, SH.path) for shape in [*targeted, *props]]
    # pyshacl's default messages quote the value: a stand-in's would show; every property shape has its own
    messages = all(shapes.value(prop, SH.message) is not None for prop in props)
    on_focus = any(shapes.value(shape, c) is not None for shape in targeted for c in _ON_FOCUS)
    pairs = any(True for c in _PAIRS for _ in shapes.subject_objects(c))
    return messages and not on_focus and not pairs and all(p is None or isinstance(p, rdflib.URIRef) for p in paths)


def _whole(store: Store, ontology: Hyperontology, shapes: rdflib.Graph) -> list[Violation]:
    """pyshacl over the whole data graph (the fallback for shapes that are not local)."""
    graph = rdflib.Graph()
    for subject, pairs in _instances(store.quads("data"), set()):
        node = rdflib.URIRef(subject)
        for pred, obj in pairs:
            graph.add((node, pred, obj))
    support(graph, ontology)
    results = [v for v in validate_graph(graph, shapes) if v.focus.startswith(DATA_NS)]
    return sorted(results, key=lambda v: (v.focus, v.path, v.message, v.value))


def instance_types(store: Store) -> dict[str, frozenset[str]]:
    """The ``rdf:type`` set of every typed node of the data graph (equal sets shared)."""
    rows = store.query(f"SELECT ?s ?t WHERE {{ GRAPH {GRAPHS['data']} {{ ?s a ?t }} }}")
    found: dict[str, set[str]] = defaultdict(set)
    for row in rows:
        found[row["s"].value].add(row["t"].value)
    shared: dict[frozenset[str], frozenset[str]] = {}
    return {s: shared.setdefault(frozenset(t), frozenset(t)) for s, t in found.items()}


def _instances(quads: Iterable[ox.Quad], split: set[str]) -> Iterator[tuple[str, list[Pair]]]:
    """The instances of a quad stream with their pairs, one at a time; those whose quads do not come together are
    added to ``split`` (and given with what came first: the caller reads them again)."""
    done: set[str] = set()
    subject, pairs = "", []  # type: ignore[var-annotated]
    preds: dict[ox.NamedNode, rdflib.URIRef] = {}
    for q in quads:
        s = q.subject.value  # type: ignore[union-attr]
        if s != subject:
            if pairs:
                yield subject, pairs
            done.add(subject)
            subject, pairs = s, []
            if s in done:
                split.add(s)
        pred = preds.get(q.predicate)
        if pred is None:
            pred = preds[q.predicate] = rdflib.URIRef(q.predicate.value)
        pairs.append((pred, _term(q.object)))
    if pairs:
        yield subject, pairs


@lru_cache(maxsize=1 << 16)
def _term(term: ox.NamedNode | ox.BlankNode | ox.Literal) -> rdflib.term.Node:
    """A term as rdflib's, the most recent ones cached (codes, units and small numbers recur; memory is bounded)."""
    return to_rdflib(term)


def _chunks(items: Iterable[str]) -> Iterator[list[str]]:
    ordered = sorted(items)
    for start in range(0, len(ordered), _CHUNK):
        yield ordered[start:start + _CHUNK]


def _read(store: Store, subjects: list[str], pred: str | None = None) -> dict[str, list[Pair]]:
    """The pairs of some instances in the data graph (of one predicate only, if given), read with SPARQL."""
    values = " ".join(str(ox.NamedNode(s)) for s in subjects)
    where = f"BIND({ox.NamedNode(pred)} AS ?p) ?s ?p ?o" if pred else "?s ?p ?o"
    rows = store.query(f"SELECT ?s ?p ?o WHERE {{ VALUES ?s {{ {values} }} GRAPH {GRAPHS['data']} {{ {where} }} }}")
    found: dict[str, list[Pair]] = defaultdict(list)
    for row in rows:
        found[row["s"].value].append((rdflib.URIRef(row["p"].value), to_rdflib(row["o"])))
    return found


#: a facet of an instance: its types, the predicates it has, one of them (None: the instance as a whole) and that
#: predicate's canonical keys. A result on a predicate's path depends on nothing else (see :func:`local_shapes`).
Facet = tuple[frozenset[Any], frozenset[rdflib.URIRef], rdflib.URIRef | None, tuple[Any, ...]]
_NEUTRAL = rdflib.Literal("")  # the value of the other predicates of a facet's representative


def targeting(shapes: rdflib.Graph) -> dict[rdflib.URIRef, frozenset[rdflib.URIRef]]:
    """Path -> the predicates whose subjects some shape with a property shape on that path targets."""
    found: dict[rdflib.URIRef, set[rdflib.URIRef]] = defaultdict(set)
    for shape in set(shapes.subjects(SH.targetSubjectsOf, None)):
        preds = {p for p in shapes.objects(shape, SH.targetSubjectsOf) if isinstance(p, rdflib.URIRef)}
        for prop in shapes.objects(shape, SH.property):
            if isinstance(path := shapes.value(prop, SH.path), rdflib.URIRef):
                found[path] |= preds
    return {path: frozenset(preds) for path, preds in found.items()}


def facets(form: Form, targets: dict[rdflib.URIRef, frozenset[rdflib.URIRef]]) -> list[Facet]:
    """The facets of a canonical form: the whole (for results on absent predicates) and one per predicate, which
    keeps of the other predicates only those that make a shape with a property shape on it target the instance."""
    by_pred: dict[rdflib.URIRef, list[Any]] = defaultdict(list)
    for pred, key in form:
        by_pred[pred].append(key)
    types, preds = frozenset(by_pred.get(RDF.type, ())), frozenset(by_pred)
    return [(types, preds, None, ()),
            *((types, preds & targets.get(p, frozenset()), p, tuple(keys)) for p, keys in by_pred.items())]


def _keeps(facet: Facet, v: Violation) -> bool:
    """Whether a facet's representative speaks for its instances with this result (else another facet does)."""
    _, preds, pred, _ = facet
    return v.path == str(pred) if pred is not None else rdflib.URIRef(v.path) not in preds


@dataclass
class Reducer:
    """The distinct facets of the instances seen, and the instances of each."""

    canon: Canonicaliser
    types: dict[str, frozenset[str]]
    targets: dict[rdflib.URIRef, frozenset[rdflib.URIRef]]
    groups: dict[Facet, list[str]] = field(default_factory=dict)
    form_of: dict[str, Form] = field(default_factory=dict)
    _facets: dict[Form, list[Facet]] = field(default_factory=dict)

    def add(self, subject: str, pairs: list[Pair]) -> None:
        if not subject.startswith(self.canon.data_ns) or subject in self.form_of:
            return  # not an instance, or seen before: its quads were split (it is read again by itself)
        form, _ = instance_form(pairs, self.types, self.canon)
        if form not in self._facets:
            self._facets[form] = facets(form, self.targets)
        self.form_of[subject] = form
        for facet in self._facets[form]:
            self.groups.setdefault(facet, []).append(subject)

    def drop(self, subject: str) -> None:
        form = self.form_of.pop(subject, None)
        for facet in self._facets.get(form, []) if form is not None else []:
            self.groups[facet].remove(subject)

    def _graph(self, ontology: Hyperontology) -> tuple[rdflib.Graph, dict[str, Facet]]:
        """One representative per facet, the stand-ins of linked instances and the concepts' ontology triples."""
        graph, reps, iris = rdflib.Graph(), {}, set()
        for n, facet in enumerate(f for f, members in self.groups.items() if members):
            node = rdflib.URIRef(f"{self.canon.data_ns}facet/{n}")
            reps[str(node)] = facet
            types, preds, pred, keys = facet
            for other in preds - {pred, RDF.type}:
                graph.add((node, other, _NEUTRAL))
            for p, key in [*((RDF.type, k) for k in types), *((pred, k) for k in keys if pred is not None)]:
                graph.add((node, p, stand_in(key, self.canon.data_ns)))
                iris |= self._iris(graph, key)
        support_for(iris, ontology, graph)
        return graph, reps

    def _iris(self, graph: rdflib.Graph, key: tuple[Any, ...]) -> set[str]:
        """The IRIs a key brings into the representatives' graph (a link's stand-in gets its types)."""
        if key[0] == "iri":
            return {str(key[1])}
        if key[0] == "link":
            for t in key[1]:
                graph.add((stand_in(key, self.canon.data_ns), RDF.type, rdflib.URIRef(t)))
            return set(key[1])
        return set()

    def results(self, store: Store, ontology: Hyperontology, shapes: rdflib.Graph) -> list[Violation]:
        """pyshacl's results on the representatives, spread over the instances of their facets."""
        graph, reps = self._graph(ontology)
        found = [(reps[v.focus], v) for v in validate_graph(graph, shapes) if v.focus in reps]
        found = [(facet, v) for facet, v in found if _keeps(facet, v)]
        originals = self._originals(store, found)
        out = [Violation(s, v.path, originals.get((s, v.path, v.value), v.value), v.message, v.severity, v.shape,
                         v.component)
               for facet, v in found for s in self.groups[facet]]
        return sorted(out, key=lambda v: (v.focus, v.path, v.message, v.value))

    def _originals(self, store: Store, found: list[tuple[Facet, Violation]],
                   ) -> dict[tuple[str, str, str], str]:
        """(instance, path, stand-in value) -> the instance's own value, for results naming a stand-in."""
        wanted: dict[str, set[Facet]] = defaultdict(set)
        for facet, v in found:
            keys = {str(stand_in(k, self.canon.data_ns)): k for k in facet[3]}
            key = keys.get(v.value)
            if key is not None and key[0] != "iri":  # a concept IRI is its own value; others may stand in
                wanted[v.path].add(facet)
        out: dict[tuple[str, str, str], str] = {}
        for path, chosen in wanted.items():
            subjects = sorted({s for facet in chosen for s in self.groups[facet]})
            for chunk in _chunks(subjects):
                for subject, pairs in _read(store, chunk, path).items():
                    _, mapping = instance_form(pairs, self.types, self.canon)
                    for (pred, key), obj in mapping.items():
                        out[(subject, str(pred), str(stand_in(key, self.canon.data_ns)))] = str(obj)
        return out


def stand_in(key: tuple, data_ns: str) -> rdflib.term.Node:  # type: ignore[type-arg]
    """The node standing for a canonical key in the representatives' graph."""
    if key[0] == "link":
        return rdflib.URIRef(f"{data_ns}link/{abs(hash(key[1])):x}/{key[2]}")
    return key[1]  # type: ignore[no-any-return]

