"""The node as Samply Focus meets it: URLs as deployment tools write them, credentials as Focus sends them, reply
shapes the explorer reads, the disclosure modes, aggregate-only, and SERVICE limited to federation members.

Real servers on a small synthetic node (``hyperontology.federation.synthetic``).
"""

from __future__ import annotations

import json
import urllib.parse
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import httpx
import pytest

from hyperontology import load_ontology
from hyperontology.federation.synthetic import build_node_store
from hyperontology.server.settings import hash_key
from tests.processes import node_server

COUNTS_KEY = "c" * 40
READER_KEY = "r" * 40
LUNG = {"key": "SNOMEDCT439401001", "type": "EQUALS", "value": "SNOMEDCT363358000"}
BEACON = {"meta": {"apiVersion": "2.0"}, "query": {"includeResultsetResponses": "HIT",
                                                   "pagination": {"skip": 0, "limit": 10},
                                                   "filters": [{"id": "EUCAIM:COM1001370", "scope": "patients"}],
                                                   "testMode": False, "requestedGranularity": "record"}}
FIELDS = {"id", "name", "description", "subjects_count", "studies_count", "age_range", "gender", "modalities",
          "body_parts"}


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("contracts") / "store"
    build_node_store(path, patients=150, ontology=load_ontology(), seed=5,
                     datasets=[("lung-a", "Lung A"), ("breast-b", "Breast B")])
    return path


@pytest.fixture(scope="module")
def servers(store: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, httpx.Client]]:
    """``secured``: API keys (counts and reader roles), k = 10; ``closed``: aggregate-only with small counts
    suppressed; ``member``: open, exact; ``federator``: --federation over ``member``."""
    work = tmp_path_factory.mktemp("contracts-config")
    config = work / "node.toml"
    config.write_text(f'[[auth.api_keys]]\nid = "focus"\nhash = "{hash_key(COUNTS_KEY)}"\nroles = ["counts"]\n'
                      f'[[auth.api_keys]]\nid = "analyst"\nhash = "{hash_key(READER_KEY)}"\nroles = ["reader"]\n',
                      encoding="utf-8")
    with ExitStack() as stack:
        found = {
            "secured": stack.enter_context(node_server(store, "--workers", "1", "--config", str(config))),
            "closed": stack.enter_context(node_server(store, "--workers", "1", "--aggregate-only",
                                                      "--small-counts", "suppress")),
            "member": stack.enter_context(node_server(store, "--workers", "1", "--min-count", "1")),
        }
        nodes = work / "nodes.yaml"
        nodes.write_text(json.dumps({"nodes": [{"name": "member", "url": str(found["member"].base_url).rstrip("/")}]}),
                         encoding="utf-8")
        found["federator"] = stack.enter_context(node_server(store, "--workers", "1", "--federation", str(nodes)))
        yield found


def _focus(key: str = COUNTS_KEY, scheme: str = "ApiKey") -> dict[str, str]:
    return {"Authorization": f"{scheme} {key}"}


def test_every_url_form_a_deployment_writes_answers_the_same(servers: dict[str, httpx.Client]) -> None:
    node = servers["secured"]
    plain = node.get("/api/eucaim/search", params={"gender": "female"}, headers=_focus())
    assert plain.status_code == 200, plain.text
    for path in ("/api/eucaim/search/fhir/", "/api/eucaim/search/fhir", "/api/eucaim//search/fhir//"):
        assert node.get(path, params={"gender": "female"}, headers=_focus()).json() == plain.json(), path
    tree = {"ast": {"operand": "OR", "children": [{"operand": "AND", "children": [LUNG]}]}, "id": "q1"}
    ast = node.post("/api/eucaim/ast", json=tree, headers=_focus()).json()
    assert node.post("/api/eucaim/ast/fhir/", json=tree, headers=_focus()).json() == ast
    beacon = node.post("/api/eucaim/beacon/collections", json=BEACON, headers=_focus()).json()
    for path in ("/api/eucaim/beacon/fhir//collections", "/api/eucaim/beacon/fhir/collections"):
        assert node.post(path, json=BEACON, headers=_focus()).json() == beacon, path


def test_focus_credentials_apikey_and_secret(servers: dict[str, httpx.Client]) -> None:
    node = servers["secured"]
    for scheme in ("ApiKey", "Secret", "apikey", "secret"):
        assert node.get("/api/eucaim/search", headers=_focus(scheme=scheme)).status_code == 200, scheme
    assert node.get("/api/eucaim/search").status_code == 401
    assert node.get("/api/eucaim/search", headers=_focus("x" * 40, "Secret")).status_code == 401
    assert node.get("/api/eucaim/search/fhir/").status_code == 401  # the plain path's permission, not a loophole
    # Focus's key (counts role) has no row-level access
    assert node.get("/sparql", params={"query": "SELECT * WHERE { ?s ?p ?o } LIMIT 1"},
                    headers=_focus()).status_code == 403


