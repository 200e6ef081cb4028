"""How the CDM ontology mirrors the relational CDM: classes <-> tables, properties <-> columns, read from the
bundled ``cdm.ttl`` (``cdm:sqlTable "eucaim_cdm_output.<table>"``, ``cdm:sqlColumn "<table>.<column>"``).

A column is of one of three kinds, by the range of its property: ``ref`` (another CDM class: a foreign key, or
the primary key of a subtype table), ``code`` (``skos:Concept``: an EUCAIM code) or ``literal``.

Examples
--------
>>> model = cdm_model()
>>> model.table_of[CDM + "Patient"], model.parent["radiotherapy"]
('patient', 'treatment')
>>> spec = model.columns["patient"]["patient_gender"]
>>> spec.prop.removeprefix(CDM), spec.kind
('gender', 'code')
>>> model.columns["cancer_condition"]["patient_id"].target
'patient'
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache

import rdflib
from rdflib.namespace import RDF, RDFS, SKOS

from hyperontology.interop.ddl import SCHEMA, cdm_tables
from hyperontology.ontology.files import bundled_dir

CDM = "https://w3id.org/hyperontology/cdm#"
EUCAIM = "https://cancerimage.eu/ontology/EUCAIM#"
ROW_ID = CDM + "rowId"
_SCHEMA_ORG = rdflib.Namespace("https://schema.org/")


@dataclass(frozen=True)
class ColumnSpec:
    """The property a column holds and how: ``kind`` is ``ref``, ``code`` or ``literal``; ``target`` is the
    referenced table of a ``ref``."""

    prop: str
    kind: str
    target: str | None = None


@dataclass(frozen=True)
class CdmModel:
    #: class IRI -> table, table -> class IRI
    table_of: dict[str, str]
    class_of: dict[str, str]
    #: subtype table -> its parent table (radiotherapy -> treatment), by rdfs:subClassOf between table classes
    parent: dict[str, str]
    #: class IRI -> its CDM superclasses (transitively, itself included)
    ancestors: dict[str, frozenset[str]]
    #: table -> column -> spec (columns without a property are absent)
    columns: dict[str, dict[str, ColumnSpec]]
    #: property -> the EUCAIM codes its values carry as code/value rows (``cdm:sqlRowCode``)
    row_codes: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def tables_of(self, types: set[str]) -> list[str]:
        """The tables an instance of these classes has a row in (most specific first), in no duplicate."""
        found: list[str] = []
        for cls in sorted(types):
            for anc in sorted(self.ancestors.get(cls, {cls}), key=lambda a: -len(self.ancestors.get(a, ()))):
                table = self.table_of.get(anc)
                if table and table not in found:
                    found.append(table)
        return found


def _ancestors(graph: rdflib.Graph) -> dict[str, frozenset[str]]:
    out = {}
    for cls in set(graph.subjects(RDF.type, rdflib.OWL.Class)):
        if isinstance(cls, rdflib.URIRef) and str(cls).startswith(CDM):
            out[str(cls)] = frozenset(str(a) for a in graph.transitive_objects(cls, RDFS.subClassOf)
                                      if isinstance(a, rdflib.URIRef) and str(a).startswith(CDM))
    return out


def _spec(graph: rdflib.Graph, prop: rdflib.term.Node, table_of: dict[str, str]) -> ColumnSpec:
    ranges = {str(r) for r in [*graph.objects(prop, RDFS.range), *graph.objects(prop, _SCHEMA_ORG.rangeIncludes)]}
    targets = sorted(table_of[r] for r in ranges if r in table_of)
    if targets:
        return ColumnSpec(str(prop), "ref", targets[0])
    if str(SKOS.Concept) in ranges or (prop, RDF.type, rdflib.OWL.ObjectProperty) in graph:
        return ColumnSpec(str(prop), "code")
    return ColumnSpec(str(prop), "literal")


@cache
def cdm_model() -> CdmModel:
    """The mirror, read once from the bundled CDM ontology and checked against the shipped DDL."""
    graph = rdflib.Graph().parse(bundled_dir() / "cdm.ttl", format="turtle")
    sql_table, sql_column = rdflib.URIRef(CDM + "sqlTable"), rdflib.URIRef(CDM + "sqlColumn")
    table_of = {str(c): str(t).removeprefix(SCHEMA + ".") for c, t in graph.subject_objects(sql_table)}
    class_of = {t: c for c, t in table_of.items()}
    ancestors = _ancestors(graph)
    parent = {}
    for cls, table in table_of.items():
        supers = [table_of[a] for a in ancestors.get(cls, ()) if a != cls and a in table_of]
        if supers:
            parent[table] = supers[0]
    ddl = {t.name: {c.name for c in t.columns} for t in cdm_tables()}
    columns: dict[str, dict[str, ColumnSpec]] = {t: {} for t in ddl}
    for prop, text in sorted(graph.subject_objects(sql_column)):
        table, _, column = str(text).partition(".")
        if table in ddl and column in ddl[table]:
            columns[table][column] = _spec(graph, prop, table_of)
    row_codes: dict[str, list[str]] = {}
    for prop, code in sorted(graph.subject_objects(rdflib.URIRef(CDM + "sqlRowCode"))):
        row_codes.setdefault(str(prop), []).append(str(code))
    return CdmModel(table_of, class_of, parent, ancestors, columns, {p: tuple(c) for p, c in row_codes.items()})


__all__ = ["CDM", "EUCAIM", "ROW_ID", "CdmModel", "ColumnSpec", "cdm_model"]
