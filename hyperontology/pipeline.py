"""Ingestion: input files -> records -> CDM instances -> SHACL validation -> the node's store, with a report.

Every input is accounted for: each file is read by a source or rejected ("no source reads this file"); each
unit in it becomes a record or a rejection with its reason; each record is loaded, quarantined (kept in the
quarantine graph with the reason) or not mapped (no mapping selects it). A reader or the mapping failing on one
file or record (a bug) rejects that file or record with the error, never the run.

Order and batches do not matter: ingesting the same inputs in one run, or split into several runs in any order,
leaves the same data graph, and what a run loads always conforms to the CDM shapes as ``hyperontology validate``
checks them (links to other instances included). How:

- DICOM series are counted over every instance ever ingested: each instance is kept as a fact of the provenance
  graph (``<series> ho:sourceInstance <instance>``, keyed pseudonyms) and ``NumberOfInstances`` /
  ``NumberOfFrames`` are recomputed from them (:mod:`hyperontology.sources.series`);
- the instances a run touches are decided afresh from everything every source said about them
  (:mod:`hyperontology.validation.reconcile`). The rule for **single-valued attributes** (``sh:maxCount 1``)
  given by several sources, or by instances of one series: values that agree load once; values that disagree
  are all withheld, kept in the quarantine graph with the reason, and none is loaded. Derived counts are the
  exception: the largest (over the most instances) is the count;
- a record the mapping could not complete (a required value missing or unusable) is quarantined on a node of its
  own (``data/quarantine/<keyed digest of its content>``, ``ho:quarantinedInstance`` naming the instance) and
  never merged into the instance; an instance that fails the shapes (a missing value, a link to an instance that
  is not there or not loadable) is quarantined as a whole, and loads once a later run makes it conform.

Writing: the new triples go in as one transaction; then the stale ones (values now withheld, old counts, old
reasons) are deleted. A run killed at any point leaves either nothing or the new triples next to stale ones,
which a re-run decides again exactly as the uninterrupted run did (a stale triple is a candidate like any other).
"""

from __future__ import annotations

import os
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from hyperontology.mapping.engine import DATA, EntityResult, Mapper, MappingOutcome
from hyperontology.mapping.loader import MappingSet
from hyperontology.mapping.model import MappingSpec
from hyperontology.ontology.api import Hyperontology
from hyperontology.ontology.closure import subsumption_triples
from hyperontology.ontology.files import bundled_dir, module_files
from hyperontology.ontology.schemes import VERSION
from hyperontology.prefixes import curie_to_iri
from hyperontology.progress import Advance, Progress
from hyperontology.pseudonymize.keys import PseudonymKey
from hyperontology.sources.base import Provenance, Record, Rejection
from hyperontology.sources.registry import SOURCES, source_for
from hyperontology.sources.series import InstanceFact, group_series, instance_facts, totals
from hyperontology.sources.workers import watch_parent
from hyperontology.store.base import GRAPHS, Store, open_store
from hyperontology.validation.reconcile import QUARANTINE_REASON, RECORD_NS, Decision, Reconciler, without_values

PROV = "http://www.w3.org/ns/prov#"
HO_NS = "https://w3id.org/hyperontology/"
XSD_INTEGER = ox.NamedNode("http://www.w3.org/2001/XMLSchema#integer")
SOURCE_INSTANCE = ox.NamedNode(HO_NS + "sourceInstance")
FRAMES = ox.NamedNode(HO_NS + "numberOfFrames")
QUARANTINED_INSTANCE = ox.NamedNode(HO_NS + "quarantinedInstance")
#: series record fields that are counts over every instance of the series (see sources.series)
COUNTED_FIELDS = frozenset({"NumberOfInstances", "NumberOfFrames"})
_DELETE_CHUNK = 2000
#: the most items a list of the report holds (violations, quarantined, notes); ``<list>_more`` counts the rest
REPORT_CAP = 500


@dataclass(frozen=True)
class IngestOptions:
    """How to ingest. ``store_path``: the store's directory, an ``http(s)://`` URL of a remote store (see
    :mod:`hyperontology.store.remote`), or None for a store in memory."""

    key: PseudonymKey
    mappings: MappingSet
    store_path: Path | str | None = None
    jobs: int = 1
    validate: bool = True
    progress: bool = False
    shift_dates: bool = True