def test_reply_shapes_the_explorer_reads(servers: dict[str, httpx.Client]) -> None:
    node = servers["secured"]
    for response in (node.get("/api/eucaim/search", params={"modality": "MR"}, headers=_focus()),
                     node.post("/api/eucaim/ast", json={"ast": LUNG}, headers=_focus())):
        body = response.json()
        assert set(body) == {"collections"} and len(body["collections"]) == 2
        for collection in body["collections"]:
            assert set(collection) == FIELDS and "provider" not in collection
            assert isinstance(collection["subjects_count"], int) and collection["subjects_count"] % 10 == 0
            assert set(collection["age_range"]) == {"min", "max"}
        assert {c["id"] for c in body["collections"]} == {"lung-a", "breast-b"}
    beacon = node.post("/api/eucaim/beacon/collections", json=BEACON, headers=_focus()).json()
    assert set(beacon) == {"meta", "responseSummary", "response"}
    assert set(beacon["responseSummary"]) == {"exists", "numTotalResults"}
    collections = beacon["response"]["collections"]
    assert {c["id"] for c in collections} == {"lung-a", "breast-b"}
    assert all(set(c) == FIELDS for c in collections)  # snake_case: studies_count, never studiesCount
    assert beacon["responseSummary"]["numTotalResults"] == sum(c["subjects_count"] for c in collections) > 0
    # nothing matches: still one entry per dataset, never {}
    none = node.post("/api/eucaim/ast", json={"ast": {"operand": "OR", "children": []}}, headers=_focus()).json()
    assert [c["subjects_count"] for c in none["collections"]] == [0, 0]


def test_unknown_criteria_are_named_counted_and_match_nothing(servers: dict[str, httpx.Client]) -> None:
    node = servers["secured"]
    before = node.get("/api/eucaim/status", headers=_focus()).json()["unknown"]
    response = node.get("/api/eucaim/search", params={"gender": "female", "colour": "blue"}, headers=_focus())
    assert response.status_code == 200
    assert "parameter 'colour'" in response.headers["X-Unknown-Criteria"]
    assert all(c["subjects_count"] == 0 for c in response.json()["collections"])  # never widened
    after = node.get("/api/eucaim/status", headers=_focus()).json()
    assert after["unknown"]["parameter 'colour'"] == before.get("parameter 'colour'", 0) + 1
    assert after["min_count"] == 10 and "multiple of 10" in after["policy"]
    own = node.post("/api/cohort/collections", json={"ast": {"key": "SNOMEDCT1", "type": "EQUALS", "value": "x"}},
                    headers=_focus())
    assert own.status_code == 400 and "SNOMEDCT1" in own.text


def test_own_api_shows_small_counts_as_under_k(servers: dict[str, httpx.Client]) -> None:
    node = servers["secured"]
    exact = servers["member"].post("/api/cohort/collections", json={"ast": LUNG}).json()["collections"]
    tree = {"ast": {"operand": "AND", "children": [LUNG, {"key": "SNOMEDCT423493009", "type": "BETWEEN",
                                                            "value": {"min": 60, "max": 64}}]}}
    small = servers["member"].post("/api/cohort/collections", json=tree).json()["collections"]
    shown = node.post("/api/cohort/collections", json=tree, headers=_focus()).json()["collections"]
    for true, seen in zip(small, shown, strict=True):
        count = true["subjects_count"]
        assert seen["subjects_count"] == ("<10" if 0 < count < 10 else count if count == 0 else seen["subjects_count"])
        assert seen["subjects_count"] == 0 or seen["subjects_count"] == "<10" or seen["subjects_count"] % 10 == 0
    assert any(0 < c["subjects_count"] < 10 for c in small), "the crafted cohort is small somewhere"
    assert all(isinstance(c["subjects_count"], int) for c in exact)
    # the cohort API: exact for a caller who may run SPARQL, disclosed for Focus's key
    body = {"diagnosis": ["SCT:363358000"], "age": {"min": 60, "max": 64}}
    reader = node.post("/api/cohort", json=body, headers=_focus(READER_KEY)).json()
    focus = node.post("/api/cohort", json=body, headers=_focus()).json()
    assert isinstance(reader["patients"], int) and "policy" not in reader
    assert focus["patients"] == ("<10" if 0 < reader["patients"] < 10 else focus["patients"]) and focus["policy"]


def test_aggregate_only_closes_sparql_and_suppress_hides_small_counts(servers: dict[str, httpx.Client]) -> None:
    closed, member = servers["closed"], servers["member"]
    for response in (closed.get("/sparql", params={"query": "ASK {}"}),
                     closed.post("/sparql", data={"query": "ASK {}"})):
        assert response.status_code == 403 and "aggregate-only" in response.text
    tree = {"ast": {"operand": "AND", "children": [LUNG, {"key": "SNOMEDCT423493009", "type": "BETWEEN",
                                                            "value": {"min": 60, "max": 64}}]}}
    true = member.post("/api/eucaim/ast", json=tree).json()["collections"]
    seen = closed.post("/api/eucaim/ast", json=tree).json()["collections"]
    for t, s in zip(true, seen, strict=True):
        expected = 0 if t["subjects_count"] < 10 else -(-t["subjects_count"] // 10) * 10
        assert s["subjects_count"] == expected


def test_federated_sparql_may_call_members_only(servers: dict[str, httpx.Client]) -> None:
    federator, member = servers["federator"], servers["member"]
    inside = str(member.base_url).rstrip("/") + "/sparql"
    query = f"ASK {{ SERVICE <{inside}> {{ ?s a <https://w3id.org/hyperontology/cdm#Patient> }} }}"
    response = federator.get("/sparql", params={"query": query}, headers={"Accept": "application/sparql-results+json"})
    assert response.status_code == 200, response.text
    assert response.json()["boolean"] is True
    port = urllib.parse.urlsplit(inside).port
    outside = f"http://127.0.0.2:{port}/sparql"  # not a member (another address)
    refused = federator.get("/sparql", params={"query": query.replace(inside, outside)})
    assert refused.status_code == 403
