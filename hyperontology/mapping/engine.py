"""Apply a mapping to records: CDM instances as RDF quads, with everything that could not be mapped counted.

IRIs of instances are minted from keyed pseudonyms of their identifiers (never the raw identifier), so the
same patient from DICOM, FHIR and CSV is one node and a re-run mints the same IRIs.
"""

from __future__ import annotations

import fnmatch
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

import pyoxigraph as ox
from pydicom.datadict import keyword_for_tag

from hyperontology.mapping import units
from hyperontology.mapping.model import EntityRule, FieldRule, MappingSpec, When
from hyperontology.mapping.transforms import BUILTINS, apply_transform, parse_date, parse_number
from hyperontology.mapping.valuemaps import ValueMap
from hyperontology.ontology import codes
from hyperontology.ontology.api import Hyperontology
from hyperontology.prefixes import HO, PREFIXES, curie_to_iri
from hyperontology.pseudonymize.keys import PseudonymKey, normalise_patient_id
from hyperontology.sources.base import Record

DATA = HO + "data/"
#: free-text CDM properties: dropped unless a field rule says ``free_text: true`` (free text may name people)
FREE_TEXT = frozenset({"cdm:studyDescription", "cdm:seriesDescription", "cdm:protocolName", "cdm:description",
                       "cdm:title", "cdm:interpretation", "cdm:managingOrganization"})
_fhir_codes = BUILTINS["fhir_codes"]
DATA_GRAPH = ox.NamedNode(HO + "graph/data")
RDF_TYPE = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
XSD = "http://www.w3.org/2001/XMLSchema#"
_TAG = re.compile(r"^\(?([0-9A-Fa-f]{4}),?([0-9A-Fa-f]{4})\)?$")


@dataclass
class EntityResult:
    """One CDM instance made from one record by one entity rule."""

    iri: str
    cls: str
    rule: str
    record: Record
    quads: list[ox.Quad] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # a required value missing or unusable: quarantine
    notes: list[str] = field(default_factory=list)  # a value left out (reported, the instance still loads)


@dataclass
class MappingOutcome:
    """What applying mappings to records gave: instances, and what could not be mapped, counted."""

    entities: list[EntityResult] = field(default_factory=list)
    unmapped: Counter[tuple[str, str]] = field(default_factory=Counter)  # (value map, local value)
    unknown_codes: Counter[str] = field(default_factory=Counter)  # codes (CURIEs) not in the hyperontology
    unmatched_records: list[Record] = field(default_factory=list)


