"""The report of an ingest run, accumulated batch by batch: counts, capped lists, one account per input file.

Nothing of a batch is kept in memory once it is counted except what the report shows in full: the first
:data:`REPORT_CAP` items of each list with how many more there were, and counters. What grows with the run (one
account per input file, the distinct instances to count them by class) goes to a :class:`Spool`: a private
SQLite database on disk with a bounded page cache, so a run of a million files holds no more memory than a run
of ten thousand. The report's ``inputs`` is then read back from it: as a list (JSON-ready), or as an
:class:`Inputs` sequence that streams from the spool, which :func:`write_report` writes without holding the file's
text (``hyperontology ingest --report``).
"""

from __future__ import annotations

import json
import sqlite3
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, overload

from hyperontology.mapping.engine import EntityResult, MappingOutcome
from hyperontology.sources.base import Record
from hyperontology.validation.reconcile import Decision

#: the most items a list of the report holds (violations, quarantined, notes); ``<list>_more`` counts the rest
REPORT_CAP = 500
_LISTS = ("violations", "quarantined_values", "quarantined", "notes")

__all__ = ["REPORT_CAP", "FileAccount", "Inputs", "RunTally", "Spool", "write_report"]


@dataclass(slots=True)
class FileAccount:
    """What became of one input file's records (``skipped``: the store already has this file as it is)."""

    path: str
    source: str | None = None
    records: int = 0
    loaded: int = 0
    quarantined: int = 0
    not_mapped: int = 0
    rejected: list[dict[str, str]] = field(default_factory=list)
    skipped: bool = False

    def as_dict(self) -> dict[str, Any]:
        out = {name: getattr(self, name) for name in self.__slots__}
        if not self.skipped:
            del out["skipped"]
        return out

    def merge(self, other: FileAccount) -> None:
        """Add the counts and rejections of another account of the same file (a file named twice)."""
        self.source = self.source or other.source
        for name in _COUNTS:
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.rejected = other.rejected + self.rejected
        self.skipped = self.skipped and other.skipped


_COUNTS = ("records", "loaded", "quarantined", "not_mapped")
#: pages of the spool's cache (negative: KiB), what bounds its memory; the rest stays on disk
_SPOOL_CACHE_KIB = 8192
#: pending accounts of skipped files settled into the spool at once
_SETTLE_EVERY = 2000


class Spool:
    """Accounts of input files and the distinct instances of a run, on disk (a private temporary SQLite database,
    deleted when closed), with running totals in memory.

    Examples
    --------
    >>> spool = Spool()
    >>> spool.put([FileAccount("b.csv", "csv", records=2, loaded=2), FileAccount("a.dcm", "dicom", 1, 1)])
    >>> spool.put([FileAccount("b.csv", "csv", records=1, not_mapped=1)])  # the same file again: counts add up
    >>> [(a["path"], a["records"]) for a in spool.accounts()], spool.totals["records"]
    ([('a.dcm', 1), ('b.csv', 3)], 4)
    >>> spool.add_instances([("x", "cdm:Patient"), ("x", "cdm:Patient"), ("y", "cdm:Study")])
    >>> spool.classes()
    {'cdm:Patient': 1, 'cdm:Study': 1}
    >>> spool.close()
    """

    def __init__(self) -> None:
        self._db = sqlite3.connect("")  # "": a private on-disk database, removed on close
        self._db.executescript(f"""
            PRAGMA cache_size = -{_SPOOL_CACHE_KIB}; PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF;
            CREATE TABLE account (path TEXT PRIMARY KEY, body TEXT NOT NULL) WITHOUT ROWID;
            CREATE TABLE instance (iri TEXT NOT NULL, cls TEXT NOT NULL, PRIMARY KEY (iri, cls)) WITHOUT ROWID;""")
        self.totals: Counter[str] = Counter()
        self.count = 0

    def put(self, accounts: Sequence[FileAccount]) -> None:
        """Keep final accounts (merged with an earlier account of the same path)."""
        rows = []
        for account in accounts:
            earlier = self._db.execute("SELECT body FROM account WHERE path = ?", (account.path,)).fetchone()
            if earlier:
                account.merge(FileAccount(**json.loads(earlier[0])))
                self.count -= 1
                self.totals.subtract(_tallied(FileAccount(**json.loads(earlier[0]))))
            self.totals.update(_tallied(account))
            self.count += 1
            rows.append((account.path, json.dumps(account.as_dict(), ensure_ascii=False)))
        self._db.executemany("INSERT OR REPLACE INTO account VALUES (?, ?)", rows)

    def accounts(self) -> Iterator[dict[str, Any]]:
        """Every account, by path, read from disk as it is iterated."""
        for (body,) in self._db.execute("SELECT body FROM account ORDER BY path"):
            yield json.loads(body)

    def account_at(self, index: int) -> dict[str, Any]:
        row = self._db.execute("SELECT body FROM account ORDER BY path LIMIT 1 OFFSET ?", (index,)).fetchone()
        if row is None:
            raise IndexError(index)
        return dict(json.loads(row[0]))

    def add_instances(self, pairs: Sequence[tuple[str, str]]) -> None:
        self._db.executemany("INSERT OR IGNORE INTO instance VALUES (?, ?)", pairs)

    def classes(self) -> dict[str, int]:
        return dict(self._db.execute("SELECT cls, count(*) FROM instance GROUP BY cls ORDER BY cls").fetchall())

    def close(self) -> None:
        self._db.close()


