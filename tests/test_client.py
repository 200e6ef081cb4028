"""The client: a local store and a real server process (with the cohort API) give the same answers."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from pandas.testing import assert_frame_equal

from hyperontology import UnknownConceptError
from hyperontology.client import Client, ClientError, connect
from tests.processes import node_server

sys.path.insert(0, str(Path(__file__).resolve().parent / "search"))
from test_cohort import build_store  # noqa: E402

QUERY = """PREFIX cdm: <https://w3id.org/hyperontology/cdm#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
SELECT ?d ?code ?date ?rows ?contrast ?missing WHERE {
  ?d a cdm:Diagnosis ; cdm:diagnosisCode ?code ; cdm:patient ?p ; cdm:assertedDate ?date .
  ?code (rdfs:subClassOf|skos:exactMatch|^skos:exactMatch)* <http://snomed.info/id/363358000> .
  ?series cdm:patient ?p ; cdm:rows ?rows ; cdm:contrastUsed ?contrast .
  OPTIONAL { ?d cdm:noSuchProperty ?missing }
} ORDER BY ?d"""

@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_store(tmp_path_factory.mktemp("client") / "store")


@pytest.fixture(scope="module")
def url(store: Path) -> Iterator[str]:
    with node_server(store) as client:
        yield str(client.base_url).rstrip("/")


@pytest.fixture(scope="module")
def local(store: Path) -> Iterator[Client]:
    with connect(store) as client:
        yield client


@pytest.fixture(scope="module")
def remote(url: str) -> Iterator[Client]:
    with connect(url) as client:
        yield client


def test_query_gives_the_same_frame_locally_and_over_http(local: Client, remote: Client) -> None:
    here, there = local.query(QUERY), remote.query(QUERY)
    assert_frame_equal(here, there)
    assert list(here.columns) == ["d", "code", "date", "rows", "contrast", "missing"]
    assert len(here) == 1
    assert here["code"].tolist() == ["http://snomed.info/id/254626006"]
    assert here["date"].tolist() == ["2018-12-01T00:00:00"]
    assert here["rows"].tolist() == [128] and here["rows"].dtype.kind == "i"
    assert here["contrast"].tolist() == [True]
    assert here["missing"].tolist() == [None]


def test_numbers_and_empty_results(local: Client, remote: Client) -> None:
    query = 'SELECT ?n ?x WHERE { VALUES (?n ?x) { (1 2.5) (2 "a") } } ORDER BY ?n'
    assert_frame_equal(local.query(query), remote.query(query))
    assert local.query(query)["x"].tolist() == [2.5, "a"]
    empty = "SELECT ?s WHERE { ?s a <http://example.org/Nothing> }"
    assert_frame_equal(local.query(empty), remote.query(empty))
    assert list(local.query(empty).columns) == ["s"]


def test_bad_queries_are_client_errors(local: Client, remote: Client) -> None:
    for client in (local, remote):
        with pytest.raises(ClientError):
            client.query("SELEC ?x WHERE { ?x ?p ?o }")
        with pytest.raises(ClientError, match="SELECT"):
            client.query("ASK { ?s ?p ?o }")


def test_cohort_locally_and_over_http(local: Client, remote: Client) -> None:
    criteria = {"diagnosis": ["SCT:363358000"], "modality": "RADLEX:RID10321", "age_min": 60, "age_max": 70}
    here, there = local.cohort(**criteria), remote.cohort(**criteria)
    assert here == there
    assert (here["patients"], here["studies"], here["series"]) == (1, 1, 1)
    assert remote.cohort(diagnosis=["SCT:363358000"], modality=["DCM:MR"])["patients"] == 0
    for client in (local, remote):
        with pytest.raises(UnknownConceptError, match="SCT:999999999"):
            client.cohort(diagnosis=["SCT:999999999"])
        with pytest.raises(TypeError):
            client.cohort(diagnoses=["SCT:363358000"])


def test_cohort_api_errors(url: str) -> None:
    response = httpx.post(url + "/api/cohort", json={"stage": ["SCT:999999999"]})
    assert response.status_code == 404
    assert response.json()["detail"] == {"message": "unknown concept", "field": "stage", "index": 0}
    assert "SCT:999999999" not in response.text  # named by its field, never repeated
    for bad in ({"diagnosis": "SCT:363358000"}, {"colour": ["red"]}, {"age": {"min": 70, "max": 60}},
                {"age": {"min": "old"}}, [1, 2]):
        assert httpx.post(url + "/api/cohort", json=bad).status_code == 422, bad
    body = httpx.post(url + "/api/cohort", json={}).json()
    assert {k: body[k] for k in ("patients", "studies", "series")} == {"patients": 2, "studies": 2, "series": 2}
    assert "SELECT" in body["sparql"]


def test_search_and_expand(local: Client, remote: Client) -> None:
    assert_frame_equal(local.search("NSCLC", limit=5), remote.search("NSCLC", limit=5))
    hits = local.search("NSCLC", limit=5)
    assert "NCIT:C2926" in hits["curie"].head(3).tolist()
    assert list(hits.columns) == ["curie", "iri", "label", "scheme", "score", "match"]
    expanded = remote.expand("SCT:363358000")
    assert_frame_equal(local.expand("SCT:363358000"), expanded)
    assert "NCIT:C3512" in expanded["curie"].tolist()
    with pytest.raises(UnknownConceptError):
        remote.expand("SCT:999999999")


def test_connect_to_nothing(tmp_path: Path) -> None:
    with pytest.raises(ClientError, match="no store there"):
        connect(tmp_path / "absent")
    with pytest.raises(ValueError, match="exactly one"):
        Client()


def test_collections_locally_exact_and_over_http_disclosed(local: Client, remote: Client) -> None:
    from hyperontology.federation.disclosure import Disclosure

    policy = Disclosure(10)  # the node's default
    ct_or_mr = [{"key": "RID10311", "type": "EQUALS", "value": v} for v in ("RID10321", "RID10312")]
    for criteria in (None, {"diagnosis": ["SCT:363358000"]}, {"ast": {"operand": "OR", "children": ct_or_mr}}):
        here, there = local.collections(criteria), remote.collections(criteria)
        assert list(here["id"]) == list(there["id"]) and len(here) >= 1
        everyone = local.collections()
        for (_, row), (_, shown), (_, whole) in zip(here.iterrows(), there.iterrows(), everyone.iterrows(),
                                                     strict=True):
            assert shown["subjects"] == policy.shown(int(row["subjects"]), total=int(whole["subjects"]))
    assert local.collections()["subjects"].sum() > 0
    for client in (local, remote):
        with pytest.raises(ClientError, match="SCT:999999999"):
            client.collections({"diagnosis": ["SCT:999999999"]})
