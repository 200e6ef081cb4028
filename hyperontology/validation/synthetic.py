"""Synthetic CDM data read off the shapes: valid records of every targeted class, and mutations that break them.

Used by the validation parity suite and the validation benchmark. :class:`ShapeModel` reads what the CDM shapes
say (which classes are targeted and which properties their shapes constrain; for every property checked
wherever it is used, its kind: a date, a decimal, an integer, a boolean, a string, a coded value or a link to an
instance of some class). :func:`world` builds one instance of every targeted class, linked together, with a valid
value for every property (the codes are real concepts of the bundled hyperontology, in the value set of their
property). :func:`mutate` applies one :class:`Mutation` to a world (drop a value, add a second one, a wrong
datatype, a malformed literal, a number out of range, a code outside the value set or unknown to the
hyperontology, a literal for a code, a link to a missing instance or to one of the wrong class).
"""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cache
from pathlib import Path

import pyoxigraph as ox
import rdflib
import rdflib.collection
from rdflib.namespace import SH, XSD

from hyperontology.store.base import GRAPHS
from hyperontology.validation.shacl import DATA_NS, _shapes, shapes_path

__all__ = ["KINDS", "OPS", "Mutation", "ShapeModel", "World", "codes", "mutate", "mutations", "world", "world_quads"]

CDM = "https://w3id.org/hyperontology/cdm#"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
_SCT, _DCM, _UCUM = "http://snomed.info/id/", "http://dicom.nema.org/resources/ontology/DCM/", "http://unitsofmeasure.org/"
_TNM, _EUCAIM = "https://w3id.org/hyperontology/tnm/", "https://cancerimage.eu/ontology/EUCAIM#"
_UNITS = [_UCUM + "mm", _UCUM + "a", _UCUM + "d", _UCUM + "Gy", _UCUM + "mL", _UCUM + "mo"]
#: real codes of the bundled hyperontology in the value set of each value-set property (two or more each)
CODES: dict[str, list[str]] = {
    "modality": [_DCM + "CT", _DCM + "MR"],
    "diagnosisCode": [_SCT + "254637007", _SCT + "35917007"],
    "histology": [_SCT + "35917007", _SCT + "35917007"],
    "bodySite": [_SCT + "39607008", _SCT + "39607008"],
    "topography": [_SCT + "39607008", _SCT + "39607008"],
    "laterality": [_SCT + "7771000", _SCT + "7771000"],
    "gender": [_EUCAIM + "COM1000176", _SCT + "248153007"],
    "birthSex": [_SCT + "248153007", _EUCAIM + "COM1000176"],
    "unit": [_UCUM + "ng%2FmL", *_UNITS],
    "tnmT": [_TNM + "T2a"], "tnmN": [_TNM + "N1"], "tnmM": [_TNM + "M0"], "stageGroup": [_TNM + "IIB"],
}
#: known concepts (with a skos:inScheme) for coded properties without a value set
GENERIC_CODES = [_SCT + "39607008", _DCM + "CT", _SCT + "254637007", _TNM + "IIB"]
#: a real SNOMED CT code the bundled hyperontology lacks (from the mCODE FHIR examples)
UNKNOWN_CODE = _SCT + "160904001"
#: a known concept outside each value set (an anatomy for a modality, a modality for the others)
OUTSIDE = {"modality": _SCT + "39607008"}
_OUTSIDE_DEFAULT = _DCM + "CT"
KINDS = ("date", "decimal", "integer", "boolean", "string", "code", "link")
OPS = ("drop", "duplicate", "wrong_datatype", "bad_lexical", "out_of_range", "literal_code", "unknown_code",
       "outside_value_set", "missing_link", "wrong_class")
_BAD_LEXICAL = {"date": ("2021-02-30", XSD.date), "decimal": ("1,5", XSD.decimal), "integer": ("1.5", XSD.integer),
                "boolean": ("yes", XSD.boolean)}

Value = ox.NamedNode | ox.Literal