class Mapper:
    """Applies mapping specs to records; holds the key, the value maps and the set of known concept IRIs."""

    def __init__(self, specs: Iterable[MappingSpec], *, key: PseudonymKey, valuemaps: Mapping[str, ValueMap],
                 ontology: Hyperontology | None = None, shift_dates: bool = True) -> None:
        self.specs = list(specs)
        self.shift_dates = shift_dates
        self._patient: dict[int, str | None] = {}
        self.key = key
        self.valuemaps = valuemaps
        self.ontology = ontology
        self._expansions: dict[tuple[str, ...], frozenset[str]] = {}

    def under(self, roots: tuple[str, ...]) -> frozenset[str]:
        """CURIEs of every concept that expanding ``roots`` reaches (cached)."""
        if roots not in self._expansions:
            found: set[str] = set()
            for root in roots:
                if self.ontology is not None and root in self.ontology:
                    found |= {c.curie for c in self.ontology.expand(root)}
            self._expansions[roots] = frozenset(found)
        return self._expansions[roots]

    def holds(self, when: When, record: Record) -> bool:
        if when.under is None and when.not_under is None:
            return holds(when, record)
        value = _transformed(get_value(record, when.field), when.transforms, record)
        codes = set(_fhir_codes(value, None, {}) or [])
        codes |= {str(v).strip() for v in _as_list(value) if isinstance(v, str)}
        if when.under is not None:
            return bool(codes & self.under(when.under))
        return not codes & self.under(when.not_under or ())

    def mint(self, domain: str, value: Any) -> str:
        return f"{DATA}{domain}/{self.key.pseudonym(domain, _normalised(domain, value))}"

    def patient_of(self, spec: MappingSpec, record: Record) -> str | None:
        """The patient identifier of a record: the id of the spec's patient rule, else its first patient link."""
        if id(record) not in self._patient:
            found = None
            for rule in spec.entities:
                if rule.id.domain == "patient" and self._selects(rule, record):
                    found = get_value(record, rule.id.value)
                    break
            if found is None:
                links = [f for r in spec.entities if self._selects(r, record) for f in r.fields if f.link == "patient"]
                found = next((v for f in links if not _empty(v := _transformed(
                    get_value(record, f.value or ""), f.transforms, record))), None)
            if isinstance(found, list):
                found = found[0] if found else None
            self._patient[id(record)] = None if _empty(found) else str(found)
        return self._patient[id(record)]

    def _selects(self, rule: EntityRule, record: Record) -> bool:
        if not fnmatch.fnmatchcase(record.entity, rule.select):
            return False
        return rule.when is None or self.holds(rule.when, record)

    def apply(self, records: Iterable[Record]) -> MappingOutcome:
        outcome = MappingOutcome()
        for record in records:
            rules = [(spec, rule) for spec in self.specs if spec.source == record.source
                     for rule in spec.entities if self._selects(rule, record)]
            if not rules:
                outcome.unmatched_records.append(record)
            for spec, rule in rules:
                result = self._entity(spec, rule, record, outcome)
                if result is not None and self.shift_dates:
                    self._shift(result, self.patient_of(spec, record))
                if result is not None:
                    outcome.entities.append(result)
        return outcome

    def _entity(
        self, spec: MappingSpec, rule: EntityRule, record: Record, outcome: MappingOutcome
    ) -> EntityResult | None:
        ident = _transformed(get_value(record, rule.id.value), rule.id.transforms, record)
        if isinstance(ident, list):
            ident = ident[0] if ident else None
        if ident in (None, ""):
            result = EntityResult("", rule.cls, f"{spec.name}/{rule.name}", record)
            result.problems.append(f"no identifier: {rule.id.value} is empty")
            return result
        iri = self.mint(rule.id.domain, ident)
        result = EntityResult(iri, rule.cls, f"{spec.name}/{rule.name}", record)
        subject = ox.NamedNode(iri)
        result.quads.append(ox.Quad(subject, RDF_TYPE, ox.NamedNode(curie_to_iri(rule.cls)), DATA_GRAPH))
        for field_rule in rule.fields:
            for obj in self._objects(field_rule, record, result, outcome):
                prop = ox.NamedNode(curie_to_iri(field_rule.property))
                result.quads.append(ox.Quad(subject, prop, obj, DATA_GRAPH))
        return result

    def _shift(self, result: EntityResult, patient: str | None) -> None:
        """Move every date of the instance by the patient's keyed offset (intervals within a patient are kept)."""
        dated = [i for i, q in enumerate(result.quads) if isinstance(q.object, ox.Literal)
                 and q.object.datatype.value in (XSD + "date", XSD + "dateTime")]
        if not dated:
            return
        if patient is None:
            for i in reversed(dated):  # no patient to shift by: a true date would leak; leave it out
                result.notes.append(f"{result.quads[i].predicate.value}: date left out (no patient to shift it by)")
                del result.quads[i]
            return
        days = self.key.date_offset_days(patient)
        for i in dated:
            q = result.quads[i]
            literal = q.object
            assert isinstance(literal, ox.Literal)
            moved = (date.fromisoformat(literal.value[:10]) + timedelta(days=days)).isoformat() + literal.value[10:]
            shifted = ox.Literal(moved, datatype=literal.datatype)
            result.quads[i] = ox.Quad(q.subject, q.predicate, shifted, q.graph_name)

    def _objects(self, rule: FieldRule, record: Record, result: EntityResult,
                 outcome: MappingOutcome) -> list[ox.NamedNode | ox.Literal]:
        if rule.when is not None and not self.holds(rule.when, record):
            return []
        if rule.property in FREE_TEXT and not rule.free_text:
            return []
        raw = rule.constant if rule.constant is not None else get_value(record, rule.value or "")
        if _empty(raw):
            raw = rule.default
        if _empty(raw):
            if rule.required:
                result.problems.append(f"required {rule.property} missing ({rule.value})")
            return []
        value = _transformed(raw, rule.transforms, record)
        if _empty(value):
            self._lost(rule, result,
                       f"{rule.value}={_show(raw)} could not be transformed by {', '.join(rule.transforms)}")
            return []
        out = []
        for item in value if isinstance(value, list) else [value]:
            obj = self._object(rule, item, record, result, outcome)
            if obj is not None:
                out.append(obj)
        return out

    def _lost(self, rule: FieldRule, result: EntityResult, why: str) -> None:
        (result.problems if rule.required else result.notes).append(f"{rule.property}: {why}")

    def _object(self, rule: FieldRule, item: Any, record: Record, result: EntityResult,
                outcome: MappingOutcome) -> ox.NamedNode | ox.Literal | None:
        if rule.valuemap:
            curie = self.valuemaps[rule.valuemap].lookup(item)
            if curie is None:
                outcome.unmapped[(rule.valuemap, str(item).strip())] += 1
                self._lost(rule, result, f"value {_show(item)} not in value map {rule.valuemap}")
                return None
            return self._concept(curie, rule, result, outcome)
        if rule.link:
            return ox.NamedNode(self.mint(rule.link, item))
        if rule.pseudonym:
            return ox.Literal(self.key.pseudonym(rule.pseudonym, _normalised(rule.pseudonym, item)))
        if rule.pseudonym_uid:
            return ox.Literal(self.key.uid(rule.pseudonym_uid, str(item)))
        if rule.datatype == "iri":
            return self._concept(str(item), rule, result, outcome)
        if rule.unit_to:
            item = self._convert(rule, item, record, result)
            if item is None:
                return None
        literal = make_literal(item, rule.datatype or "xsd:string")
        if literal is None:
            self._lost(rule, result, f"{_show(item)} is not a valid {rule.datatype}")
        return literal

    def _concept(
        self, curie: str, rule: FieldRule, result: EntityResult, outcome: MappingOutcome
    ) -> ox.NamedNode | None:
        prefix, _, code = curie.partition(":")
        if prefix not in PREFIXES or (prefix in ("SCT", "LOINC", "NCIT", "ICD10", "ICDO3", "ATC")
                                      and not codes.valid(prefix, code)):
            self._lost(rule, result, f"{curie!r} is not a valid code")
            return None
        iri = curie_to_iri(curie)
        if self.ontology is not None and iri not in self.ontology:
            outcome.unknown_codes[curie] += 1
        return ox.NamedNode(iri)

    def _convert(self, rule: FieldRule, item: Any, record: Record, result: EntityResult) -> float | None:
        number = parse_number(item)
        source = rule.unit_from or (str(get_value(record, rule.unit_from_field)).strip()
                                    if rule.unit_from_field else None) or rule.unit_to
        converted = (None if number is None or rule.unit_to is None
                     else units.convert(number, source or "", rule.unit_to))
        if converted is None:
            self._lost(rule, result, f"{_show(item)} {source or ''} cannot be expressed in {rule.unit_to}")
        return converted


