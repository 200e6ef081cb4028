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

A run is a stream of bounded batches (by files and bytes, ``batch_files`` / ``batch_bytes``): each batch is
read, pseudonymized and mapped by an executor (inline, ``--jobs N`` local processes, or a Dask cluster: see
:mod:`hyperontology.batch` and :mod:`hyperontology.executors`), then, in order, reconciled with the store,
validated and committed on its own, so memory stays flat whatever the run's size. The series of a batch whose
instances the store already has from other batches or runs are counted over all of them (the same rule as split
runs). Committing a batch: its new triples go in as one transaction; then the stale ones (values now withheld,
old counts, old reasons) are deleted; then each of its files is remembered by a keyed digest of its path, size,
modification time and the mapping configuration (``ho:ingestedFile`` in the provenance graph). A run killed at any
point loses at most the batch in flight: it leaves either nothing of that batch or its new triples next to stale
ones, which a re-run decides again exactly as the uninterrupted run did (a stale triple is a candidate like any
other). A re-run skips the files the store already has unchanged (``rescan`` reads them again), and reports them
as ``skipped``.

An input may also be a DICOMweb service (the node's PACS, :mod:`hyperontology.sources.dicomweb`): its series are
listed in the ingest process and go through the same batches as files, each series counting as many files as it
has instances and read (WADO-RS metadata) by whatever reads the batch. A series is remembered like a file, by a
keyed digest of its URL and its instances' UIDs, so a re-run reads only the series that are new or changed; a
failed search or read is a rejection of the service, study or series it concerns, never the run's end.
"""

from __future__ import annotations

import hashlib
import os
import time
import uuid
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import chain, islice
from pathlib import Path
from stat import S_ISREG
from typing import Any
from urllib.parse import quote

import pyoxigraph as ox

from hyperontology.batch import BatchSpec, Prepared, prepare_batch, read_file
from hyperontology.mapping.engine import DATA, Mapper
from hyperontology.mapping.loader import MappingSet
from hyperontology.mapping.model import MappingSpec
from hyperontology.ontology.api import Hyperontology
from hyperontology.ontology.closure import subsumption_triples
from hyperontology.ontology.files import bundled_dir, module_files
from hyperontology.ontology.schemes import VERSION
from hyperontology.prefixes import PREFIXES, curie_to_iri
from hyperontology.progress import Advance, Progress
from hyperontology.pseudonymize.keys import PseudonymKey
from hyperontology.runreport import REPORT_CAP, RunTally, write_report
from hyperontology.sources.base import Record, Rejection, utf8_safe
from hyperontology.sources.dicomweb import (
    DicomWebService,
    DicomWebTally,
    Failure,
    SeriesRef,
    is_dicomweb,
    split_series_url,
    walk,
)
from hyperontology.sources.registry import SOURCES
from hyperontology.sources.series import InstanceFact, group_series, totals
from hyperontology.store.base import GRAPHS, Store, open_store
from hyperontology.validation.fast import FormResults
from hyperontology.validation.reconcile import QUARANTINE_REASON, RECORD_NS, Reconciler, without_values

PROV = "http://www.w3.org/ns/prov#"
HO_NS = "https://w3id.org/hyperontology/"
XSD_INTEGER = ox.NamedNode("http://www.w3.org/2001/XMLSchema#integer")
RDF_TYPE = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
SOURCE_INSTANCE = ox.NamedNode(HO_NS + "sourceInstance")
FRAMES = ox.NamedNode(HO_NS + "numberOfFrames")
QUARANTINED_INSTANCE = ox.NamedNode(HO_NS + "quarantinedInstance")
INGESTED_FILE = ox.NamedNode(HO_NS + "ingestedFile")
DATASET = ox.NamedNode(PREFIXES["cdm"] + "Dataset")
DATASET_IDENTIFIER = ox.NamedNode(PREFIXES["cdm"] + "datasetIdentifier")
TITLE = ox.NamedNode(PREFIXES["cdm"] + "title")
#: the longest dataset identifier (``--dataset``)
DATASET_ID_MAX = 200
#: series record fields that are counts over every instance of the series (see sources.series)
COUNTED_FIELDS = frozenset({"NumberOfInstances", "NumberOfFrames"})
#: quads written between two flushes of the embedded store's write buffers (each flush costs tens of ms; the
#: buffers grow by a few hundred bytes per quad until then)
FLUSH_QUADS = 50_000
#: how much lower local worker processes run than the ingest process (see ``_prepared``)
WORKER_NICE = 5
_DELETE_CHUNK = 2000
_LOOKUP_CHUNK = 400
#: what a batch counts for the metadata of one instance read over DICOMweb (``batch_bytes``)
_METADATA_BYTES = 32 * 1024

#: an input of a run: a file or directory, or a DICOMweb service (:mod:`hyperontology.sources.dicomweb`)
Input = Path | DicomWebService
#: what a run reads, one after the other: a file, or a series of a DICOMweb service (or a search that failed)
Unit = Path | SeriesRef | Failure

__all__ = ["REPORT_CAP", "SOURCES", "IngestOptions", "check_dataset_id", "dataset_iri", "discover", "group_series",
           "ingest", "read_all", "read_file", "read_records"]


@dataclass(frozen=True)
class IngestOptions:
    """How to ingest. ``store_path``: the store's directory, an ``http(s)://`` URL of a remote store (see
    :mod:`hyperontology.store.remote`), or None for a store in memory. ``executor``: ``local`` (``jobs``
    processes) or ``dask`` (the cluster at ``scheduler``). A batch holds at most ``batch_files`` files and
    ``batch_bytes`` bytes of them (a larger file is a batch alone). ``rescan`` reads again files the store already
    has unchanged. ``dataset``: the identifier of the dataset (a collection) every patient of the run belongs to
    (``cdm:dataset``), ``dataset_title`` its title (see :func:`dataset_iri`)."""

    key: PseudonymKey
    mappings: MappingSet
    store_path: Path | str | None = None
    jobs: int = 1
    validate: bool = True
    progress: bool = False
    shift_dates: bool = True
    executor: str = "local"
    scheduler: str | None = None
    batch_files: int = 500
    batch_bytes: int = 256 * 2**20
    rescan: bool = False
    dataset: str | None = None
    dataset_title: str | None = None

    def __post_init__(self) -> None:
        if self.dataset is not None:
            check_dataset_id(self.dataset)
        elif self.dataset_title is not None:
            raise ValueError("dataset_title needs a dataset")


def check_dataset_id(identifier: str) -> str:
    """The identifier, if it can name a dataset: 1 to :data:`DATASET_ID_MAX` printable characters; else
    ValueError saying why.

    Examples
    --------
    >>> check_dataset_id("lung-trial")
    'lung-trial'
    >>> check_dataset_id("a\\tb")
    Traceback (most recent call last):
    ...
    ValueError: 'a\\tb': a dataset identifier has printable characters only (no control characters)
    """
    if not 1 <= len(identifier) <= DATASET_ID_MAX:
        raise ValueError(f"a dataset identifier has 1 to {DATASET_ID_MAX} characters (not {len(identifier)})")
    if not identifier.isprintable():
        raise ValueError(f"{identifier!r}: a dataset identifier has printable characters only (no control characters)")
    return identifier


def dataset_iri(identifier: str) -> str:
    """The IRI of the dataset with this identifier (the same in every run and on every node).

    Examples
    --------
    >>> dataset_iri("lung trial/2")
    'https://w3id.org/hyperontology/data/dataset/lung%20trial%2F2'
    """
    return f"{DATA}dataset/{quote(identifier, safe='')}"


# ------------------------------------------------------------------------------------------ reading
def discover(paths: Iterable[Path]) -> Iterator[Path]:
    """Files under the given paths (recursively, each directory's entries sorted by name, hidden files and
    directories skipped, symbolic links to directories not followed); missing paths are yielded too.

    Lazy: a directory is listed when the walk reaches it, so a tree of a million files is never held as a list.
    """
    for path in paths:
        if path.is_dir():
            yield from _walk(path)
        else:
            yield path


def _walk(directory: Path) -> Iterator[Path]:
    """The files under a directory; a directory that cannot be listed and every entry that is not a directory
    (a broken link, a pipe) are yielded too, so the run reports them as rejected inputs instead of losing them."""
    try:
        with os.scandir(directory) as listing:
            entries = sorted((e.name, e.is_dir(follow_symlinks=False)) for e in listing if not e.name.startswith("."))
    except OSError:
        yield directory
        return
    for name, is_dir in entries:
        path = directory / name
        if is_dir:
            yield from _walk(path)
        else:
            yield path


def read_all(files: list[Path], jobs: int,
             advance: Advance | None = None) -> list[tuple[str, str | None, list[Record | Rejection]]]:
    """Every file read (:func:`read_file`), in ``jobs`` local worker processes (:mod:`hyperontology.executors`).

    ``advance(1)`` is called after each file (progress).
    """
    from hyperontology.executors import make_executor

    out = []
    with make_executor("local", jobs=jobs if len(files) > 1 else 1) as executor:
        for result in executor.map(_read, None, files, window=8 * executor.workers):
            out.append(result)
            if advance:
                advance(1)
    return out


def _read(_shared: None, path: Path) -> tuple[str, str | None, list[Record | Rejection]]:
    return read_file(path)


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


def configuration(options: IngestOptions) -> str:
    """A digest of what decides how a file is mapped: mappings, value maps, the release, the options."""
    settings: tuple[Any, ...] = (options.mappings.specs, sorted(options.mappings.valuemaps.items()), VERSION,
                                 options.shift_dates, options.validate)
    if options.dataset is not None:  # (without one, the digest of earlier releases: their files stay skipped)
        settings += (options.dataset,)
    text = repr(settings)
    return hashlib.sha256(text.encode()).hexdigest()


# ------------------------------------------------------------------------------------------ the run
class Ingest:
    """One ingestion run (use :func:`ingest`)."""

    def __init__(self, options: IngestOptions, ontology: Hyperontology) -> None:
        self.options = options
        self.ontology = ontology
        self.run_iri = f"{DATA}run/{uuid.uuid4().hex}"
        self.tally = RunTally()
        self.started = datetime.now(UTC)
        workers = options.executor != "local" or options.jobs > 1
        self.dataset = dataset_iri(options.dataset) if options.dataset is not None else None
        self.spec = BatchSpec(options.key, options.mappings, options.shift_dates, ontology,
                              prevalidate=workers and options.validate, dataset=self.dataset)
        self.mapper: Mapper = self.spec.mapper()
        self.config = configuration(options)
        self.aggregates = counted_properties(options.mappings.specs)
        self.forms = FormResults()  # forms of instances validated by earlier batches: pyshacl runs on new ones only
        self.files = 0
        self.batch_files = options.batch_files
        self.unflushed = 0  # quads written since the store last flushed its write buffers
        self.web: dict[str, DicomWebTally] = {}  # what the run did with each DICOMweb service, by its name

    def run(self, inputs: Sequence[Input | str], report_path: Path | None = None) -> dict[str, Any]:
        """Ingest; the report (see :func:`ingest`)."""
        try:
            report = self._run(_inputs(inputs), stream_inputs=report_path is not None)
            if report_path is not None:
                write_report(report, report_path)
                del report["inputs"]
            return report
        finally:
            self.tally.close()

    def _run(self, inputs: list[Input], *, stream_inputs: bool) -> dict[str, Any]:
        clock = time.perf_counter()
        paths = [i for i in inputs if isinstance(i, Path)]
        services = [i for i in inputs if isinstance(i, DicomWebService)]
        self.spec.services = {service.name: service for service in services}
        self.web = {service.name: DicomWebTally(service.name) for service in services}
        expected = sum(1 for _ in discover(paths))  # a count (the walk is lazy: the files are listed again below)
        if self.options.jobs > 1:  # enough batches to keep every worker busy while the commits go on
            self.batch_files = min(self.batch_files, max(50, -(-expected // (8 * self.options.jobs))))
        with Progress(enabled=self.options.progress) as progress, open_store(self.options.store_path) as store:
            if store.ontology_release() != VERSION:
                with progress.step("loading the hyperontology into the store (once per release)"):
                    store.ensure_ontology(module_files(bundled_dir()), VERSION, subsumption_triples(self.ontology))
            self._write_dataset(store)
            what = f"{expected} files" + (f" and the series of {len(services)} DICOMweb services" if services else "")
            with progress.step(f"ingesting {what}", expected) as advance:
                units: Iterator[Unit] = chain(discover(paths), *(_walk_service(service) for service in services))
                stream = self._prepared(self._batches(store, units, advance))
                while True:
                    with progress.step(f"batch {self.tally.batches + 1}: reading and mapping"):
                        prepared = next(stream, None)
                    if prepared is None:
                        break
                    self._commit(store, prepared, progress)
                    advance(len(prepared.files))
            store.load(self._run_quads())
        report = self.tally.report(self._run_facts(time.perf_counter() - clock), self.files,
                                   stream_inputs=stream_inputs)
        if self.web:
            report["dicomweb"] = [tally.as_dict() for tally in self.web.values()]
        return report

    def _prepared(self, batches: Iterator[list[tuple[str, str | None]]]) -> Iterator[Prepared]:
        """The batches read and mapped, in order: in this process, or by the executor the options name."""
        options = self.options
        if options.executor == "local" and options.jobs <= 1:
            yield from (prepare_batch(self.spec, batch) for batch in batches)
            return
        from hyperontology.executors import make_executor

        # workers a little behind the ingest process: committing is the serial part, it must never wait for a core
        with make_executor(options.executor, jobs=options.jobs, scheduler=options.scheduler,
                           nice=WORKER_NICE) as executor:
            yield from executor.map(prepare_batch, self.spec, batches, window=4 * executor.workers)

    # ------------------------------------------------------------------------- batches, and files to skip
    def _failed(self, failure: Failure) -> None:
        """A failed DICOMweb search: the rejection of the service, study or series it concerns."""
        self.web[failure.service].failed(failure)
        self.tally.account(failure.url, "dicomweb").rejected.append({"locator": "", "reason": failure.reason})

    def _batches(self, store: Store, units: Iterable[Unit], advance: Advance) -> Iterator[list[tuple[str, str | None]]]:
        """The files and series to read in batches of ``(name, marker)``; those the store has unchanged are
        skipped. A series counts as many files as it has instances. A failed search is accounted in its turn."""
        batch: list[tuple[str, str | None]] = []
        files = size = 0
        for chunk in batched(units, _LOOKUP_CHUNK):
            self.files += len(chunk)
            marked = [(unit, self._marker(unit)) for unit in chunk]
            known = set() if self.options.rescan else self._known(store, [m for _, m in marked if m])
            for unit, marker in marked:
                if isinstance(unit, Failure):
                    self._failed(unit)
                    advance(1)
                    continue
                if isinstance(unit, SeriesRef):
                    self.web[unit.service].found(unit, "skipped" if marker in known else "read")
                if marker in known:
                    self.tally.skip(unit.url if isinstance(unit, SeriesRef) else str(unit))
                    advance(1)
                    continue
                name, count, weight = _unit_size(unit)
                if batch and (files >= self.batch_files or size + weight > self.options.batch_bytes):
                    yield batch
                    batch, files, size = [], 0, 0
                batch.append((name, marker))
                files, size = files + count, size + weight
        if batch:
            yield batch

    def _marker(self, unit: Unit) -> str | None:
        """The keyed digest the store remembers an ingested file (or DICOMweb series) by: None when the file cannot
        be stat-ed. A series is remembered with the UIDs of its instances: one that gained or lost some is read
        again."""
        if isinstance(unit, Failure):
            return None
        if isinstance(unit, SeriesRef):
            text = f"{self.config}\x1f{unit.url}\x1f{unit.instances}\x1f{unit.digest}"
            return f"{DATA}file/{self.options.key.pseudonym('file', text)}"
        path = unit
        try:
            stat = path.stat()
            where = utf8_safe(str(path.resolve()))
        except (OSError, RuntimeError):
            return None
        if not S_ISREG(stat.st_mode):  # a folder it could not list, a pipe: read (and reported) on every run
            return None
        text = f"{self.config}\x1f{where}\x1f{stat.st_size}\x1f{stat.st_mtime_ns}"
        return f"{DATA}file/{self.options.key.pseudonym('file', text)}"

    @staticmethod
    def _known(store: Store, markers: list[str]) -> set[str]:
        if not markers:
            return set()
        values = " ".join(f"<{m}>" for m in markers)
        rows = store.query(f"SELECT ?f WHERE {{ VALUES ?f {{ {values} }} GRAPH {GRAPHS['provenance']} "
                           f"{{ ?run {INGESTED_FILE} ?f }} }}")
        return {row["f"].value for row in rows}

    # ------------------------------------------------------------------------- committing a batch
    def _commit(self, store: Store, prepared: Prepared, progress: Progress) -> None:
        """Reconcile, validate and write one batch, then remember its files (see the module docs)."""
        for read in prepared.files:
            account = self.tally.account(read.path, read.source)
            account.source = read.source
            account.records += read.records
            account.rejected += read.rejected
            if read.source == "dicomweb":
                whole = next((r["reason"] for r in read.rejected if not r["locator"]), None)
                self.web[split_series_url(read.path)[0]].read(read.path, read.records, len(read.rejected), whole)
        outcome, members = prepared.outcome, prepared.members()
        self.forms.update(prepared.forms)
        self._recount(store, prepared, members)
        good = [e for e in outcome.entities if e.iri and not e.problems]
        batch = f"batch {self.tally.batches + 1}"
        with progress.step(f"{batch}: {'validating' if self.options.validate else 'reconciling'} {len(good)} "
                           "instances with the store"):
            reconciler = Reconciler(store, self.ontology, validate=self.options.validate, aggregates=self.aggregates,
                                    forms=self.forms)
            decision = reconciler.decide(q for e in good for q in e.quads)
        quads = decision.add + self._extra_quads(prepared, members)
        with progress.step(f"{batch}: writing {len(quads)} triples, removing {len(decision.remove)}"):
            # the decision adds only what the store does not hold (set against every stored triple of the touched
            # instances): its data quads are the data triples added, without asking the store again
            store.load(quads, count=False)
            self.tally.triples_added += sum(1 for q in decision.add if q.graph_name == GRAPHS["data"])
            _delete(store, decision.remove)
        self.tally.triples_removed += sum(1 for q in decision.remove if q.graph_name == GRAPHS["data"])
        run, g = ox.NamedNode(self.run_iri), GRAPHS["provenance"]
        store.load([ox.Quad(run, INGESTED_FILE, ox.NamedNode(r.marker), g) for r in prepared.files if r.marker])
        self.unflushed += len(quads) + len(decision.remove) + len(prepared.files)
        if self.unflushed >= FLUSH_QUADS:  # the store's write buffers to disk: their memory stays bounded
            store.flush()
            self.unflushed = 0
        self.tally.add_batch(outcome, decision, members)

    def _recount(self, store: Store, prepared: Prepared, members: dict[int, list[Record]]) -> None:
        """Map again, with counts over every instance the store has too, the series records of the batch whose
        series the store already has instances of (a series that spans batches or runs)."""
        full = totals(prepared.facts + self._stored_facts(store, prepared.facts))
        outcome, redo = prepared.outcome, []
        for series, _instances in prepared.groups:
            uid = str(series.fields.get("SeriesInstanceUID", "")).strip()
            counts = (series.fields.get("NumberOfInstances"), series.fields.get("NumberOfFrames"))
            if uid in full and counts != full[uid]:
                fields = dict(series.fields)
                fields["NumberOfInstances"], fields["NumberOfFrames"] = full[uid]
                fresh = Record(series.source, series.entity, fields, series.provenance)
                members[id(fresh)] = members.pop(id(series))
                redo.append((series, fresh))
        if not redo:
            return
        old = {id(series) for series, _ in redo}
        for entity in [e for e in outcome.entities if id(e.record) in old]:
            for label, kind, _value in entity.flags:
                outcome.field_problems[(label, kind)] -= 1
        outcome.entities = [e for e in outcome.entities if id(e.record) not in old]
        outcome.unmatched_records = [r for r in outcome.unmatched_records if id(r) not in old]
        again = self.mapper.apply([fresh for _, fresh in redo])
        outcome.entities += again.entities
        outcome.unmatched_records += again.unmatched_records
        outcome.field_problems.update(again.field_problems)
        outcome.field_problems = +outcome.field_problems

    def _stored_facts(self, store: Store, facts: list[InstanceFact]) -> list[InstanceFact]:
        """The instances the store knows of the series of this batch's instances."""
        uid_of = {self.mapper.mint("series", uid): uid for uid in {f.series for f in facts}}
        out: list[InstanceFact] = []
        for chunk in batched(sorted(uid_of), _LOOKUP_CHUNK):
            values = " ".join(f"<{s}>" for s in chunk)
            rows = store.query(f"SELECT ?s ?i ?f WHERE {{ VALUES ?s {{ {values} }} GRAPH {GRAPHS['provenance']} "
                               f"{{ ?s {SOURCE_INSTANCE} ?i OPTIONAL {{ ?i {FRAMES} ?f }} }} }}")
            out += [InstanceFact(uid_of[row["s"].value], row["i"].value,
                                 int(row["f"].value) if row["f"] is not None else 1) for row in rows]
        return out

    # ------------------------------------------------------------------------- what else is written
    def _write_dataset(self, store: Store) -> None:
        """The run's dataset in the data graph (before any patient links to it); a title given replaces the
        title an earlier run gave."""
        if self.dataset is None or self.options.dataset is None:
            return
        g, node = GRAPHS["data"], ox.NamedNode(self.dataset)
        title = self.options.dataset_title
        if title is not None:
            store.update(f"DELETE WHERE {{ GRAPH {g} {{ {node} {TITLE} ?title }} }}")
        quads = [ox.Quad(node, RDF_TYPE, DATASET, g),
                 ox.Quad(node, DATASET_IDENTIFIER, ox.Literal(self.options.dataset), g)]
        store.load(quads + ([ox.Quad(node, TITLE, ox.Literal(title), g)] if title is not None else []), count=False)

    def _extra_quads(self, prepared: Prepared, members: dict[int, list[Record]]) -> list[ox.Quad]:
        """Provenance of every instance, the incomplete records' quarantine nodes, the DICOM instance facts."""
        out: list[ox.Quad] = []
        for entity in prepared.outcome.entities:
            if entity.iri:
                out += self._provenance(entity.iri, entity.rule, members.get(id(entity.record), [entity.record]))
            if entity.problems:
                out += self._incomplete(entity.iri, entity.rule, entity.quads, entity.problems, entity.record)
        g = GRAPHS["provenance"]
        for fact in prepared.facts:
            series, instance = ox.NamedNode(self.mapper.mint("series", fact.series)), ox.NamedNode(fact.instance)
            out += [ox.Quad(series, SOURCE_INSTANCE, instance, g),
                    ox.Quad(instance, FRAMES, ox.Literal(str(fact.frames), datatype=XSD_INTEGER), g)]
        return out

    def _incomplete(self, iri: str, rule: str, quads: list[ox.Quad], problems: list[str],
                    record: Record) -> list[ox.Quad]:
        """A record the mapping could not complete, on a node of its own (keyed digest of what it says)."""
        g = GRAPHS["quarantine"]
        content = "\n".join(sorted(str(q.triple) for q in quads)) or str(record.provenance)
        node = ox.NamedNode(RECORD_NS + self.options.key.pseudonym("quarantine", f"{rule}\x1f{content}"))
        out = [ox.Quad(node, QUARANTINED_INSTANCE, ox.NamedNode(iri), g)] if iri else []
        out += [ox.Quad(node, q.predicate, q.object, g) for q in quads]
        return out + [ox.Quad(node, QUARANTINE_REASON, ox.Literal(without_values(p)), g) for p in problems]

    def _provenance(self, iri: str, rule: str, sources: list[Record]) -> list[ox.Quad]:
        g, subject = GRAPHS["provenance"], ox.NamedNode(iri)
        mapping = ox.Literal(rule)
        out = []
        for record in sources:
            # file paths may name people: the store keeps a keyed digest of path and locator, which the node
            # (holding the key) can match against its files; never the path itself
            node = ox.NamedNode(f"{DATA}source/{self.options.key.pseudonym('source', str(record.provenance))}")
            out += [ox.Quad(subject, ox.NamedNode(PROV + "wasDerivedFrom"), node, g),
                    ox.Quad(node, ox.NamedNode(HO_NS + "mapping"), mapping, g),
                    ox.Quad(ox.NamedNode(self.run_iri), ox.NamedNode(PROV + "used"), node, g)]
        return out

    def _run_quads(self) -> list[ox.Quad]:
        run, g = ox.NamedNode(self.run_iri), GRAPHS["provenance"]
        now = ox.Literal(datetime.now(UTC).isoformat(), datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#dateTime"))
        quads = [ox.Quad(run, RDF_TYPE, ox.NamedNode(PROV + "Activity"), g),
                 ox.Quad(run, ox.NamedNode(PROV + "endedAtTime"), now, g)]
        return quads + [ox.Quad(run, ox.NamedNode(HO_NS + "mappingFile"), ox.Literal(f"{s.name}@{s.version}"), g)
                        for s in self.options.mappings.specs]

    def _run_facts(self, seconds: float) -> dict[str, Any]:
        options = self.options
        return {"iri": self.run_iri, "started": self.started.isoformat(), "seconds": round(seconds, 3),
                "key_id": options.key.key_id, "store": str(options.store_path or ":memory:"),
                "mappings": [f"{s.name}@{s.version}" for s in options.mappings.specs], "ontology_release": VERSION,
                "executor": options.executor if options.executor != "local" else f"local, {options.jobs} jobs",
                "batch_files": self.batch_files, "dataset": options.dataset}


def batched(items: Iterable[Any], size: int) -> Iterator[tuple[Any, ...]]:
    """``items`` in tuples of ``size`` (the last shorter): ``itertools.batched`` of Python 3.12."""
    it = iter(items)
    while chunk := tuple(islice(it, size)):
        yield chunk


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _unit_size(unit: Path | SeriesRef) -> tuple[str, int, int]:
    """A file or series as a batch holds it: its name, how many files it counts for, and its bytes."""
    if isinstance(unit, SeriesRef):
        return unit.url, unit.instances, unit.instances * _METADATA_BYTES
    return str(unit), 1, _size(unit)


def _inputs(inputs: Sequence[Input | str]) -> list[Input]:
    """Paths and DICOMweb services; text is a DICOMweb URL (``dicomweb+http(s)://``) or a path."""
    return [DicomWebService.from_url(i) if isinstance(i, str) and is_dicomweb(i) else
            Path(i) if isinstance(i, str) else i for i in inputs]


def _walk_service(service: DicomWebService) -> Iterator[SeriesRef | Failure]:
    """:func:`~hyperontology.sources.dicomweb.walk` (a failure of the walk itself, a bug, fails the service only)."""
    try:
        yield from walk(service)
    except Exception as exc:  # noqa: BLE001 - the other inputs must not be lost
        yield Failure(service.name, service.name, f"listing failed: {type(exc).__name__}: {exc}", "service")


def _delete(store: Store, quads: list[ox.Quad]) -> None:
    """Delete quads, a SPARQL ``DELETE DATA`` per chunk (each one atomic)."""
    for start in range(0, len(quads), _DELETE_CHUNK):
        chunk = quads[start:start + _DELETE_CHUNK]
        body = " ".join(f"GRAPH {q.graph_name} {{ {q.subject} {q.predicate} {q.object} }}" for q in chunk)
        store.update(f"DELETE DATA {{ {body} }}")


def ingest(paths: Sequence[Path | DicomWebService | str], options: IngestOptions, *, ontology: Hyperontology,
           report_path: Path | None = None) -> dict[str, Any]:
    """Ingest files and directories, and the series of DICOMweb services, into the store; returns the report
    (JSON-ready).

    ``paths``: paths, :class:`~hyperontology.sources.dicomweb.DicomWebService` objects, or text (a
    ``dicomweb+http(s)://`` URL, else a path). The report's ``inputs`` accounts for every input file and every
    DICOMweb series (by URL, without credentials), one entry each; with DICOMweb services, ``dicomweb`` counts per
    service the studies, series and instances found, read, skipped as already ingested and failed. With
    ``report_path``, the whole report is written there as JSON, ``inputs`` streamed from disk, and the report
    returned has no ``inputs`` (a run of a million files then holds no list of them in memory).
    """
    return Ingest(options, ontology).run(paths, report_path)
