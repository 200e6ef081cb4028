"""Apply a mapping to records: CDM instances as RDF quads, with everything that could not be mapped counted.

IRIs of instances are minted from keyed pseudonyms of their identifiers (never the raw identifier), so the
same patient from DICOM, FHIR and CSV is one node and a re-run mints the same IRIs.

Every value a field rule cannot use is a note of its instance (a problem, which quarantines the instance, when the
field is required) and is counted per field and kind in the outcome (:mod:`hyperontology.mapping.checks`): dates
that do not parse or read two ways, numbers, units, values no value map covers, impossible TNM categories, codes
the hyperontology lacks, diagnoses no cancer concept reaches, and columns a CSV table does not have.
"""

from __future__ import annotations

import fnmatch
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import cached_property
from typing import Any

import pyoxigraph as ox

from hyperontology.mapping import checks, units
from hyperontology.mapping.checks import MissingColumn, TnmAxes, field_label
from hyperontology.mapping.model import EntityRule, FieldRule, MappingSpec, When
from hyperontology.mapping.transforms import BUILTINS, UnusableValue, apply_transform, parse_number
from hyperontology.mapping.valuemaps import ValueMap
from hyperontology.mapping.values import XSD, as_list, empty, get_value, holds, make_literal
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
#: distinct example values kept per field and kind of problem (the counts cover every value)
EXAMPLES = 50


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
    flags: list[tuple[str, str, str]] = field(default_factory=list)  # (field, kind, value): counted per field


