"""Read a relational CDM (``eucaim_cdm_output``, SQLite or PostgreSQL) back into CDM RDF: the reverse walk of
:mod:`hyperontology.interop.cdm_export`, so relational -> RDF -> relational keeps every value (row ids aside).

IRIs, deterministic (the same database gives the same triples):

* a patient: ``data/patient/<patient_id>`` (percent-encoded), the IRI the mapping engine mints from a pseudonym;
* a dataset: ``data/dataset/<dataset_id>``, as ``ingest --dataset`` mints it;
* a row of another table: ``data/<table>/<hash>``, the hash (SHA-256, 32 hex digits) of the namespace, the table
  and the row's primary key; pass a different ``namespace`` per source database to keep their rows apart. A row
  of a subtype table (``radiotherapy``) is the same instance as its ``treatment`` row, typed with the subclass.

Coded columns become EUCAIM concept IRIs (``IMG1000042`` -> ``eucaim:IMG1000042``); dates ``xsd:dateTime`` at
midnight, as the mapping engine writes them. Primary keys are not kept (``cdm:rowId``): the export assigns them.
A value that cannot be an IRI (a code with spaces) is left out and counted in :attr:`CdmImport.skipped`.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pyoxigraph as ox

from hyperontology.interop.cdm_model import CDM, EUCAIM, ROW_ID, cdm_model
from hyperontology.interop.ddl import Table, cdm_tables
from hyperontology.interop.sqldb import CdmDatabaseError, sqlite_path, transaction
from hyperontology.interop.sqlvalues import to_rdf
from hyperontology.pipeline import dataset_iri
from hyperontology.store.base import GRAPHS

DATA = "https://w3id.org/hyperontology/data/"
RDF_TYPE = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
_CODE_OK = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-.")


@dataclass
class CdmImport:
    """What :func:`import_cdm` read: the quads (data graph), rows per table, and values left out by reason."""

    quads: list[ox.Quad] = field(default_factory=list)
    rows: dict[str, int] = field(default_factory=dict)
    skipped: Counter[str] = field(default_factory=Counter)


def row_iri(table: str, key: Any, namespace: str) -> str:
    """The IRI of a row (see the module's docstring).

    Examples
    --------
    >>> row_iri("patient", "ab 1", "x")
    'https://w3id.org/hyperontology/data/patient/ab%201'
    >>> row_iri("tumor", 3, "x") == row_iri("tumor", 3, "x") != row_iri("tumor", 3, "y")
    True
    """
    if table == "patient":
        return f"{DATA}patient/{quote(str(key), safe='')}"
    if table == "dataset":
        return dataset_iri(str(key))
    digest = hashlib.sha256(f"{namespace}\x00{table}\x00{key}".encode()).hexdigest()[:32]
    return f"{DATA}{table}/{digest}"


class _Reader:
    def __init__(self, namespace: str) -> None:
        self.namespace = namespace
        self.model = cdm_model()
        self.graph = GRAPHS["data"]
        self.out = CdmImport()
        #: table -> primary key -> IRI
        self.iris: dict[str, dict[Any, str]] = {}

    def read(self, tables: dict[str, tuple[list[str], list[tuple[Any, ...]]]]) -> CdmImport:
        for table in cdm_tables():
            parent = self.model.parent.get(table.name)
            keys = [row[0] for row in tables[table.name][1]]  # the primary key is the first column in every table
            if parent is not None:
                self.iris[table.name] = {k: self.iris[parent].get(k) or row_iri(parent, k, self.namespace)
                                         for k in keys}
            else:
                self.iris[table.name] = {k: row_iri(table.name, k, self.namespace) for k in keys}
        subtyped = {iri for t in self.model.parent for iri in self.iris[t].values()}
        for table in cdm_tables():
            names, rows = tables[table.name]
            self.out.rows[table.name] = len(rows)
            typed = table.name in self.model.parent or table.name not in set(self.model.parent.values())
            for row in rows:
                self._row(table, dict(zip(names, row, strict=True)), subtyped, typed)
        return self.out

    def _add(self, s: str, p: str, o: ox.NamedNode | ox.Literal) -> None:
        self.out.quads.append(ox.Quad(ox.NamedNode(s), ox.NamedNode(p), o, self.graph))

    def _row(self, table: Table, row: dict[str, Any], subtyped: set[str], typed: bool) -> None:
        iri = self.iris[table.name][row[table.primary_key]]
        if typed or iri not in subtyped:
            self._add(iri, RDF_TYPE.value, ox.NamedNode(self.model.class_of[table.name]))
        for column in table.columns:
            spec = self.model.columns[table.name].get(column.name)
            value = row.get(column.name)
            if value is None or spec is None or spec.prop == ROW_ID:
                continue
            if column.primary_key and table.name not in ("patient", "dataset") and spec.kind != "ref":
                continue
            term = self._term(table, column.name, column.base, spec.kind, spec.target, value)
            if term is not None:
                self._add(iri, spec.prop, term)

    def _term(self, table: Table, column: str, base: str, kind: str, target: str | None,
              value: Any) -> ox.NamedNode | ox.Literal | None:
        if kind == "ref":
            ref = self.iris.get(target or "", {}).get(value)
            if ref is None:
                self.out.skipped[f"{table.name}.{column}: refers to a row that is not there"] += 1
            return ox.NamedNode(ref) if ref else None
        if kind == "code":
            code = str(value).strip()
            if not code or not set(code) <= _CODE_OK:
                self.out.skipped[f"{table.name}.{column}: not an EUCAIM code"] += 1
                return None
            return ox.NamedNode(EUCAIM + code)
        return to_rdf(value, base)


def import_cdm(url: str, *, namespace: str = "eucaim-cdm") -> CdmImport:
    """Read the relational CDM at ``url`` (``sqlite:///FILE`` or ``postgresql://...``) as CDM quads."""
    if url.startswith("sqlite:") and not Path(sqlite_path(url)).is_file():
        raise CdmDatabaseError(f"{url}: no such SQLite file")
    with transaction(url) as db:
        tables = {table.name: db.select(table) for table in cdm_tables()}
    return _Reader(namespace).read(tables)


def read_cdm(url: str, *, namespace: str = "eucaim-cdm") -> list[ox.Quad]:
    """The CDM quads (data graph) of the relational CDM at ``url``; :func:`import_cdm` also counts rows and
    what was left out."""
    return import_cdm(url, namespace=namespace).quads


__all__ = ["CDM", "CdmImport", "import_cdm", "read_cdm", "row_iri"]
