"""Reading an exported relational CDM back for the tests: its schema, its rows, and its content without row ids."""

from __future__ import annotations

import sqlite3
from collections import Counter
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from hyperontology.interop.cdm_model import cdm_model
from hyperontology.interop.ddl import SCHEMA, cdm_tables
from hyperontology.store.base import GRAPHS, open_store

Tables = dict[str, tuple[list[str], list[tuple[Any, ...]]]]


def sqlite_tables(path: Path) -> dict[str, list[tuple[str, str]]]:
    """table -> [(column, TYPE)] of a SQLite file."""
    with sqlite3.connect(path) as conn:
        names = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
        return {n: [(r[1].lower(), r[2].upper()) for r in conn.execute(f'PRAGMA table_info("{n}")')] for n in names}


def ddl_tables() -> dict[str, list[tuple[str, str]]]:
    """table -> [(column, TYPE)] as the shipped DDL writes them."""
    return {t.name: [(c.name, c.type) for c in t.columns] for t in cdm_tables()}


def pg_tables(conn: Any) -> dict[str, list[tuple[str, str]]]:
    """table -> [(column, TYPE)] of the CDM schema of a PostgreSQL database, in the DDL's spelling."""
    rows = conn.execute("SELECT table_name, column_name, data_type, character_maximum_length, numeric_precision,"
                        " numeric_scale FROM information_schema.columns WHERE table_schema = %s "
                        "ORDER BY table_name, ordinal_position", (SCHEMA,)).fetchall()
    names = {"character varying": "VARCHAR", "numeric": "DECIMAL", "integer": "INTEGER", "date": "DATE",
             "boolean": "BOOLEAN"}
    schema: dict[str, list[tuple[str, str]]] = {}
    for table, column, kind, length, precision, scale in rows:
        size = f"({length})" if length else f"({precision},{scale})" if kind == "numeric" else ""
        schema.setdefault(table, []).append((column, names[kind] + size))
    return schema


def class_counts(node: Path) -> dict[str, int]:
    """table -> the number of instances of its class (and subclasses) in the store's data graph."""
    model = cdm_model()
    counts = {}
    with open_store(node, read_only=True) as store:
        for table, cls in model.class_of.items():
            query = (f"SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE {{ GRAPH <{GRAPHS['data'].value}> {{ ?s a ?c }} "
                     f"VALUES ?c {{ {' '.join(f'<{c}>' for c, a in model.ancestors.items() if cls in a)} }} }}")
            counts[table] = int(next(iter(store.query(query)))["n"].value)
    return counts


def canonical(tables: Tables) -> dict[str, Counter[Any]]:
    """Each table's rows without row ids: an integer key is replaced by the referenced row's own content."""
    model, ddl = cdm_model(), {t.name: t for t in cdm_tables()}
    by_key = {t: {row[0]: dict(zip(names, row, strict=True)) for row in rows} for t, (names, rows) in tables.items()}

    def content(table: str, row: dict[str, Any], depth: int = 0) -> tuple[Any, ...]:
        out: list[Any] = []
        for column in ddl[table].columns:
            spec = model.columns[table].get(column.name)
            value = row[column.name]
            if spec and spec.kind == "ref" and column.base == "INTEGER" and spec.target and value is not None:
                value = content(spec.target, by_key[spec.target][value], depth + 1) if depth < 3 else "ref"
            elif column.primary_key and column.base == "INTEGER":
                value = "pk"
            out.append(value)
        return tuple(out)

    return {t: Counter(content(t, r) for r in by_key[t].values()) for t in tables}


def read_sqlite(path: Path) -> Tables:
    """Every CDM table of a SQLite file: column names and rows."""
    with sqlite3.connect(path) as conn:
        out = {}
        for table in cdm_tables():
            cur = conn.execute(f'SELECT * FROM "{table.name}"')  # noqa: S608
            out[table.name] = ([d[0].lower() for d in cur.description], cur.fetchall())
        return out


def read_postgres(url: str) -> Tables:
    """Every CDM table of a PostgreSQL database, values in the forms SQLite gives them (floats, ISO dates)."""
    from hyperontology.interop.sqldb import transaction

    with transaction(url) as db:
        pg = {t.name: db.select(t) for t in cdm_tables()}
    return {t: (names, [tuple(_as_sqlite(v) for v in row) for row in rows]) for t, (names, rows) in pg.items()}


def _as_sqlite(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return int(value)
    return value
