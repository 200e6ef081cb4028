"""Export the store's CDM data graph into the infrastructure's relational CDM (``eucaim_cdm_output``).

A direct walk of the mirror (:mod:`hyperontology.interop.cdm_model`): one row per CDM instance in the table of
each of its classes (a ``cdm:Radiotherapy`` has a row in ``treatment`` and one in ``radiotherapy``), one
column per property. Primary keys are assigned here, deterministically (instances sorted by IRI, numbered from
1); ``patient`` and ``dataset`` keep their own identifiers (``cdm:patientIdentifier``, the pseudonym, else the
last segment of the patient's IRI, which the mapping engine mints from the pseudonym). Foreign keys hold the
referenced row's key. Coded columns hold EUCAIM codes: the fragment of an EUCAIM IRI, else the EUCAIM concept
equivalent to the value in the hyperontology; never an invented one.

Whatever cannot be expressed is counted in the report with its reason: instances (no table for the class, no
value for a NOT NULL column, a duplicate key) and values (no column for the property, no EUCAIM code, too long
for the column, more values than the column holds...). Every triple of the data graph is either an
``rdf:type``, a value written, or a value reported. Everything is written in one transaction: a failed export
leaves the target as it was.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pyoxigraph as ox

from hyperontology.errors import HyperontologyError
from hyperontology.interop.cdm_model import CDM, EUCAIM, ROW_ID, CdmModel, ColumnSpec, cdm_model
from hyperontology.interop.ddl import Column, Table, cdm_tables
from hyperontology.interop.sqldb import Database, redact, transaction
from hyperontology.interop.sqlvalues import NotExpressible, to_sql
from hyperontology.ontology.api import Hyperontology
from hyperontology.prefixes import iri_to_curie
from hyperontology.store.base import Store

RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
EXAMPLES = 500
WRITTEN = ""
#: tables whose instances keep, as direct properties, what the relational CDM stores as code/value rows of another
#: table: home table -> (row table, the row table's code property). A series' ``cdm:sliceThickness`` is an
#: ``image_modality`` row with code IMG1016306 (``cdm:sqlRowCode``), as the infrastructure's ETL writes it
#: (``6_procedure_update_output_db_for_dataset.sql``, "SliceThickness").
ROW_TABLES = {"image_series": ("image_modality", CDM + "acquisitionParameter")}
VALUE, VALUE_CONCEPT = CDM + "value", CDM + "valueConcept"


class CdmExportError(HyperontologyError):
    """The target cannot take the export (tables that differ from the DDL, rows already there); nothing written."""


def _short(iri: str) -> str:
    return iri_to_curie(iri) or iri


class Codes:
    """Concept IRI -> EUCAIM code, or the reason there is none (cached)."""

    def __init__(self, ontology: Hyperontology) -> None:
        self.ontology = ontology
        self._cache: dict[str, tuple[str | None, str]] = {}

    def code(self, iri: str) -> tuple[str | None, str]:
        if iri not in self._cache:
            self._cache[iri] = self._resolve(iri)
        return self._cache[iri]

    def _resolve(self, iri: str) -> tuple[str | None, str]:
        if iri.startswith(EUCAIM):
            return iri.removeprefix(EUCAIM), ""
        if iri not in self.ontology:
            return None, "not a concept of the hyperontology"
        codes = sorted(c.iri.removeprefix(EUCAIM) for c in self.ontology.equivalents(iri) if c.iri.startswith(EUCAIM))
        if not codes:
            return None, "no EUCAIM concept is equivalent to it"
        return codes[0], ""


@dataclass
class Instance:
    iri: str
    types: set[str] = field(default_factory=set)
    values: dict[str, list[ox.NamedNode | ox.Literal | ox.BlankNode]] = field(default_factory=dict)
    tables: list[str] = field(default_factory=list)
    dropped: str | None = None


def read_instances(store: Store) -> dict[str, Instance]:
    """The subjects of the data graph with their types and values."""
    out: dict[str, Instance] = {}
    for quad in store.quads("data"):
        subject = str(getattr(quad.subject, "value", quad.subject))
        inst = out.setdefault(subject, Instance(subject))
        if quad.predicate.value == RDF_TYPE:
            inst.types.add(str(getattr(quad.object, "value", quad.object)))
        else:
            inst.values.setdefault(quad.predicate.value, []).append(quad.object)  # type: ignore[arg-type]
    for inst in out.values():
        for terms in inst.values.values():
            terms.sort(key=str)
    return out


class ExampleLog:
    """The first ``EXAMPLES`` values a planner could not express, for the report; the rest only counted."""

    examples: list[dict[str, str]]
    more: int

    def _example(self, table: str, iri: str, prop: str, value: str, reason: str) -> None:
        if len(self.examples) < EXAMPLES:
            self.examples.append({"table": table, "instance": iri, "property": _short(prop) if prop else "",
                                  "value": value, "reason": reason})
        else:
            self.more += 1


class Planner(ExampleLog):
    """Rows of every table from the instances, and the account of what could not be expressed."""

    def __init__(self, instances: dict[str, Instance], codes: Codes, model: CdmModel | None = None) -> None:
        self.instances = instances
        self.codes = codes
        self.model = model or cdm_model()
        self.tables = {t.name: t for t in cdm_tables()}
        self.members: dict[str, list[str]] = {t: [] for t in self.tables}
        self.ids: dict[str, dict[str, Any]] = {t: {} for t in self.tables}
        #: (subject, property, term) -> WRITTEN or the reason it was not
        self.fate: dict[tuple[str, str, str], str] = {}
        self.adjusted: dict[str, Counter[str]] = defaultdict(Counter)
        self.examples: list[dict[str, str]] = []
        self.more = 0
        #: code/value rows made from a direct property: row instance IRI -> (subject, property, term)
        self.derived: dict[str, tuple[str, str, Any]] = {}

    def plan(self) -> dict[str, tuple[list[str], list[tuple[Any, ...]]]]:
        """table -> (columns, rows), in the DDL's order (parents first)."""
        self._derive_rows()
        for inst in sorted(self.instances.values(), key=lambda i: i.iri):
            inst.tables = self.model.tables_of(inst.types)
            for name in inst.tables:
                self.members[name].append(inst.iri)
        for table in self.tables.values():
            self._assign_keys(table)
        for table in self.tables.values():
            self._check_required(table)
        return {name: self._rows(table) for name, table in self.tables.items()}

    def _derive_rows(self) -> None:
        """A row instance of the row table (:data:`ROW_TABLES`) for each value of a property with one
        ``cdm:sqlRowCode``: the code, the value (a number in ``cdm:value``, a concept in ``cdm:valueConcept``) and
        the link to its subject; the subject's triple is written when that row is."""
        for inst in list(self.instances.values()):
            home = self.model.tables_of(inst.types)
            for table in home:
                if table not in ROW_TABLES:
                    continue
                rows, code_prop = ROW_TABLES[table]
                link = next(s.prop for s in self.model.columns[rows].values() if s.kind == "ref" and s.target == table)
                for prop, terms in inst.values.items():
                    codes = self.model.row_codes.get(prop, ())
                    if len(codes) != 1:
                        continue
                    for number, term in enumerate(terms, start=1):
                        iri = f"{inst.iri}#{codes[0].removeprefix(EUCAIM)}-{number}"
                        value = VALUE_CONCEPT if isinstance(term, ox.NamedNode) else VALUE
                        self.instances[iri] = Instance(iri, {self.model.class_of[rows]}, {
                            code_prop: [ox.NamedNode(codes[0])], link: [ox.NamedNode(inst.iri)], value: [term]})
                        self.derived[iri] = (inst.iri, prop, term)

    # ------------------------------------------------------------------ keys
    def _drop(self, iri: str, reason: str) -> None:
        inst = self.instances[iri]
        if inst.dropped is None:
            inst.dropped = reason
            self._example(inst.tables[0] if inst.tables else "", iri, "", "", reason)

    def _alive(self, table: str) -> list[str]:
        return [i for i in self.members[table] if self.instances[i].dropped is None]

    def _assign_keys(self, table: Table) -> None:
        pk = table.column(table.primary_key)
        spec = self.model.columns[table.name].get(pk.name)
        parent = self.model.parent.get(table.name)
        seen: dict[Any, str] = {}
        for number, iri in enumerate(self._alive(table.name), start=1):
            if parent is not None:
                key: Any = self.ids[parent].get(iri)
            elif spec is not None and spec.kind == "ref" and spec.target is not None:
                terms = self.instances[iri].values.get(spec.prop, [])
                key = self.ids[spec.target].get(str(terms[0].value)) if terms else None
            elif pk.base == "VARCHAR":
                key = self._natural_key(iri, table.name, spec, pk)
            else:
                key = number
            if key is None:
                self._drop(iri, f"no primary key for {table.name}")
            elif key in seen:
                self._drop(iri, f"duplicate primary key of {table.name} (shared with another instance)")
            else:
                seen[key] = iri
                self.ids[table.name][iri] = key

    def _natural_key(self, iri: str, table: str, spec: ColumnSpec | None, pk: Column) -> str | None:
        terms = self.instances[iri].values.get(spec.prop, []) if spec else []
        if terms and isinstance(terms[0], ox.Literal):
            key = terms[0].value
            self.fate[(iri, spec.prop, str(terms[0]))] = WRITTEN  # type: ignore[union-attr]
        else:
            key = unquote(iri.rstrip("/").rsplit("/", 1)[-1])
            self.adjusted[table][f"{pk.name} from the instance's IRI (no identifier)"] += 1
        return key if len(key) <= pk.size[0] else None

    def _check_required(self, table: Table) -> None:
        for column in table.columns:
            spec = self.model.columns[table.name].get(column.name)
            if not column.not_null or column.primary_key or spec is None:
                continue
            for iri in self._alive(table.name):
                if self._cell(iri, table, column, spec, record=False) is None:
                    self._drop(iri, f"no value for {table.name}.{column.name} (NOT NULL)")

    # ------------------------------------------------------------------ rows
    def _rows(self, table: Table) -> tuple[list[str], list[tuple[Any, ...]]]:
        names = [c.name for c in table.columns]
        rows = []
        for iri in self._alive(table.name):
            row = []
            for column in table.columns:
                spec = self.model.columns[table.name].get(column.name)
                if column.primary_key:
                    row.append(self.ids[table.name][iri])
                elif spec is None or spec.prop == ROW_ID:
                    row.append(None)
                else:
                    row.append(self._cell(iri, table, column, spec, record=True))
            rows.append(tuple(row))
        return names, rows

    def _terms(self, iri: str, table: Table, column: Column, spec: ColumnSpec) -> list[Any]:
        """The instance's values of the property; for a NOT NULL column it lacks, those of the instances its row
        refers to (the ETL's denormalised ``image_series.study_uid``: the study's UID)."""
        terms = self.instances[iri].values.get(spec.prop, [])
        if terms or not column.not_null:
            return terms
        for name, other in self.model.columns[table.name].items():
            if other.kind == "ref" and name != table.primary_key:
                for ref in self.instances[iri].values.get(other.prop, []):
                    target = self.instances.get(str(ref.value))
                    if target is not None and target.values.get(spec.prop):
                        return target.values[spec.prop][:1]
        return []

    def _cell(self, iri: str, table: Table, column: Column, spec: ColumnSpec, *, record: bool) -> Any:
        terms = self._terms(iri, table, column, spec)
        if not terms:
            return None
        first, *extra = terms
        for term in extra:
            self._note(record, iri, spec.prop, term, f"more than one value; {table.name}.{column.name} holds one")
        try:
            value, note = self._convert(first, column, spec)
        except NotExpressible as exc:
            self._note(record, iri, spec.prop, first, str(exc))
            return None
        if record:
            self.fate[(iri, spec.prop, str(first))] = WRITTEN
            if note:
                self.adjusted[table.name][f"{column.name}: {note}"] += 1
        return value

    def _note(self, record: bool, iri: str, prop: str, term: Any, reason: str) -> None:
        if record:
            self.fate.setdefault((iri, prop, str(term)), reason)

    def _convert(self, term: Any, column: Column, spec: ColumnSpec) -> tuple[Any, str | None]:
        if spec.kind in ("ref", "code"):
            if not isinstance(term, ox.NamedNode):
                raise NotExpressible("a literal where a concept or an instance is expected")
            if spec.kind == "ref":
                key = self.ids[spec.target or ""].get(term.value)
                if key is None or self.instances[term.value].dropped is not None:
                    raise NotExpressible(f"refers to an instance that has no row in {spec.target}")
                return key, None
            code, reason = self.codes.code(term.value)
            if code is None:
                raise NotExpressible(reason)
            return to_sql(ox.Literal(code), column.base, column.size)
        if not isinstance(term, ox.Literal):
            raise NotExpressible("an IRI where a literal is expected")
        return to_sql(term, column.base, column.size)

    # ------------------------------------------------------------------ report
    def report(self, rows: dict[str, tuple[list[str], list[tuple[Any, ...]]]]) -> dict[str, Any]:
        tables: dict[str, dict[str, Any]] = {
            name: {"rows": len(rows[name][1]), "values_written": 0, "instances_not_expressed": Counter(),
                   "values_not_expressed": Counter(), "adjusted": dict(self.adjusted.get(name, {}))}
            for name in self.tables}
        no_table: Counter[str] = Counter()
        totals: Counter[str] = Counter(dict.fromkeys(("type_triples", "values_written", "values_not_expressed",
                                                      "rows", "instances_not_expressed"), 0))
        for iri, (subject, prop, term) in self.derived.items():
            row = self.instances[iri]
            value = VALUE_CONCEPT if isinstance(term, ox.NamedNode) else VALUE
            fate = row.dropped if row.dropped is not None else self.fate.get((iri, value, str(term)),
                                                                             "its code/value row holds no value")
            self.fate[(subject, prop, str(term))] = fate
        totals["instances"] = len(self.instances) - len(self.derived)
        for inst in self.instances.values():
            if inst.iri in self.derived:
                continue
            if not inst.tables:
                reason = ("no CDM class" if not inst.types else
                          "no table for " + ", ".join(sorted(_short(t) for t in inst.types)))
                no_table[reason] += 1
                self._example("", inst.iri, "", "", reason)
            elif inst.dropped is not None:
                for table in inst.tables:
                    tables[table]["instances_not_expressed"][inst.dropped] += 1
            totals["type_triples"] += sum(1 for _ in inst.types)
            self._account(inst, tables, totals)
        for entry in tables.values():
            totals["rows"] += entry["rows"]
            totals["instances_not_expressed"] += sum(entry["instances_not_expressed"].values())
            entry["instances_not_expressed"] = dict(entry["instances_not_expressed"])
            entry["values_not_expressed"] = dict(entry["values_not_expressed"])
        return {"tables": tables, "instances_without_table": dict(no_table),
                "totals": dict(totals, instances_without_table=sum(no_table.values())),
                "examples": self.examples, "examples_more": self.more}

    def _account(self, inst: Instance, tables: dict[str, dict[str, Any]], totals: Counter[str]) -> None:
        home = inst.tables[0] if inst.tables else None
        for prop, terms in inst.values.items():
            for term in terms:
                fate = self.fate.get((inst.iri, prop, str(term)))
                if fate == WRITTEN:
                    totals["values_written"] += 1
                    if home:
                        tables[home]["values_written"] += 1
                    continue
                reason = fate or self._why(inst, prop, term)
                totals["values_not_expressed"] += 1
                if home:
                    tables[home]["values_not_expressed"][f"{_short(prop)}: {reason}"] += 1
                if fate is not None or inst.dropped is None:
                    self._example(home or "", inst.iri, prop, str(term), reason)

    def _why(self, inst: Instance, prop: str, term: Any) -> str:
        if not inst.tables:
            return "its instance has no table"
        if inst.dropped is not None:
            return "its instance is not expressed"
        if prop == ROW_ID:
            return "row ids are assigned by the export"
        where = "no column for it in " + ", ".join(inst.tables)
        if inst.tables[0] in ROW_TABLES and isinstance(term, ox.Literal):
            where += f"; no EUCAIM code for a {ROW_TABLES[inst.tables[0]][0]} row"
        return where


