"""The EUCAIM Hyper-Ontology release: its classes as records, to and from OWL.

A *record* is one class of the release as a dict with the keys of the release transcription
(``c`` code, ``p`` parents, ``r`` restrictions, ``eq`` equivalent classes, ``l`` label(s), ``pl``
prefLabels that differ from the label, ``a`` altLabels, ``x`` skos:exactMatch literals, ``sct``,
``ncit``, ... standard codes, ``q`` queryCriteria, ``other`` other annotations, ``cm`` comment).
:func:`records_from_owl` reads a release file (RDF/XML, as published) into records;
:func:`module_graph` writes records as the EUCAIM module of the hyperontology.

Examples
--------
>>> rec = {"c": "CLIN1", "l": "Thing", "sct": ["254637007"]}
>>> g = module_graph([rec], [], [])
>>> len(g) > 5
True
"""

from __future__ import annotations

import json
import pyexpat  # noqa: S410 - prolog only, entity declarations recorded, never expanded
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import OWL, RDF, RDFS, SKOS, XSD

from hyperontology.errors import ReleaseImportError
from hyperontology.ontology import expressions
from hyperontology.prefixes import HO, PREFIXES

EUCAIM = PREFIXES["EUCAIM"]
SCHEME = URIRef(HO + "scheme/EUCAIM")
#: record key -> the release's annotation property (in the EUCAIM namespace)
ANNOTATION_KEYS: dict[str, str] = {
    "sct": "SNOMEDCT", "ncit": "NCIT", "radlex": "RadLex", "icd10": "ICD10", "icdo3": "ICDO3",
    "loinc": "LOINC", "ucum": "UCUM", "atc": "ATC", "umls": "UMLS_CUI", "naaccr": "NAACCR",
    "dicom_tag": "DICOM_Tag", "dicom_name": "DICOM_Name", "fhir": "FHIR_ResourceType",
    "mcode": "mCODE_Profile", "omop_id": "OMOP_Concept_ID", "omop_domain": "OMOP_Domain_ID",
}
OTHER_ELEMENTS = (
    "CancerModifier", "synonym", "acronym", "Race", "HemOnc", "RxNorm", "CPT4", "ICD10PCS", "UK_Biobank",
    "SemanticType", "OMOPGenomic", "OMOP_Extension", "NebraskaLexicon", "GENDER",
)
#: key order of the transcription
KEY_ORDER = ("c", "p", "r", "eq", "l", "pl", "a", "x", *ANNOTATION_KEYS, "q", "other", "cm")
RELEASE_MATCH = URIRef(HO + "releaseExactMatch")
UNPARSED = {"r": URIRef(HO + "unparsedRestriction"), "eq": URIRef(HO + "unparsedEquivalentClass")}


def iri(name: str) -> str:
    """IRI of a release name (a code such as ``CLIN1000065``, or a full IRI)."""
    return name if name.startswith(("http://", "https://")) else EUCAIM + name


def name_of(node: Any) -> str:
    """The release name of an IRI (fragment in the EUCAIM namespace, else the full IRI)."""
    text = str(node)
    return text[len(EUCAIM):] if text.startswith(EUCAIM) else text


def read_jsonl(path: Path) -> Iterator[dict[str, Any]]:
    """Read records (or property records) from a transcription file, naming the line on errors."""
    with path.open(encoding="utf-8") as handle:
        for lineno, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                yield json.loads(line)
            except json.JSONDecodeError as exc:
                raise ReleaseImportError(f"line {lineno}: not JSON ({exc.msg})", path=str(path)) from exc


def labels(record: dict[str, Any]) -> list[str]:
    value = record.get("l", [])
    return [value] if isinstance(value, str) else list(value)


