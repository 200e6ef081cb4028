"""Value maps: local values (as a data holder writes them) -> hyperontology concepts, kept as SSSOM TSV.

Matching is exact first, then case-, accent- and space-insensitive. A value that no row covers, or whose
row says ``sssom:NoTermFound``, is *unmapped*: counted and listed (``hyperontology mapping check``), never
guessed and never silently dropped.

Examples
--------
>>> vm = ValueMap("sex", {"M": ("SCT:248153007", "skos:exactMatch", 1.0)})
>>> vm.lookup(" m ")
'SCT:248153007'
>>> vm.lookup("X") is None
True
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

from hyperontology.errors import HyperontologyError
from hyperontology.ontology.search import normalise

NO_TERM = "sssom:NoTermFound"
REQUIRED = ("subject_id", "predicate_id", "object_id")
USABLE_PREDICATES = ("skos:exactMatch", "skos:closeMatch", "skos:broadMatch", "skos:narrowMatch")


class ValueMapError(HyperontologyError):
    """A value-map file is malformed (the message names the file and line)."""


@dataclass
class ValueMap:
    """One SSSOM value map, ``local value -> (object CURIE, predicate, confidence)``."""

    name: str
    rows: dict[str, tuple[str, str, float]]
    path: str = ""
    _loose: dict[str, tuple[str, str, float]] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        for value, row in self.rows.items():
            self._loose.setdefault(normalise(value), row)

    def match(self, value: object) -> tuple[str, str, float] | None:
        text = str(value).strip()
        row = self.rows.get(text) or self._loose.get(normalise(text))
        if row is None or row[0] == NO_TERM:
            return None
        return row

    def lookup(self, value: object) -> str | None:
        row = self.match(value)
        return row[0] if row else None


def read_valuemap(path: Path) -> ValueMap:
    """Read an SSSOM TSV value map (``#`` metadata lines, then a header with at least subject, predicate, object)."""
    try:
        lines = path.read_text(encoding="utf-8-sig").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueMapError(f"{path}: cannot read ({exc.__class__.__name__})") from exc
    body = [(n, line) for n, line in enumerate(lines, 1) if line.strip() and not line.startswith("#")]
    if not body:
        raise ValueMapError(f"{path}: no header row")
    reader = csv.DictReader((line for _, line in body), delimiter="\t")
    missing = [c for c in REQUIRED if c not in (reader.fieldnames or [])]
    if missing:
        raise ValueMapError(f"{path}:{body[0][0]}: header lacks {', '.join(missing)}")
    rows: dict[str, tuple[str, str, float]] = {}
    for (lineno, _), row in zip(body[1:], reader, strict=False):
        empty = [c for c in REQUIRED if not (row.get(c) or "").strip()]
        if empty:
            raise ValueMapError(f"{path}:{lineno}: row lacks {', '.join(empty)}")
        predicate = row["predicate_id"].strip()
        if predicate not in USABLE_PREDICATES:
            raise ValueMapError(
                f"{path}:{lineno}: predicate {predicate!r} is not one of {', '.join(USABLE_PREDICATES)}")
        try:
            confidence = float(row.get("confidence") or 1.0)
        except ValueError as exc:
            raise ValueMapError(f"{path}:{lineno}: confidence {row.get('confidence')!r} is not a number") from exc
        rows.setdefault(row["subject_id"].strip(), (row["object_id"].strip(), predicate, confidence))
    return ValueMap(path.name.split(".")[0], rows, str(path))


def read_valuemaps(directory: Path) -> dict[str, ValueMap]:
    """Every ``*.sssom.tsv`` of a directory, by name (the file name before the first dot)."""
    if not directory.is_dir():
        return {}
    return {vm.name: vm for vm in (read_valuemap(p) for p in sorted(directory.glob("*.sssom.tsv")))}
