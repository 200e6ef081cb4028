"""Ingestion: input files -> records -> CDM instances -> SHACL validation -> the node's store, with a report.

Every input is accounted for: each file is read by a source or rejected ("no source reads this file");
each unit in it becomes a record or a rejection with its reason; each record is loaded, quarantined
(a SHACL violation or a required value missing, kept in the quarantine graph with the reason) or not
mapped (no mapping selects it). Loading is one transaction.
"""

from __future__ import annotations

import re
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

from hyperontology.mapping.engine import DATA, RDF_TYPE, EntityResult, Mapper, MappingOutcome
from hyperontology.mapping.loader import MappingSet
from hyperontology.ontology.api import Hyperontology
from hyperontology.ontology.closure import subsumption_triples
from hyperontology.ontology.files import bundled_dir, module_files
from hyperontology.ontology.schemes import VERSION
from hyperontology.pseudonymize.keys import PseudonymKey
from hyperontology.sources.base import Provenance, Record, Rejection
from hyperontology.sources.registry import SOURCES, source_for
from hyperontology.store.base import GRAPHS, Store, open_store
from hyperontology.validation.shacl import Violation, validate_quads

PROV = "http://www.w3.org/ns/prov#"
HO_NS = "https://w3id.org/hyperontology/"


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
    """All records and rejections of one file (runs in worker processes with --jobs)."""
    if not path.is_file():
        return str(path), None, [Rejection(Provenance(str(path)), "no such file")]
    source = source_for(path)
    if source is None:
        return str(path), None, [Rejection(Provenance(str(path)), "no source reads this file type")]
    try:
        items = list(source.read(path))
    except Exception as exc:  # noqa: BLE001 - a source bug must not lose the other files
        items = [Rejection(Provenance(str(path)), f"reader failed: {exc.__class__.__name__}: {exc}")]
    return str(path), source.name, items


