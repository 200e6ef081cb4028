"""Dataset descriptions (EUCAIM DCAT-AP v2.0) of a synthetic node: shapes, counts against SPARQL, EUCAIM codes, a
missing mandatory property, and the FAIR Data Point over HTTP on a real server."""

from __future__ import annotations

import asyncio
import os
import warnings
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import pytest
import yaml
from rdflib import Graph, URIRef
from rdflib.namespace import DCAT, DCTERMS, RDF

from hyperontology import load_ontology
from hyperontology.cli.main import main
from hyperontology.federation.disclosure import Disclosure
from hyperontology.federation.synthetic import CDM, build_node_store, dataset_node
from hyperontology.interop import dcat
from hyperontology.server.auth import required_permission
from hyperontology.server.fdp import ENV
from hyperontology.store.oxigraph import GRAPHS
from tests.processes import node_server

DATASETS = [("lung-a", "Lung A"), ("breast-b", "Breast B")]
HEALTH = "http://healthdataportal.eu/ns/health#"
EUCAIM = "https://cancerimage.eu/ontology/EUCAIM#"


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("dcat") / "store"
    build_node_store(path, patients=300, datasets=DATASETS)
    return path


@pytest.fixture(scope="module")
def metadata() -> dict[str, Any]:
    meta: dict[str, Any] = yaml.safe_load(dcat.template_text())
    meta["health_category"] = ["https://example.org/health-category/IMAGING"]  # a test value, not the vocabulary's
    return meta


def _sparql_count(store: Path, body: str) -> int:
    db = ox.Store.read_only(str(store))
    query = (f"PREFIX cdm: <{CDM}> SELECT (COUNT(DISTINCT ?x) AS ?n) WHERE {{ GRAPH <{GRAPHS['data'].value}> "
             f"{{ {body} }} }}")
    return int(next(iter(db.query(query)))["n"].value)


def _parse(data: str, fmt: str) -> Graph:
    with warnings.catch_warnings():  # rdflib's own JSON-LD parser uses its deprecated ConjunctiveGraph
        warnings.simplefilter("ignore", DeprecationWarning)
        return Graph().parse(data=data, format=fmt)


def _number(graph: Graph, subject: URIRef, name: str) -> int:
    return int(graph.value(subject, URIRef(HEALTH + name)))


@pytest.mark.parametrize("k", [1, 10])
def test_counts_are_the_stores_after_disclosure(store: Path, metadata: dict[str, Any], k: int) -> None:
    onto = load_ontology()
    for ident, _ in DATASETS:
        described = dcat.describe_store(store, ident, onto, metadata=metadata, disclosure=Disclosure(min_count=k))
        ds, graph = described.dataset, described.graph
        node = dataset_node(ident)
        patients = _sparql_count(store, f"?x a cdm:Patient ; cdm:dataset <{node}> .")
        studies = _sparql_count(store, f"?p a cdm:Patient ; cdm:dataset <{node}> . ?x a cdm:ImagingStudy ; "
                                       "cdm:patient ?p .")
        assert patients > 0 and studies > 0
        assert _number(graph, ds, "numberOfUniqueIndividuals") == Disclosure(min_count=k).number(patients)
        assert _number(graph, ds, "numberOfRecords") == Disclosure(min_count=k).number(studies)
        if k == 1:
            assert (_number(graph, ds, "numberOfUniqueIndividuals"), _number(graph, ds, "numberOfRecords")) == (
                patients, studies)
        else:
            assert _number(graph, ds, "minTypicalAge") % 5 == 0
        assert (ds, RDF.type, DCAT.Dataset) in graph
        assert described.warnings  # the Health Data Access Body is left empty (a warning, not a violation)


def test_eucaim_values_are_known_codes_of_their_branch(store: Path, metadata: dict[str, Any]) -> None:
    onto = load_ontology()
    described = dcat.describe_store(store, "lung-a", onto, metadata=metadata, disclosure=Disclosure(min_count=1))
    seen = set()
    for prop, (_, root) in dcat.BRANCHES.items():
        values = list(described.graph.objects(described.dataset, URIRef(EUCAIM + prop)))
        assert values, prop
        branch = {c.iri for c in onto.descendants(root)}
        for value in values:
            assert str(value).startswith(EUCAIM) and str(value) in onto and str(value) in branch, (prop, value)
            seen.add(prop)
    assert len(list(described.graph.objects(described.dataset, URIRef(EUCAIM + "hasCondition")))) == 1
    # the synthetic data hold a sex value with no EUCAIM sex-at-birth code (SNOMED CT "Other"): left out, reported
    assert ("hasBirthSex", "http://snomed.info/id/74964007") in described.omitted