@dataclass
class ShapeModel:
    """What the shapes constrain: per targeted class its properties (with their least count), per property its
    kind, the class a link points to, the numeric bounds, and which properties have a value set."""

    classes: dict[str, dict[str, int]] = field(default_factory=dict)
    kinds: dict[str, str] = field(default_factory=dict)
    link_class: dict[str, str] = field(default_factory=dict)
    bounds: dict[str, tuple[Decimal | None, Decimal | None]] = field(default_factory=dict)
    value_sets: set[str] = field(default_factory=set)

    @classmethod
    @cache
    def of(cls, path: Path | None = None) -> ShapeModel:
        shapes = _shapes(path or shapes_path())
        model = cls()
        for shape, target in shapes.subject_objects(SH.targetClass):
            props = model.classes.setdefault(str(target), {})
            for prop in shapes.objects(shape, SH.property):
                path_ = str(shapes.value(prop, SH.path))
                least = int(str(shapes.value(prop, SH.minCount) or 0))
                props[path_] = max(props.get(path_, 0), least)
        for shape in set(shapes.subjects(SH.targetSubjectsOf, None)):
            for prop in shapes.objects(shape, SH.property):
                model._read_property(shapes, prop)
        return model

    def _read_property(self, shapes: rdflib.Graph, prop: rdflib.term.Node) -> None:
        path = str(shapes.value(prop, SH.path))
        datatype = shapes.value(prop, SH.datatype)
        kind = {XSD.decimal: "decimal", XSD.integer: "integer", XSD.boolean: "boolean",
                XSD.string: "string"}.get(datatype) if datatype is not None else None  # type: ignore[call-overload]
        if (either := shapes.value(prop, SH["or"])) is not None:
            members = rdflib.collection.Collection(shapes, either)
            if any(shapes.value(m, SH.datatype) == XSD.date for m in members):
                kind = "date"
            classes = [c for m in members if (c := shapes.value(m, SH["class"])) is not None]
            if classes:
                kind, self.link_class[path] = "link", str(classes[0])
        if shapes.value(prop, SH.nodeKind) == SH.IRI:
            kind = "code"
        if (klass := shapes.value(prop, SH["class"])) is not None:
            kind, self.link_class[path] = "link", str(klass)
        if "value set" in str(shapes.value(prop, SH.name) or ""):
            self.value_sets.add(path)
        low = next((v for b in (SH.minInclusive, SH.minExclusive) if (v := shapes.value(prop, b)) is not None), None)
        high = shapes.value(prop, SH.maxInclusive)
        if low is not None or high is not None:
            self.bounds[path] = (None if low is None else Decimal(str(low)),
                                 None if high is None else Decimal(str(high)))
        if kind is not None:
            self.kinds[path] = kind

    def hosts(self) -> dict[str, list[str]]:
        """Targeted class -> the properties its instances carry in a world (every kinded property has a host)."""
        hosts = {c: [p for p in props if p in self.kinds] for c, props in self.classes.items()}
        placed = {p for props in hosts.values() for p in props}
        spread = sorted(self.classes)
        for n, prop in enumerate(sorted(set(self.kinds) - placed)):
            hosts[spread[n % len(spread)]].append(prop)
        return hosts


def _local(iri: str) -> str:
    return iri.rsplit("#", 1)[-1].rsplit("/", 1)[-1]


def codes(prop: str) -> list[str]:
    """Real codes valid for a coded property: its value set's (any unit for a ``...Unit``), or known concepts."""
    local = _local(prop)
    return CODES.get(local) or (_UNITS if local.endswith("Unit") else GENERIC_CODES)


def _value(model: ShapeModel, prop: str, rng: random.Random, nodes: dict[str, str]) -> Value:
    """A valid value of a property (an instance of the world for a link)."""
    kind = model.kinds[prop]
    if kind == "link":
        return ox.NamedNode(nodes[model.link_class[prop]])
    if kind == "code":
        return ox.NamedNode(rng.choice(codes(prop)))
    if kind == "date":
        day = f"{rng.randint(1950, 2024)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
        return ox.Literal(day, datatype=ox.NamedNode(str(XSD.date)))
    if kind == "boolean":
        return ox.Literal(rng.choice(["true", "false"]), datatype=ox.NamedNode(str(XSD.boolean)))
    if kind == "string":
        return ox.Literal(f"{_local(prop)}-{rng.randint(1, 10**6)}")
    low, high = model.bounds.get(prop, (None, None))
    top = int(high) if high is not None else 500
    number = rng.randint(int(low or 0) + 1, top)
    if kind == "integer":
        return ox.Literal(str(number), datatype=ox.NamedNode(str(XSD.integer)))
    return ox.Literal(f"{number}.{rng.randint(0, 9)}" if number < top else str(number),
                      datatype=ox.NamedNode(str(XSD.decimal)))


World = dict[str, dict[str, list[Value]]]  # instance IRI -> property -> values


