"""The server, run as a real process on loopback (``hyperontology serve``) against a store built from the samples."""

from __future__ import annotations

import asyncio
import contextlib
import csv
import io
import json
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import rdflib

from hyperontology import load_ontology
from tests.processes import ingest_samples, node_server, oxigraph_server

PREFIXES = """PREFIX cdm: <https://w3id.org/hyperontology/cdm#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
"""
SELECT = PREFIXES + "SELECT ?d ?code WHERE { ?d a cdm:Diagnosis ; cdm:diagnosisCode ?code } ORDER BY ?d ?code"
CONSTRUCT = PREFIXES + "CONSTRUCT { ?d cdm:diagnosisCode ?code } WHERE { ?d a cdm:Diagnosis ; cdm:diagnosisCode ?code }"
SRJ = "application/sparql-results+json"



@pytest.fixture(scope="module", params=["embedded", "remote"])
def store(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path | str]:
    """The samples ingested into the embedded store, or into a real Oxigraph server (the same suite runs on both)."""
    path = tmp_path_factory.mktemp("server") / "store"
    with contextlib.ExitStack() as stack:
        location: Path | str = path
        if request.param == "remote":
            location = stack.enter_context(oxigraph_server(path))
        ingest_samples(location)
        yield location


@pytest.fixture(scope="module")
def server(store: Path | str) -> Iterator[httpx.Client]:
    with node_server(store) as client:
        yield client


@pytest.fixture(scope="module")
def limited(store: Path | str) -> Iterator[httpx.Client]:
    with node_server(store, "--max-rows", "2", "--timeout", "1") as client:
        yield client


def _bindings(response: httpx.Response) -> list[dict[str, str]]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith(SRJ)
    return [{k: v["value"] for k, v in b.items()} for b in response.json()["results"]["bindings"]]


# ------------------------------------------------------------------------------------------ protocol
def test_get_form_and_direct_post_agree(server: httpx.Client) -> None:
    by_get = _bindings(server.get("/sparql", params={"query": SELECT}))
    by_form = _bindings(server.post("/sparql", data={"query": SELECT}))
    by_body = _bindings(server.post("/sparql", content=SELECT, headers={"Content-Type": "application/sparql-query"}))
    assert by_get == by_form == by_body
    assert len(by_get) >= 2


@pytest.mark.parametrize("accept", [SRJ, "application/sparql-results+xml", "text/csv", "text/tab-separated-values"])
def test_select_formats_parse(server: httpx.Client, accept: str) -> None:
    response = server.get("/sparql", params={"query": SELECT}, headers={"Accept": accept})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(accept)
    expected = _bindings(server.get("/sparql", params={"query": SELECT}))
    if accept == SRJ:
        rows = [{k: v["value"] for k, v in b.items()} for b in json.loads(response.text)["results"]["bindings"]]
    elif accept.endswith("xml"):
        ns = {"r": "http://www.w3.org/2005/sparql-results#"}
        root = ET.fromstring(response.content)
        rows = [{b.get("name"): "".join(b.itertext()) for b in r.findall("r:binding", ns)}
                for r in root.findall("r:results/r:result", ns)]
    elif accept == "text/csv":
        rows = list(csv.DictReader(io.StringIO(response.text)))
    else:
        rows = [{k.lstrip("?"): v.strip("<>") for k, v in r.items()}
                for r in csv.DictReader(io.StringIO(response.text), delimiter="\t")]
    assert rows == expected


def test_ask(server: httpx.Client) -> None:
    response = server.get("/sparql", params={"query": PREFIXES + "ASK { ?d a cdm:Diagnosis }"})
    assert response.json()["boolean"] is True


@pytest.mark.parametrize(("accept", "fmt"), [("text/turtle", "turtle"), ("application/n-triples", "nt")])
def test_construct_parses(server: httpx.Client, accept: str, fmt: str) -> None:
    response = server.post("/sparql", data={"query": CONSTRUCT}, headers={"Accept": accept})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(accept)
    graph = rdflib.Graph().parse(data=response.text, format=fmt)
    assert len(graph) >= 2


def test_construct_as_json_ld(server: httpx.Client) -> None:
    # parsed as JSON: rdflib's JSON-LD parser warns (ConjunctiveGraph deprecation) and warnings are errors here
    response = server.post("/sparql", data={"query": CONSTRUCT}, headers={"Accept": "application/ld+json"})
    assert response.headers["content-type"].startswith("application/ld+json")
    nodes = json.loads(response.text)
    assert any("https://w3id.org/hyperontology/cdm#diagnosisCode" in node for node in nodes)


def test_malformed_query_is_400_with_the_parser_message(server: httpx.Client) -> None:
    response = server.get("/sparql", params={"query": "SELEC ?x WHERE { ?x ?p ?o }"})
    assert response.status_code == 400
    assert "error at 1:" in response.text


def test_unsupported_accept_is_406(server: httpx.Client) -> None:
    response = server.get("/sparql", params={"query": SELECT}, headers={"Accept": "image/png"})
    assert response.status_code == 406