def test_a_missing_mandatory_property_is_named(store: Path, metadata: dict[str, Any], tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    broken = {k: v for k, v in metadata.items() if k != "version"}
    with pytest.raises(dcat.DescriptionError, match=r"dcat:version"):
        dcat.describe_store(store, "lung-a", load_ontology(), metadata=broken, disclosure=Disclosure())
    path = tmp_path / "meta.yaml"
    path.write_text(yaml.safe_dump(broken), encoding="utf-8")
    out = tmp_path / "out.ttl"
    assert main(["catalog", "describe", "--store", str(store), "--dataset", "lung-a", "--metadata", str(path),
                 "--output", str(out)]) == 2
    assert "Version (dcat:version)" in capsys.readouterr().err and not out.exists()
    path.write_text(yaml.safe_dump(metadata), encoding="utf-8")
    assert main(["catalog", "describe", "--store", str(store), "--dataset", "lung-a", "--metadata", str(path),
                 "--output", str(out), "--format", "jsonld", "--min-count", "5"]) == 0
    graph = _parse(out.read_text(encoding="utf-8"), "json-ld")
    assert len(list(graph.subjects(RDF.type, DCAT.Dataset))) == 1


def test_fair_data_point_negotiates_turtle_and_json_ld(store: Path, metadata: dict[str, Any], tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "meta.yaml"
    path.write_text(yaml.safe_dump(metadata), encoding="utf-8")
    monkeypatch.setitem(os.environ, ENV, str(path))  # the server process inherits it
    with node_server(store) as client:
        for accept, fmt in (("text/turtle", "turtle"), ("application/ld+json", "json-ld")):
            answer = client.get("/fdp/dataset/lung-a", headers={"Accept": accept})
            assert answer.status_code == 200 and answer.headers["content-type"].startswith(accept)
            assert answer.headers["x-profile-conformance"] == "true"
            graph = _parse(answer.text, fmt)
            ds = next(graph.subjects(RDF.type, DCAT.Dataset))
            assert str(ds).endswith("/fdp/dataset/lung-a") and graph.value(ds, DCTERMS.title) is not None
            assert _number(graph, ds, "numberOfUniqueIndividuals") % 10 == 0  # the server's default k
        answer = client.get("/fdp/catalog")
        assert answer.headers["x-profile-conformance"] == "true", answer.headers.get("x-profile-violations")
        catalog = Graph().parse(data=answer.text, format="turtle")
        assert {str(o).rsplit("/", 1)[-1] for o in catalog.objects(None, DCAT.dataset)} == {"lung-a", "breast-b"}
        assert client.get("/fdp/catalog").text == answer.text  # served from memory: the same description
        root = client.get("/fdp", headers={"Accept": "application/rdf+xml"})
        assert root.status_code == 200 and len(Graph().parse(data=root.text, format="xml")) > 3
        distribution = Graph().parse(data=client.get("/fdp/distribution/lung-a").text, format="turtle")
        assert next(distribution.subjects(RDF.type, DCAT.Distribution), None) is not None
        assert client.get("/fdp/dataset/nope").status_code == 404
        assert client.get("/fdp", headers={"Accept": "image/png"}).status_code == 406
        assert client.post("/fdp").status_code == 405
    assert {required_permission(p) for p in ("/fdp", "/fdp/catalog", "/fdp/dataset/x", "/fdp/distribution/x")} == {None}


def test_the_catalogue_meets_the_profile_or_names_what_it_lacks(store: Path, metadata: dict[str, Any],
                                                                 tmp_path: Path,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    path, out = tmp_path / "meta.yaml", tmp_path / "catalogue.ttl"
    path.write_text(yaml.safe_dump({**metadata, "catalog": {"title": "Node catalogue", "homepage":
                                                            "https://example.org/"}}), encoding="utf-8")
    assert main(["catalog", "describe", "--store", str(store), "--catalogue", "--metadata", str(path),
                 "--output", str(out)]) == 0
    graph = Graph().parse(out, format="turtle")
    [cat] = graph.subjects(RDF.type, DCAT.Catalog)
    assert str(graph.value(cat, DCTERMS.title)) == "Node catalogue"
    assert len(list(graph.objects(cat, DCAT.dataset))) == len(DATASETS)
    assert graph.value(cat, URIRef("http://data.europa.eu/r5r/applicableLegislation")) is not None  # the datasets'
    # the publisher defaults to the datasets': without one anywhere the catalogue is refused, naming it
    bare = {k: v for k, v in metadata.items() if k != "publisher"}
    path.write_text(yaml.safe_dump(bare), encoding="utf-8")
    assert main(["catalog", "describe", "--store", str(store), "--catalogue", "--metadata", str(path)]) == 2
    assert "Catalogue Publisher (dct:publisher)" in capsys.readouterr().err
    path.write_text(yaml.safe_dump({**metadata, "catalog": {"titel": "typo"}}), encoding="utf-8")
    assert main(["catalog", "describe", "--store", str(store), "--catalogue", "--metadata", str(path)]) == 2
    assert "catalog: unknown key 'titel'" in capsys.readouterr().err


def test_descriptions_are_kept_then_recomputed_in_the_background() -> None:
    from hyperontology.server.fdp import Cached

    calls: list[int] = []

    async def compute() -> int:
        calls.append(len(calls))
        if len(calls) == 3:
            raise RuntimeError("the store went away")
        return len(calls)

    async def scenario() -> list[int]:
        cache, seen = Cached(ttl=3600), []
        seen += [await cache.get("a", compute), await cache.get("a", compute)]  # computed once, then kept
        cache.ttl = 0  # every value is now stale: served, and recomputed in the background
        seen.append(await cache.get("a", compute))
        await asyncio.gather(*cache._tasks)
        seen.append(await cache.get("a", compute))  # the recomputed value; its recomputation fails in the background
        await asyncio.gather(*cache._tasks)
        seen.append(await cache.get("a", compute))  # the failure kept the earlier value
        return seen

    assert asyncio.run(scenario()) == [1, 1, 1, 2, 2]