@dataclass
class FileAccount:
    path: str
    source: str | None = None
    records: int = 0
    loaded: int = 0
    quarantined: int = 0
    not_mapped: int = 0
    rejected: list[dict[str, str]] = field(default_factory=list)


# ------------------------------------------------------------------------------------------ reading
def discover(paths: Iterable[Path]) -> Iterator[Path]:
    """Files under the given paths (recursively, sorted, hidden files skipped); missing paths are yielded too."""
    for path in paths:
        if path.is_dir():
            yield from sorted(p for p in path.rglob("*") if p.is_file() and not any(
                part.startswith(".") for part in p.relative_to(path).parts))
        else:
            yield path


def read_file(path: Path) -> tuple[str, str | None, list[Record | Rejection]]:
    """All records and rejections of one file (runs in worker processes with --jobs), and the file as their
    provenance names it (a name that is not UTF-8 with its bytes as ``\\xNN``: see ``sources.base.utf8_safe``)."""
    where = Provenance(str(path))
    if not path.is_file():
        return where.path, None, [Rejection(where, "no such file")]
    source = source_for(path)
    if source is None:
        return where.path, None, [Rejection(where, "no source reads this file type")]
    try:
        items = list(source.read(path))
    except Exception as exc:  # noqa: BLE001 - a source bug must not lose the other files
        items = [Rejection(where, f"reader failed: {exc.__class__.__name__}: {exc}")]
    return where.path, source.name, items


