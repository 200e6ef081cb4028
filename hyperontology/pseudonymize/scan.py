"""Scan a store for the raw identifiers of the inputs it was loaded from: there must be none.

The identifiers are collected from the same records ingestion reads: DICOM patient, study, series and instance
identifiers, names and accession numbers; FHIR resource ids, identifiers and human names; CSV columns whose name
says they identify (``mrn``, ``*_id``, ``*name*``, ``address*``, ``zip``...). Every string of every graph of the
store (literals, and the local part of data IRIs) is searched for each of them.

An identifier is found however it is written, the way the pseudonymizer treats two spellings as one
(:func:`hyperontology.pseudonymize.keys.normalise_patient_id`): case and runs of whitespace do not matter
(``"mrn 12ab"`` is ``"MRN  12AB"``). Person names (DICOM PN values, FHIR HumanName, CSV name columns) are split
into their parts (``^`` components, words) and every part of at least :data:`MIN_LENGTH` characters is searched on
its own: one part of a name is a leak, and a reordered name (``"John Doe"`` for ``DOE^JOHN``) holds its parts.
Other identifiers are searched whole. A match stands as a whole token: not inside a longer run of letters or
digits (``"123"`` inside a hex pseudonym ``"a1234f"`` is chance, not a leak). A one-word identifier that the inputs
also hold in a value the store may keep (a device model ``"Optima XR220"`` next to the test patient
``XR220^Samantha``, ``"Test Model"`` next to ``Test^Patient``) is not searched: finding it would prove nothing.
Free text (descriptions, notes, FHIR narrative) explains nothing, as it may name the patient itself.

Examples
--------
>>> from hyperontology.sources.base import Provenance, Record
>>> record = Record("dicom", "instance", {"PatientID": " AB  12 ", "PatientName": "DOE^JOHN^^^Jr"}, Provenance("x"))
>>> sorted(identifiers([record]))
['ab 12', 'doe', 'john']
>>> find(identifiers([record]), "seen: John Doe, mrn Ab 12")
['john', 'doe', 'ab 12']
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

import pyoxigraph as ox

from hyperontology.mapping.engine import DATA
from hyperontology.prefixes import HO
from hyperontology.pseudonymize.keys import normalise_patient_id
from hyperontology.sources.base import Record
from hyperontology.store.base import Store

__all__ = ["DICOM_IDENTIFYING", "MIN_LENGTH", "find", "identifiers", "name_parts", "scan_store"]

DICOM_IDENTIFYING = ("PatientID", "PatientName", "StudyInstanceUID", "SeriesInstanceUID", "SOPInstanceUID",
                     "AccessionNumber", "InstitutionName", "OtherPatientIDs", "ReferringPhysicianName")
#: DICOM attributes holding person names (VR PN): searched part by part
DICOM_NAMES = frozenset({"PatientName", "ReferringPhysicianName"})
#: free text, which may name the patient: never taken as the innocent source of a word
_DICOM_FREE_TEXT = frozenset({"StudyDescription", "SeriesDescription", "ProtocolName"})
_FREE_TEXT_KEYS = re.compile(r"(note|comment|description|text|narrative|remark)s?$", re.IGNORECASE)
_FHIR_SKIPPED = frozenset({"id", "identifier", "name", "contact", "address", "telecom", "text", "photo", "note",
                                "resourceType"})
_CSV_IDENTIFYING = re.compile(r"(^|_)(mrn|id|patient_?id|patient_?number|name|family_?name|given_?name|address.*|"
                              r"zip|postcode|phone|email|ssn)$|name$|Id$|Name$", re.IGNORECASE)
_CSV_PERSON_NAME = re.compile(r"(^|_)(name|family_?name|given_?name|first_?name|last_?name|middle_?name|surname|"
                              r"patient_?name|full_?name|maiden_?name)$", re.IGNORECASE)
_FHIR_PEOPLE = frozenset({"Patient", "Practitioner", "RelatedPerson", "Person"})
# literals the pipeline writes itself (mapping rule names; reasons, whose source values are blanked; run times and
# instance frame counts)
_OWN_TEXT = {HO + "mapping", HO + "mappingFile", HO + "quarantineReason", HO + "numberOfFrames",
             "http://www.w3.org/ns/prov#endedAtTime"}
_SEPARATORS = re.compile(r"[\W_]+")
MIN_LENGTH = 3  # shorter strings (a sex code, "1", "Li") occur everywhere by chance and identify nobody


def _normal(text: str) -> str:
    """Text as identifiers are compared: case folded, whitespace runs collapsed to one space."""
    return normalise_patient_id(text)


def name_parts(name: Any) -> set[str]:
    """The parts of a person name worth searching: ``^`` components and words, case folded, MIN_LENGTH or longer.

    Examples
    --------
    >>> sorted(name_parts("Doe^John^A^Dr.")), sorted(name_parts("van der Berg, Anna-Lena"))
    (['doe', 'john'], ['anna', 'berg', 'der', 'lena', 'van'])
    """
    return {part for part in _SEPARATORS.split(_normal(str(name))) if len(part) >= MIN_LENGTH}


def _whole(value: Any) -> set[str]:
    text = _normal(str(value))
    return {text} if len(text) >= MIN_LENGTH else set()


def identifiers(records: Iterable[Record]) -> set[str]:
    """The identifying strings of records, normalised (see the module docs), each at least MIN_LENGTH long."""
    found: set[str] = set()
    innocent: set[str] = set()
    for record in records:
        whole, names, other = _split(record)
        for value in whole:
            found |= _whole(value) if value is not None else set()
        for value in names:
            found |= name_parts(value) if value is not None else set()
        for value in other:
            innocent |= set(_SEPARATORS.split(_normal(value)))
    return {needle for needle in found if needle not in innocent}


def _split(record: Record) -> tuple[list[Any], list[Any], list[str]]:
    """A record's identifiers (searched whole), person names (searched by part), and the other text it holds."""
    fields = record.fields
    if record.source == "dicom":
        whole = [fields.get(k) for k in DICOM_IDENTIFYING if k not in DICOM_NAMES]
        names = [fields.get(k) for k in DICOM_NAMES]
        rest = {k: v for k, v in fields.items() if k not in DICOM_IDENTIFYING and k not in _DICOM_FREE_TEXT}
        return whole, names, list(_strings(rest))
    if record.source == "fhir":
        whole, names = _fhir_identifiers(fields)
        return whole, names, list(_strings(fields, skip=_FHIR_SKIPPED))
    names = [v for k, v in fields.items() if _CSV_PERSON_NAME.search(k)]
    whole = [v for k, v in fields.items() if _CSV_IDENTIFYING.search(k) and not _CSV_PERSON_NAME.search(k)]
    rest = {k: v for k, v in fields.items() if not _CSV_IDENTIFYING.search(k) and not _FREE_TEXT_KEYS.search(k)}
    return whole, names, list(_strings(rest))


