"""A faster path to pyshacl's results: validate each distinct *kind* of instance once.

The CDM shapes are local: what they say about an instance depends only on its own triples, on the types of the
instances it links to, and on the hyperontology triples of the concepts it uses. Two instances whose triples
agree on everything a shape can observe therefore get the same results. So each instance is rewritten into a
canonical form that keeps exactly what the shapes observe:

- coded values (concept IRIs) stay as they are;
- links to other instances become a stand-in node with the same ``rdf:type`` set;
- a literal keeps its datatype and language; a number keeps its place among the thresholds the shapes compare it
  with (``sh:minExclusive`` ...); values of properties with lexical constraints (``sh:pattern``, ``sh:in`` ...)
  stay as they are; other values become a stand-in of the same datatype;
- distinct values stay distinct (cardinality is counted on distinct values).

Instances with the same canonical form are validated once, by pyshacl on a graph holding one representative of
each form, and the results are copied to every instance of the form with its own focus node and values. The test
suite checks that this gives the same results as pyshacl on the whole graph.
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

import pyoxigraph as ox
import rdflib
from rdflib.namespace import RDF, SH, XSD

from hyperontology.validation.shacl import Violation, to_rdflib, validate_graph

_NUMERIC = {XSD.decimal, XSD.integer, XSD.double, XSD.float, XSD.int, XSD.long, XSD.nonNegativeInteger,
            XSD.positiveInteger, XSD.unsignedInt}
_INTEGERS = {XSD.integer, XSD.int, XSD.long, XSD.nonNegativeInteger, XSD.positiveInteger, XSD.unsignedInt}
_FAR = Decimal(10**9)
#: datatypes whose well-formed values may be replaced by a stand-in (derived ones keep their value: their facets)
_STAND_IN = {None, XSD.string, XSD.boolean, XSD.date, XSD.dateTime, XSD.decimal, XSD.integer, XSD.double, XSD.float}
_BOUNDS = (SH.minExclusive, SH.minInclusive, SH.maxExclusive, SH.maxInclusive)
_LEXICAL = (SH.pattern, SH.minLength, SH.maxLength, SH["in"], SH.hasValue, SH.languageIn, SH.uniqueLang)


@dataclass
class ShapeFacts:
    """What the shapes compare literal values with, per property."""

    thresholds: dict[rdflib.URIRef, list[Decimal]] = field(default_factory=dict)
    lexical: set[rdflib.URIRef] = field(default_factory=set)

    @classmethod
    def of(cls, shapes: rdflib.Graph) -> ShapeFacts:
        facts = cls()
        found: dict[rdflib.URIRef, set[Decimal]] = defaultdict(set)
        for shape, path in shapes.subject_objects(SH.path):
            if not isinstance(path, rdflib.URIRef):
                continue
            for bound in _BOUNDS:
                for value in shapes.objects(shape, bound):
                    try:
                        found[path].add(Decimal(str(value)))
                    except InvalidOperation:
                        continue
            if any(True for c in _LEXICAL for _ in shapes.objects(shape, c)):
                facts.lexical.add(path)
        facts.thresholds = {p: sorted(v) for p, v in found.items()}
        return facts


class Canonicaliser:
    """Turns instances into canonical forms (see the module docstring)."""

    def __init__(self, facts: ShapeFacts, data_ns: str) -> None:
        self.facts = facts
        self.data_ns = data_ns
        self._stand_ins: dict[tuple[Any, Any, int], rdflib.Literal] = {}  # they depend on these only

    def literal(self, pred: rdflib.URIRef, value: rdflib.Literal, occurrence: int) -> rdflib.Literal:
        """The stand-in of a literal value; the value itself when the shapes may see more of it than its datatype
        (a lexical constraint on the property), or when it is not a well-formed value of its datatype (a stand-in
        would hide what ``sh:datatype`` reports)."""
        if pred in self.facts.lexical or value.ill_typed or value.datatype not in _STAND_IN:
            return value
        datatype = value.datatype
        if datatype in _NUMERIC and pred in self.facts.thresholds:
            return self._number(self.facts.thresholds[pred], value, occurrence)
        if datatype == XSD.boolean:
            return value
        key = (datatype, value.language, occurrence)
        known = self._stand_ins.get(key)
        if known is None:
            known = self._stand_ins[key] = self._stand_in(datatype, value.language, occurrence)
        return known

    @staticmethod
    def _stand_in(datatype: Any, language: str | None, occurrence: int) -> rdflib.Literal:
        stand_in = f"v{occurrence}"
        if datatype in (XSD.date, XSD.dateTime):
            day = f"{2000 + occurrence // 28}-01-{occurrence % 28 + 1:02d}"
            stand_in = day + ("T00:00:00" if datatype == XSD.dateTime else "")
        elif datatype in _NUMERIC:
            stand_in = str(occurrence + 1)
        return rdflib.Literal(stand_in, lang=language, datatype=datatype)

    def _number(self, cuts: list[Decimal], value: rdflib.Literal, occurrence: int) -> rdflib.Literal:
        try:
            number = Decimal(str(value))
        except InvalidOperation:
            return value  # not a number of its datatype: keep it, the datatype check sees it as it is
        if not number.is_finite():
            return value
        if number in cuts:
            return value
        cell = bisect.bisect_left(cuts, number)
        low = cuts[cell - 1] if cell > 0 else cuts[0] - _FAR
        high = cuts[cell] if cell < len(cuts) else cuts[-1] + _FAR
        if value.datatype in _INTEGERS:
            stand_in = int(low) + 1 + occurrence
            return rdflib.Literal(str(stand_in), datatype=value.datatype) if low < stand_in < high else value
        width = high - low
        stand_in_d = low + width / 2 + width * Decimal(occurrence) / Decimal(10 ** 6)
        return rdflib.Literal(str(stand_in_d), datatype=value.datatype)


Form = tuple[Any, ...]  # the sorted (predicate, key) pairs of an instance
Types = Mapping[str, frozenset[str]]  # instance IRI -> its rdf:types


def instance_form(pairs: Iterable[tuple[rdflib.URIRef, rdflib.term.Node]], types: Types, canon: Canonicaliser,
                  ) -> tuple[Form, dict]:  # type: ignore[type-arg]
    """An instance's canonical form (from its (predicate, object) pairs), and canonical key -> original object.

    The occurrence numbers are counted per predicate, so the pairs of one predicate alone get the same keys.
    """
    items, mapping = [], {}
    per_pred: dict[rdflib.URIRef, int] = defaultdict(int)
    for pred, obj in sorted(set(pairs)):
        n = per_pred[pred]
        per_pred[pred] += 1
        if isinstance(obj, rdflib.Literal):
            key: object = ("lit", canon.literal(pred, obj, n))
        elif isinstance(obj, rdflib.URIRef) and str(obj).startswith(canon.data_ns):
            key = ("link", types.get(str(obj), frozenset()), n)
        else:
            key = ("iri", obj)
        items.append((pred, key))
        mapping[(pred, key)] = obj
    return tuple(sorted(items, key=repr)), mapping


def _forms(quads: Iterable[ox.Quad], canon: Canonicaliser,
           ) -> tuple[dict[str, Form], dict[str, dict]]:  # type: ignore[type-arg]
    """The canonical form of every instance, and per instance: canonical key -> its original object."""
    by_subject: dict[str, list[tuple[rdflib.URIRef, rdflib.term.Node]]] = defaultdict(list)
    types: dict[str, set[str]] = defaultdict(set)
    terms: dict[Any, Any] = {}  # each distinct term converted once (concepts, predicates recur)
    for q in quads:
        subject, pred = q.subject.value, q.predicate.value  # type: ignore[union-attr]
        p = terms.get(q.predicate)
        if p is None:
            p = terms[q.predicate] = rdflib.URIRef(pred)
        o = terms.get(q.object)
        if o is None:
            o = terms[q.object] = to_rdflib(q.object)
        by_subject[subject].append((p, o))
        if pred == str(RDF.type):
            types[subject].add(q.object.value)  # type: ignore[union-attr]
    frozen = {s: frozenset(t) for s, t in types.items()}
    forms: dict[str, Form] = {}
    back: dict[str, dict] = {}  # type: ignore[type-arg]
    for subject, pairs in by_subject.items():
        if subject.startswith(canon.data_ns):
            forms[subject], back[subject] = instance_form(pairs, frozen, canon)
    return forms, back


class FormResults:
    """The results of canonical forms already validated, kept across the batches of one run (the same shapes and
    ontology): a batch then runs pyshacl only on the forms no earlier batch had. At most ``limit`` forms are kept
    (then the memory starts again), so memory stays bounded however long the run."""

    def __init__(self, limit: int = 5000, *, track: bool = False) -> None:
        self.limit = limit
        self.known: dict[Form, list[Violation]] = {}
        self.track = track  # keep the forms put since the last drain (a worker's cache)
        self.fresh: list[Form] = []

    def get(self, form: Form) -> list[Violation] | None:
        return self.known.get(form)

    def put(self, form: Form, results: list[Violation]) -> None:
        if len(self.known) >= self.limit:
            self.known.clear()
        self.known[form] = results
        if self.track:
            self.fresh.append(form)

    def update(self, found: Mapping[Form, list[Violation]]) -> None:
        """Take results computed elsewhere (a worker's, for the same shapes and ontology)."""
        for form, results in found.items():
            self.put(form, results)

    def drain(self) -> dict[Form, list[Violation]]:
        """The forms put since the last drain, with their results (what a worker sends back with a batch)."""
        out = {form: self.known[form] for form in self.fresh if form in self.known}
        self.fresh.clear()
        return out


_CANONICALISERS: dict[tuple[int, str], tuple[rdflib.Graph, Canonicaliser]] = {}


def canonicaliser(shapes: rdflib.Graph, data_ns: str) -> Canonicaliser:
    """The canonicaliser of a shapes graph, kept across calls (the shapes graphs are loaded once and never
    changed: its facts are read and its stand-in literals made once)."""
    key = (id(shapes), data_ns)
    known = _CANONICALISERS.get(key)
    if known is None or known[0] is not shapes:
        if len(_CANONICALISERS) > 8:
            _CANONICALISERS.clear()
        known = _CANONICALISERS[key] = (shapes, Canonicaliser(ShapeFacts.of(shapes), data_ns))
    return known[1]


Support = Iterable[tuple] | Callable[[], Iterable[tuple]]  # type: ignore[type-arg]


def validate_fast(quads: list[ox.Quad], support: Support, shapes: rdflib.Graph,
                  *, data_ns: str, cache: FormResults | None = None) -> list[Violation]:
    """pyshacl's results for the data ``quads`` (plus the ontology ``support`` triples, or a function giving
    them when some form needs pyshacl), once per distinct form (and, with a ``cache``, once per run)."""
    canon = canonicaliser(shapes, data_ns)
    forms, back = _forms(quads, canon)
    groups: dict[Form, list[str]] = defaultdict(list)
    for subject, form in forms.items():
        groups[form].append(subject)
    found: dict[Form, list[Violation]] = {}
    for form in groups:
        known = cache.get(form) if cache is not None else None
        if known is not None:
            found[form] = known
    todo = [form for form in groups if form not in found]
    if todo:
        for form, results in _validate_forms(todo, support() if callable(support) else support, shapes,
                                             data_ns).items():
            found[form] = results
            if cache is not None:
                cache.put(form, results)
    return _spread(found, groups, back, data_ns)


def _validate_forms(forms: list[Form], support: Iterable[tuple], shapes: rdflib.Graph,  # type: ignore[type-arg]
                    data_ns: str) -> dict[Form, list[Violation]]:
    """pyshacl on one representative of each form: each form's results (about its representative)."""
    reduced = rdflib.Graph()
    for triple in support:
        reduced.add(triple)
    reps: dict[str, Form] = {}
    for n, form in enumerate(forms):
        node = rdflib.URIRef(f"{data_ns}form/{n}")
        reps[str(node)] = form
        for pred, key in form:
            reduced.add((node, pred, _object(key, data_ns)))
    for key in {k for form in forms for _, k in form if k[0] == "link"}:
        for t in key[1]:
            reduced.add((_object(key, data_ns), RDF.type, rdflib.URIRef(t)))
    out: dict[Form, list[Violation]] = {form: [] for form in forms}
    for result in validate_graph(reduced, shapes):
        rep = reps.get(result.focus)
        if rep is not None:  # else a result about a concept or a stand-in node, not about an instance
            out[rep].append(result)
    return out


def _object(key: tuple, data_ns: str) -> rdflib.term.Node:  # type: ignore[type-arg]
    kind = key[0]
    if kind == "link":
        return rdflib.URIRef(f"{data_ns}link/{abs(hash(key[1])):x}/{key[2]}")
    return key[1]  # type: ignore[no-any-return]


def _spread(found: dict[Form, list[Violation]], groups: dict[Form, list[str]],
            back: dict[str, dict], data_ns: str) -> list[Violation]:  # type: ignore[type-arg]
    """Each form's results given to every instance of the form, with its own focus node and values."""
    out = []
    for form, results in found.items():
        for result in results:
            for subject in groups[form]:
                value = result.value
                for (pred, key), original in back[subject].items():
                    if str(pred) == result.path and str(_object(key, data_ns)) == result.value:
                        value = str(original)
                        break
                out.append(Violation(str(subject), result.path, value, result.message, result.severity,
                                     result.shape, result.component))
    return sorted(out, key=lambda v: (v.focus, v.path, v.message, v.value))