# ---------------------------------------------------------------------------------------- records -> RDF
def module_graph(
    records: Iterable[dict[str, Any]],
    object_props: Iterable[dict[str, Any]],
    datatype_props: Iterable[dict[str, Any]],
) -> Graph:
    """The EUCAIM module: every class with labels, parents, restrictions and the release's annotations."""
    graph = Graph()
    graph.add((SCHEME, RDF.type, SKOS.ConceptScheme))
    graph.add((SCHEME, RDFS.label, Literal("EUCAIM Hyper-Ontology v2.0")))
    for prop in object_props:
        _add_property(graph, prop, OWL.ObjectProperty)
    for prop in datatype_props:
        _add_property(graph, prop, OWL.DatatypeProperty)
    for name in (*ANNOTATION_KEYS.values(), *OTHER_ELEMENTS, "queryCriteria"):
        graph.add((URIRef(EUCAIM + name), RDF.type, OWL.AnnotationProperty))
    for ap in (RELEASE_MATCH, *UNPARSED.values(), SKOS.notation, SKOS.inScheme, SKOS.prefLabel, SKOS.altLabel,
               SKOS.exactMatch, SKOS.closeMatch, SKOS.broadMatch, SKOS.narrowMatch, SKOS.definition):
        graph.add((ap, RDF.type, OWL.AnnotationProperty))
    for record in records:
        _add_class(graph, record)
    return graph


def _add_property(graph: Graph, prop: dict[str, Any], kind: URIRef) -> None:
    node = URIRef(iri(prop["c"]))
    graph.add((node, RDF.type, kind))
    if "l" in prop:
        graph.add((node, RDFS.label, Literal(prop["l"])))
    if "inv" in prop:
        graph.add((node, OWL.inverseOf, URIRef(iri(prop["inv"]))))
    for key, pred in (("dom", RDFS.domain), ("sub", RDFS.subPropertyOf)):
        for value in prop.get(key, []):
            graph.add((node, pred, URIRef(iri(value))))
    for value in prop.get("rng", []):
        graph.add((node, RDFS.range, _datatype(value) if kind == OWL.DatatypeProperty else URIRef(iri(value))))


def _datatype(curie: str) -> URIRef:
    prefix, _, local = curie.partition(":")
    return URIRef((str(XSD) if prefix == "xsd" else str(RDFS)) + local)


def _add_class(graph: Graph, record: dict[str, Any]) -> None:
    node = URIRef(iri(record["c"]))
    graph.add((node, RDF.type, OWL.Class))
    graph.add((node, SKOS.notation, Literal(record["c"])))
    graph.add((node, SKOS.inScheme, SCHEME))
    for parent in record.get("p", []):
        graph.add((node, RDFS.subClassOf, URIRef(iri(parent))))
    for text in record.get("r", []):
        _add_expression(graph, node, "r", text)
    for text in record.get("eq", []):
        _add_expression(graph, node, "eq", text)
    _add_labels(graph, node, record)
    for key, element in ANNOTATION_KEYS.items():
        for value in record.get(key, []):
            graph.add((node, URIRef(EUCAIM + element), Literal(value)))
    for item in record.get("other", []):
        element, _, value = item.partition("=")
        graph.add((node, URIRef(EUCAIM + element), Literal(value)))
    if record.get("q"):
        graph.add((node, URIRef(EUCAIM + "queryCriteria"), Literal(True)))
    comments = record.get("cm", [])
    for comment in [comments] if isinstance(comments, str) else comments:
        graph.add((node, RDFS.comment, Literal(comment)))


def _add_labels(graph: Graph, node: URIRef, record: dict[str, Any]) -> None:
    names = labels(record)
    for label in names:
        graph.add((node, RDFS.label, Literal(label)))
    for label in [*names[:1], *record.get("pl", [])]:  # the transcription lists only prefLabels != label
        graph.add((node, SKOS.prefLabel, Literal(label)))
    for label in record.get("a", []):
        graph.add((node, SKOS.altLabel, Literal(label)))
    for value in record.get("x", []):
        graph.add((node, RELEASE_MATCH, Literal(value)))


def _add_expression(graph: Graph, node: URIRef, key: str, text: str) -> None:
    """A restriction (``r``) or equivalent class (``eq``); text the notation cannot express is kept as text."""
    try:
        expr = expressions.parse(text)
    except expressions.ExpressionError:
        graph.add((node, UNPARSED[key], Literal(text)))
        return
    value = expressions.to_rdf(expr, graph, iri, seed=f"{node}|{key}|{text}")
    graph.add((node, RDFS.subClassOf if key == "r" else OWL.equivalentClass, value))