def _strings(value: Any, *, skip: frozenset[str] = frozenset()) -> Iterable[str]:
    """Every string in a JSON-like value, but under keys in ``skip``, free-text keys and FHIR References."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item, skip=skip)
    elif isinstance(value, dict) and "reference" not in value:  # a Reference's display names its target
        for key, item in value.items():
            if key not in skip and not _FREE_TEXT_KEYS.search(str(key)):
                yield from _strings(item, skip=skip)


def _fhir_identifiers(resource: Any) -> tuple[list[Any], list[Any]]:
    """Identifiers (searched whole) and person names (searched by part) of a FHIR resource."""
    whole: list[Any] = []
    names: list[Any] = []
    if resource.get("resourceType") in _FHIR_PEOPLE:
        whole.append(resource.get("id"))
        people = list(resource.get("name", []) or [])
        people += [c.get("name") for c in resource.get("contact", []) or [] if isinstance(c, dict)]
        for name in people:
            if isinstance(name, dict):
                names += [name.get("family"), *(name.get("given", []) or []), name.get("text")]
    for ident in resource.get("identifier", []) or []:
        if isinstance(ident, dict):
            whole.append(ident.get("value"))
    return whole, names


def _pattern(needles: set[str]) -> re.Pattern[str]:
    alternatives = "|".join(re.escape(n) for n in sorted(needles, key=len, reverse=True))
    return re.compile(f"(?<![^\\W_])(?:{alternatives})(?![^\\W_])")


def find(needles: set[str], text: str) -> list[str]:
    """The needles found in ``text`` as whole tokens, compared as normalised (in order of occurrence)."""
    if not needles:
        return []
    return [match.group(0) for match in _pattern(needles).finditer(_normal(text))]


def _texts(quad: ox.Quad) -> Iterable[str]:
    """What of a quad may carry an input's value: literals, and the local part of data IRIs."""
    for term in (quad.subject, quad.object):
        if isinstance(term, ox.Literal):
            yield term.value
        elif isinstance(term, ox.NamedNode) and term.value.startswith(DATA):
            yield term.value.rsplit("/", 1)[-1]  # the domain before it is the mapping's word, not the input's


def scan_store(store: Store, needles: set[str], *, graphs: Iterable[str] = ("data", "provenance", "quarantine"),
               ) -> dict[str, int]:
    """Identifier -> number of store terms holding it (an empty dict means the store is clean).

    ``needles`` are normalised identifiers (:func:`identifiers`); concept and vocabulary IRIs are not searched
    (they come from the hyperontology, not from the inputs).
    """
    hits: dict[str, int] = {}
    if not needles:
        return hits
    pattern = _pattern({_normal(n) for n in needles})
    for graph in graphs:
        for quad in store.quads(graph):
            if quad.predicate.value in _OWN_TEXT:
                continue
            for text in _texts(quad):
                for match in pattern.finditer(_normal(text)):
                    hits[match.group(0)] = hits.get(match.group(0), 0) + 1
    return hits
