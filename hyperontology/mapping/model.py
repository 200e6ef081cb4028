"""Mapping files: YAML read with line numbers, validated against the published JSON Schema, normalised.

Passes, in order: YAML syntax -> JSON Schema -> references (CURIE prefixes, transformations, value maps)
-> the canonical :class:`MappingSpec`. Every error names the file, the line and the rule it breaks.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from hyperontology.errors import HyperontologyError
from hyperontology.mapping.transforms import argument_problem
from hyperontology.prefixes import PREFIXES


class MappingError(HyperontologyError):
    """A mapping file is not valid; ``problems`` lists every ``file:line: [rule] message``."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("invalid mapping file:\n  " + "\n  ".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class When:
    field: str
    equals: Any = None
    among: tuple[Any, ...] | None = None
    exists: bool | None = None
    matches: str | None = None
    not_matches: str | None = None
    under: tuple[str, ...] | None = None
    not_under: tuple[str, ...] | None = None
    transforms: tuple[str, ...] = ()


@dataclass(frozen=True)
class FieldRule:
    property: str
    value: str | tuple[str, ...] | None = None
    constant: Any = None
    transforms: tuple[str, ...] = ()
    datatype: str | None = None
    valuemap: str | None = None
    unit_from: str | None = None
    unit_from_field: str | None = None
    unit_to: str | None = None
    link: str | None = None
    pseudonym: str | None = None
    pseudonym_uid: str | None = None
    default: Any = None
    required: bool = False
    when: When | None = None
    line: int = 0
    free_text: bool = False


@dataclass(frozen=True)
class IdRule:
    value: str | tuple[str, ...]
    domain: str
    transforms: tuple[str, ...] = ()


@dataclass(frozen=True)
class EntityRule:
    name: str
    select: str
    cls: str
    id: IdRule
    fields: tuple[FieldRule, ...] = ()
    when: When | None = None
    line: int = 0


@dataclass(frozen=True)
class MappingSpec:
    """A mapping file in canonical form."""

    name: str
    version: str
    source: str
    path: str
    entities: tuple[EntityRule, ...] = field(default=())

    @property
    def valuemaps(self) -> set[str]:
        return {f.valuemap for e in self.entities for f in e.fields if f.valuemap}