# ---------------------------------------------------------------------------------------- OWL -> records
#: the most characters one XML entity of a release file may expand to (Protégé's namespace entities are ~50)
MAX_ENTITY_EXPANSION = 100_000
_ENTITY_REF = re.compile(r"&([A-Za-z_][\w.\-]*);")


class _PrologRead(Exception):
    """The first element is reached: every entity declaration has been seen."""


def guard_xml(path: Path, *, limit: int = MAX_ENTITY_EXPANSION) -> None:
    """Refuse an XML file whose entities expand beyond ``limit`` characters ("billion laughs") or are external.

    Only the prolog is read (declarations come before the root element), so this costs nothing on a large file.
    """
    values: dict[str, str] = {}

    def declared(name: str, _param: int, value: str | None, _base: str | None, system: str | None,
                 _public: str | None, _notation: str | None) -> None:
        if value is None and system is not None:
            raise ReleaseImportError(f"external XML entity {name!r} ({system}) refused", path=str(path))
        values[name] = value or ""

    def started(_name: str, _attrs: Any) -> None:
        raise _PrologRead

    parser = pyexpat.ParserCreate()
    parser.EntityDeclHandler = declared
    parser.StartElementHandler = started
    try:
        with path.open("rb") as handle:
            parser.ParseFile(handle)
    except _PrologRead:
        pass
    except pyexpat.ExpatError as exc:
        raise ReleaseImportError(f"not well-formed XML: {exc}", path=str(path)) from exc
    sizes: dict[str, int] = {}
    for name in values:
        if _expanded(name, values, sizes, 0) > limit:
            raise ReleaseImportError(f"XML entity {name!r} expands beyond {limit:,} characters; refused "
                                     "(an entity-expansion attack?)", path=str(path))


def _expanded(name: str, values: dict[str, str], sizes: dict[str, int], depth: int) -> int:
    if name in sizes:
        return sizes[name]
    if depth > 32:
        return 1 << 40  # a reference chain this deep is an attack or a cycle
    value = values.get(name, "")
    total = len(_ENTITY_REF.sub("", value)) + sum(_expanded(ref, values, sizes, depth + 1)
                                                  for ref in _ENTITY_REF.findall(value) if ref in values)
    sizes[name] = min(total, 1 << 40)
    return sizes[name]


def records_from_owl(path: Path) -> list[dict[str, Any]]:
    """Read a release file (RDF/XML, Turtle or N-Triples) into transcription records, in file order."""
    graph = Graph()
    fmt = {".ttl": "turtle", ".nt": "nt"}.get(path.suffix.lower(), "xml")
    if fmt == "xml":
        guard_xml(path)
    try:
        graph.parse(path, format=fmt)
    except Exception as exc:  # rdflib raises many types for malformed input
        raise ReleaseImportError(f"not a readable {fmt} release: {exc}", path=str(path)) from exc
    classes = [c for c in graph.subjects(RDF.type, OWL.Class) if isinstance(c, URIRef)]
    if not classes:
        raise ReleaseImportError("no owl:Class in the file", path=str(path))
    order = _file_order(path, classes)
    return [_record(graph, c) for c in sorted(classes, key=lambda c: (order.get(str(c), 1 << 30), str(c)))]


def _file_order(path: Path, classes: list[URIRef]) -> dict[str, int]:
    """Position of each class IRI in the file text (rdflib does not keep document order)."""
    text = path.read_text(encoding="utf-8", errors="replace")
    return {str(c): pos for c in classes if (pos := text.find(f'"{c}"')) >= 0}


def _texts(graph: Graph, node: URIRef, pred: URIRef, *, keep_empty: bool = False) -> list[str]:
    values = {str(o).strip() for o in graph.objects(node, pred) if isinstance(o, Literal)}
    return sorted(values if keep_empty else values - {""})


