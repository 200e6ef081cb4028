"""DICOM instances as series records: what the mapping sees of a series, whatever batches its files come in.

A mapping of DICOM works on series (``select: {entity: series}``), while a DICOM source reads instances. Grouping
the instances of one run into one record per series made the series depend on how the files were batched: the
first file's header, and a count of the files *of that run*. Here, instead:

- the instances of a series are grouped by their header (every field but ``SOPInstanceUID`` and
  ``NumberOfFrames``): one ``series`` record per distinct header. Instances that agree, which is nearly always,
  give one record; a series whose instances disagree on a value (a tube current modulated per slice) gives one
  record per variant, and the store's rule for single-valued attributes applies to the values they disagree on
  (see :mod:`hyperontology.validation.reconcile`);
- ``NumberOfInstances`` and ``NumberOfFrames`` are counts over every instance of the series *ever ingested*:
  the caller passes the totals (:func:`totals`) computed from the per-instance facts the store keeps together
  with the instances of this run. Without them, the counts are those of the records given.

Examples
--------
>>> from hyperontology.sources.base import Provenance, Record
>>> def instance(sop, frames=1):
...     return Record("dicom", "instance", {"SeriesInstanceUID": "1.2", "SOPInstanceUID": sop, "Modality": "CT",
...                                         "NumberOfFrames": frames}, Provenance(f"{sop}.dcm"))
>>> grouped, members = group_series([instance("1"), instance("2", 3), instance("2", 3)])
>>> [(r.entity, r.fields["NumberOfInstances"], r.fields["NumberOfFrames"]) for r in grouped]
[('series', 2, 4)]
>>> len(members[id(grouped[0])])
3
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from hyperontology.sources.base import Provenance, Record

__all__ = ["InstanceFact", "group_series", "instance_facts", "totals"]

#: fields of an instance that a series record does not take from any one instance
PER_INSTANCE = frozenset({"SOPInstanceUID", "NumberOfFrames"})


@dataclass(frozen=True, slots=True)
class InstanceFact:
    """One DICOM instance of a series (by UID) and its number of frames."""

    series: str
    instance: str
    frames: int


def _is_instance(record: Record) -> bool:
    return record.source == "dicom" and record.entity == "instance"


def _uid(record: Record, keyword: str) -> str:
    return str(record.fields.get(keyword, "")).strip()


def _frames(value: Any) -> int:
    try:
        return max(1, int(value or 1))
    except (TypeError, ValueError):
        return 1


def instance_facts(records: Iterable[Record]) -> list[InstanceFact]:
    """The instance facts of the DICOM instance records among ``records``."""
    return [InstanceFact(_uid(r, "SeriesInstanceUID"), _uid(r, "SOPInstanceUID"),
                         _frames(r.fields.get("NumberOfFrames"))) for r in records if _is_instance(r)]


def totals(facts: Iterable[InstanceFact]) -> dict[str, tuple[int, int]]:
    """Series UID -> (distinct instances, frames over them); an instance read twice with different frame counts
    counts with the larger.

    Examples
    --------
    >>> totals([InstanceFact("s", "a", 1), InstanceFact("s", "a", 1), InstanceFact("s", "b", 2)])
    {'s': (2, 3)}
    """
    frames: dict[str, dict[str, int]] = defaultdict(dict)
    for fact in facts:
        known = frames[fact.series]
        known[fact.instance] = max(fact.frames, known.get(fact.instance, 0))
    return {series: (len(known), sum(known.values())) for series, known in frames.items()}


def _variant(record: Record) -> tuple[str, str]:
    """The series of an instance and its header without the per-instance fields (a hashable key)."""
    header = sorted((k, repr(v)) for k, v in record.fields.items() if k not in PER_INSTANCE)
    return _uid(record, "SeriesInstanceUID"), repr(header)


def group_series(records: Iterable[Record], counts: Mapping[str, tuple[int, int]] | None = None,
                 ) -> tuple[list[Record], dict[int, list[Record]]]:
    """DICOM instances -> one ``series`` record per distinct header of a series; other records unchanged.

    Parameters
    ----------
    records
        Records of any source; DICOM ``instance`` records are grouped.
    counts
        Series UID -> (instances, frames) over every instance of the series known (see the module docs); series
        it lacks are counted over the records given.

    Returns
    -------
    tuple[list[Record], dict[int, list[Record]]]
        The records to map (others first, then the series records in input order), and ``id(series record)`` ->
        the instance records it stands for.
    """
    others: list[Record] = []
    variants: dict[tuple[str, str], list[Record]] = {}
    for record in records:
        if _is_instance(record):
            variants.setdefault(_variant(record), []).append(record)
        else:
            others.append(record)
    known = totals(instance_facts(r for group in variants.values() for r in group))
    if counts:
        known.update({uid: n for uid, n in counts.items() if uid in known})
    members: dict[int, list[Record]] = {}
    for (uid, _header), instances in variants.items():
        first = instances[0]
        fields = {k: v for k, v in first.fields.items() if k not in PER_INSTANCE}
        fields["NumberOfInstances"], fields["NumberOfFrames"] = known[uid]
        grouped = Record("dicom", "series", fields, Provenance(first.provenance.path, f"series {len(instances)} files"))
        members[id(grouped)] = instances
        others.append(grouped)
    return others, members
