"""The relational CDM's DDLs shipped with the package, read into a small model: the output schema
(``ddl/eucaim_cdm_output.sql``, the default everywhere) and the ETL's staging schema
(``ddl/eucaim_cdm_ingestion.sql``, :data:`INGESTION_SCHEMA`).

A DDL file is the one truth about its tables: the export creates the tables from it, checks an existing target
against it and converts values to its column types; the import reads columns by it. PostgreSQL runs the file as
written (schema ``eucaim_cdm_output`` or ``eucaim_cdm_ingestion``); SQLite has no schemas, so there the tables go
in the main database under their own names and identity clauses are dropped (an identity primary key becomes
``INTEGER PRIMARY KEY``; :func:`sqlite_statements`). Identifiers are lower case, as PostgreSQL folds the unquoted
mixed-case names of the source files (``CancerPatient.BirthSexEUCAIM`` is ``cancerpatient.birthsexeucaim``).

Examples
--------
>>> tables = cdm_tables()
>>> tables[0].name, tables[0].primary_key
('dataset', 'dataset_id')
>>> col = tables[1].column("patient_birth_date")
>>> col.base, col.references
('DATE', None)
>>> tables[1].column("dataset_id").references
('dataset', 'dataset_id')
>>> staging = {t.name: t for t in cdm_tables(INGESTION_SCHEMA)}
>>> staging["cancerpatient"].primary_key, staging["cancerpatient"].column("id").identity
('identifier', True)
>>> staging["imagetags"].primary_keys, staging["processlog"].column("message").base
(('imagestudyuid', 'imageseriesuid'), 'TEXT')
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from functools import cache
from importlib import resources

SCHEMA = "eucaim_cdm_output"
INGESTION_SCHEMA = "eucaim_cdm_ingestion"
DDL_FILE = "eucaim_cdm_output.sql"
#: schema -> the shipped file that creates it
DDL_FILES = {SCHEMA: DDL_FILE, INGESTION_SCHEMA: "eucaim_cdm_ingestion.sql"}
_TABLE = re.compile(r"CREATE TABLE IF NOT EXISTS (\w+)\.(\w+) \((.*?)\n\s*\);", re.S)
_COLUMN = re.compile(r"^\s*(\w+)\s+(VARCHAR\s*\(\d+\)|DECIMAL\s*\(\d+,\d+\)"
                     r"|(?:INTEGER|DATE|BOOLEAN|TEXT|TIMESTAMP)(?!\w))(.*?),?\s*$", re.I)
_TABLE_KEY = re.compile(r"^\s*PRIMARY KEY\s*\(([\w\s,]+)\)\s*,?\s*$", re.I)
_IDENTITY = re.compile(r"\s*GENERATED ALWAYS AS IDENTITY", re.I)
_REF = re.compile(r"REFERENCES \w+\.(\w+)\((\w+)\)")


@dataclass(frozen=True)
class Column:
    """One column: its name, SQL type as the DDL writes it (``VARCHAR(150)``), and its constraints."""

    name: str
    type: str
    not_null: bool = False
    primary_key: bool = False
    identity: bool = False
    references: tuple[str, str] | None = None

    @property
    def base(self) -> str:
        """The type without its size: ``VARCHAR``, ``DECIMAL``, ``INTEGER``, ``DATE``, ``BOOLEAN``, ``TEXT`` or
        ``TIMESTAMP``."""
        return self.type.split("(")[0].strip().upper()

    @property
    def size(self) -> tuple[int, ...]:
        """The numbers in the type: ``(150,)`` for ``VARCHAR(150)``, ``(5, 2)`` for ``DECIMAL(5,2)``."""
        return tuple(int(n) for n in re.findall(r"\d+", self.type))


@dataclass(frozen=True)
class Table:
    name: str
    columns: tuple[Column, ...]

    @property
    def primary_key(self) -> str:
        """The (first) primary key column."""
        return next(c.name for c in self.columns if c.primary_key)

    @property
    def primary_keys(self) -> tuple[str, ...]:
        """All the primary key's columns (more than one for a table constraint ``PRIMARY KEY (a, b)``)."""
        return tuple(c.name for c in self.columns if c.primary_key)

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)


def ddl_text(schema: str = SCHEMA) -> str:
    """The shipped DDL of ``schema`` (PostgreSQL)."""
    return (resources.files("hyperontology.interop") / "ddl" / DDL_FILES[schema]).read_text(encoding="utf-8")


def _column(line: str) -> Column:
    match = _COLUMN.match(line)
    if match is None:
        raise ValueError(f"unreadable column definition: {line.strip()!r}")
    name, sql_type, rest = match.groups()
    ref = _REF.search(rest)
    return Column(name.lower(), re.sub(r"\s+", "", sql_type.upper()), not_null="NOT NULL" in rest,
                  primary_key="PRIMARY KEY" in rest, identity="IDENTITY" in rest,
                  references=(ref.group(1), ref.group(2)) if ref else None)


def _table(name: str, body: str) -> Table:
    columns, keys = [], set()
    for line in body.splitlines():
        if not line.strip():
            continue
        key = _TABLE_KEY.match(line)
        if key is not None:
            keys |= {k.strip().lower() for k in key.group(1).split(",")}
        else:
            columns.append(_column(line))
    return Table(name.lower(), tuple(replace(c, primary_key=True) if c.name in keys else c for c in columns))


def parse_ddl(text: str) -> list[Table]:
    """The tables a DDL of this shape defines, in their order (``--`` comments ignored; names in lower case)."""
    text = re.sub(r"--[^\n]*", "", text)
    return [_table(name, body) for _, name, body in _TABLE.findall(text)]


@cache
def cdm_tables(schema: str = SCHEMA) -> tuple[Table, ...]:
    """The tables of the shipped DDL of ``schema``, parents before children (the order the DDL creates them)."""
    return tuple(parse_ddl(ddl_text(schema)))


def postgres_statements(schema: str = SCHEMA) -> list[str]:
    """The DDL as statements for PostgreSQL (schema, tables)."""
    text = re.sub(r"--[^\n]*", "", ddl_text(schema))
    return [s.strip() for s in text.split(";\n") if s.strip()]


def sqlite_statements(schema: str = SCHEMA) -> list[str]:
    """The DDL for SQLite: no schema (tables in the main database), no identity clauses (an identity primary key
    is an ``INTEGER PRIMARY KEY``)."""
    out = []
    for statement in postgres_statements(schema):
        if statement.upper().startswith("CREATE SCHEMA"):
            continue
        statement = _IDENTITY.sub("", statement.replace(f"{schema}.", ""))
        out.append(statement.rstrip(";"))
    return out


__all__ = ["DDL_FILES", "INGESTION_SCHEMA", "SCHEMA", "Column", "Table", "cdm_tables", "ddl_text", "parse_ddl",
           "postgres_statements", "sqlite_statements"]