def schema() -> dict[str, Any]:
    """The published JSON Schema of mapping files."""
    text = resources.files("hyperontology.mapping").joinpath("mapping.schema.json").read_text(encoding="utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


def _lines(node: yaml.Node, path: tuple[Any, ...] = ()) -> dict[tuple[Any, ...], int]:
    """JSON path -> 1-based line of every node of a composed YAML document."""
    out = {path: node.start_mark.line + 1}
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            out.update(_lines(value, (*path, key.value)))
            out[(*path, key.value)] = key.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            out.update(_lines(item, (*path, i)))
    return out


def _read(path: Path) -> tuple[Any, dict[tuple[Any, ...], int]]:
    try:
        text = path.read_text(encoding="utf-8")
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except OSError as exc:
        raise MappingError([f"{path}: [read] {exc.strerror or exc}"]) from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 0
        raise MappingError([f"{path}:{line}: [yaml] {getattr(exc, 'problem', None) or exc}"]) from exc
    if node is None:
        raise MappingError([f"{path}:1: [yaml] empty file"])
    return data, _lines(node)


def _schema_errors(path: Path, data: Any, lines: dict[tuple[Any, ...], int]) -> list[str]:
    validator = jsonschema.Draft202012Validator(schema())
    problems = []
    for error in sorted(validator.iter_errors(data), key=lambda e: [str(p) for p in e.absolute_path]):
        where = tuple(error.absolute_path)
        line = next((lines[where[:n]] for n in range(len(where), -1, -1) if where[:n] in lines), 0)
        line = lines.get((*where, *_unexpected(error)[:1]), line)
        rule = error.validator
        problems.append(f"{path}:{line}: [schema:{rule}] at /{'/'.join(map(str, where))}: {error.message}")
    return problems


def _unexpected(error: jsonschema.ValidationError) -> list[Any]:
    """The keys an ``additionalProperties`` error is about (so that its line is the key's, not the object's)."""
    if error.validator != "additionalProperties" or not isinstance(error.instance, dict):
        return []
    known = error.schema.get("properties", {}) if isinstance(error.schema, dict) else {}
    return [key for key in error.instance if key not in known]


def _names(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    return (value,) if isinstance(value, str) else tuple(value)


def _alternatives(value: Any) -> str | tuple[str, ...] | None:
    return tuple(value) if isinstance(value, list) else value


def _when(data: dict[str, Any] | None) -> When | None:
    if not data:
        return None
    among = tuple(data["in"]) if "in" in data else None
    under = tuple(data["under"]) if "under" in data else None
    not_under = tuple(data["not_under"]) if "not_under" in data else None
    return When(data["field"], data.get("equals"), among, data.get("exists"), data.get("matches"),
                data.get("not_matches"), under, not_under, _names(data.get("transform")))


def _field(data: dict[str, Any], line: int) -> FieldRule:
    unit = data.get("unit") or {}
    return FieldRule(
        property=data["property"], value=_alternatives(data.get("value")), constant=data.get("constant"),
        transforms=_names(data.get("transform")), datatype=data.get("datatype"), valuemap=data.get("valuemap"),
        unit_from=unit.get("from"), unit_from_field=unit.get("from_field"), unit_to=unit.get("to"),
        link=data.get("link"), pseudonym=data.get("pseudonym"), pseudonym_uid=data.get("pseudonym_uid"),
        default=data.get("default"), required=bool(data.get("required", False)),
        when=_when(data.get("when")), line=line, free_text=bool(data.get("free_text", False)),
    )


def _normalise(path: Path, data: dict[str, Any], lines: dict[tuple[Any, ...], int]) -> MappingSpec:
    entities = []
    for i, ent in enumerate(data["entities"]):
        fields = tuple(_field(f, lines.get(("entities", i, "fields", j), 0))
                       for j, f in enumerate(ent.get("fields", [])))
        ident = IdRule(_alternatives(ent["id"]["value"]) or "", ent["id"]["domain"], _names(ent["id"].get("transform")))
        entities.append(EntityRule(ent["name"], ent["select"]["entity"], ent["class"], ident, fields,
                                   _when(ent["select"].get("when")), lines.get(("entities", i), 0)))
    return MappingSpec(data["mapping"], str(data["version"]), data["source"], str(path), tuple(entities))


def _reference_errors(spec: MappingSpec, lines: dict[tuple[Any, ...], int], known_transforms: set[str],
                      known_valuemaps: set[str] | None) -> list[str]:
    problems = []
    for i, ent in enumerate(spec.entities):
        cls_line, id_line = (lines.get(("entities", i, key), ent.line) for key in ("class", "id"))
        for curie, line in [(ent.cls, cls_line), *((f.property, f.line) for f in ent.fields)]:
            if curie.split(":", 1)[0] not in PREFIXES:
                problems.append(f"{spec.path}:{line}: [prefix] unknown CURIE prefix in {curie!r}")
        names = [(t, id_line) for t in ent.id.transforms] + [(t, f.line) for f in ent.fields for t in f.transforms]
        names += [(t, ent.line) for t in (ent.when.transforms if ent.when else ())]
        names += [(t, f.line) for f in ent.fields for t in (f.when.transforms if f.when else ())]
        problems += [f"{spec.path}:{line}: [transform] unknown transformation {t!r}; known: "
                     f"{', '.join(sorted(known_transforms))}" for t, line in names
                     if t.split("(", 1)[0].strip() not in known_transforms]
        problems += [f"{spec.path}:{line}: [transform] {t}: {why}" for t, line in names
                     if (why := argument_problem(t)) is not None]
        problems += [f"{spec.path}:{f.line}: [valuemap] no value map named {f.valuemap!r}"
                     for f in ent.fields if f.valuemap and known_valuemaps is not None
                     and f.valuemap not in known_valuemaps]
    return problems


def load_mapping(path: Path, *, transforms: set[str], valuemaps: set[str] | None) -> MappingSpec:
    """Read, validate and normalise one mapping file; MappingError lists every problem with its line
    (``valuemaps``: the value maps it may name; None: any)."""
    data, lines = _read(path)
    problems = _schema_errors(path, data, lines)
    if problems:
        raise MappingError(problems)
    spec = _normalise(path, data, lines)
    problems = _reference_errors(spec, lines, transforms, valuemaps)
    if problems:
        raise MappingError(problems)
    return spec
