"""Every route limits its request body (413), no error answer repeats what the caller sent, results are bounded.

In process (every route of the app, found from its routing table) and against a real server: bodies over the
limit, declared by ``Content-Length`` or streamed in chunks; a huge unknown criterion, a huge key, a huge
``Accept`` or ``Content-Type``: the answer names the field, never the value.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pyoxigraph as ox
import pytest
from fastapi import FastAPI

from hyperontology import Hyperontology
from hyperontology.server import ServerSettings, create_app
from hyperontology.server.sparql import Answer, Job, Limits, execute
from hyperontology.store.oxigraph import NodeStore
from tests.processes import node_server

LIMIT = 2_000
MARKER = "ZQXJ"  # in every value sent here, and in no answer of the server


@pytest.fixture(scope="module")
def app(onto: Hyperontology, tmp_path_factory: pytest.TempPathFactory) -> FastAPI:
    """The app with a small body limit (and no store: the limits come first)."""
    return create_app(ServerSettings(store=tmp_path_factory.mktemp("limits") / "absent", max_request_bytes=LIMIT),
                      ontology=onto)


@pytest.fixture(scope="module")
def server(small_store: Path) -> Iterator[httpx.Client]:
    with node_server(small_store) as client:  # the default limit: 1,000,000 bytes
        yield client


def _routes(app: FastAPI, method: str) -> list[str]:
    """The paths of the routes of the app taking ``method``, from its OpenAPI description (with the docs')."""
    paths = [path for path, operations in app.openapi()["paths"].items() if method.lower() in operations]
    return paths + (["/openapi.json", "/docs"] if method == "GET" else [])


async def _chunks(size: int) -> AsyncIterator[bytes]:
    for start in range(0, size, 500):
        yield b"x" * min(500, size - start)


def _statuses(app: FastAPI, requests: list[tuple[str, str, dict[str, object]]]) -> list[int]:
    async def send() -> list[int]:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://node") as client:
            return [(await client.request(method, path, **kwargs)).status_code for method, path, kwargs in requests]

    return asyncio.run(send())


def test_every_post_route_has_a_body_limit(app: FastAPI) -> None:
    posts = _routes(app, "POST")
    assert {"/sparql", "/api/cohort"} <= set(posts)
    json = {"Content-Type": "application/json"}
    for path in posts:
        declared = ("POST", path, {"content": b"x" * (LIMIT + 1), "headers": json})
        streamed = ("POST", path, {"content": _chunks(LIMIT + 1), "headers": json})  # chunked: no Content-Length
        within = ("POST", path, {"content": b"{}", "headers": json})
        statuses = _statuses(app, [declared, streamed, within])
        assert statuses[:2] == [413, 413], path
        assert statuses[2] != 413, path


def test_other_routes_refuse_a_large_body_too(app: FastAPI) -> None:
    paths = [path.replace("{curie}", "SCT:363358000").replace("{name}", "app.js") for path in _routes(app, "GET")]
    assert {"/health", "/ready", "/api/terms"} <= set(paths)
    assert set(_statuses(app, [("GET", path, {"content": b"x" * (LIMIT + 1)}) for path in paths])) == {413}


def test_validation_errors_name_the_field_not_the_value(app: FastAPI) -> None:
    async def send(body: object) -> httpx.Response:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://node") as client:
            return await client.post("/api/cohort", json=body)

    for body in ({"diagnosis": MARKER * 100}, {"diagnosis": [MARKER * 300]}, {"age": {"min": MARKER}}):
        response = asyncio.run(send(body))
        assert response.status_code == 422, body
        assert MARKER not in response.text
        assert response.json()["detail"][0]["loc"][:2] == ["body", next(iter(body))]
    response = asyncio.run(send({"colour": [], MARKER * 100: []}))  # unknown keys: named, a long one cut short
    assert response.status_code == 422
    assert [error["loc"][1] for error in response.json()["detail"]] == ["colour", MARKER * 10 + "..."]


def test_an_unknown_criterion_is_named_not_repeated(server: httpx.Client) -> None:
    response = server.post("/api/cohort", json={"diagnosis": ["SCT:363358000"], "stage": ["SCT:1", MARKER * 200]})
    assert response.status_code == 404
    assert response.json() == {"detail": {"message": "unknown concept", "field": "stage", "index": 0}}
    response = server.post("/api/cohort", json={"stage": [MARKER * 200]})
    assert response.status_code == 404
    assert MARKER not in response.text


@pytest.mark.parametrize("size", [20_000, 900_000, 1_500_000])
def test_a_huge_criterion_is_not_in_the_answer(server: httpx.Client, size: int) -> None:
    response = server.post("/api/cohort", json={"diagnosis": [MARKER * (size // len(MARKER))]})
    assert response.status_code == (413 if size > 1_000_000 else 422)
    assert MARKER not in response.text
    assert len(response.content) < 1_000


def test_a_streamed_body_over_the_limit_is_413(server: httpx.Client) -> None:
    def chunks() -> Iterator[bytes]:
        yield from (b"#" * 100_000 for _ in range(12))

    for path, kind in (("/sparql", "application/sparql-query"), ("/api/cohort", "application/json")):
        response = server.post(path, content=chunks(), headers={"Content-Type": kind})
        assert response.status_code == 413, path


def test_other_errors_do_not_repeat_their_input(server: httpx.Client) -> None:
    select = "SELECT ?s WHERE { ?s ?p ?o } LIMIT 1"
    answers = [
        server.get("/sparql", params={"query": select}, headers={"Accept": f"image/{MARKER}"}),  # 406
        server.post("/sparql", content=select, headers={"Content-Type": f"application/{MARKER}"}),  # 415
        server.get(f"/api/concepts/SCT:{MARKER}"),  # 404
        server.get(f"/api/expand/SCT:{MARKER}"),  # 404
        server.get(f"/api/concepts/SCT:{MARKER * 300}"),  # 422: too long
        server.get("/api/terms", params={"q": MARKER * 100}),  # 422: too long
        server.get(f"/static/{MARKER}.js"),  # 404
    ]
    assert [a.status_code for a in answers] == [406, 415, 404, 404, 422, 422, 404]
    for answer in answers:
        assert MARKER not in answer.text, answer.request.url


# ------------------------------------------------------------------------------------------ result bounds
@pytest.fixture(scope="module")
def values() -> NodeStore:
    store = NodeStore()
    store.store.extend(ox.Quad(ox.NamedNode(f"http://x/s{i}"), ox.NamedNode("http://x/p"), ox.Literal(f"v{i:04}"))
                       for i in range(200))
    return store


def _run(store: NodeStore, query: str, accept: str, *, rows: int = 50, size: int = 4_000) -> Answer:
    return execute(store, Job("query", query, accept), Limits(max_rows=rows, max_result_bytes=size))


@pytest.mark.parametrize("accept", ["application/sparql-results+json", "application/sparql-results+xml", "text/csv"])
def test_select_results_are_cut_by_rows_and_by_size(values: NodeStore, accept: str) -> None:
    answer = _run(values, "SELECT ?o WHERE { ?s ?p ?o }", accept, rows=5, size=1_000_000)
    assert answer.truncated and answer.body.count(b"v0") == 5
    wide = 'SELECT ?x WHERE { ?s ?p ?o BIND(CONCAT(STR(?o), "' + "w" * 1000 + '") AS ?x) }'
    answer = _run(values, wide, accept)
    assert answer.truncated and len(answer.body) <= 4_000
    assert 1 <= answer.body.count(b"w" * 1000) <= 3
    one_huge = "SELECT (GROUP_CONCAT(?o) AS ?x) WHERE { ?s ?p ?o }"  # one row of 1,000 bytes
    assert _run(values, one_huge, accept, size=500).truncated


def test_construct_results_are_cut_too(values: NodeStore) -> None:
    answer = _run(values, "CONSTRUCT WHERE { ?s ?p ?o }", "application/n-triples", rows=7)
    assert answer.truncated and answer.body.count(b"\n") == 7
    answer = _run(values, "CONSTRUCT WHERE { ?s ?p ?o }", "text/turtle", rows=1_000, size=1_000)
    assert answer.truncated and len(answer.body) <= 1_000
    whole = _run(values, "CONSTRUCT WHERE { ?s ?p ?o }", "application/n-triples", rows=1_000, size=1_000_000)
    assert not whole.truncated and whole.body.count(b"\n") == 200