def _normalised(domain: str, value: Any) -> str:
    return normalise_patient_id(str(value)) if domain == "patient" else str(value).strip()


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or (isinstance(value, str) and not value.strip())


def _transformed(value: Any, transforms: tuple[str, ...], record: Record) -> Any:
    for spec in transforms:
        if _empty(value):
            return None
        value = apply_transform(spec, value, record.fields)
    return value


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [] if value is None else [value]


def holds(when: When, record: Record) -> bool:
    """Whether a condition of a mapping file holds for a record."""
    value = get_value(record, when.field)
    if when.exists is not None:
        return (not _empty(value)) == when.exists
    values = [str(v).strip() for v in (value if isinstance(value, list) else [value]) if v is not None]
    if when.equals is not None:
        return str(when.equals) in values
    if when.among is not None:
        return bool({str(v) for v in when.among} & set(values))
    if when.matches is not None:
        return any(re.search(when.matches, v) for v in values)
    if when.not_matches is not None:
        return not any(re.search(when.not_matches, v) for v in values)
    return True


def get_value(record: Record, name: str | tuple[str, ...]) -> Any:
    """A DICOM keyword or tag, a FHIR path (``code.coding``, ``subject``), or a CSV column of a record.

    A tuple of names gives alternatives: the first with a value wins.
    """
    if name == "$record":  # the record's own place: file name and locator (for tables without an id column)
        return f"{record.provenance.path.rsplit('/', 1)[-1]}|{record.provenance.locator}"
    if isinstance(name, tuple):
        for alternative in name:
            value = get_value(record, alternative)
            if not _empty(value):
                return value
        return None
    if record.source == "fhir":
        from hyperontology.sources.fhir import get_path

        values = get_path(dict(record.fields), name)
        return values[0] if len(values) == 1 else (values or None)
    if record.source == "dicom":
        match = _TAG.match(name)
        if match:
            name = keyword_for_tag(int(match.group(1) + match.group(2), 16)) or name
    return record.fields.get(name)


def make_literal(value: Any, datatype: str) -> ox.Literal | None:
    """A typed literal, or None when the value does not fit the datatype."""
    kind = datatype.removeprefix("xsd:")
    if kind == "string":
        return ox.Literal(str(value).strip())
    if kind in ("date", "dateTime"):
        iso = parse_date(value)
        if iso is None:
            return None
        return ox.Literal(iso if kind == "date" else iso + "T00:00:00", datatype=ox.NamedNode(XSD + kind))
    if kind == "boolean":
        flag = apply_transform("boolean", value) if not isinstance(value, bool) else value
        return None if flag is None else ox.Literal("true" if flag else "false", datatype=ox.NamedNode(XSD + kind))
    number = parse_number(value)
    if number is None:
        return None
    if kind == "integer":
        return ox.Literal(str(int(number)), datatype=ox.NamedNode(XSD + kind)) if number == int(number) else None
    try:
        text = str(Decimal(repr(number)).normalize()) if kind == "decimal" else repr(number)
    except InvalidOperation:
        return None
    if kind == "decimal":  # the XSD canonical form: always a decimal point
        text = format(Decimal(repr(number)).normalize(), "f")
        text = text if "." in text else text + ".0"
    return ox.Literal(text, datatype=ox.NamedNode(XSD + kind))