def test_update_and_service_are_403(server: httpx.Client) -> None:
    update = "INSERT DATA { <http://x/s> <http://x/p> <http://x/o> }"
    assert server.post("/sparql", data={"update": update}).status_code == 403
    headers = {"Content-Type": "application/sparql-update"}
    assert server.post("/sparql", content=update, headers=headers).status_code == 403
    service = "SELECT * WHERE { SERVICE <http://example.org/sparql> { ?s ?p ?o } }"
    response = server.get("/sparql", params={"query": service})
    assert response.status_code == 403
    assert "SERVICE" in response.text
    # the keyword inside a string or as a variable is no reason to refuse
    harmless = 'SELECT ?service WHERE { BIND("SERVICE LOAD" AS ?service) }'
    assert server.get("/sparql", params={"query": harmless}).status_code == 200


def test_oversized_request_is_413(server: httpx.Client) -> None:
    big = SELECT + "#" + "x" * 1_100_000
    response = server.post("/sparql", content=big, headers={"Content-Type": "application/sparql-query"})
    assert response.status_code == 413


def test_service_description(server: httpx.Client) -> None:
    response = server.get("/sparql")
    assert response.status_code == 200
    graph = rdflib.Graph().parse(data=response.text, format="turtle")
    sd = rdflib.Namespace("http://www.w3.org/ns/sparql-service-description#")
    assert (None, rdflib.RDF.type, sd.Service) in graph


def test_row_cap_truncates(limited: httpx.Client) -> None:
    query = "SELECT ?s WHERE { ?s a ?c } LIMIT 10"
    response = limited.get("/sparql", params={"query": query})
    assert len(_bindings(response)) == 2
    assert response.headers["X-Result-Truncated"] == "true"
    small = limited.get("/sparql", params={"query": "SELECT ?s WHERE { ?s a ?c } LIMIT 1"})
    assert "X-Result-Truncated" not in small.headers


def test_timeout_is_503_and_the_server_keeps_answering(limited: httpx.Client) -> None:
    slow = "SELECT (COUNT(*) AS ?n) WHERE { ?a a ?x . ?b a ?y . ?c a ?z }"
    response = limited.get("/sparql", params={"query": slow})
    assert response.status_code == 503
    assert "query timeout" in response.text
    assert limited.get("/health").status_code == 200


def test_health_and_ready(server: httpx.Client) -> None:
    assert server.get("/health").json() == {"status": "ok"}
    assert server.get("/ready").status_code == 200


def test_semantic_cohort_query(server: httpx.Client) -> None:
    query = PREFIXES + """SELECT (COUNT(DISTINCT ?d) AS ?n) WHERE {
      ?d a cdm:Diagnosis ; cdm:diagnosisCode ?code .
      ?code (rdfs:subClassOf|skos:exactMatch|^skos:exactMatch)* <http://snomed.info/id/363358000> }"""
    assert int(_bindings(server.get("/sparql", params={"query": query}))[0]["n"]) >= 1


def test_the_closure_in_sparql_is_expand(server: httpx.Client) -> None:
    """``ho:subsumedBy`` in the store gives, for a concept, exactly what ``expand`` gives in Python."""
    onto = load_ontology()
    for curie in ("SCT:363358000", "NCIT:C2926", "ICD10:C50"):
        concept = onto.concept(curie)
        query = f"SELECT ?c WHERE {{ ?c <https://w3id.org/hyperontology/subsumedBy> <{concept.iri}> }}"
        found = {row["c"] for row in _bindings(server.get("/sparql", params={"query": query}))}
        assert found == {c.iri for c in onto.expand(curie)}, curie
        assert len(found) > 3
    diagnoses = PREFIXES + """PREFIX ho: <https://w3id.org/hyperontology/>
    SELECT (COUNT(DISTINCT ?d) AS ?n) WHERE { ?d a cdm:Diagnosis ; cdm:diagnosisCode/ho:subsumedBy ?top .
      VALUES ?top { <http://snomed.info/id/363358000> } }"""
    assert int(_bindings(server.get("/sparql", params={"query": diagnoses}))[0]["n"]) >= 1


# ------------------------------------------------------------------------------------------ search API
def test_terms_autocomplete(server: httpx.Client) -> None:
    response = server.get("/api/terms", params={"q": "NSCLC", "limit": 10})
    assert response.status_code == 200
    assert "NCIT:C2926" in [hit["curie"] for hit in response.json()[:3]]
    assert set(response.json()[0]) == {"curie", "iri", "label", "scheme", "score", "match"}


def test_concept(server: httpx.Client) -> None:
    response = server.get("/api/concepts/SCT:363358000")
    assert response.status_code == 200
    assert "EUCAIM:CLIN1000065" in [c["curie"] for c in response.json()["equivalents"]]
    assert server.get("/api/concepts/SCT:999999999").status_code == 404


def test_expand(server: httpx.Client) -> None:
    body = server.get("/api/expand/SCT:363358000").json()
    assert "NCIT:C3512" in [c["curie"] for c in body["concepts"]]
    assert body["count"] == len(body["concepts"])


def test_openapi_lists_the_endpoints(server: httpx.Client) -> None:
    paths = server.get("/openapi.json").json()["paths"]
    assert {"/sparql", "/health", "/ready", "/api/terms"} <= set(paths)


def test_ready_is_503_without_a_store(tmp_path: Path) -> None:
    from hyperontology.server import ServerSettings, create_app

    app = create_app(ServerSettings(store=tmp_path / "absent"))

    async def statuses() -> list[int]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://node") as client:
            return [(await client.get(url)).status_code for url in ("/health", "/ready", "/sparql?query=ASK%7B%7D")]

    assert asyncio.run(statuses()) == [200, 503, 503]
