"""``mapping check``: what a mapping would do, found before anything is ingested.

Without data, :func:`check_mappings` finds what the mapping files alone say: an entity rule that never fills a
property the CDM shapes require (a ``cdm:Patient`` rule without ``cdm:patientIdentifier``: every patient would be
quarantined at ingest). With data, :func:`check_data` runs the mapping engine on the records (nothing is written,
a throw-away key) and reports every column a rule reads that a table lacks (with the nearest header), and per field
the values that cannot be used: dates that do not parse or read two ways, numbers, units, values no value map
covers, TNM values invalid for their axis, codes the hyperontology lacks, diagnoses no cancer concept reaches.

Errors are what only a change of the mapping mends (a missing column or required property, ambiguous dates,
impossible TNM values, a field none of whose values is usable); warnings are values to look at.

Examples
--------
>>> from hyperontology.mapping.loader import MappingSet, default_mappings_dir
>>> check_mappings(MappingSet.load(default_mappings_dir())).errors
[]
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import rdflib

from hyperontology.mapping import checks
from hyperontology.mapping.engine import Mapper, MappingOutcome
from hyperontology.mapping.loader import MappingSet
from hyperontology.ontology.api import Hyperontology
from hyperontology.ontology.files import bundled_dir
from hyperontology.prefixes import curie_to_iri, iri_to_curie
from hyperontology.pseudonymize.keys import PseudonymKey
from hyperontology.sources.base import Record

SH = rdflib.Namespace("http://www.w3.org/ns/shacl#")


@dataclass
class CheckReport:
    """What ``mapping check`` found: errors, warnings and, with data, per-field counts (JSON-ready)."""

    mappings: list[str]
    notes: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    fields: dict[str, dict[str, Any]] = field(default_factory=dict)
    unmapped_values: dict[str, int] = field(default_factory=dict)
    unknown_codes: dict[str, int] = field(default_factory=dict)
    records_not_mapped: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


# ------------------------------------------------------------------------------------------ mappings alone
@cache
def required_properties() -> dict[str, list[tuple[str, str, str]]]:
    """Class IRI -> ``(property IRI, severity, message)`` of every property its CDM shape needs (``sh:minCount``)."""
    shapes = rdflib.Graph().parse(bundled_dir() / "cdm-shapes.ttl", format="turtle")
    found: dict[str, list[tuple[str, str, str]]] = {}
    for shape, cls in shapes.subject_objects(SH.targetClass):
        for prop in shapes.objects(shape, SH.property):
            path, least = shapes.value(prop, SH.path), shapes.value(prop, SH.minCount)
            if isinstance(path, rdflib.URIRef) and isinstance(least, rdflib.Literal) and int(least) >= 1:
                severity = shapes.value(prop, SH.severity) or SH.Violation
                message = str(shapes.value(prop, SH.message) or "")
                found.setdefault(str(cls), []).append((str(path), str(severity).rsplit("#", 1)[-1], message))
    return found


def check_mappings(mappings: MappingSet) -> CheckReport:
    """What the mapping files alone say: entity rules that never fill a property the CDM shapes require."""
    report = CheckReport([f"{s.name}@{s.version}" for s in mappings.specs], notes=list(mappings.notes))
    for spec in mappings.specs:
        for rule in spec.entities:
            filled = {curie_to_iri(f.property) for f in rule.fields}
            for prop, severity, message in required_properties().get(curie_to_iri(rule.cls), []):
                if prop in filled:
                    continue
                where = f"{spec.path}:{rule.line}: [required] {spec.name}/{rule.name} ({rule.cls}) has no field " \
                        f"for {iri_to_curie(prop) or prop}"
                if severity == "Violation":
                    report.errors.append(f"{where}: every instance would be quarantined at ingest ({message})")
                else:
                    report.warnings.append(f"{where} ({message})")
    return report


# ------------------------------------------------------------------------------------------ with data
def check_data(mappings: MappingSet, records: Iterable[Record], ontology: Hyperontology) -> CheckReport:
    """Run the mappings on ``records`` (nothing stored) and report what they would lose or misstate."""
    report = check_mappings(mappings)
    records = list(records)
    mapper = Mapper(mappings.specs, key=PseudonymKey(bytes(32)), valuemaps=mappings.valuemaps, ontology=ontology,
                    shift_dates=False)
    outcome = mapper.apply(records)
    report.errors += [str(c) for c in outcome.missing_columns]
    _field_findings(outcome, report)
    _unused_mappings(mappings, records, outcome, report)
    report.unmapped_values = {f"{vm}\t{value}": n for (vm, value), n in outcome.unmapped.most_common()}
    report.unknown_codes = dict(outcome.unknown_codes.most_common())
    report.records_not_mapped = dict(Counter(f"{r.source}:{r.entity}" for r in outcome.unmatched_records))
    if report.records_not_mapped:
        report.warnings.append("records no mapping selects: " + ", ".join(
            f"{k} ({n})" for k, n in report.records_not_mapped.items()))
    return report


def examples(counts: Counter[str], limit: int = 5) -> str:
    """``'a' (3), 'b' (1)`` for the most common values, then how many more distinct values there are."""
    shown = ", ".join(f"{value!r} ({n})" for value, n in counts.most_common(limit))
    more = len(counts) - limit
    return shown + (f" and {more} more" if more > 0 else "")


def _field_findings(outcome: MappingOutcome, report: CheckReport) -> None:
    for (label, kind), n in sorted(outcome.field_problems.items()):
        seen = outcome.field_examples.get((label, kind), Counter())
        entry = report.fields.setdefault(label, {"values": outcome.field_values.get(label, 0), "problems": {}})
        entry["problems"][kind] = {"count": n, "examples": dict(seen.most_common())}
        if kind == checks.COLUMN_MISSING:
            continue  # reported once per table and column
        hint = checks.HINTS.get(kind)
        text = f"{label}: {n} {kind}, e.g. {examples(seen)}" + (f"; {hint}" if hint else "")
        everything = kind not in checks.KEPT and n >= outcome.field_values.get(label, 0)
        if kind in checks.MAPPING_ERRORS or everything:
            report.errors.append(text + (" (no value of the field is usable)" if everything else ""))
        else:
            report.warnings.append(text)


def _unused_mappings(mappings: MappingSet, records: list[Record], outcome: MappingOutcome,
                     report: CheckReport) -> None:
    """A warning for each mapping file of a source the data has whose rules select none of its records."""
    used = {e.rule.split("/", 1)[0] for e in outcome.entities}
    tables: dict[str, set[str]] = {}
    for record in records:
        tables.setdefault(record.source, set()).add(record.entity)
    for spec in mappings.specs:
        if spec.source in tables and spec.name not in used:
            report.warnings.append(
                f"{spec.path}: [select] no rule of {spec.name} selects a record of the data ({spec.source} entities: "
                f"{', '.join(sorted(tables[spec.source])[:10])}); check select.entity")
