"""One batch of input files, read, pseudonymized and mapped: the part of an ingest that runs in workers.

:func:`prepare_batch` is a pure function of the files and a :class:`BatchSpec` (the key, the mapping set and the
options), so an executor may run it anywhere: inline, in a local process pool (``--jobs``) or on a Dask cluster
(``--executor dask``), and run it again after a worker died. What needs the store (the counts of series that span
batches, reconciliation with what the store holds, validation, the write) happens afterwards, in the ingest
process, batch by batch in order (:mod:`hyperontology.pipeline`).

With ``prevalidate`` (set when batches run in workers), a worker also validates the canonical forms of the
batch's instances as mapped (:mod:`hyperontology.validation.fast`) and returns their results: the ingest process
then finds them in its form cache and runs pyshacl only for instances the store changes (merged with stored
values), so the serial part of a run stays small and ``--jobs`` scales. The results are the same either way: a
form's results depend only on the form, the shapes and the ontology.

Every input is accounted for: each file gives a :class:`FileRead` with its record count and its rejections (no
source for the file, a reader failure, a record the mapping fails on), and each record is in the
:class:`Prepared` result: mapped, or among the records no mapping selects.

With a ``dataset`` (``ingest --dataset``), every patient mapped gets ``cdm:dataset`` that dataset among its own
quads, so the link is reconciled and validated like any other value of the patient.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from hyperontology.mapping.engine import DATA, DATA_GRAPH, RDF_TYPE, Mapper, MappingOutcome
from hyperontology.mapping.loader import MappingSet
from hyperontology.ontology.api import Hyperontology
from hyperontology.prefixes import PREFIXES
from hyperontology.pseudonymize.keys import PseudonymKey
from hyperontology.sources.base import Provenance, Record, Rejection
from hyperontology.sources.dicomweb import DicomWebService, is_dicomweb, read_series, split_series_url
from hyperontology.sources.registry import source_for
from hyperontology.sources.series import InstanceFact, group_series, instance_facts
from hyperontology.validation.fast import Form, FormResults
from hyperontology.validation.shacl import Violation

__all__ = ["BatchSpec", "FileRead", "Prepared", "prepare_batch", "read_file", "read_input"]

PATIENT = ox.NamedNode(PREFIXES["cdm"] + "Patient")
DATASET_LINK = ox.NamedNode(PREFIXES["cdm"] + "dataset")
DATASET = ox.NamedNode(PREFIXES["cdm"] + "Dataset")


def read_file(path: Path) -> tuple[str, str | None, list[Record | Rejection]]:
    """All records and rejections of one file, and the file as their provenance names it (a name that is not
    UTF-8 with its bytes as ``\\xNN``: see ``sources.base.utf8_safe``)."""
    where = Provenance(str(path))
    if not path.is_file():
        return where.path, None, [Rejection(where, _not_a_file(path))]
    source = source_for(path)
    if source is None:
        return where.path, None, [Rejection(where, "no source reads this file type")]
    try:
        items = list(source.read(path))
    except Exception as exc:  # noqa: BLE001 - a source bug must not lose the other files
        items = [Rejection(where, f"reader failed: {exc.__class__.__name__}: {exc}")]
    return where.path, source.name, items


def read_input(spec: BatchSpec, name: str) -> tuple[str, str | None, list[Record | Rejection]]:
    """:func:`read_file`, or for the URL of a DICOMweb series (``dicomweb+http(s)://``), its instances read from
    the service the spec names (:mod:`hyperontology.sources.dicomweb`; source ``dicomweb``)."""
    if not is_dicomweb(name):
        return read_file(Path(name))
    where = Provenance(name)
    service_name, study, series = split_series_url(name)
    service = spec.services.get(service_name)
    if service is None:
        return where.path, "dicomweb", [Rejection(where, "not a series of a DICOMweb service of this run")]
    try:
        items = list(read_series(service, study, series))
    except Exception as exc:  # noqa: BLE001 - a source bug must not lose the other series
        items = [Rejection(where, f"reader failed: {exc.__class__.__name__}: {exc}")]
    return where.path, "dicomweb", items


def _not_a_file(path: Path) -> str:
    """Why a path that is not a regular file cannot be read."""
    if path.is_dir() and path.is_symlink():
        return "a link to a folder, not followed (give the folder itself to read it)"
    if path.is_dir():
        try:
            with os.scandir(path):
                return "a folder, not a file"
        except OSError as exc:
            return f"a folder that cannot be listed ({exc.__class__.__name__}): its files were not read"
    if path.is_symlink() and not path.exists():
        return "a broken symbolic link"
    if path.exists():
        return "not a regular file (a pipe, socket or device)"
    return "no such file"


@dataclass
class BatchSpec:
    """What a worker needs to prepare batches: sent once per worker. The ontology is not sent: a worker loads
    the bundled release once (its index is cached on disk); in-process, the caller's ontology is used.
    ``dataset``: the IRI of the dataset every patient mapped belongs to (None: no ``cdm:dataset``). ``services``:
    the DICOMweb services whose series the batches name, by name (with their credentials: a worker reads them)."""

    key: PseudonymKey
    mappings: MappingSet
    shift_dates: bool = True
    ontology: Hyperontology | None = None
    prevalidate: bool = False
    dataset: str | None = None
    services: dict[str, DicomWebService] = field(default_factory=dict)
    _mapper: Mapper | None = field(default=None, repr=False, compare=False)
    _forms: FormResults | None = field(default=None, repr=False, compare=False)

    def __getstate__(self) -> dict[str, Any]:
        return {"key": self.key, "mappings": self.mappings, "shift_dates": self.shift_dates,
                "ontology": None, "prevalidate": self.prevalidate, "dataset": self.dataset,
                "services": self.services, "_mapper": None, "_forms": None}

    def form_cache(self) -> FormResults:
        """This worker's results of the forms it validated (kept across its batches)."""
        if self._forms is None:
            self._forms = FormResults(track=True)
        return self._forms

    def mapper(self) -> Mapper:
        if self._mapper is None:
            if self.ontology is None:
                from hyperontology.ontology.api import load_ontology

                self.ontology = load_ontology()
            self._mapper = Mapper(self.mappings.specs, key=self.key, valuemaps=self.mappings.valuemaps,
                                  ontology=self.ontology, shift_dates=self.shift_dates)
        return self._mapper


@dataclass
class FileRead:
    """What reading one file gave: its source, how many records, and why units of it were rejected."""

    path: str
    source: str | None
    marker: str | None  # the file's keyed digest (None: nothing to remember it by, such as a missing file)
    records: int = 0
    rejected: list[dict[str, str]] = field(default_factory=list)


@dataclass
class Prepared:
    """A batch read and mapped. Series records are mapped with the counts of the batch's own instances; the
    ingest process corrects those of series the store already has instances of."""

    files: list[FileRead]
    outcome: MappingOutcome
    groups: list[tuple[Record, list[Record]]]  # each series record and the DICOM instance records it stands for
    facts: list[InstanceFact]  # series UID, the instance's keyed node, its frames
    forms: dict[Form, list[Violation]] = field(default_factory=dict)  # forms validated by the worker (prevalidate)

    def members(self) -> dict[int, list[Record]]:
        """``id(series record)`` -> its instance records (identity holds within one unpickled result)."""
        return {id(series): instances for series, instances in self.groups}


def prepare_batch(spec: BatchSpec, files: list[tuple[str, str | None]]) -> Prepared:
    """Read and map a batch of ``(path, marker)`` files or DICOMweb series (never raises for bad input: it becomes
    a rejection)."""
    reads: list[FileRead] = []
    records: list[Record] = []
    for name, marker in files:
        path, source, items = read_input(spec, name)
        read = FileRead(path, source, marker)
        for item in items:
            if isinstance(item, Rejection):
                read.rejected.append({"locator": item.provenance.locator, "reason": item.reason})
            else:
                read.records += 1
                records.append(item)
        reads.append(read)
    mapper = spec.mapper()
    outcome, groups = _map(mapper, records, {r.path: r for r in reads})
    if spec.dataset is not None:
        attach_dataset(outcome, spec.dataset)
    facts = [keyed_fact(mapper, f) for _, members in groups for f in instance_facts(members)]
    prepared = Prepared(reads, outcome, groups, facts)
    if spec.prevalidate:
        prepared.forms = _prevalidated(spec, outcome)
    return prepared


def attach_dataset(outcome: MappingOutcome, dataset: str) -> None:
    """Link every patient the mapping could complete to the dataset (``cdm:dataset``); an incomplete record stays
    in quarantine as it was mapped."""
    target = ox.NamedNode(dataset)
    for entity in outcome.entities:
        patient = any(q.predicate == RDF_TYPE and q.object == PATIENT for q in entity.quads)
        if patient and entity.iri and not entity.problems:
            entity.quads.append(ox.Quad(ox.NamedNode(entity.iri), DATASET_LINK, target, DATA_GRAPH))


def _prevalidated(spec: BatchSpec, outcome: MappingOutcome) -> dict[Form, list[Violation]]:
    """The results of the forms of the batch's instances as mapped that this worker had not validated before
    (those it had went back with an earlier batch). A failure here costs only the head start: the ingest
    process validates whatever it does not find."""
    from hyperontology.validation.reconcile import canonical_quads
    from hyperontology.validation.shacl import validate_quads

    cache = spec.form_cache()
    quads = [q for e in outcome.entities if e.iri and not e.problems for q in e.quads]
    if spec.dataset is not None:  # the store has it typed: so the patients' forms are the ones the ingest process sees
        quads.append(ox.Quad(ox.NamedNode(spec.dataset), RDF_TYPE, DATASET, DATA_GRAPH))
    spec.mapper()  # loads the ontology in a worker
    assert spec.ontology is not None
    try:
        validate_quads(canonical_quads(quads), spec.ontology, cache=cache)
    except Exception:  # noqa: BLE001 - never lose a batch to the head start
        return {}
    return cache.drain()


def keyed_fact(mapper: Mapper, fact: InstanceFact) -> InstanceFact:
    """A fact with the instance as its keyed node (the SOP Instance UID never leaves the batch)."""
    return InstanceFact(fact.series, f"{DATA}instance/{mapper.key.pseudonym('instance', fact.instance)}",
                        fact.frames)


def _map(mapper: Mapper, records: list[Record], reads: dict[str, FileRead],
         ) -> tuple[MappingOutcome, list[tuple[Record, list[Record]]]]:
    """The mapping of the records (DICOM instances grouped into series) and the series groups. A record the
    mapping fails on (a bug: bad data should never make it fail) is rejected with the reason and the others are
    mapped without it, as a reader failure loses only its file."""
    grouped, members = group_series(records)
    try:
        outcome = mapper.apply(grouped)
    except Exception:  # noqa: BLE001 - find the records it fails on; if none fails alone, it fails again below
        failed = _reject_failing(mapper, grouped, members, reads)
        grouped, members = group_series([r for r in records if id(r) not in failed])
        outcome = mapper.apply(grouped)
    return outcome, [(series, members[id(series)]) for series in grouped if id(series) in members]


def _reject_failing(mapper: Mapper, grouped: list[Record], members: dict[int, list[Record]],
                    reads: dict[str, FileRead]) -> set[int]:
    """Map each record alone and reject those the mapping fails on (for a series, each of its instances); the
    ids of the rejected records."""
    failed: set[int] = set()
    for record in grouped:
        try:
            mapper.apply([record])
        except Exception as exc:  # noqa: BLE001 - reported as the record's rejection
            for source in members.get(id(record), [record]):
                failed.add(id(source))
                read = reads[source.provenance.path]
                read.records -= 1
                read.rejected.append({"locator": source.provenance.locator,
                                      "reason": f"mapping failed: {type(exc).__name__}: {exc}"})
    return failed
