"""Scan a store for the raw identifiers of the inputs it was loaded from: there must be none.

The identifiers are collected from the same records ingestion reads: DICOM patient, study, series and instance
identifiers, names and accession numbers; FHIR resource ids, identifiers and human names; CSV columns whose name
says they identify (``mrn``, ``*_id``, ``*name*``, ``address*``, ``zip``...). Every string of every graph of the
store (IRIs and literals) is searched for each of them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

import pyoxigraph as ox

from hyperontology.mapping.engine import DATA
from hyperontology.prefixes import HO
from hyperontology.sources.base import Record
from hyperontology.store.base import Store

DICOM_IDENTIFYING = ("PatientID", "PatientName", "StudyInstanceUID", "SeriesInstanceUID", "SOPInstanceUID",
                     "AccessionNumber", "InstitutionName", "OtherPatientIDs", "ReferringPhysicianName")
_CSV_IDENTIFYING = re.compile(r"(^|_)(mrn|id|patient_?id|patient_?number|name|family_?name|given_?name|address.*|"
                              r"zip|postcode|phone|email|ssn)$|name$|Id$|Name$", re.IGNORECASE)
# literals the pipeline writes itself (mapping rule names; reasons, whose source values are blanked)
_OWN_TEXT = {HO + "mapping", HO + "mappingFile", HO + "quarantineReason"}
MIN_LENGTH = 3  # shorter strings (a sex code, "1") occur everywhere by chance and identify nobody


def identifiers(records: Iterable[Record]) -> set[str]:
    """The identifying strings of records (at least MIN_LENGTH characters)."""
    found: set[str] = set()
    for record in records:
        if record.source == "dicom":
            values: list[Any] = [record.fields.get(k) for k in DICOM_IDENTIFYING]
        elif record.source == "fhir":
            values = _fhir_identifiers(record.fields)
        else:
            values = [v for k, v in record.fields.items() if _CSV_IDENTIFYING.search(k)]
        found |= {str(v).strip() for v in values if v is not None and len(str(v).strip()) >= MIN_LENGTH}
    return found


def _fhir_identifiers(resource: Any) -> list[Any]:
    out: list[Any] = []
    if resource.get("resourceType") == "Patient":
        out.append(resource.get("id"))
        for name in resource.get("name", []) or []:
            out += [name.get("family"), *(name.get("given", []) or []), name.get("text")]
    for ident in resource.get("identifier", []) or []:
        if isinstance(ident, dict):
            out.append(ident.get("value"))
    return out


def scan_store(store: Store, needles: set[str], *, graphs: Iterable[str] = ("data", "provenance", "quarantine"),
               ) -> dict[str, int]:
    """Identifier -> number of store terms holding it (an empty dict means the store is clean)."""
    hits: dict[str, int] = {}
    if not needles:
        return hits
    # whole tokens only: "123" inside a hex pseudonym "a1234f..." is chance, not a leak
    alternatives = "|".join(re.escape(n) for n in sorted(needles, key=len, reverse=True))
    pattern = re.compile(f"(?<![0-9A-Za-z])(?:{alternatives})(?![0-9A-Za-z])")
    for graph in graphs:
        for quad in store.quads(graph):
            if quad.predicate.value in _OWN_TEXT:
                continue
            for term in (quad.subject, quad.object):
                text = getattr(term, "value", "")
                if isinstance(term, ox.NamedNode) and not text.startswith(DATA):
                    continue  # concept and vocabulary IRIs come from the hyperontology, not from the inputs
                for match in pattern.finditer(text):
                    hits[match.group(0)] = hits.get(match.group(0), 0) + 1
    return hits
