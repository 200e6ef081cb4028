"""What a batch changes in the store, decided the way ``hyperontology validate`` judges the data graph.

Ingest is order- and batch-independent: any split of the same inputs into runs leaves the same data graph, and that
graph conforms to the CDM shapes after every run. So a run does not judge its own triples alone. For every
instance it *touches* it decides afresh, from everything any source ever said about it:

1. Touched: each instance the batch has triples for and, transitively, each instance of the data or quarantine
   graph that links to one (its link may become valid, or invalid).
2. Candidates of a touched instance: its triples in the data graph, its triples in the quarantine graph (withheld
   by an earlier run) and the batch's. A record the mapping could not complete (a required value missing) is no
   candidate: it stays in quarantine on its own node (see :mod:`hyperontology.pipeline`).
3. Counts derived from every DICOM instance seen (``cdm:numberOfInstances``; the caller names the properties)
   only grow as instances arrive: the largest candidate is the count, smaller ones are stale and dropped.
4. Validation against the CDM shapes, exactly as ``validate`` sees the data graph after the run (an instance's
   results depend on its own triples and on the types of the instances it links to: from the store for instances
   not touched, from the decisions made here for the others), repeated until nothing changes:

   - a value violating a constraint is withheld: not loaded, kept in the quarantine graph with the reason;
   - **single-valued attributes** (``sh:maxCount 1``: a patient's birth date, gender, a series' slice thickness):
     when the candidates disagree, none of them is loaded; every value is withheld with the reason ("N different
     values given (the sources disagree)"), whatever order or batch the sources came in. Values that agree load
     once (RDF is a set). The store keeps every value a source gave, loaded or withheld, so a disagreement stays
     until a curator settles it (corrects the source, and deletes the withheld value from the quarantine graph);
   - an instance with a missing required value or a node-level violation is quarantined as a whole; the links
     other instances have to it then fail in their turn (``sh:class``), as ``validate`` would find.
5. The new state of the touched instances replaces their old one: quads to add, stale quads to remove.

Examples
--------
>>> DATA_NS
'https://w3id.org/hyperontology/data/'
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

import pyoxigraph as ox

from hyperontology.ontology.api import Hyperontology
from hyperontology.prefixes import HO, iri_to_curie
from hyperontology.store.base import GRAPHS, Store
from hyperontology.validation.fast import FormResults
from hyperontology.validation.shacl import DATA_NS, Violation, validate_quads

__all__ = ["DATA_NS", "QUARANTINE_REASON", "RECORD_NS", "Decision", "Reconciler", "without_values"]

RDF_TYPE = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
QUARANTINE_REASON = ox.NamedNode(HO + "quarantineReason")
#: nodes of records the mapping could not complete (quarantined on their own, never candidates)
RECORD_NS = DATA_NS + "quarantine/"
_CHUNK = 400  # instances per VALUES query
_MAX_COUNT = "MaxCountConstraintComponent"

Term = Any  # ox.NamedNode | ox.Literal
Pair = tuple[ox.NamedNode, Term]


def without_values(reason: str) -> str:
    """A reason as stored: quoted source values blanked (the local report keeps them; the store may be served).

    Examples
    --------
    >>> without_values("value 'Doe' not in value map sex")
    "value '…' not in value map sex"
    """
    return re.sub(r"'[^']*'|\"[^\"]*\"", "'…'", reason)


def _is_instance(term: object) -> bool:
    return isinstance(term, ox.NamedNode) and term.value.startswith(DATA_NS) and not term.value.startswith(RECORD_NS)


def _values(nodes: Iterable[str]) -> str:
    return " ".join(str(ox.NamedNode(n)) for n in nodes)


def _chunks(items: Iterable[str]) -> Iterable[list[str]]:
    ordered = sorted(items)
    for start in range(0, len(ordered), _CHUNK):
        yield ordered[start:start + _CHUNK]


def _number(term: Term) -> Decimal:
    try:
        return Decimal(term.value)
    except (InvalidOperation, AttributeError):
        return Decimal("-Infinity")


def canonical_quads(quads: Iterable[ox.Quad]) -> list[ox.Quad]:
    """The quads as the store gives them back (canonical literals): what the reconciler validates."""
    return list(_canonical(quads))


def _canonical(quads: Iterable[ox.Quad]) -> ox.Store:
    """The quads with literals in the canonical form Oxigraph stores (``"4.0"^^xsd:decimal`` is ``"4"``), so that
    a value read back from the store and the same value from a source compare equal."""
    store = ox.Store()
    store.extend(quads)
    return store


@dataclass
class Decision:
    """The new state of the touched instances, as quads to add and quads to remove, with what was found."""

    add: list[ox.Quad] = field(default_factory=list)
    remove: list[ox.Quad] = field(default_factory=list)
    touched: set[str] = field(default_factory=set)
    quarantined: set[str] = field(default_factory=set)  # touched instances quarantined as a whole
    withheld: list[tuple[str, str, str]] = field(default_factory=list)  # (instance, property, value) not loaded
    results: list[Violation] = field(default_factory=list)  # every result about a touched instance
    reasons: dict[str, list[str]] = field(default_factory=dict)  # why values of an instance, or it, are not loaded


class Reconciler:
    """Decides the new state of the instances a batch touches (see the module docs); reads the store, never writes.

    ``aggregates``: IRIs of properties whose largest candidate is their value (counts over every instance seen).
    ``validate=False`` (ingest ``--no-validate``) merges and recounts but checks nothing, and leaves the
    quarantine graph alone. ``forms``: the results of canonical forms already validated in this run (see
    :class:`~hyperontology.validation.fast.FormResults`).

    Examples
    --------
    >>> from hyperontology import load_ontology
    >>> from hyperontology.store.oxigraph import NodeStore
    >>> cdm, graph, patient = HO + "cdm#", GRAPHS["data"], ox.NamedNode(DATA_NS + "patient/p1")
    >>> def fact(prop, value):
    ...     return ox.Quad(patient, ox.NamedNode(cdm + prop), value, graph)
    >>> day = ox.NamedNode("http://www.w3.org/2001/XMLSchema#date")
    >>> batch = [ox.Quad(patient, RDF_TYPE, ox.NamedNode(cdm + "Patient"), graph),
    ...          fact("patientIdentifier", ox.Literal("p1")), fact("birthDate", ox.Literal("1950-01-01", datatype=day)),
    ...          fact("birthDate", ox.Literal("1951-01-01", datatype=day))]
    >>> decision = Reconciler(NodeStore(None), load_ontology()).decide(batch)
    >>> [value for _, _, value in decision.withheld], decision.quarantined
    (['1950-01-01', '1951-01-01'], set())
    >>> for reason in decision.reasons[patient.value]:
    ...     print(reason)
    A cdm:Patient has at most one cdm:birthDate.
    cdm:birthDate: 2 different values given (the sources disagree): none loaded
    """

    def __init__(self, store: Store, ontology: Hyperontology, *, aggregates: frozenset[str] = frozenset(),
                 validate: bool = True, forms: FormResults | None = None) -> None:
        self.store = store
        self.forms = forms
        #: an embedded store's index look-ups (a remote store answers SPARQL queries with VALUES blocks)
        self._match: Any = getattr(store, "match", None)
        self.ontology = ontology
        self.aggregates = aggregates
        self.validate = validate
        self.candidates: dict[str, set[Pair]] = defaultdict(set)
        self.held: dict[str, set[Pair]] = defaultdict(set)
        self.reasons: dict[str, set[str]] = defaultdict(set)
        self.quarantined: set[str] = set()
        self.touched: set[str] = set()
        self._outside: dict[str, list[ox.NamedNode]] = {}
        self._results: dict[tuple[str, ...], Violation] = {}

    # ------------------------------------------------------------------------------------- reading the store
    def _query(self, sparql: str) -> list[Any]:
        return list(self.store.query(sparql))

    def _graphs(self) -> list[str]:
        return ["data", "quarantine"] if self.validate else ["data"]

    def _closure(self, seeds: set[str]) -> set[str]:
        """The seeds and every instance that links to one of them, transitively (data and quarantine graphs)."""
        found, frontier = set(seeds), set(seeds)
        while frontier and self.validate:
            frontier = self._linkers(frontier) - found
            found |= frontier
        return found

    def _linkers(self, targets: set[str]) -> set[str]:
        """The instances that link to any of ``targets`` (by index look-ups on an embedded store)."""
        if self._match is not None:
            return {q.subject.value for o in targets for g in self._graphs()
                    for q in self._match(None, None, ox.NamedNode(o), g) if _is_instance(q.subject)}
        graphs = _values(GRAPHS[g].value for g in self._graphs())
        linkers: set[str] = set()
        for chunk in _chunks(targets):
            rows = self._query(f"SELECT DISTINCT ?s WHERE {{ VALUES ?o {{ {_values(chunk)} }} "
                               f"VALUES ?g {{ {graphs} }} GRAPH ?g {{ ?s ?p ?o }} }}")
            linkers |= {row["s"].value for row in rows if _is_instance(row["s"])}
        return linkers

    def _stored(self) -> dict[str, dict[str, set[Pair]]]:
        """Graph role -> instance -> its (predicate, object) pairs there, for every touched instance."""
        stored: dict[str, dict[str, set[Pair]]] = {g: defaultdict(set) for g in self._graphs()}
        if self._match is not None:
            for s in self.touched:
                for g in self._graphs():
                    pairs = {(q.predicate, q.object) for q in self._match(ox.NamedNode(s), None, None, g)}
                    if pairs:
                        stored[g][s] |= pairs
            return stored
        role = {GRAPHS[g].value: g for g in self._graphs()}
        graphs = _values(role)
        for chunk in _chunks(self.touched):
            rows = self._query(f"SELECT ?g ?s ?p ?o WHERE {{ VALUES ?s {{ {_values(chunk)} }} "
                               f"VALUES ?g {{ {graphs} }} GRAPH ?g {{ ?s ?p ?o }} }}")
            for row in rows:
                stored[role[row["g"].value]][row["s"].value].add((row["p"], row["o"]))
        return stored

    def _types_outside(self) -> None:
        """The rdf:types in the data graph of the instances touched ones link to that are not touched."""
        targets = {o.value for pairs in self.candidates.values() for _, o in pairs if _is_instance(o)}
        targets -= self.touched
        for chunk in _chunks(targets):
            rows = self._query(f"SELECT ?s ?t WHERE {{ VALUES ?s {{ {_values(chunk)} }} "
                               f"GRAPH {GRAPHS['data']} {{ ?s a ?t }} }}")
            for row in rows:
                self._outside.setdefault(row["s"].value, []).append(row["t"])

    # ------------------------------------------------------------------------------------- deciding
    def decide(self, batch: Iterable[ox.Quad]) -> Decision:
        """The decision for a batch of data quads (the loadable entities of a run)."""
        for q in _canonical(batch):
            self.candidates[q.subject.value].add((q.predicate, q.object))
        self.touched = self._closure(set(self.candidates))
        stored = self._stored()
        for role, by_subject in stored.items():
            for subject, pairs in by_subject.items():
                self.candidates[subject] |= {p for p in pairs if role == "data" or p[0] != QUARANTINE_REASON}
        self._aggregate()
        if self.validate:
            self._types_outside()
            self._settle()
        return self._decision(stored)

    def _aggregate(self) -> None:
        for pairs in self.candidates.values():
            for prop in self.aggregates:
                values = [pair for pair in pairs if pair[0].value == prop]
                if len(values) > 1:
                    best = max(values, key=lambda pair: (_number(pair[1]), str(pair[1])))
                    pairs.difference_update(v for v in values if v != best)

    def kept(self, subject: str) -> set[Pair]:
        """What of an instance's candidates loads (all but the withheld ones; nothing if quarantined)."""
        if subject in self.quarantined:
            return set()
        return self.candidates[subject] - self.held[subject]

    def _types(self, subject: str) -> list[ox.NamedNode]:
        if subject in self.touched:
            return [o for p, o in self.kept(subject) if p == RDF_TYPE]
        return self._outside.get(subject, [])

    def _check(self, subjects: set[str]) -> list[Violation]:
        """Results about ``subjects`` in the data graph as it would be now (their links' types included)."""
        graph = GRAPHS["data"]
        quads = [ox.Quad(ox.NamedNode(s), p, o, graph) for s in sorted(subjects) for p, o in self.kept(s)]
        targets = {str(getattr(q.object, "value", "")) for q in quads if _is_instance(q.object)} - subjects
        quads += [ox.Quad(ox.NamedNode(t), RDF_TYPE, c, graph) for t in sorted(targets) for c in self._types(t)]
        return [v for v in validate_quads(quads, self.ontology, cache=self.forms) if v.focus in subjects]

    def _settle(self) -> None:
        """Validate, withhold, quarantine, and again for what changed, until nothing does."""
        todo = set(self.touched)
        while todo:
            changed, dropped = set(), set()
            for v in self._check(todo):
                self._results[(v.focus, v.path, v.value, v.message, v.severity)] = v
                if v.severity != "Violation":
                    continue
                self.reasons[v.focus].add(v.message)
                if v.whole_instance:
                    dropped.add(v.focus)
                elif self._withhold(v):
                    changed.add(v.focus)
            self.quarantined |= dropped
            linkers = {s for s in self.touched - self.quarantined
                       if any(o.value in dropped for _, o in self.kept(s) if _is_instance(o))}
            todo = (changed | linkers) - self.quarantined

    def _withhold(self, v: Violation) -> bool:
        """Withhold the values a result names (all values of the path for a cardinality result); True if new."""
        on_path = {pair for pair in self.kept(v.focus) if pair[0].value == v.path}
        named = {pair for pair in on_path if getattr(pair[1], "value", None) == v.value}
        hit = on_path if v.component == _MAX_COUNT or not named else named
        if v.component == _MAX_COUNT and len(hit) > 1:
            self.reasons[v.focus].add(f"{iri_to_curie(v.path) or v.path}: {len(hit)} different values given "
                                      f"(the sources disagree): none loaded")
        self.held[v.focus] |= hit
        return bool(hit)

    def _decision(self, stored: dict[str, dict[str, set[Pair]]]) -> Decision:
        new: dict[str, dict[str, set[Pair]]] = {"data": {}, "quarantine": {}}
        for s in self.touched:
            new["data"][s] = self.kept(s)
            out = self.candidates[s] if s in self.quarantined else self.held[s]
            if out or self.reasons[s]:
                out = out | {(QUARANTINE_REASON, ox.Literal(without_values(m))) for m in self.reasons[s]}
            new["quarantine"][s] = set(out)
        decision = Decision(touched=self.touched, quarantined=self.quarantined & self.touched)
        for role in self._graphs():
            graph = GRAPHS[role]
            for s in sorted(self.touched):
                before, after = stored[role].get(s, set()), new[role][s]
                node = ox.NamedNode(s)
                decision.add += [ox.Quad(node, p, o, graph) for p, o in after - before]
                decision.remove += [ox.Quad(node, p, o, graph) for p, o in before - after]
        decision.withheld = sorted((s, p.value, str(getattr(o, "value", ""))) for s in self.touched - self.quarantined
                                   for p, o in self.held[s])
        decision.reasons = {s: sorted(self.reasons[s]) for s in sorted(self.touched) if self.reasons[s]}
        decision.results = sorted(self._results.values(), key=lambda v: (v.focus, v.path, v.message, v.value))
        return decision
