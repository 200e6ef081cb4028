"""What a mapped value must be beyond its datatype, and what a CSV mapping must find in its tables.

- TNM values valid for their axis: a ``cdm:tnmT`` value is a T category of the hyperontology's TNM scheme
  (``T0``-``T4`` and their subdivisions, ``Tis``, ``Ta``, ``TX``), and likewise for N, M and stage groups. ``T5``,
  ``N4`` or ``M3`` is no category at all: the value is left out with the reason, not stored as a code the
  hyperontology lacks. ``MX`` (dropped in the 7th edition of TNM, still written by older tables) is a real category
  the hyperontology lacks: kept and reported as such.
- Diagnosis codes a cancer concept reaches: a ``cdm:diagnosisCode`` outside the expansion of :data:`CANCER_ROOTS`
  (no parent, no mapping that leads to a neoplasm) is kept and reported: cohort queries for cancers miss it.
- Columns: every column a CSV mapping reads is in the tables its rules select (else the nearest header is offered).
- Kinds: what can go wrong with a value, as counted per field (``not a date``, ``ambiguous date`` ...).

Examples
--------
>>> from hyperontology import load_ontology
>>> axes = TnmAxes(load_ontology())
>>> axes.problem("cdm:tnmT", "TNM:T2a") is None, axes.problem("cdm:tnmM", "TNM:MX") is None
(True, True)
>>> axes.problem("cdm:tnmN", "TNM:N4")
"N4 is not a TNM N category (the TNM scheme's: N0, N1, N2, N3, NX, and their subdivisions)"
>>> axes.problem("cdm:tnmT", "TNM:N1")
'N1 is a TNM N category, not a T category'
"""

from __future__ import annotations

import difflib
import fnmatch
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from hyperontology.mapping.model import EntityRule, FieldRule, MappingSpec, When
from hyperontology.mapping.transforms import split_call
from hyperontology.ontology.api import Hyperontology

# ------------------------------------------------------------------------------------------ kinds
COLUMN_MISSING = "column not in the table"
AMBIGUOUS_DATE = "ambiguous date"
NOT_A_DATE = "not a date"
NOT_A_NUMBER = "not a number"
NOT_IN_VALUEMAP = "not in the value map"
NOT_A_CODE = "not a valid code"
NOT_CONVERTIBLE = "unit not convertible"
NOT_TNM = "not a TNM category of its axis"
UNKNOWN_CODE = "code not in the hyperontology (kept)"
NOT_CANCER = "diagnosis no cancer concept reaches (kept)"
#: kinds whose value is still stored (with the warning); a value of any other kind is left out
KEPT = frozenset({UNKNOWN_CODE, NOT_CANCER})
#: kinds that only a change of the mapping file mends (``mapping check`` reports them as errors)
MAPPING_ERRORS = frozenset({COLUMN_MISSING, AMBIGUOUS_DATE, NOT_TNM})
#: what a curator can do about a kind of problem (``mapping check`` says it after the counts)
HINTS: Mapping[str, str] = {
    AMBIGUOUS_DATE: "say how the field writes dates: date(day-first), date(month-first) or date(<strptime format>)",
    NOT_A_DATE: "values no date form reads; if the field has one form, name it: date(day-first), date(%d/%m/%y) ...",
    NOT_TNM: "only the categories of the hyperontology's TNM scheme are TNM values; a column of local codes needs a "
             "value map, a column of bare numbers prefix(T) / prefix(N) / prefix(M) before tnm",
    NOT_IN_VALUEMAP: "add rows to the value map (sssom:NoTermFound for a value that has no concept)",
}
_TRANSFORM_KINDS = {"date": NOT_A_DATE, "number": NOT_A_NUMBER, "integer": NOT_A_NUMBER, "tnm": "not a TNM value"}
_DATATYPE_KINDS = {"date": NOT_A_DATE, "dateTime": NOT_A_DATE, "decimal": NOT_A_NUMBER, "double": NOT_A_NUMBER,
                   "integer": NOT_A_NUMBER, "boolean": "not a boolean"}


def transform_kind(spec: str) -> str:
    """The kind of a value a transformation call gave nothing for (``date(%d/%m/%y)`` -> ``not a date``)."""
    return _TRANSFORM_KINDS.get(spec.split("(", 1)[0].strip(), f"no value from {spec}")


def datatype_kind(datatype: str) -> str:
    """The kind of a value that does not fit a datatype (``xsd:dateTime`` -> ``not a date``)."""
    return _DATATYPE_KINDS.get(datatype.removeprefix("xsd:"), f"not a valid {datatype}")


def field_label(rule_id: str, field: FieldRule) -> str:
    """How reports name a field rule: ``mapping/rule property (column)``."""
    source = ("|".join(field.value) if isinstance(field.value, tuple) else field.value) if field.value else (
        f"constant {field.constant!r}")
    return f"{rule_id} {field.property} ({source})"


# ------------------------------------------------------------------------------------------ TNM
#: CDM property -> the TNM axis its values belong to
TNM_AXES: Mapping[str, str] = {"cdm:tnmT": "T", "cdm:tnmN": "N", "cdm:tnmM": "M", "cdm:stageGroup": "stage group"}
_AXIS_ROOTS = {"T": ("TNM:T",), "N": ("TNM:N",), "M": ("TNM:M",),
               "stage group": ("TNM:0", "TNM:I", "TNM:II", "TNM:III", "TNM:IV")}
