"""Serialisation of SPARQL results: content negotiation and a row-capped SELECT writer.

pyoxigraph serialises whole results; SELECT results are written here instead so that they can be cut
at ``max_rows`` (JSON, XML, CSV and TSV as in the W3C SPARQL 1.1 result formats).

Examples
--------
>>> negotiate("text/csv;q=0.9, application/sparql-results+xml", SELECT_TYPES)
'application/sparql-results+xml'
>>> negotiate("image/png", SELECT_TYPES) is None
True
>>> negotiate(None, GRAPH_TYPES)
'text/turtle'
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from typing import Any
from xml.sax.saxutils import escape, quoteattr

import pyoxigraph as ox

XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"
RDF_LANG_STRING = "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"

# media type -> canonical media type; the first entry of each map is the default
SELECT_TYPES: dict[str, str] = {
    "application/sparql-results+json": "application/sparql-results+json",
    "application/json": "application/sparql-results+json",
    "application/sparql-results+xml": "application/sparql-results+xml",
    "application/xml": "application/sparql-results+xml",
    "text/csv": "text/csv",
    "text/tab-separated-values": "text/tab-separated-values",
}
ASK_TYPES: dict[str, str] = {k: v for k, v in SELECT_TYPES.items() if v.startswith("application/")}
GRAPH_TYPES: dict[str, str] = {
    "text/turtle": "text/turtle",
    "application/n-triples": "application/n-triples",
    "application/ld+json": "application/ld+json",
    "application/rdf+xml": "application/rdf+xml",
}
RDF_FORMATS = {
    "text/turtle": ox.RdfFormat.TURTLE,
    "application/n-triples": ox.RdfFormat.N_TRIPLES,
    "application/ld+json": ox.RdfFormat.JSON_LD,
    "application/rdf+xml": ox.RdfFormat.RDF_XML,
}
BOOLEAN_FORMATS = {"application/sparql-results+json": ox.QueryResultsFormat.JSON,
                   "application/sparql-results+xml": ox.QueryResultsFormat.XML}


def _accepted(accept: str) -> list[tuple[float, int, str]]:
    ranges = []
    for position, part in enumerate(accept.split(",")):
        fields = [f.strip() for f in part.split(";")]
        quality = 1.0
        for param in fields[1:]:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if fields[0]:
            ranges.append((quality, -position, fields[0].lower()))
    return sorted(ranges, reverse=True)


def negotiate(accept: str | None, offered: dict[str, str]) -> str | None:
    """The canonical media type to answer with, or None when nothing acceptable is offered (406)."""
    default = next(iter(offered.values()))
    if not accept or not accept.strip():
        return default
    for quality, _, media in _accepted(accept):
        if quality <= 0:
            continue
        if media in ("*/*", "*"):
            return default
        if media.endswith("/*"):
            match = next((v for k, v in offered.items() if k.startswith(media[:-1])), None)
            if match:
                return match
        elif media in offered:
            return offered[media]
    return None


# ----------------------------------------------------------------------------------------- terms
def _json_term(term: Any) -> dict[str, Any]:
    if isinstance(term, ox.NamedNode):
        return {"type": "uri", "value": term.value}
    if isinstance(term, ox.BlankNode):
        return {"type": "bnode", "value": term.value}
    if isinstance(term, ox.Literal):
        out: dict[str, Any] = {"type": "literal", "value": term.value}
        if term.language:
            out["xml:lang"] = term.language
        elif term.datatype.value != XSD_STRING:
            out["datatype"] = term.datatype.value
        return out
    return {"type": "triple", "value": {"subject": _json_term(term.subject),
                                         "predicate": _json_term(term.predicate),
                                         "object": _json_term(term.object)}}


def _xml_term(term: Any) -> str:
    if isinstance(term, ox.NamedNode):
        return f"<uri>{escape(term.value)}</uri>"
    if isinstance(term, ox.BlankNode):
        return f"<bnode>{escape(term.value)}</bnode>"
    if isinstance(term, ox.Literal):
        if term.language:
            return f"<literal xml:lang={quoteattr(term.language)}>{escape(term.value)}</literal>"
        if term.datatype.value != XSD_STRING:
            return f"<literal datatype={quoteattr(term.datatype.value)}>{escape(term.value)}</literal>"
        return f"<literal>{escape(term.value)}</literal>"
    return (f"<triple><subject>{_xml_term(term.subject)}</subject><predicate>{_xml_term(term.predicate)}"
            f"</predicate><object>{_xml_term(term.object)}</object></triple>")


def _csv_term(term: Any) -> str:
    if term is None:
        return ""
    if isinstance(term, ox.BlankNode):
        return f"_:{term.value}"
    if isinstance(term, ox.NamedNode | ox.Literal):
        return str(term.value)
    return str(term)


# ----------------------------------------------------------------------------------------- writers
Rows = Sequence[Sequence[Any]]


def write_select(names: list[str], rows: Rows, media: str) -> bytes:
    """SELECT results (``rows`` of terms or None, in the order of ``names``) in one of :data:`SELECT_TYPES`."""
    if media == "application/sparql-results+json":
        bindings = [{n: _json_term(t) for n, t in zip(names, row, strict=True) if t is not None} for row in rows]
        return json.dumps({"head": {"vars": names}, "results": {"bindings": bindings}}).encode()
    if media == "application/sparql-results+xml":
        return _write_xml(names, rows).encode()
    buffer = io.StringIO()
    if media == "text/csv":
        writer = csv.writer(buffer, lineterminator="\r\n")
        writer.writerow(names)
        writer.writerows([_csv_term(t) for t in row] for row in rows)
    else:  # TSV: terms in their N-Triples / Turtle form
        buffer.write("\t".join(f"?{n}" for n in names) + "\n")
        for row in rows:
            buffer.write("\t".join("" if t is None else str(t) for t in row) + "\n")
    return buffer.getvalue().encode()


def _write_xml(names: list[str], rows: Rows) -> str:
    parts = ['<?xml version="1.0"?>\n<sparql xmlns="http://www.w3.org/2005/sparql-results#"><head>']
    parts += [f"<variable name={quoteattr(n)}/>" for n in names]
    parts.append("</head><results>")
    for row in rows:
        parts.append("<result>")
        parts += [f"<binding name={quoteattr(n)}>{_xml_term(t)}</binding>"
                  for n, t in zip(names, row, strict=True) if t is not None]
        parts.append("</result>")
    parts.append("</results></sparql>\n")
    return "".join(parts)


__all__ = ["ASK_TYPES", "GRAPH_TYPES", "SELECT_TYPES", "negotiate", "write_select"]
