"""The report of an ingest run, accumulated batch by batch: counts, capped lists, one account per input file.

Nothing of a batch is kept once it is counted except what the report shows: per file its counts and rejections,
the distinct instances loaded (to count them by class), and the first :data:`REPORT_CAP` items of each list with
how many more there were.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from hyperontology.mapping.engine import EntityResult, MappingOutcome
from hyperontology.sources.base import Record
from hyperontology.validation.reconcile import Decision

#: the most items a list of the report holds (violations, quarantined, notes); ``<list>_more`` counts the rest
REPORT_CAP = 500
_LISTS = ("violations", "quarantined_values", "quarantined", "notes")

__all__ = ["REPORT_CAP", "FileAccount", "RunTally"]


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


def quarantined(entity: EntityResult, decision: Decision) -> bool:
    return bool(entity.problems) or not entity.iri or entity.iri in decision.quarantined


@dataclass
class RunTally:
    """Everything a run's report says, added to batch by batch."""

    accounts: dict[str, FileAccount] = field(default_factory=dict)
    instances: set[tuple[str, str]] = field(default_factory=set)
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

    def _add(self, name: str, items: list[Any]) -> None:
        room = max(0, REPORT_CAP - len(self.lists[name]))
        self.lists[name] += items[:room]
        self.more[name] += max(0, len(items) - room)

    def add_batch(self, outcome: MappingOutcome, decision: Decision, members: dict[int, list[Record]]) -> None:
        """Count a committed batch: the state of each record, its instances, values and results."""
        self.batches += 1
        self._states(outcome, decision, members)
        self.instances |= {(e.iri, e.cls) for e in outcome.entities if e.iri}
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

    def report(self, run: dict[str, Any], files: int) -> dict[str, Any]:
        accounts = sorted(self.accounts.values(), key=lambda a: a.path)
        classes = Counter(cls for _, cls in self.instances)
        unmapped: dict[str, dict[str, int]] = {}
        for (vm, value), n in sorted(self.unmapped.items()):
            unmapped.setdefault(vm, {})[value] = n
        problems: dict[str, dict[str, int]] = {}
        for (label, kind), n in sorted(self.field_problems.items()):
            problems.setdefault(label, {})[kind] = n
        return {
            "run": run,
            "totals": {"files": files, "records": sum(a.records for a in accounts),
                       "loaded": sum(a.loaded for a in accounts), "quarantined": sum(a.quarantined for a in accounts),
                       "not_mapped": sum(a.not_mapped for a in accounts),
                       "rejected": sum(len(a.rejected) for a in accounts),
                       "skipped": sum(a.skipped for a in accounts), "triples_added": self.triples_added,
                       "instances": dict(sorted(classes.items())), "instances_reconsidered": self.reconsidered,
                       "triples_removed": self.triples_removed, "batches": self.batches},
            "inputs": [a.as_dict() for a in accounts],
            "unmapped_values": unmapped,
            "unknown_codes": dict(self.unknown_codes.most_common()),
            "field_problems": problems,
            "violations": {"by_shape": dict(self.by_shape.most_common()), "items": self.lists["violations"],
                           "items_more": self.more["violations"]},
            **{name: self.lists[name] for name in _LISTS[1:]},
            **{f"{name}_more": self.more[name] for name in _LISTS[1:]},
        }