#: categories of earlier TNM editions the hyperontology does not hold: real codes, kept and reported as unknown
FORMER_CATEGORIES: Mapping[str, frozenset[str]] = {"M": frozenset({"MX"})}


def _noun(axis: str) -> str:
    return "stage group" if axis == "stage group" else f"{axis} category"


class TnmAxes:
    """The TNM categories and stage groups of the hyperontology's TNM scheme, by axis."""

    def __init__(self, ontology: Hyperontology) -> None:
        self._members: dict[str, frozenset[str]] = {}
        self._main: dict[str, list[str]] = {}
        for axis, roots in _AXIS_ROOTS.items():
            codes = set(roots) if axis == "stage group" else set()
            main = list(roots) if axis == "stage group" else []
            for root in (r for r in roots if r in ontology):
                codes |= {c.curie for c in ontology.descendants(root)}
                main += [] if axis == "stage group" else [c.curie for c in ontology.children(root)]
            self._members[axis] = frozenset(c.removeprefix("TNM:") for c in codes)
            self._main[axis] = [c.removeprefix("TNM:") for c in main]

    def problem(self, prop: str, curie: str) -> str | None:
        """Why a TNM code cannot be a value of this property (None: it can, or the property is not TNM)."""
        axis = TNM_AXES.get(prop)
        if axis is None or not curie.startswith("TNM:"):
            return None
        code = curie.removeprefix("TNM:")
        if code in self._members[axis] or code in FORMER_CATEGORIES.get(axis, ()):
            return None
        other = next((a for a, members in self._members.items() if code in members), None)
        if other is not None:
            return f"{code} is a TNM {_noun(other)}, not a {_noun(axis)}"
        parts = "subgroups" if axis == "stage group" else "subdivisions"
        return (f"{code} is not a TNM {_noun(axis)} (the TNM scheme's: {', '.join(self._main[axis])}, "
                f"and their {parts})")


# ------------------------------------------------------------------------------------------ diagnoses
#: a diagnosis code is a cancer diagnosis when expanding one of these reaches it (neoplastic disease, neoplasm in
#: SNOMED CT and NCIt, ICD-10 chapter II "Neoplasms"): the roots of the shipped mappings' cancer conditions
CANCER_ROOTS = ("SCT:55342001", "SCT:108369006", "NCIT:C3262", "ICD10:II")
#: CDM properties whose value is the diagnosis of a cancer
DIAGNOSIS_PROPERTIES = frozenset({"cdm:diagnosisCode"})


# ------------------------------------------------------------------------------------------ columns
#: transformations whose argument names a column of the record
COLUMN_ARGUMENTS = frozenset({"code_in_system"})


@dataclass(frozen=True)
class MissingColumn:
    """A column a CSV rule reads that a table it selects does not have."""

    mapping: str
    line: int
    rule: str
    label: str
    column: str
    table: str
    suggestion: str | None

    def __str__(self) -> str:
        hint = f"; did you mean {self.suggestion!r}?" if self.suggestion else ""
        return (f"{self.mapping}:{self.line}: [column] {self.label}: column {self.column!r} is not in table "
                f"{Path(self.table).name}{hint}")


def _names(value: str | tuple[str, ...] | None) -> tuple[str, ...]:
    names = (value,) if isinstance(value, str) else (value or ())
    return tuple(n for n in names if n != "$record")


def _argument_columns(transforms: tuple[str, ...]) -> Iterator[tuple[str, ...]]:
    for spec in transforms:
        name, arg = split_call(spec)
        if name in COLUMN_ARGUMENTS and arg:
            yield (arg,)


def _condition_columns(when: When | None) -> Iterator[tuple[str, ...]]:
    if when is not None:
        yield (when.field,)
        yield from _argument_columns(when.transforms)


def read_columns(rule_id: str, rule: EntityRule) -> Iterator[tuple[str, int, tuple[str, ...]]]:
    """``(label, line, alternatives)`` for every column an entity rule reads: a value with alternatives needs one."""
    for names in (_names(rule.id.value), *_argument_columns(rule.id.transforms)):
        yield f"{rule_id} id", rule.line, names
    for names in _condition_columns(rule.when):
        yield f"{rule_id} select.when", rule.line, names
    for f in rule.fields:
        label = field_label(rule_id, f)
        extra = [(f.unit_from_field,)] if f.unit_from_field else []
        for names in (_names(f.value), *_argument_columns(f.transforms), *_condition_columns(f.when), *extra):
            yield label, f.line, names


def missing_columns(specs: list[MappingSpec], table: str, entity: str,
                    columns: list[str]) -> dict[str, list[MissingColumn]]:
    """Rule id -> the columns its rules read that the table (path, entity name, header) lacks."""
    found: dict[str, list[MissingColumn]] = {}
    for spec in (s for s in specs if s.source == "csv"):
        for rule in (r for r in spec.entities if fnmatch.fnmatchcase(entity, r.select)):
            rule_id = f"{spec.name}/{rule.name}"
            for label, line, names in read_columns(rule_id, rule):
                if names and not any(n in columns for n in names):
                    near = difflib.get_close_matches(names[0], columns, n=1, cutoff=0.6)
                    found.setdefault(rule_id, []).append(
                        MissingColumn(spec.path, line, rule_id, label, names[0], table, near[0] if near else None))
    return found
