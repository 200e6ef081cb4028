"""The registry of sources, keyed by name; third parties add theirs through the ``hyperontology.sources``
entry-point group (``name = "module:Class"``), loaded lazily.

Examples
--------
>>> sorted(SOURCES)
['csv', 'dicom', 'fhir']
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from functools import cache
from importlib.metadata import entry_points
from pathlib import Path

from hyperontology.sources.base import Source

#: built-in sources: name -> "module:Class" (imported on first use)
SOURCES: Mapping[str, str] = {
    "fhir": "hyperontology.sources.fhir:FhirSource",
    "csv": "hyperontology.sources.tabular:CsvSource",
    "dicom": "hyperontology.sources.dicom:DicomSource",
}


def _load(target: str) -> Source:
    module, _, name = target.partition(":")
    cls = getattr(importlib.import_module(module), name)
    instance: Source = cls()
    return instance


@cache
def sources() -> tuple[Source, ...]:
    """Every available source: the built-in ones first (FHIR and CSV sniff cheaply, DICOM last), then plugins."""
    found = [_load(target) for target in SOURCES.values()]
    for ep in entry_points(group="hyperontology.sources"):
        if ep.name not in SOURCES:
            found.append(ep.load()())
    return tuple(found)


def source_for(path: Path) -> Source | None:
    """The first source that accepts ``path``, or None."""
    return next((s for s in sources() if s.accepts(path)), None)
