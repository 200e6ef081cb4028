"""The two relational targets of the CDM: an SQLite file (``sqlite:///FILE``, embedded, no server) and PostgreSQL
(``postgresql://user@host:port/db``, through psycopg 3), behind one small interface.

SQLite has no schemas: the tables are in the main database under their DDL names (``patient``, not
``eucaim_cdm_output.patient``). PostgreSQL gets the schema ``eucaim_cdm_output`` (or, for the staging export,
``eucaim_cdm_ingestion``: :func:`transaction`'s ``schema``) exactly as the DDL writes it.
A URL follows SQLAlchemy's convention: ``sqlite:///rel/path.db`` is relative, ``sqlite:////abs/path.db``
absolute.

Examples
--------
>>> sqlite_path("sqlite:///out/cdm.db"), sqlite_path("sqlite:////tmp/cdm.db")
('out/cdm.db', '/tmp/cdm.db')
>>> redact("postgresql://me:secret@127.0.0.1:5432/cdm")
'postgresql://me:***@127.0.0.1:5432/cdm'
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import date
from decimal import Decimal
from typing import Any, Protocol
from urllib.parse import urlsplit, urlunsplit

from hyperontology.errors import HyperontologyError
from hyperontology.interop.ddl import SCHEMA, Table, postgres_statements, sqlite_statements


class CdmDatabaseError(HyperontologyError):
    """The relational CDM cannot be reached, does not match the DDL, or a write failed (nothing was written)."""


def sqlite_path(url: str) -> str:
    if not url.startswith("sqlite:///"):
        raise CdmDatabaseError(f"{url!r}: an SQLite URL is sqlite:///FILE")
    return url.removeprefix("sqlite:///")


def is_postgres(url: str) -> bool:
    return url.startswith(("postgresql://", "postgres://"))


def redact(url: str) -> str:
    """The URL without its password (for reports and messages)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
    return urlunsplit(parts._replace(netloc=netloc))


class Database(Protocol):
    def create_tables(self) -> None: ...

    def columns(self, table: str) -> list[tuple[str, str]]:
        """``(name, type)`` of an existing table's columns, types written as the DDL writes them; [] if none."""

    def has_rows(self, table: str) -> bool: ...

    def delete_rows(self, table: str) -> None: ...

    def insert(self, table: Table, columns: Sequence[str], rows: list[tuple[Any, ...]]) -> None: ...

    def update(self, table: Table, column: str, pairs: list[tuple[Any, Any]]) -> None:
        """``SET column = first WHERE primary key = second`` for each pair."""

    def select(self, table: Table) -> tuple[list[str], list[tuple[Any, ...]]]:
        """Column names and rows of a table, ordered by its primary key."""


class _Sqlite:
    def __init__(self, conn: sqlite3.Connection, schema: str = SCHEMA) -> None:
        self.conn = conn
        self.schema = schema

    def create_tables(self) -> None:
        for statement in sqlite_statements(self.schema):
            self.conn.execute(statement)

    def columns(self, table: str) -> list[tuple[str, str]]:
        rows = self.conn.execute(f'PRAGMA table_info("{table}")').fetchall()
        return [(str(r[1]).lower(), str(r[2]).upper().replace(" ", "")) for r in rows]

    def has_rows(self, table: str) -> bool:
        return self.conn.execute(f'SELECT 1 FROM "{table}" LIMIT 1').fetchone() is not None  # noqa: S608 - DDL name

    def delete_rows(self, table: str) -> None:
        self.conn.execute(f'DELETE FROM "{table}"')  # noqa: S608 - a table name of the DDL

    def insert(self, table: Table, columns: Sequence[str], rows: list[tuple[Any, ...]]) -> None:
        marks = ", ".join("?" for _ in columns)
        sql = f'INSERT INTO "{table.name}" ({", ".join(columns)}) VALUES ({marks})'  # noqa: S608 - DDL names
        self.conn.executemany(sql, [tuple(map(_sqlite_value, row)) for row in rows])

    def update(self, table: Table, column: str, pairs: list[tuple[Any, Any]]) -> None:
        sql = f'UPDATE "{table.name}" SET {column} = ? WHERE {table.primary_key} = ?'  # noqa: S608 - DDL names
        self.conn.executemany(sql, pairs)

    def select(self, table: Table) -> tuple[list[str], list[tuple[Any, ...]]]:
        cur = self.conn.execute(f'SELECT * FROM "{table.name}" ORDER BY {table.primary_key}')  # noqa: S608
        return [str(d[0]).lower() for d in cur.description], cur.fetchall()


def _sqlite_value(value: Any) -> Any:
    """A value as SQLite stores it: decimals as REAL, dates (and date-times) as ISO text."""
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, date):
        return value.isoformat()
    return value