def read_all(files: list[Path], jobs: int, progress: bool) -> list[tuple[str, str | None, list[Record | Rejection]]]:
    bar = _progress(len(files), "reading", progress)
    out = []
    if jobs > 1 and len(files) > 1:
        with ProcessPoolExecutor(max_workers=jobs) as pool:
            for result in pool.map(read_file, files, chunksize=max(1, len(files) // (jobs * 8))):
                out.append(result)
                bar.update(1)
    else:
        for path in files:
            out.append(read_file(path))
            bar.update(1)
    bar.close()
    return out


def read_records(paths: Iterable[Path], *, jobs: int = 1) -> list[Record]:
    """Every record of the files under ``paths`` (rejections left out: ``ingest`` reports them)."""
    return [i for _, _, items in read_all(list(discover(paths)), jobs, False) for i in items if isinstance(i, Record)]


def _progress(total: int, desc: str, enabled: bool) -> Any:
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit="file", disable=not enabled, leave=False)


def group_series(records: list[Record]) -> tuple[list[Record], dict[int, list[Record]]]:
    """DICOM instances -> one ``series`` record per SeriesInstanceUID (first instance's values, instance count)."""
    series: dict[str, list[Record]] = defaultdict(list)
    others = []
    for record in records:
        if record.source == "dicom" and record.entity == "instance":
            series[str(record.fields.get("SeriesInstanceUID", ""))].append(record)
        else:
            others.append(record)
    members: dict[int, list[Record]] = {}
    for _uid, instances in series.items():
        first = instances[0]
        fields = {**first.fields, "NumberOfInstances": len(instances)}
        fields["NumberOfFrames"] = sum(int(r.fields.get("NumberOfFrames", 1) or 1) for r in instances)
        grouped = Record("dicom", "series", fields, Provenance(first.provenance.path, f"series {len(instances)} files"))
        members[id(grouped)] = instances
        others.append(grouped)
    return others, members


# ------------------------------------------------------------------------------------------ the run
class Ingest:
    """One ingestion run (use :func:`ingest`)."""

    def __init__(self, options: IngestOptions, ontology: Hyperontology) -> None:
        self.options = options
        self.ontology = ontology
        self.run_iri = f"{DATA}run/{uuid.uuid4().hex}"
        self.accounts: dict[str, FileAccount] = {}
        self.started = datetime.now(UTC)
        self._bad: set[str] = set()
        self._bad_values: set[tuple[str, str, str]] = set()

    def run(self, paths: list[Path]) -> dict[str, Any]:
        clock = time.perf_counter()
        files = list(discover(paths))
        records = self._read(files)
        grouped, members = group_series(records)
        mapper = Mapper(self.options.mappings.specs, key=self.options.key, valuemaps=self.options.mappings.valuemaps,
                        ontology=self.ontology, shift_dates=self.options.shift_dates)
        outcome = mapper.apply(grouped)
        with open_store(self.options.store_path) as store:
            violations = self._validate(outcome, store) if self.options.validate else []
            bad = self._quarantine(outcome, violations)
            quads = self._quads(outcome, bad, members, violations)
            added = self._store(store, quads)
        self._account(outcome, bad, members)
        return self._report(outcome, violations, added, time.perf_counter() - clock, len(files))

    def _read(self, files: list[Path]) -> list[Record]:
        records: list[Record] = []
        for path, source, items in read_all(files, self.options.jobs, self.options.progress):
            account = self.accounts.setdefault(path, FileAccount(path, source))
            for item in items:
                if isinstance(item, Rejection):
                    account.rejected.append({"locator": item.provenance.locator, "reason": item.reason})
                else:
                    account.records += 1
                    records.append(item)
        return records

    def _validate(self, outcome: MappingOutcome, store: Store) -> list[Violation]:
        """SHACL on this batch, with the types of instances it links to that earlier runs loaded."""
        quads = [q for e in outcome.entities if not e.problems for q in e.quads]
        typed = {q.subject for q in quads if q.predicate == RDF_TYPE}
        linked = {q.object for q in quads if isinstance(q.object, ox.NamedNode)
                  and q.object.value.startswith(DATA) and q.object not in typed}
        quads += _types_of(store, sorted(linked, key=str))
        # results about concepts themselves (nested value-set shapes) are explained by the instance's own result
        return [v for v in validate_quads(quads, self.ontology) if v.focus.startswith(DATA)]

    def _quarantine(self, outcome: MappingOutcome, violations: list[Violation]) -> set[str]:
        """Instances that cannot load: a required value missing, or a violation of the instance as a whole."""
        whole = {v.focus for v in violations if v.severity == "Violation" and v.whole_instance}
        self._bad = {e.iri or f"{id(e)}" for e in outcome.entities if e.problems or e.iri in whole}
        self._bad_values = {(v.focus, v.path, v.value) for v in violations
                            if v.severity == "Violation" and not v.whole_instance and v.focus not in self._bad}
        return self._bad

    def _held_back(self, quad: ox.Quad, bad: set[str]) -> bool:
        """A triple of a loadable instance that a violation names (a value, or every value of a path), or a link to a
        quarantined instance."""
        subject, path = quad.subject.value, quad.predicate.value  # type: ignore[union-attr]
        value = getattr(quad.object, "value", "")
        if isinstance(quad.object, ox.NamedNode) and value in bad:
            return True
        return (subject, path, value) in self._bad_values or (subject, path, "") in self._bad_values

    def _quads(self, outcome: MappingOutcome, bad: set[str], members: dict[int, list[Record]],
               violations: list[Violation]) -> list[ox.Quad]:
        out: list[ox.Quad] = []
        by_focus: dict[str, list[Violation]] = defaultdict(list)
        for v in violations:
            by_focus[v.focus].append(v)
        max_paths = {(v.focus, v.path) for v in violations if v.component == "MaxCountConstraintComponent"}
        self._bad_values |= {(f, p, "") for f, p in max_paths}
        for entity in outcome.entities:
            if not entity.iri:
                continue
            quarantined = entity.iri in bad
            for q in entity.quads:
                held = quarantined or self._held_back(q, bad)
                out.append(ox.Quad(q.subject, q.predicate, q.object, GRAPHS["quarantine" if held else "data"]))
            sources = members.get(id(entity.record), [entity.record])
            out += self._provenance(entity, sources)
            reasons = entity.problems + [v.message for v in by_focus.get(entity.iri, []) if v.severity == "Violation"]
            out += [ox.Quad(ox.NamedNode(entity.iri), ox.NamedNode(HO_NS + "quarantineReason"),
                            ox.Literal(_without_values(r)), GRAPHS["quarantine"]) for r in reasons]
        return out

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

    def _store(self, store: Store, quads: list[ox.Quad]) -> int:
        run = ox.NamedNode(self.run_iri)
        g = GRAPHS["provenance"]
        now = ox.Literal(datetime.now(UTC).isoformat(), datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#dateTime"))
        quads += [ox.Quad(run, ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type"),
                          ox.NamedNode(PROV + "Activity"), g), ox.Quad(run, ox.NamedNode(PROV + "endedAtTime"), now, g)]
        quads += [ox.Quad(run, ox.NamedNode(HO_NS + "mappingFile"), ox.Literal(f"{s.name}@{s.version}"), g)
                  for s in self.options.mappings.specs]
        store.ensure_ontology(module_files(bundled_dir()), VERSION, subsumption_triples(self.ontology))
        return store.load(quads).get("data", 0)

    def _account(self, outcome: MappingOutcome, bad: set[str], members: dict[int, list[Record]]) -> None:
        status: dict[int, str] = {}
        for entity in outcome.entities:
            state = "quarantined" if (entity.iri or f"{id(entity)}") in bad else "loaded"
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

    def _report(self, outcome: MappingOutcome, violations: list[Violation], added: int, seconds: float,
                files: int) -> dict[str, Any]:
        accounts = sorted(self.accounts.values(), key=lambda a: a.path)
        classes = Counter(e.cls for e in outcome.entities if e.iri)
        unmapped: dict[str, dict[str, int]] = defaultdict(dict)
        for (vm, value), n in sorted(outcome.unmapped.items()):
            unmapped[vm][value] = n
        return {
            "run": {"iri": self.run_iri, "started": self.started.isoformat(), "seconds": round(seconds, 3),
                    "key_id": self.options.key.key_id, "store": str(self.options.store_path or ":memory:"),
                    "mappings": [f"{s.name}@{s.version}" for s in self.options.mappings.specs],
                    "ontology_release": VERSION},
            "totals": {"files": files, "records": sum(a.records for a in accounts),
                       "loaded": sum(a.loaded for a in accounts), "quarantined": sum(a.quarantined for a in accounts),
                       "not_mapped": sum(a.not_mapped for a in accounts),
                       "rejected": sum(len(a.rejected) for a in accounts), "triples_added": added,
                       "instances": dict(sorted(classes.items()))},
            "inputs": [a.__dict__ for a in accounts],
            "unmapped_values": unmapped,
            "unknown_codes": dict(outcome.unknown_codes.most_common()),
            "violations": {"by_shape": dict(Counter(v.shape for v in violations).most_common()),
                           "items": [v.as_dict() for v in violations[:500]]},
            "quarantined_values": [{"instance": f, "property": p, "value": v or "(every value)"}
                                   for f, p, v in sorted(self._bad_values)][:500],
            "quarantined": [{"instance": e.iri, "rule": e.rule, "source": str(e.record.provenance),
                             "reasons": e.problems + [v.message for v in violations if v.focus == e.iri]}
                            for e in outcome.entities if (e.iri or f"{id(e)}") in self._bad][:500],
            "notes": [{"instance": e.iri, "source": str(e.record.provenance), "note": n}
                      for e in outcome.entities for n in e.notes][:500],
        }


def _types_of(store: Store, nodes: list[ox.NamedNode], chunk: int = 500) -> list[ox.Quad]:
    """The rdf:type quads of these instances in the data graph (one query per ``chunk`` instances)."""
    out: list[ox.Quad] = []
    for start in range(0, len(nodes), chunk):
        values = " ".join(str(n) for n in nodes[start:start + chunk])
        rows = store.query(f"SELECT ?s ?t WHERE {{ VALUES ?s {{ {values} }} ?s a ?t }}", default_graph=["data"])
        out += [ox.Quad(row["s"], RDF_TYPE, row["t"], GRAPHS["data"]) for row in rows]
    return out


def _without_values(reason: str) -> str:
    """A reason as stored: quoted source values blanked (the local report keeps them; the store may be served)."""
    return re.sub(r"'[^']*'|\"[^\"]*\"", "'…'", reason)


def ingest(paths: list[Path], options: IngestOptions, *, ontology: Hyperontology) -> dict[str, Any]:
    """Ingest files and directories into the store; returns the report (JSON-ready)."""
    return Ingest(options, ontology).run(paths)


__all__ = ["SOURCES", "IngestOptions", "ingest"]