def world(model: ShapeModel, name: str, *, seed: int = 1) -> tuple[World, dict[str, str]]:
    """One valid instance of every targeted class (its IRIs under ``data/<name>/``), and class -> instance IRI."""
    rng = random.Random(f"{name}/{seed}")  # noqa: S311 - synthetic test data, no secret
    nodes = {c: f"{DATA_NS}{name}/{_local(c).lower()}" for c in sorted(model.classes)}
    instances: World = {}
    for klass, props in sorted(model.hosts().items()):
        pairs: dict[str, list[Value]] = defaultdict(list)
        pairs[RDF_TYPE].append(ox.NamedNode(klass))
        for prop in props:
            pairs[prop].append(_value(model, prop, rng, nodes))
        instances[nodes[klass]] = pairs
    return instances, nodes


def world_quads(instances: World) -> list[ox.Quad]:
    graph = GRAPHS["data"]
    return [ox.Quad(ox.NamedNode(s), ox.NamedNode(p), o, graph)
            for s, pairs in instances.items() for p, values in pairs.items() for o in values]


@dataclass(frozen=True)
class Mutation:
    """One change to a valid world: ``op`` (one of :data:`OPS`) on property ``prop`` of the ``klass`` instance."""

    op: str
    klass: str
    prop: str


def _applies(model: ShapeModel, op: str, prop: str) -> bool:
    kind = model.kinds[prop]
    return {"drop": True, "duplicate": True, "wrong_datatype": kind not in ("code", "link"),
            "bad_lexical": kind in _BAD_LEXICAL, "out_of_range": prop in model.bounds,
            "literal_code": kind == "code", "unknown_code": kind == "code",
            "outside_value_set": prop in model.value_sets, "missing_link": kind == "link",
            "wrong_class": kind == "link"}[op]


def mutations(model: ShapeModel) -> list[Mutation]:
    """Every mutation that applies to a world: each op on each property of each class that carries it."""
    return [Mutation(op, klass, prop) for klass, props in sorted(model.hosts().items()) for prop in props
            for op in OPS if _applies(model, op, prop)]


def _second(model: ShapeModel, instances: World, prop: str, first: Value, rng: random.Random) -> Value:
    """A value of ``prop`` other than ``first`` (for a link: a copy of the linked instance under a new IRI)."""
    kind = model.kinds[prop]
    if kind == "link":
        clone = f"{first.value}-2"
        instances[clone] = {p: list(v) for p, v in instances[first.value].items()}
        return ox.NamedNode(clone)
    if kind == "code":
        others = [c for c in codes(prop) if c != first.value]
        return ox.NamedNode(others[0] if others else UNKNOWN_CODE)
    if kind == "boolean":
        return ox.Literal("false" if first.value == "true" else "true", datatype=ox.NamedNode(str(XSD.boolean)))
    while True:
        value = _value(model, prop, rng, {})
        if value != first:
            return value


def _broken(model: ShapeModel, m: Mutation, nodes: dict[str, str], subject: str) -> Value:
    """The value a mutation puts in place of the property's values."""
    kind = model.kinds[m.prop]
    if m.op == "wrong_datatype":
        return ox.Literal("12", datatype=ox.NamedNode(str(XSD.integer))) if kind == "string" else ox.Literal("12")
    if m.op == "bad_lexical":
        lexical, datatype = _BAD_LEXICAL[kind]
        return ox.Literal(lexical, datatype=ox.NamedNode(str(datatype)))
    if m.op == "out_of_range":
        low, high = model.bounds[m.prop]
        number = str(high + 1) if high is not None else str((low or Decimal(0)) - 1)
        return ox.Literal(number, datatype=ox.NamedNode(str(XSD.integer if kind == "integer" else XSD.decimal)))
    if m.op == "literal_code":
        return ox.Literal(_local(codes(m.prop)[0]))
    if m.op == "unknown_code":
        return ox.NamedNode(UNKNOWN_CODE)
    if m.op == "outside_value_set":
        return ox.NamedNode(OUTSIDE.get(_local(m.prop), _OUTSIDE_DEFAULT))
    if m.op == "missing_link":
        return ox.NamedNode(f"{subject}-missing")
    target = model.link_class[m.prop]
    return ox.NamedNode(nodes[CDM + ("Patient" if target == CDM + "Dataset" else "Dataset")])


def mutate(model: ShapeModel, instances: World, nodes: dict[str, str], m: Mutation, *, seed: int = 1) -> None:
    """Apply a mutation to a world (in place)."""
    subject = nodes[m.klass]
    pairs = instances[subject]
    if m.op == "drop":
        pairs.pop(m.prop, None)
    elif m.op == "duplicate":
        if pairs.get(m.prop):
            pairs[m.prop].append(_second(model, instances, m.prop, pairs[m.prop][0],
                                         random.Random(seed)))  # noqa: S311 - synthetic test data
    else:
        pairs[m.prop] = [_broken(model, m, nodes, subject)]