def _tallied(account: FileAccount) -> Counter[str]:
    out = Counter({name: getattr(account, name) for name in _COUNTS})
    out["rejected"], out["skipped"] = len(account.rejected), int(account.skipped)
    return out


class Inputs(Sequence[dict[str, Any]]):
    """The report's ``inputs``: every file's account, by path, streamed from the run's spool (one read per
    iteration; :func:`write_report` writes it without holding it). ``list(inputs)`` for a plain list."""

    def __init__(self, spool: Spool) -> None:
        self._spool = spool

    def __len__(self) -> int:
        return self._spool.count

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return self._spool.accounts()

    @overload
    def __getitem__(self, index: int) -> dict[str, Any]: ...
    @overload
    def __getitem__(self, index: slice) -> list[dict[str, Any]]: ...
    def __getitem__(self, index: int | slice) -> dict[str, Any] | list[dict[str, Any]]:
        if isinstance(index, slice):
            return list(self)[index]
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError(index)
        return self._spool.account_at(index)

    def __repr__(self) -> str:
        return f"<Inputs: {len(self)} accounts>"


def write_report(report: dict[str, Any], path: Path) -> None:
    """Write a report as JSON (indented), its ``inputs`` one account per line, streamed: the file's text is never
    held in memory, whatever the number of inputs."""
    head = {k: v for k, v in report.items() if k != "inputs"}
    with path.open("w", encoding="utf-8") as out:
        out.write("{\n")
        for key, value in head.items():
            text = json.dumps(value, indent=2, ensure_ascii=False).replace("\n", "\n  ")
            out.write(f"  {json.dumps(key)}: {text},\n")
        out.write('  "inputs": [')
        for i, account in enumerate(report.get("inputs", ())):
            out.write(("," if i else "") + "\n    " + json.dumps(account, ensure_ascii=False))
        out.write("\n  ]\n}\n")


def quarantined(entity: EntityResult, decision: Decision) -> bool:
    return bool(entity.problems) or not entity.iri or entity.iri in decision.quarantined