def _prepare(db: Database, replace: bool) -> None:
    db.create_tables()
    for table in cdm_tables():
        have = db.columns(table.name)
        want = [(c.name, c.type) for c in table.columns]
        if have != want:
            differ = [" ".join(d) for d in sorted(set(have) ^ set(want))] or ["column order"]
            raise CdmExportError(f"table {table.name} exists and differs from the DDL: " + ", ".join(differ))
    for table in reversed(cdm_tables()):
        if db.has_rows(table.name):
            if not replace:
                raise CdmExportError(f"table {table.name} already holds rows; export into an empty database, "
                                     "or replace its rows (--replace)")
            db.delete_rows(table.name)


def _write(db: Database, rows: dict[str, tuple[list[str], list[tuple[Any, ...]]]]) -> None:
    """Insert every table's rows, parents first; a self-reference (``episode_parent_id``) is set afterwards."""
    for table in cdm_tables():
        names, data = rows[table.name]
        selfref = [i for i, c in enumerate(table.columns) if c.references and c.references[0] == table.name]
        first = [tuple(None if i in selfref else v for i, v in enumerate(row)) for row in data]
        db.insert(table, names, first)
        pk = names.index(table.primary_key)
        for i in selfref:
            pairs = [(row[i], row[pk]) for row in data if row[i] is not None]
            if pairs:
                db.update(table, names[i], pairs)


def export_cdm(store: Store, url: str, *, ontology: Hyperontology, replace: bool = False,
               report_path: Path | None = None) -> dict[str, Any]:
    """Write the store's CDM data into the relational CDM at ``url`` (``sqlite:///FILE`` or
    ``postgresql://user@host:port/db``) in one transaction; the report (also written to ``report_path``).

    The target's tables are created from the shipped DDL when absent; existing ones must match it and be empty
    (``replace``: their rows are deleted first, in the same transaction). :class:`CdmExportError` or
    :class:`~hyperontology.interop.sqldb.CdmDatabaseError` when the export fails: nothing is written then.
    """
    planner = Planner(read_instances(store), Codes(ontology))
    rows = planner.plan()
    with transaction(url) as db:
        _prepare(db, replace)
        _write(db, rows)
    report = {"format": "eucaim-cdm", "target": redact(url), "store": store.location, **planner.report(rows)}
    if report_path is not None:
        report_path.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return report


__all__ = ["CdmExportError", "Codes", "Planner", "export_cdm", "read_instances"]
