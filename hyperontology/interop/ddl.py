"""The relational CDM's DDL shipped with the package (``ddl/eucaim_cdm_output.sql``), read into a small model.

The DDL file is the one truth about the tables: the export creates the tables from it, checks an existing target
against it and converts values to its column types; the import reads columns by it. PostgreSQL runs the file as
written (schema ``eucaim_cdm_output``); SQLite has no schemas, so there the tables go in the main database under
their own names and identity keys become ``INTEGER PRIMARY KEY`` (:func:`sqlite_statements`).

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
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from importlib import resources

SCHEMA = "eucaim_cdm_output"
DDL_FILE = "eucaim_cdm_output.sql"
_TABLE = re.compile(r"CREATE TABLE IF NOT EXISTS (\w+)\.(\w+) \((.*?)\n\);", re.S)
_COLUMN = re.compile(r"^\s*(\w+)\s+(VARCHAR\s*\(\d+\)|DECIMAL\(\d+,\d+\)|INTEGER|DATE|BOOLEAN)(.*?),?\s*$", re.I)
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
        """The type without its size: ``VARCHAR``, ``DECIMAL``, ``INTEGER``, ``DATE`` or ``BOOLEAN``."""
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
        return next(c.name for c in self.columns if c.primary_key)

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)


def ddl_text() -> str:
    """The shipped DDL (PostgreSQL)."""
    return (resources.files("hyperontology.interop") / "ddl" / DDL_FILE).read_text(encoding="utf-8")


def _column(line: str) -> Column:
    match = _COLUMN.match(line)
    if match is None:
        raise ValueError(f"unreadable column definition in {DDL_FILE}: {line.strip()!r}")
    name, sql_type, rest = match.groups()
    ref = _REF.search(rest)
    return Column(name.lower(), re.sub(r"\s+", "", sql_type.upper()), not_null="NOT NULL" in rest,
                  primary_key="PRIMARY KEY" in rest, identity="IDENTITY" in rest,
                  references=(ref.group(1), ref.group(2)) if ref else None)


def parse_ddl(text: str) -> list[Table]:
    """The tables a DDL of this shape defines, in their order (``--`` comments ignored)."""
    text = re.sub(r"--[^\n]*", "", text)
    tables = []
    for _, name, body in _TABLE.findall(text):
        lines = [line for line in body.splitlines() if line.strip()]
        tables.append(Table(name.lower(), tuple(_column(line) for line in lines)))
    return tables


@cache
def cdm_tables() -> tuple[Table, ...]:
    """The tables of the shipped DDL, parents before children (the order the DDL creates them)."""
    return tuple(parse_ddl(ddl_text()))


def postgres_statements() -> list[str]:
    """The DDL as statements for PostgreSQL (schema, tables)."""
    text = re.sub(r"--[^\n]*", "", ddl_text())
    return [s.strip() for s in text.split(";\n") if s.strip()]


def sqlite_statements() -> list[str]:
    """The DDL for SQLite: no schema (tables in the main database), identity keys as ``INTEGER PRIMARY KEY``."""
    out = []
    for statement in postgres_statements():
        if statement.upper().startswith("CREATE SCHEMA"):
            continue
        statement = statement.replace(f"{SCHEMA}.", "").replace("GENERATED ALWAYS AS IDENTITY ", "")
        out.append(statement.rstrip(";"))
    return out


__all__ = ["SCHEMA", "Column", "Table", "cdm_tables", "ddl_text", "parse_ddl", "postgres_statements",
           "sqlite_statements"]
