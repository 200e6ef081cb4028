"""The compact class-expression notation of the EUCAIM release transcription, to and from OWL in RDF.

The transcription (``eucaim_hyperontology-v2.0-classes.jsonl``) writes restrictions and equivalent
classes compactly: ``prop>Target`` (owl:someValuesFrom), ``prop>>Target`` (owl:allValuesFrom),
``(A and B)`` or ``intersectionOf(A,B)``, ``unionOf(A,B)``, ``inverseOf(prop)>...`` and
``prop>qualifiedCardinality=1 onClass=X``. This module parses that notation and writes the
corresponding OWL 2 RDF; what it cannot parse is reported, never dropped silently.

Examples
--------
>>> parse("(hasAssociatedMorphology>CLIN1049106 and hasFindingSite>BP1000113)")
('and', [('some', 'hasAssociatedMorphology', 'CLIN1049106'), ('some', 'hasFindingSite', 'BP1000113')])
>>> parse("unionOf(COM1001220,COM1001610)")
('or', ['COM1001220', 'COM1001610'])
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

from rdflib import BNode, Graph, Literal, URIRef
from rdflib.collection import Collection
from rdflib.namespace import OWL, RDF, XSD

Expr = Any  # str (named class) or a tuple: (kind, ...)

_CARD = re.compile(r"^qualifiedCardinality=(\d+) onClass=(.+)$")


class ExpressionError(ValueError):
    """The compact notation could not be parsed."""


def _split_top(text: str, sep: str) -> list[str]:
    """Split on ``sep`` where parentheses are balanced."""
    parts, depth, start, i = [], 0, 0, 0
    while i < len(text):
        ch = text[i]
        depth += (ch == "(") - (ch == ")")
        if depth == 0 and text.startswith(sep, i):
            parts.append(text[start:i])
            i += len(sep)
            start = i
            continue
        i += 1
    parts.append(text[start:])
    return [p.strip() for p in parts]


def _restriction(text: str) -> Expr | None:
    """``prop>target`` / ``prop>>target`` at top level, or None."""
    depth = 0
    for i, ch in enumerate(text):
        depth += (ch == "(") - (ch == ")")
        if depth == 0 and ch == ">":
            prop, rest = text[:i], text[i + 1:]
            kind = "only" if rest.startswith(">") else "some"
            target = rest[1:] if kind == "only" else rest
            card = _CARD.match(target)
            if card:
                return ("card", _prop(prop), int(card.group(1)), parse(card.group(2)))
            return (kind, _prop(prop), parse(target))
    return None


def _prop(text: str) -> Any:
    if text.startswith("inverseOf(") and text.endswith(")"):
        return ("inverse", text[len("inverseOf("):-1])
    if not text or any(c in text for c in " ,"):
        raise ExpressionError(f"not a property name: {text!r}")
    return text


def parse(text: str) -> Expr:
    """Parse one compact class expression."""
    text = text.strip()
    for name, kind in (("intersectionOf(", "and"), ("unionOf(", "or")):
        if text.startswith(name) and text.endswith(")"):
            return (kind, [parse(p) for p in _split_top(text[len(name):-1], ",")])
    if text.startswith("(") and text.endswith(")") and _balanced(text[1:-1]):
        inner = text[1:-1]
        for word, kind in ((" and ", "and"), (" or ", "or")):
            parts = _split_top(inner, word)
            if len(parts) > 1:
                return (kind, [parse(p) for p in parts])
        return parse(inner)
    restriction = _restriction(text)
    if restriction is not None:
        return restriction
    if not text or any(c in text for c in " ()>,="):
        raise ExpressionError(f"cannot parse class expression {text!r}")
    return text


def _balanced(text: str) -> bool:
    depth = 0
    for ch in text:
        depth += (ch == "(") - (ch == ")")
        if depth < 0:
            return False
    return depth == 0


def _blank(seed: str | None) -> BNode:
    """A fresh blank node; with a seed, one whose label is derived from it (the same file on every build)."""
    return BNode() if seed is None else BNode("x" + hashlib.sha256(seed.encode()).hexdigest()[:24])


def to_rdf(expr: Expr, graph: Graph, iri_of: Any, seed: str | None = None) -> URIRef | BNode:
    """Add the OWL RDF of ``expr`` to ``graph``; ``iri_of(name)`` turns a local name into an IRI. With ``seed`` (a
    text unique to the axiom), blank node labels derive from it, so a serialised build is reproducible."""
    if isinstance(expr, str):
        return URIRef(iri_of(expr))
    kind = expr[0]
    node = _blank(seed)
    child = (lambda n: None) if seed is None else (lambda n: f"{seed}/{n}")
    if kind in ("and", "or"):
        graph.add((node, RDF.type, OWL.Class))
        members: list[Any] = [to_rdf(e, graph, iri_of, child(i)) for i, e in enumerate(expr[1])]
        head = _blank(child("list"))
        Collection(graph, head, members)
        graph.add((node, OWL.intersectionOf if kind == "and" else OWL.unionOf, head))
        return node
    graph.add((node, RDF.type, OWL.Restriction))
    graph.add((node, OWL.onProperty, _prop_rdf(expr[1], graph, iri_of, child("property"))))
    if kind == "card":
        graph.add((node, OWL.qualifiedCardinality, Literal(expr[2], datatype=XSD.nonNegativeInteger)))
        graph.add((node, OWL.onClass, to_rdf(expr[3], graph, iri_of, child("filler"))))
    else:
        pred = OWL.someValuesFrom if kind == "some" else OWL.allValuesFrom
        graph.add((node, pred, to_rdf(expr[2], graph, iri_of, child("filler"))))
    return node


def _prop_rdf(prop: Any, graph: Graph, iri_of: Any, seed: str | None = None) -> URIRef | BNode:
    if isinstance(prop, tuple):
        node = _blank(seed)
        graph.add((node, OWL.inverseOf, URIRef(iri_of(prop[1]))))
        return node
    return URIRef(iri_of(prop))


def names(expr: Expr) -> set[str]:
    """Every class name an expression mentions."""
    if isinstance(expr, str):
        return {expr}
    kind = expr[0]
    if kind in ("and", "or"):
        return set().union(*(names(e) for e in expr[1]))
    return names(expr[-1])


def from_rdf(node: Any, graph: Graph, name_of: Any) -> str:
    """Write an OWL class expression of ``graph`` back in the compact notation."""
    if isinstance(node, URIRef):
        return str(name_of(node))
    for pred, word in ((OWL.intersectionOf, "intersectionOf"), (OWL.unionOf, "unionOf")):
        head = graph.value(node, pred)
        if head is not None:
            return f"{word}({','.join(from_rdf(m, graph, name_of) for m in Collection(graph, head))})"
    prop = graph.value(node, OWL.onProperty)
    if prop is None:
        raise ExpressionError(f"unsupported class expression node {node!r}")
    inverse = graph.value(prop, OWL.inverseOf) if isinstance(prop, BNode) else None
    pname = f"inverseOf({name_of(inverse)})" if inverse is not None else str(name_of(prop))
    some, only = graph.value(node, OWL.someValuesFrom), graph.value(node, OWL.allValuesFrom)
    if some is not None:
        return f"{pname}>{from_rdf(some, graph, name_of)}"
    if only is not None:
        return f"{pname}>>{from_rdf(only, graph, name_of)}"
    card, on_class = graph.value(node, OWL.qualifiedCardinality), graph.value(node, OWL.onClass)
    if card is not None and on_class is not None:
        return f"{pname}>qualifiedCardinality={card} onClass={from_rdf(on_class, graph, name_of)}"
    raise ExpressionError(f"unsupported restriction on {pname}")