def _record(graph: Graph, node: URIRef) -> dict[str, Any]:
    rec: dict[str, Any] = {"c": name_of(node)}
    rec["p"] = sorted(name_of(o) for o in graph.objects(node, RDFS.subClassOf) if isinstance(o, URIRef))
    rec["r"] = sorted([_expr_text(graph, o) for o in graph.objects(node, RDFS.subClassOf)
                       if not isinstance(o, URIRef)] + _texts(graph, node, UNPARSED["r"]))
    rec["eq"] = sorted([_expr_text(graph, o) for o in graph.objects(node, OWL.equivalentClass)]
                       + _texts(graph, node, UNPARSED["eq"]))
    names = [str(o) for o in graph.objects(node, RDFS.label)]
    rec["l"] = names[0] if len(names) == 1 else sorted(names)
    rec["pl"] = [p for p in _texts(graph, node, SKOS.prefLabel) if p not in {n.strip() for n in names}]
    rec["a"] = _texts(graph, node, SKOS.altLabel)
    rec["x"] = sorted(set(_texts(graph, node, SKOS.exactMatch) + _texts(graph, node, RELEASE_MATCH)))
    for key, element in ANNOTATION_KEYS.items():
        rec[key] = _texts(graph, node, URIRef(EUCAIM + element), keep_empty=True)
    if any(str(o).strip().lower() == "true" for o in graph.objects(node, URIRef(EUCAIM + "queryCriteria"))):
        rec["q"] = True
    rec["other"] = sorted(f"{e}={v}" for e in OTHER_ELEMENTS for v in _texts(graph, node, URIRef(EUCAIM + e)))
    comments = [str(o)[:200] for o in graph.objects(node, RDFS.comment)]
    rec["cm"] = comments[0] if len(comments) == 1 else sorted(comments)
    return {k: rec[k] for k in KEY_ORDER if k in rec and rec[k] not in ([], "", None)}


def canonical(record: dict[str, Any]) -> dict[str, Any]:
    """A record with lists sorted and class expressions parsed, for comparing records by meaning."""
    out: dict[str, Any] = {}
    for key, value in record.items():
        if key in ("r", "eq"):
            out[key] = sorted(_canon_text(t) for t in value)
        elif isinstance(value, list):
            out[key] = sorted(value)
        else:
            out[key] = value
    return out


def _canon_text(text: str) -> str:
    try:
        return repr(_canon_expr(expressions.parse(text)))
    except expressions.ExpressionError:
        return text


def _canon_expr(expr: Any) -> Any:
    if isinstance(expr, str):
        return expr
    if expr[0] in ("and", "or"):
        return (expr[0], tuple(sorted((_canon_expr(e) for e in expr[1]), key=repr)))
    return tuple(_canon_expr(e) if i == len(expr) - 1 else e for i, e in enumerate(expr))


def _expr_text(graph: Graph, node: Any) -> str:
    return name_of(node) if isinstance(node, URIRef) else expressions.from_rdf(node, graph, name_of)


def properties_from_owl(graph: Graph, kind: URIRef) -> list[dict[str, Any]]:
    """Object or datatype properties of a release graph as property records (``c l inv dom rng sub``)."""
    out = []
    for node in sorted(graph.subjects(RDF.type, kind), key=str):
        if not isinstance(node, URIRef):
            continue
        rec: dict[str, Any] = {"c": name_of(node)}
        label = graph.value(node, RDFS.label)
        if label is not None:
            rec["l"] = str(label)
        inverse = graph.value(node, OWL.inverseOf)
        if isinstance(inverse, URIRef):
            rec["inv"] = name_of(inverse)
        for key, pred in (("dom", RDFS.domain), ("rng", RDFS.range), ("sub", RDFS.subPropertyOf)):
            values = sorted(_short(o) for o in graph.objects(node, pred) if isinstance(o, URIRef))
            if values:
                rec[key] = values
        out.append(rec)
    return out


def _short(node: URIRef) -> str:
    text = str(node)
    for prefix, ns in (("xsd", str(XSD)), ("rdfs", str(RDFS))):
        if text.startswith(ns):
            return f"{prefix}:{text[len(ns):]}"
    return name_of(node)
