"""Suggestions as SSSOM TSV for the curator, and the rows the curator kept as a value map.

:func:`write_suggestions` writes one row per candidate (best first within each value; a value without candidate gets
one ``sssom:NoTermFound`` row), with ``mapping_justification`` ``semapv:LexicalMatching`` and a ``comment`` that
starts ``valuemap NAME;`` and names the field, the rank, the count of records and the evidence. The curator deletes
wrong rows, corrects ``object_id`` where needed (or writes ``sssom:NoTermFound``), and :func:`accept` keeps, for each
value of one value map, the first row left: a value map file in the format of ``mappings/valuemaps/``.

Examples
--------
>>> import io
>>> from hyperontology.ontology.index import Concept
>>> from hyperontology.mapping.suggest import Suggestion, Unmapped
>>> male = Concept("http://snomed.info/id/248153007", "SCT:248153007", "248153007", "SCT", "Male")
>>> found = [Unmapped("sex", "m", 3, ("cdm:gender (sex)",), (Suggestion(male, 0.98, "skos:exactMatch", "code"),))]
>>> out = io.StringIO()
>>> write_suggestions(found, out)
>>> rows = accept(io.StringIO(out.getvalue()), "sex")
>>> rows[0]["subject_id"], rows[0]["object_id"], rows[0]["confidence"]
('m', 'SCT:248153007', '0.98')
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from typing import TextIO

from hyperontology.errors import HyperontologyError
from hyperontology.mapping.suggest import Unmapped
from hyperontology.mapping.valuemaps import NO_TERM, REQUIRED, USABLE_PREDICATES
from hyperontology.prefixes import PREFIXES

COLUMNS = ("subject_id", "subject_label", "predicate_id", "object_id", "object_label", "mapping_justification",
           "confidence", "comment")
LEXICAL = "semapv:LexicalMatching"
_ALWAYS = ("skos", "semapv", "sssom")


class SuggestionFileError(HyperontologyError):
    """A curated suggestion file cannot be turned into a value map (the message names file and line)."""


def _header(prefixes: Iterable[str], *, set_id: str, description: str) -> list[str]:
    lines = [f"# mapping_set_id: {set_id}", f"# mapping_set_description: {description}",
             "# license: https://creativecommons.org/licenses/by/4.0/", "# curie_map:"]
    known = sorted({p for p in prefixes if p in PREFIXES} | set(_ALWAYS))
    return lines + [f"#   {p}: {PREFIXES[p]}" for p in known]


def write_suggestions(found: Iterable[Unmapped], out: TextIO) -> None:
    """SSSOM TSV of every candidate, values in the order given, candidates best first."""
    found = list(found)
    prefixes = {s.curie.split(":", 1)[0] for u in found for s in u.suggestions}
    lines = _header(prefixes, set_id="https://w3id.org/hyperontology/mappings/suggestions",
                    description="Candidate concepts proposed by hyperontology mapping suggest, to accept or correct")
    out.write("\n".join(lines) + "\n")
    writer = csv.writer(out, delimiter="\t", lineterminator="\n")
    writer.writerow(COLUMNS)
    for u in found:
        where = f"valuemap {u.valuemap}; field {', '.join(u.fields) or '?'}; {u.count} records"
        if not u.suggestions:
            writer.writerow([u.value, u.value, "skos:exactMatch", NO_TERM, "", LEXICAL, "0.0",
                             f"{where}; no candidate in the branch of the field's property"])
        for i, s in enumerate(u.suggestions, 1):
            writer.writerow([u.value, u.value, s.predicate, s.curie, s.concept.label, LEXICAL, f"{s.confidence:g}",
                             f"{where}; rank {i} of {len(u.suggestions)}; {s.evidence}"])


def _valuemap_of(comment: str) -> str:
    first = comment.split(";", 1)[0].strip()
    return first.removeprefix("valuemap ").strip() if first.startswith("valuemap ") else ""


def accept(text: TextIO, valuemap: str | None, *, source: str = "suggestions") -> list[dict[str, str]]:
    """The rows the curator kept for ``valuemap`` (all value maps when None): the first row of each value."""
    body = [(n, line) for n, line in enumerate(text.read().splitlines(), 1) if line.strip() and line[0] != "#"]
    if not body:
        raise SuggestionFileError(f"{source}: no header row")
    reader = csv.DictReader((line for _, line in body), delimiter="\t")
    missing = [c for c in REQUIRED if c not in (reader.fieldnames or [])]
    if missing:
        raise SuggestionFileError(f"{source}:{body[0][0]}: header lacks {', '.join(missing)}")
    kept: dict[str, dict[str, str]] = {}
    for (lineno, _), row in zip(body[1:], reader, strict=False):
        if valuemap is not None and _valuemap_of(row.get("comment") or "") != valuemap:
            continue
        predicate = (row.get("predicate_id") or "").strip()
        if predicate not in USABLE_PREDICATES:
            raise SuggestionFileError(f"{source}:{lineno}: predicate {predicate!r} is not one of "
                                      f"{', '.join(USABLE_PREDICATES)}")
        subject = (row.get("subject_id") or "").strip()
        if subject and subject not in kept:
            kept[subject] = {c: (row.get(c) or "").strip() for c in COLUMNS}
    return list(kept.values())


def write_valuemap(rows: Iterable[dict[str, str]], out: TextIO, *, name: str, source: str) -> None:
    """A value map file (``mappings/valuemaps/NAME.sssom.tsv``) of accepted rows."""
    rows = list(rows)
    prefixes = {r["object_id"].split(":", 1)[0] for r in rows}
    lines = _header(prefixes, set_id=f"https://w3id.org/hyperontology/mappings/valuemaps/{name}.sssom.tsv",
                    description=f"Value map {name}, accepted from {source} (hyperontology mapping suggest)")
    out.write("\n".join(lines) + "\n")
    writer = csv.writer(out, delimiter="\t", lineterminator="\n")
    writer.writerow(COLUMNS)
    for row in rows:
        writer.writerow([row[c] for c in COLUMNS])