_PG_TYPES = {"character varying": "VARCHAR", "numeric": "DECIMAL", "integer": "INTEGER", "date": "DATE",
             "boolean": "BOOLEAN", "text": "TEXT", "timestamp without time zone": "TIMESTAMP"}


class _Postgres:
    def __init__(self, conn: Any, schema: str = SCHEMA) -> None:
        self.conn = conn
        self.schema = schema

    def create_tables(self) -> None:
        with self.conn.cursor() as cur:
            for statement in postgres_statements(self.schema):
                cur.execute(statement)

    def columns(self, table: str) -> list[tuple[str, str]]:
        with self.conn.cursor() as cur:
            cur.execute("SELECT column_name, data_type, character_maximum_length, numeric_precision, numeric_scale "
                        "FROM information_schema.columns WHERE table_schema = %s AND table_name = %s "
                        "ORDER BY ordinal_position", (self.schema, table))
            out = []
            for name, data_type, length, precision, scale in cur.fetchall():
                base = _PG_TYPES.get(data_type, data_type.upper())
                size = f"({length})" if base == "VARCHAR" else f"({precision},{scale})" if base == "DECIMAL" else ""
                out.append((name, base + size))
            return out

    def has_rows(self, table: str) -> bool:
        with self.conn.cursor() as cur:
            cur.execute(f"SELECT 1 FROM {self.schema}.{table} LIMIT 1")  # noqa: S608 - a table name of the DDL
            return cur.fetchone() is not None

    def delete_rows(self, table: str) -> None:
        with self.conn.cursor() as cur:
            cur.execute(f"DELETE FROM {self.schema}.{table}")  # noqa: S608 - a table name of the DDL

    def insert(self, table: Table, columns: Sequence[str], rows: list[tuple[Any, ...]]) -> None:
        """``COPY ... FROM STDIN``: one stream per table, not a statement per row (the export's write phase
        took half the time of ``executemany``). Like ``INSERT ... OVERRIDING SYSTEM VALUE``, COPY writes the given
        keys into ``GENERATED ALWAYS`` identity columns."""
        if not rows:
            return
        sql = f"COPY {self.schema}.{table.name} ({', '.join(columns)}) FROM STDIN"
        with self.conn.cursor() as cur, cur.copy(sql) as copy:
            for row in rows:
                copy.write_row(row)

    def update(self, table: Table, column: str, pairs: list[tuple[Any, Any]]) -> None:
        sql = f"UPDATE {self.schema}.{table.name} SET {column} = %s WHERE {table.primary_key} = %s"  # noqa: S608
        with self.conn.cursor() as cur:
            cur.executemany(sql, pairs)

    def select(self, table: Table) -> tuple[list[str], list[tuple[Any, ...]]]:
        with self.conn.cursor() as cur:
            cur.execute(f"SELECT * FROM {self.schema}.{table.name} ORDER BY {table.primary_key}")  # noqa: S608
            return [d.name for d in cur.description or ()], cur.fetchall()


@contextmanager
def transaction(url: str, *, schema: str = SCHEMA) -> Iterator[Database]:
    """One transaction on the database at ``url``, on the tables of the DDL of ``schema`` (the output schema by
    default): committed when the block ends, rolled back (the database as it was) when it raises. Errors of the
    driver become :class:`CdmDatabaseError`."""
    if url.startswith("sqlite:"):
        try:
            conn = sqlite3.connect(sqlite_path(url), isolation_level=None)
        except sqlite3.Error as exc:
            raise CdmDatabaseError(f"cannot open {url}: {exc}") from exc
        try:
            conn.execute("BEGIN IMMEDIATE")
            yield _Sqlite(conn, schema)
            conn.execute("COMMIT")
        except sqlite3.Error as exc:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise CdmDatabaseError(f"{url}: {exc}; nothing was written") from exc
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        finally:
            conn.close()
        return
    if not is_postgres(url):
        raise CdmDatabaseError(f"{redact(url)!r}: the target is sqlite:///FILE or postgresql://user@host:port/db")
    yield from _pg_transaction(url, schema)


def _pg_transaction(url: str, schema: str) -> Iterator[Database]:
    try:
        import psycopg
    except ImportError as exc:
        raise CdmDatabaseError("PostgreSQL needs psycopg: pip install 'psycopg[binary]'") from exc
    try:
        conn = psycopg.connect(url)
    except psycopg.Error as exc:
        raise CdmDatabaseError(f"cannot connect to {redact(url)}: {exc}") from exc
    try:
        with conn.transaction():
            yield _Postgres(conn, schema)
    except psycopg.Error as exc:
        raise CdmDatabaseError(f"{redact(url)}: {exc}; nothing was written") from exc
    finally:
        conn.close()


__all__ = ["CdmDatabaseError", "Database", "is_postgres", "redact", "sqlite_path", "transaction"]