def read_all(files: list[Path], jobs: int,
             advance: Advance | None = None) -> list[tuple[str, str | None, list[Record | Rejection]]]:
    """Read every file, in ``jobs`` worker processes; the workers end when this process does, even if killed.

    ``advance(1)`` is called after each file (progress).
    """
    out = []
    if jobs > 1 and len(files) > 1:
        with ProcessPoolExecutor(max_workers=jobs, initializer=watch_parent, initargs=(os.getpid(),)) as pool:
            for result in pool.map(read_file, files, chunksize=max(1, len(files) // (jobs * 8))):
                out.append(result)
                if advance:
                    advance(1)
    else:
        for path in files:
            out.append(read_file(path))
            if advance:
                advance(1)
    return out


def read_records(paths: Iterable[Path], *, jobs: int = 1) -> list[Record]:
    """Every record of the files under ``paths`` (rejections left out: ``ingest`` reports them)."""
    return [i for _, _, items in read_all(list(discover(paths)), jobs) for i in items if isinstance(i, Record)]


def counted_properties(specs: Iterable[MappingSpec]) -> frozenset[str]:
    """IRIs of the properties DICOM mappings fill from the series counts (their largest value is the count)."""
    found = set()
    for spec in specs:
        for rule in spec.entities if spec.source == "dicom" else ():
            for f in rule.fields:
                names = {f.value} if isinstance(f.value, str) else set(f.value or ())
                if names & COUNTED_FIELDS:
                    found.add(curie_to_iri(f.property))
    return frozenset(found)


# ------------------------------------------------------------------------------------------ the run
class Ingest:
    """One ingestion run (use :func:`ingest`)."""

    def __init__(self, options: IngestOptions, ontology: Hyperontology) -> None:
        self.options = options
        self.ontology = ontology
        self.run_iri = f"{DATA}run/{uuid.uuid4().hex}"
        self.accounts: dict[str, FileAccount] = {}
        self.started = datetime.now(UTC)
        self.mapper = Mapper(options.mappings.specs, key=options.key, valuemaps=options.mappings.valuemaps,
                             ontology=ontology, shift_dates=options.shift_dates)

    def run(self, paths: list[Path]) -> dict[str, Any]:
        clock = time.perf_counter()
        with Progress(enabled=self.options.progress) as progress:
            files = list(discover(paths))
            with progress.step("reading", len(files)) as advance:
                records = self._read(files, advance)
            with open_store(self.options.store_path) as store:
                with progress.step(f"mapping {len(records)} records"):
                    outcome, members, facts = self._map(store, records)
                good = [e for e in outcome.entities if e.iri and not e.problems]
                with progress.step("validating" if self.options.validate else "reconciling"):
                    reconciler = Reconciler(store, self.ontology, validate=self.options.validate,
                                            aggregates=counted_properties(self.options.mappings.specs))
                    decision = reconciler.decide(q for e in good for q in e.quads)
                quads = decision.add + self._extra_quads(outcome, members, facts)
                added = self._store(store, quads, progress)
                with progress.step("removing superseded triples", len(decision.remove)) as advance:
                    _delete(store, decision.remove, advance)
        self._account(outcome, decision, members)
        report = self._report(outcome, decision, added, time.perf_counter() - clock, len(files))
        report["totals"]["triples_removed"] = sum(1 for q in decision.remove if q.graph_name == GRAPHS["data"])
        return report

    def _read(self, files: list[Path], advance: Advance) -> list[Record]:
        records: list[Record] = []
        for path, source, items in read_all(files, self.options.jobs, advance):
            account = self.accounts.setdefault(path, FileAccount(path, source))
            for item in items:
                if isinstance(item, Rejection):
                    account.rejected.append({"locator": item.provenance.locator, "reason": item.reason})
                else:
                    account.records += 1
                    records.append(item)
        return records

    def _map(self, store: Store, records: list[Record],
             ) -> tuple[MappingOutcome, dict[int, list[Record]], list[InstanceFact]]:
        """The mapping of the records (DICOM instances grouped into series), the instances each series record stands
        for, and the instance facts. A record the mapping fails on (a bug: bad data should never make it fail) is
        rejected with the reason and the others are mapped without it, as a reader failure loses only its file."""
        facts = [self._fact(f) for f in instance_facts(records)]
        grouped, members = group_series(records, totals(facts + self._stored_facts(store, facts)))
        try:
            return self.mapper.apply(grouped), members, facts
        except Exception:  # noqa: BLE001 - find the records it fails on; if none fails alone, it fails again below
            failed = self._reject_failing(grouped, members)
        kept = [r for r in records if id(r) not in failed]
        facts = [self._fact(f) for f in instance_facts(kept)]
        grouped, members = group_series(kept, totals(facts + self._stored_facts(store, facts)))
        return self.mapper.apply(grouped), members, facts

    def _reject_failing(self, grouped: list[Record], members: dict[int, list[Record]]) -> set[int]:
        """Map each record alone and reject those the mapping fails on (for a series, each of its instances); the
        ids of the rejected records."""
        failed: set[int] = set()
        for record in grouped:
            try:
                self.mapper.apply([record])
            except Exception as exc:  # noqa: BLE001 - reported as the record's rejection
                for source in members.get(id(record), [record]):
                    failed.add(id(source))
                    account = self.accounts[source.provenance.path]
                    account.records -= 1
                    account.rejected.append({"locator": source.provenance.locator,
                                             "reason": f"mapping failed: {type(exc).__name__}: {exc}"})
        return failed

    # ------------------------------------------------------------------------- DICOM instance facts
    def _fact(self, fact: InstanceFact) -> InstanceFact:
        """A fact with the instance as its keyed node (the SOP Instance UID never leaves the run)."""
        return InstanceFact(fact.series, f"{DATA}instance/{self.options.key.pseudonym('instance', fact.instance)}",
                            fact.frames)

    def _stored_facts(self, store: Store, facts: list[InstanceFact]) -> list[InstanceFact]:
        """The instances the store knows of the series of this run's instances."""
        uid_of = {self.mapper.mint("series", uid): uid for uid in {f.series for f in facts}}
        out: list[InstanceFact] = []
        series = sorted(uid_of)
        for start in range(0, len(series), 400):
            values = " ".join(f"<{s}>" for s in series[start:start + 400])
            rows = store.query(f"SELECT ?s ?i ?f WHERE {{ VALUES ?s {{ {values} }} GRAPH {GRAPHS['provenance']} "
                               f"{{ ?s {SOURCE_INSTANCE} ?i OPTIONAL {{ ?i {FRAMES} ?f }} }} }}")
            out += [InstanceFact(uid_of[row["s"].value], row["i"].value,
                                 int(row["f"].value) if row["f"] is not None else 1) for row in rows]
        return out

    def _fact_quads(self, facts: list[InstanceFact]) -> list[ox.Quad]:
        g = GRAPHS["provenance"]
        out = []
        for fact in facts:
            series, instance = ox.NamedNode(self.mapper.mint("series", fact.series)), ox.NamedNode(fact.instance)
            out += [ox.Quad(series, SOURCE_INSTANCE, instance, g),
                    ox.Quad(instance, FRAMES, ox.Literal(str(fact.frames), datatype=XSD_INTEGER), g)]
        return out

    # ------------------------------------------------------------------------- what else is written
    def _extra_quads(self, outcome: MappingOutcome, members: dict[int, list[Record]],
                     facts: list[InstanceFact]) -> list[ox.Quad]:
        """Provenance of every instance, the incomplete records' quarantine nodes, the DICOM instance facts."""
        out: list[ox.Quad] = []
        for entity in outcome.entities:
            if entity.iri:
                out += self._provenance(entity, members.get(id(entity.record), [entity.record]))
            if entity.problems:
                out += self._incomplete(entity)
        return out + self._fact_quads(facts)

    def _incomplete(self, entity: EntityResult) -> list[ox.Quad]:
        """A record the mapping could not complete, on a node of its own (keyed digest of what it says)."""
        g = GRAPHS["quarantine"]
        content = "\n".join(sorted(str(q.triple) for q in entity.quads)) or str(entity.record.provenance)
        node = ox.NamedNode(RECORD_NS + self.options.key.pseudonym("quarantine", f"{entity.rule}\x1f{content}"))
        out = [ox.Quad(node, QUARANTINED_INSTANCE, ox.NamedNode(entity.iri), g)] if entity.iri else []
        out += [ox.Quad(node, q.predicate, q.object, g) for q in entity.quads]
        return out + [ox.Quad(node, QUARANTINE_REASON, ox.Literal(without_values(p)), g) for p in entity.problems]

    def _provenance(self, entity: EntityResult, sources: list[Record]) -> list[ox.Quad]:
        g, subject = GRAPHS["provenance"], ox.NamedNode(entity.iri)
        mapping = ox.Literal(entity.rule)
        out = []
        for record in sources:
            # file paths may name people: the store keeps a keyed digest of path and locator, which the node
            # (holding the key) can match against its files; never the path itself
            node = ox.NamedNode(f"{DATA}source/{self.options.key.pseudonym('source', str(record.provenance))}")
            out += [ox.Quad(subject, ox.NamedNode(PROV + "wasDerivedFrom"), node, g),
                    ox.Quad(node, ox.NamedNode(HO_NS + "mapping"), mapping, g),
                    ox.Quad(ox.NamedNode(self.run_iri), ox.NamedNode(PROV + "used"), node, g)]
        return out

    def _store(self, store: Store, quads: list[ox.Quad], progress: Progress) -> int:
        run = ox.NamedNode(self.run_iri)
        g = GRAPHS["provenance"]
        now = ox.Literal(datetime.now(UTC).isoformat(), datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#dateTime"))
        quads += [ox.Quad(run, ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type"),
                          ox.NamedNode(PROV + "Activity"), g), ox.Quad(run, ox.NamedNode(PROV + "endedAtTime"), now, g)]
        quads += [ox.Quad(run, ox.NamedNode(HO_NS + "mappingFile"), ox.Literal(f"{s.name}@{s.version}"), g)
                  for s in self.options.mappings.specs]
        if store.ontology_release() != VERSION:
            with progress.step("loading the hyperontology into the store (once per release)"):
                store.ensure_ontology(module_files(bundled_dir()), VERSION, subsumption_triples(self.ontology))
        with progress.step(f"writing {len(quads)} triples"):
            return store.load(quads).get("data", 0)

    # ------------------------------------------------------------------------- the report
    def _account(self, outcome: MappingOutcome, decision: Decision, members: dict[int, list[Record]]) -> None:
        status: dict[int, str] = {}
        for entity in outcome.entities:
            state = "quarantined" if _quarantined(entity, decision) else "loaded"
            if status.get(id(entity.record)) != "quarantined":
                status[id(entity.record)] = state
        for record in outcome.unmatched_records:
            status[id(record)] = "not_mapped"
        for group_id, state in list(status.items()):
            for record in members.get(group_id, []):
                status[id(record)] = state
        self._tally(status, outcome, members)

    def _tally(self, status: dict[int, str], outcome: MappingOutcome, members: dict[int, list[Record]]) -> None:
        seen: set[int] = set()
        everything = [r for e in outcome.entities for r in members.get(id(e.record), [e.record])]
        everything += [r for rec in outcome.unmatched_records for r in members.get(id(rec), [rec])]
        for record in everything:
            if id(record) in seen or record.entity == "series":
                continue
            seen.add(id(record))
            account = self.accounts[record.provenance.path]
            state = status.get(id(record), "not_mapped")
            setattr(account, state, getattr(account, state) + 1)

    def _report(self, outcome: MappingOutcome, decision: Decision, added: int, seconds: float,
                files: int) -> dict[str, Any]:
        accounts = sorted(self.accounts.values(), key=lambda a: a.path)
        classes = Counter(cls for _, cls in {(e.iri, e.cls) for e in outcome.entities if e.iri})
        unmapped: dict[str, dict[str, int]] = defaultdict(dict)
        for (vm, value), n in sorted(outcome.unmapped.items()):
            unmapped[vm][value] = n
        violations = decision.results
        batch = {e.iri for e in outcome.entities}
        return {
            "run": {"iri": self.run_iri, "started": self.started.isoformat(), "seconds": round(seconds, 3),
                    "key_id": self.options.key.key_id, "store": str(self.options.store_path or ":memory:"),
                    "mappings": [f"{s.name}@{s.version}" for s in self.options.mappings.specs],
                    "ontology_release": VERSION},
            "totals": {"files": files, "records": sum(a.records for a in accounts),
                       "loaded": sum(a.loaded for a in accounts), "quarantined": sum(a.quarantined for a in accounts),
                       "not_mapped": sum(a.not_mapped for a in accounts),
                       "rejected": sum(len(a.rejected) for a in accounts), "triples_added": added,
                       "instances": dict(sorted(classes.items())),
                       "instances_reconsidered": len(decision.touched - batch)},
            "inputs": [a.__dict__ for a in accounts],
            "unmapped_values": unmapped,
            "unknown_codes": dict(outcome.unknown_codes.most_common()),
            "field_problems": outcome.by_field(),
            "violations": {"by_shape": dict(Counter(v.shape for v in violations).most_common()),
                           **_capped("items", [v.as_dict() for v in violations])},
            **_capped("quarantined_values", [{"instance": s, "property": p, "value": v}
                                             for s, p, v in decision.withheld]),
            **_capped("quarantined", [{"instance": e.iri, "rule": e.rule, "source": str(e.record.provenance),
                                       "reasons": e.problems + decision.reasons.get(e.iri, [])}
                                      for e in outcome.entities if _quarantined(e, decision)]),
            **_capped("notes", [{"instance": "", "source": c.table, "note": str(c)} for c in outcome.missing_columns]
                      + [{"instance": e.iri, "source": str(e.record.provenance), "note": n}
                         for e in outcome.entities for n in e.notes]),
        }


def _capped(key: str, items: list[Any]) -> dict[str, Any]:
    """A list of the report under ``key``, its first :data:`REPORT_CAP` items, and ``key_more``: how many more."""
    return {key: items[:REPORT_CAP], f"{key}_more": max(0, len(items) - REPORT_CAP)}


def _quarantined(entity: EntityResult, decision: Decision) -> bool:
    return bool(entity.problems) or not entity.iri or entity.iri in decision.quarantined


def _delete(store: Store, quads: list[ox.Quad], advance: Advance | None = None) -> None:
    """Delete quads, a SPARQL ``DELETE DATA`` per chunk (each one atomic)."""
    for start in range(0, len(quads), _DELETE_CHUNK):
        chunk = quads[start:start + _DELETE_CHUNK]
        body = " ".join(f"GRAPH {q.graph_name} {{ {q.subject} {q.predicate} {q.object} }}" for q in chunk)
        store.update(f"DELETE DATA {{ {body} }}")
        if advance:
            advance(len(chunk))


def ingest(paths: list[Path], options: IngestOptions, *, ontology: Hyperontology) -> dict[str, Any]:
    """Ingest files and directories into the store; returns the report (JSON-ready)."""
    return Ingest(options, ontology).run(paths)


__all__ = ["SOURCES", "IngestOptions", "group_series", "ingest"]
