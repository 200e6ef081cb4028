"""Parity: ``validate_store`` gives exactly pyshacl's results (``validate_store_export``) on a store.

Valid worlds (one instance of every CDM class the shapes target, with real codes of the bundled hyperontology)
and invalid ones made by mutations of valid worlds: every mutation that applies to a world at once, and random
combinations drawn by Hypothesis. The result sets are compared on (focus, path, component, value, severity,
message, shape). A last test checks that the mutations reach every constraint-bearing shape of cdm-shapes.ttl.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from pathlib import Path

import pytest
import rdflib
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rdflib.namespace import SH

from hyperontology import Hyperontology
from hyperontology.store.oxigraph import NodeStore
from hyperontology.validation.shacl import (
    DATA_NS,
    Violation,
    _shapes,
    shape_name,
    shapes_path,
    support,
    validate_graph,
    validate_store_export,
)
from hyperontology.validation.store import local_shapes, validate_store
from hyperontology.validation.synthetic import (
    CDM,
    Mutation,
    ShapeModel,
    World,
    mutate,
    mutations,
    world,
    world_quads,
)

MODEL = ShapeModel.of()
ALL = mutations(MODEL)
#: constraint parameters of SHACL Core (a shape with one of them can produce a result)
CONSTRAINTS = (SH.minCount, SH.maxCount, SH.datatype, SH.nodeKind, SH["class"], SH["in"], SH.hasValue, SH["or"],
               SH["and"], SH["not"], SH.node, SH.minInclusive, SH.minExclusive, SH.maxInclusive, SH.maxExclusive,
               SH.pattern, SH.qualifiedValueShape)
#: constraint-bearing shapes no mutation of a world can reach, and why (none today)
UNREACHABLE: dict[str, str] = {}


def key(v: Violation) -> tuple[str, ...]:
    return (v.focus, v.path, v.component, v.value, v.severity, v.message, v.shape)


def pack(chosen: Iterable[Mutation]) -> list[list[Mutation]]:
    """Mutations in as few worlds as possible, no two in one world on the same property of the same instance, nor
    two drops on one instance (a dropped unit must not hide behind its dropped quantity)."""
    def clash(o: Mutation, m: Mutation) -> bool:
        return o.klass == m.klass and (o.prop == m.prop or o.op == m.op == "drop")

    worlds: list[list[Mutation]] = []
    for m in chosen:
        home = next((w for w in worlds if not any(clash(o, m) for o in w)), None)
        if home is None:
            worlds.append(home := [])
        home.append(m)
    return worlds


def mutated(groups: list[list[Mutation]], seed: int) -> World:
    instances: World = {}
    for n, group in enumerate(groups):
        one, nodes = world(MODEL, f"w{n}", seed=seed)
        for m in group:
            mutate(MODEL, one, nodes, m, seed=seed)
        instances.update(one)
    return instances


def both(path: Path, instances: World, onto: Hyperontology) -> tuple[list[Violation], list[Violation]]:
    """The new validator's results and pyshacl's on the exported data graph, of one store on disk."""
    with NodeStore(path) as node:
        node.load(world_quads(instances))
        fast = validate_store(node, onto)
        data = (node.export(None, "nt", graphs=["data"]) or b"").decode()
    return fast, validate_store_export(rdflib.Graph().parse(data=data, format="nt"), onto)


def test_valid_worlds_conform(tmp_path: Path, onto: Hyperontology) -> None:
    fast, slow = both(tmp_path / "store", mutated([[], [], []], seed=3), onto)
    assert slow == []
    assert fast == []


@pytest.fixture(scope="module")
def every_mutation(tmp_path_factory: pytest.TempPathFactory, onto: Hyperontology,
                   ) -> tuple[list[Violation], list[Violation]]:
    return both(tmp_path_factory.mktemp("every") / "store", mutated(pack(ALL), seed=1), onto)


def test_every_mutation_at_once(every_mutation: tuple[list[Violation], list[Violation]]) -> None:
    fast, slow = every_mutation
    assert Counter(map(key, fast)) == Counter(map(key, slow))
    assert len(slow) > len(ALL) // 2  # the mutations do break the worlds


def _reported_shapes(shapes: rdflib.Graph) -> set[str]:
    """Names of the shapes that can be a result's source: targeted node shapes with a constraint of their own, and
    the property shapes of targeted node shapes."""
    targeted = {s for p in (SH.targetClass, SH.targetSubjectsOf, SH.targetNode, SH.targetObjectsOf)
                for s in shapes.subjects(p, None)}
    found = {shape_name(shapes, s) for s in targeted if any(shapes.value(s, c) is not None for c in CONSTRAINTS)}
    for shape in targeted:
        found |= {shape_name(shapes, p) for p in shapes.objects(shape, SH.property)
                  if any(shapes.value(p, c) is not None for c in CONSTRAINTS)}
    return found


def test_every_shape_is_reached(every_mutation: tuple[list[Violation], list[Violation]]) -> None:
    _, slow = every_mutation
    expected = _reported_shapes(_shapes(shapes_path()))
    missed = expected - {v.shape for v in slow} - set(UNREACHABLE)
    assert not missed, sorted(missed)
    assert len(expected) > 250  # the shapes file was read


@settings(max_examples=8, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(chosen=st.lists(st.sampled_from(ALL), max_size=6), seed=st.integers(1, 1000))
def test_random_mutations(tmp_path_factory: pytest.TempPathFactory, onto: Hyperontology,
                          chosen: list[Mutation], seed: int) -> None:
    groups = pack(chosen) or [[]]
    fast, slow = both(tmp_path_factory.mktemp("random") / "store", mutated(groups, seed), onto)
    assert Counter(map(key, fast)) == Counter(map(key, slow))


def test_bundled_shapes_are_local() -> None:
    assert local_shapes(_shapes(shapes_path()))  # else validate_store falls back to pyshacl on the whole graph


def test_shapes_that_are_not_local_fall_back_to_pyshacl(tmp_path: Path, onto: Hyperontology) -> None:
    shapes = tmp_path / "shapes.ttl"
    shapes.write_text(shapes_path().read_text(encoding="utf-8") + """
cdmsh:PatientWithFewRecords a sh:NodeShape ; sh:targetClass cdm:Patient ;
    sh:property [ sh:path [ sh:inversePath cdm:patient ] ; sh:maxCount 2 ; sh:message "Many records."@en ] .
""", encoding="utf-8")
    graph = _shapes(shapes)
    assert not local_shapes(graph)
    instances = mutated([[Mutation("drop", CDM + "Diagnosis", CDM + "patient")]], seed=2)
    with NodeStore(tmp_path / "store") as node:
        node.load(world_quads(instances))
        fast = validate_store(node, onto, shapes=shapes)
        data = rdflib.Graph().parse(data=(node.export(None, "nt", graphs=["data"]) or b"").decode(), format="nt")
    support(data, onto)
    slow = [v for v in validate_graph(data, graph) if v.focus.startswith(DATA_NS)]
    assert "Many records." in {v.message for v in slow}
    assert Counter(map(key, fast)) == Counter(map(key, slow))