@dataclass
class RunTally:
    """Everything a run's report says, added to batch by batch."""

    #: accounts not final yet (the batch in hand's files, skipped files not settled yet); the rest: ``spool``
    accounts: dict[str, FileAccount] = field(default_factory=dict)
    spool: Spool = field(default_factory=Spool)
    unmapped: Counter[tuple[str, str]] = field(default_factory=Counter)
    unknown_codes: Counter[str] = field(default_factory=Counter)
    field_problems: Counter[tuple[str, str]] = field(default_factory=Counter)
    by_shape: Counter[str] = field(default_factory=Counter)
    lists: dict[str, list[Any]] = field(default_factory=lambda: {name: [] for name in _LISTS})
    more: Counter[str] = field(default_factory=Counter)
    triples_added: int = 0
    triples_removed: int = 0
    reconsidered: int = 0
    batches: int = 0

    def account(self, path: str, source: str | None = None) -> FileAccount:
        return self.accounts.setdefault(path, FileAccount(path, source))

    def skip(self, path: str) -> None:
        """Account a file the store already has as it is (settled in groups: nothing more happens to it)."""
        self.account(path).skipped = True
        if len(self.accounts) >= _SETTLE_EVERY:
            self.settle()

    def settle(self) -> None:
        """Move the final accounts (every account held: call between batches) to the spool."""
        self.spool.put(list(self.accounts.values()))
        self.accounts.clear()

    def _add(self, name: str, items: list[Any]) -> None:
        room = max(0, REPORT_CAP - len(self.lists[name]))
        self.lists[name] += items[:room]
        self.more[name] += max(0, len(items) - room)

    def add_batch(self, outcome: MappingOutcome, decision: Decision, members: dict[int, list[Record]]) -> None:
        """Count a committed batch: the state of each record, its instances, values and results."""
        self.batches += 1
        self._states(outcome, decision, members)
        self.spool.add_instances(list({(e.iri, e.cls) for e in outcome.entities if e.iri}))
        self.unmapped.update(outcome.unmapped)
        self.unknown_codes.update(outcome.unknown_codes)
        self.field_problems.update(outcome.field_problems)
        batch = {e.iri for e in outcome.entities}
        self.reconsidered += len(decision.touched - batch)
        self.by_shape.update(v.shape for v in decision.results)
        self._add("violations", [v.as_dict() for v in decision.results])
        self._add("quarantined_values", [{"instance": s, "property": p, "value": v} for s, p, v in decision.withheld])
        self._add("quarantined", [{"instance": e.iri, "rule": e.rule, "source": str(e.record.provenance),
                                   "reasons": e.problems + decision.reasons.get(e.iri, [])}
                                  for e in outcome.entities if quarantined(e, decision)])
        self._add("notes", [{"instance": "", "source": c.table, "note": str(c)} for c in outcome.missing_columns]
                  + [{"instance": e.iri, "source": str(e.record.provenance), "note": n}
                     for e in outcome.entities for n in e.notes])

    def _states(self, outcome: MappingOutcome, decision: Decision, members: dict[int, list[Record]]) -> None:
        """Each source record loaded, quarantined (one of its instances is) or not mapped, on its file's account."""
        status: dict[int, str] = {}
        for entity in outcome.entities:
            state = "quarantined" if quarantined(entity, decision) else "loaded"
            if status.get(id(entity.record)) != "quarantined":
                status[id(entity.record)] = state
        for record in outcome.unmatched_records:
            status[id(record)] = "not_mapped"
        seen: set[int] = set()
        for record in [*{id(e.record): e.record for e in outcome.entities}.values(), *outcome.unmatched_records]:
            state = status.get(id(record), "not_mapped")
            for source in members.get(id(record), [record]):
                if id(source) in seen or source.entity == "series":
                    continue
                seen.add(id(source))
                account = self.accounts[source.provenance.path]
                setattr(account, state, getattr(account, state) + 1)
        self.settle()

    def report(self, run: dict[str, Any], files: int, *, stream_inputs: bool = False) -> dict[str, Any]:
        """The report; ``inputs`` a list, or with ``stream_inputs`` an :class:`Inputs` read from the spool as it
        is iterated (the tally must then stay open: :meth:`close` once written)."""
        self.settle()
        totals, inputs = self.spool.totals, Inputs(self.spool)
        unmapped: dict[str, dict[str, int]] = {}
        for (vm, value), n in sorted(self.unmapped.items()):
            unmapped.setdefault(vm, {})[value] = n
        problems: dict[str, dict[str, int]] = {}
        for (label, kind), n in sorted(self.field_problems.items()):
            problems.setdefault(label, {})[kind] = n
        return {
            "run": run,
            "totals": {"files": files, **{name: totals[name] for name in (*_COUNTS, "rejected", "skipped")},
                       "triples_added": self.triples_added, "instances": self.spool.classes(),
                       "instances_reconsidered": self.reconsidered, "triples_removed": self.triples_removed,
                       "batches": self.batches},
            "inputs": inputs if stream_inputs else list(inputs),
            "unmapped_values": unmapped,
            "unknown_codes": dict(self.unknown_codes.most_common()),
            "field_problems": problems,
            "violations": {"by_shape": dict(self.by_shape.most_common()), "items": self.lists["violations"],
                           "items_more": self.more["violations"]},
            **{name: self.lists[name] for name in _LISTS[1:]},
            **{f"{name}_more": self.more[name] for name in _LISTS[1:]},
        }

    def close(self) -> None:
        """Remove the spool (the report's streamed ``inputs`` cannot be read after)."""
        self.spool.close()