@dataclass
class MappingOutcome:
    """What applying mappings to records gave: instances, and what could not be mapped, counted."""

    entities: list[EntityResult] = field(default_factory=list)
    unmapped: Counter[tuple[str, str]] = field(default_factory=Counter)  # (value map, local value)
    unknown_codes: Counter[str] = field(default_factory=Counter)  # codes (CURIEs) not in the hyperontology
    unmatched_records: list[Record] = field(default_factory=list)
    field_values: Counter[str] = field(default_factory=Counter)  # field -> values it was given (not empty)
    field_problems: Counter[tuple[str, str]] = field(default_factory=Counter)  # (field, kind) -> values
    field_examples: dict[tuple[str, str], Counter[str]] = field(default_factory=dict)  # at most EXAMPLES each
    missing_columns: list[MissingColumn] = field(default_factory=list)  # once per table and column

    def count(self, result: EntityResult) -> None:
        """Add the flagged values of an instance to the per-field counts."""
        for label, kind, value in result.flags:
            self.flag(label, kind, value)

    def by_field(self) -> dict[str, dict[str, int]]:
        """Field -> kind of problem -> how many values (JSON-ready, sorted)."""
        found: dict[str, dict[str, int]] = {}
        for (label, kind), n in sorted(self.field_problems.items()):
            found.setdefault(label, {})[kind] = n
        return found

    def flag(self, label: str, kind: str, value: str) -> None:
        """Count one value of a field with a problem of this kind (keeping the first EXAMPLES distinct values)."""
        self.field_problems[(label, kind)] += 1
        examples = self.field_examples.setdefault((label, kind), Counter())
        if value in examples or len(examples) < EXAMPLES:
            examples[value] += 1


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

    @cached_property
    def tnm(self) -> TnmAxes | None:
        """The TNM categories by axis (None without an ontology: TNM values are then not checked)."""
        return None if self.ontology is None else TnmAxes(self.ontology)

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
        codes |= {str(v).strip() for v in as_list(value) if isinstance(v, str)}
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
                found = next((v for f in links if not empty(v := _transformed(
                    get_value(record, f.value or ""), f.transforms, record))), None)
            if isinstance(found, list):
                found = found[0] if found else None
            self._patient[id(record)] = None if empty(found) else str(found)
        return self._patient[id(record)]

    def _selects(self, rule: EntityRule, record: Record) -> bool:
        if not fnmatch.fnmatchcase(record.entity, rule.select):
            return False
        return rule.when is None or self.holds(rule.when, record)

    def apply(self, records: Iterable[Record]) -> MappingOutcome:
        try:
            return self._apply(records)
        finally:
            self._patient.clear()  # keyed by id(record): ids of freed records come back for other records

    def _apply(self, records: Iterable[Record]) -> MappingOutcome:
        outcome = MappingOutcome()
        tables: dict[str, dict[str, list[MissingColumn]]] = {}  # CSV file -> rule -> columns it lacks
        for record in records:
            rules = [(spec, rule) for spec in self.specs if spec.source == record.source
                     for rule in spec.entities if self._selects(rule, record)]
            if not rules:
                outcome.unmatched_records.append(record)
            missing = self._missing_columns(record, tables, outcome)
            for spec, rule in rules:
                for column in missing.get(f"{spec.name}/{rule.name}", ()):
                    outcome.flag(column.label, checks.COLUMN_MISSING, column.column)
                result = self._entity(spec, rule, record, outcome)
                if result is not None and self.shift_dates:
                    self._shift(result, self.patient_of(spec, record))
                if result is not None:
                    outcome.entities.append(result)
                    outcome.count(result)
        return outcome

    def _missing_columns(self, record: Record, tables: dict[str, dict[str, list[MissingColumn]]],
                         outcome: MappingOutcome) -> dict[str, list[MissingColumn]]:
        """The columns the rules of CSV mappings read that the record's table lacks (found once per table)."""
        if record.source != "csv":
            return {}
        path = record.provenance.path
        if path not in tables:
            tables[path] = checks.missing_columns(self.specs, path, record.entity, list(record.fields))
            outcome.missing_columns += [c for found in tables[path].values() for c in found]
        return tables[path]

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
        for i in reversed(dated):
            q = result.quads[i]
            literal = q.object
            assert isinstance(literal, ox.Literal)
            try:
                moved = (date.fromisoformat(literal.value[:10]) + timedelta(days=days)).isoformat()
            except (ValueError, OverflowError):  # a date the shift takes out of the calendar (year 1): left out
                result.notes.append(f"{q.predicate.value}: date left out (it cannot be shifted: out of range)")
                del result.quads[i]
                continue
            shifted = ox.Literal(moved + literal.value[10:], datatype=literal.datatype)
            result.quads[i] = ox.Quad(q.subject, q.predicate, shifted, q.graph_name)

    def _objects(self, rule: FieldRule, record: Record, result: EntityResult,
                 outcome: MappingOutcome) -> list[ox.NamedNode | ox.Literal]:
        if rule.when is not None and not self.holds(rule.when, record):
            return []
        if rule.property in FREE_TEXT and not rule.free_text:
            return []
        raw = rule.constant if rule.constant is not None else get_value(record, rule.value or "")
        if empty(raw):
            raw = rule.default
        if empty(raw):
            if rule.required:
                result.problems.append(f"required {rule.property} missing ({rule.value})")
            return []
        label = field_label(result.rule, rule)
        try:
            value, failed = _steps(raw, rule.transforms, record)
        except UnusableValue as exc:
            outcome.field_values[label] += 1
            self._lost(rule, result, f"{rule.value}={_show(raw)}: {exc}", exc.kind, raw)
            return []
        if failed is not None:
            outcome.field_values[label] += 1
            self._lost(rule, result, f"{rule.value}={_show(raw)} could not be transformed by "
                       f"{', '.join(rule.transforms)}", checks.transform_kind(failed), raw)
            return []
        out = []
        for item in value if isinstance(value, list) else [value]:
            outcome.field_values[label] += 1  # each value of a list counts (FHIR codings ...)
            obj = self._object(rule, item, record, result, outcome)
            if obj is not None:
                out.append(obj)
        return out

    def _lost(self, rule: FieldRule, result: EntityResult, why: str, kind: str, value: Any) -> None:
        (result.problems if rule.required else result.notes).append(f"{rule.property}: {why}")
        result.flags.append((field_label(result.rule, rule), kind, _example(value)))

    def _object(self, rule: FieldRule, item: Any, record: Record, result: EntityResult,
                outcome: MappingOutcome) -> ox.NamedNode | ox.Literal | None:
        if rule.valuemap:
            curie = self.valuemaps[rule.valuemap].lookup(item)
            if curie is None:
                outcome.unmapped[(rule.valuemap, str(item).strip())] += 1
                self._lost(rule, result, f"value {_show(item)} not in value map {rule.valuemap}",
                           checks.NOT_IN_VALUEMAP, item)
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
        return self._literal(rule, item, record, result)

    def _literal(self, rule: FieldRule, item: Any, record: Record, result: EntityResult) -> ox.Literal | None:
        if rule.unit_to:
            item = self._convert(rule, item, record, result)
            if item is None:
                return None
        try:
            literal = make_literal(item, rule.datatype or "xsd:string")
        except UnusableValue as exc:
            self._lost(rule, result, str(exc), exc.kind, item)
            return None
        if literal is None:
            self._lost(rule, result, f"{_show(item)} is not a valid {rule.datatype}",
                       checks.datatype_kind(rule.datatype or ""), item)
        return literal

    def _concept(
        self, curie: str, rule: FieldRule, result: EntityResult, outcome: MappingOutcome
    ) -> ox.NamedNode | None:
        prefix, _, code = curie.partition(":")
        if prefix not in PREFIXES or (prefix in ("SCT", "LOINC", "NCIT", "ICD10", "ICDO3", "ATC")
                                      and not codes.valid(prefix, code)):
            self._lost(rule, result, f"{curie!r} is not a valid code", checks.NOT_A_CODE, curie)
            return None
        impossible = self.tnm.problem(rule.property, curie) if self.tnm is not None else None
        if impossible is not None:
            self._lost(rule, result, impossible, checks.NOT_TNM, curie)
            return None
        iri = curie_to_iri(curie)
        if self.ontology is not None and iri not in self.ontology:
            outcome.unknown_codes[curie] += 1
            result.flags.append((field_label(result.rule, rule), checks.UNKNOWN_CODE, curie))
        elif self.ontology is not None and rule.property in checks.DIAGNOSIS_PROPERTIES and (
                self.ontology.concept(iri).curie not in self.under(checks.CANCER_ROOTS)):
            result.flags.append((field_label(result.rule, rule), checks.NOT_CANCER, curie))
        return ox.NamedNode(iri)

    def _convert(self, rule: FieldRule, item: Any, record: Record, result: EntityResult) -> float | None:
        number = parse_number(item)
        source = rule.unit_from or (str(get_value(record, rule.unit_from_field)).strip()
                                    if rule.unit_from_field else None) or rule.unit_to
        converted = (None if number is None or rule.unit_to is None
                     else units.convert(number, source or "", rule.unit_to))
        if converted is None:
            kind = checks.NOT_A_NUMBER if number is None else checks.NOT_CONVERTIBLE
            self._lost(rule, result, f"{_show(item)} {source or ''} cannot be expressed in {rule.unit_to}", kind,
                       f"{item} {source or ''}".strip())
        return converted


def _normalised(domain: str, value: Any) -> str:
    return normalise_patient_id(str(value)) if domain == "patient" else str(value).strip()


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _example(value: Any) -> str:
    text = str(value).strip()
    return text if len(text) <= 60 else text[:57] + "..."


def _steps(value: Any, transforms: tuple[str, ...], record: Record) -> tuple[Any, str | None]:
    """The value after the transformations, and the one that gave nothing (None when none did)."""
    for spec in transforms:
        value = apply_transform(spec, value, record.fields)
        if empty(value):
            return None, spec
    return value, None


def _transformed(value: Any, transforms: tuple[str, ...], record: Record) -> Any:
    """The value after the transformations; None when one gives nothing or cannot use the value."""
    if empty(value):
        return None
    try:
        return _steps(value, transforms, record)[0]
    except UnusableValue:
        return None
