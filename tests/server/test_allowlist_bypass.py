"""The allow-list bypasses of the SPARQL text reader, against a real ``hyperontology serve`` process.

A local HTTP listener stands in for an internal URL. The node (API keys for a reader and an updater, updates
allowed) may reach the listener's ``/allowed`` path only: a control query shows the node can reach the listener,
and every bypass must leave it without a request.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pyoxigraph as ox
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hyperontology.server.settings import hash_key
from tests.processes import node_server
from tests.server.test_allowlist_property import Case, Listener, queries, updates

READER_KEY = "r" * 24 + "-allowlist-reader-key"
UPDATER_KEY = "u" * 24 + "-allowlist-updater-key"
EX = "http://example.org/remote/"
DATA = "https://w3id.org/hyperontology/graph/data"


@pytest.fixture(scope="module")
def listener() -> Iterator[Listener]:
    served = Listener()
    yield served
    served.close()


@pytest.fixture(scope="module")
def node(listener: Listener, tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    directory = tmp_path_factory.mktemp("bypass")
    store = ox.Store(str(directory / "store"))
    for predicate, value in (("p", ox.Literal("on the node")), ("q", ox.NamedNode("http://x/ex/a.b"))):
        store.add(ox.Quad(ox.NamedNode(EX + "s"), ox.NamedNode(EX + predicate), value, ox.NamedNode(DATA)))
    store.flush()
    del store
    config = directory / "node.toml"
    config.write_text(f"""
[[auth.api_keys]]
id = "reader"
hash = "{hash_key(READER_KEY)}"
roles = ["reader"]

[[auth.api_keys]]
id = "updater"
hash = "{hash_key(UPDATER_KEY)}"
roles = ["updater"]

[sparql]
allow_remote = ["{listener.base}/allowed"]
""", encoding="utf-8")
    with node_server(directory / "store", "--config", str(config), "--allow-update") as client:
        yield client


def _query(node: httpx.Client, text: str) -> httpx.Response:
    return node.get("/sparql", params={"query": text}, headers={"Authorization": f"ApiKey {READER_KEY}"})


def _update(node: httpx.Client, text: str) -> httpx.Response:
    return node.post("/sparql", data={"update": text}, headers={"Authorization": f"ApiKey {UPDATER_KEY}"})


def _refused_unseen(response: httpx.Response, listener: Listener) -> None:
    assert response.status_code in (400, 403), response.text
    assert listener.requests == [], f"the node called the listener: {listener.requests}"


def test_control_an_allowed_service_reaches_the_listener(node: httpx.Client, listener: Listener) -> None:
    listener.requests.clear()
    response = _query(node, f"SELECT ?z WHERE {{ SERVICE <{listener.base}/allowed/sparql> {{ ?z ?p ?o }} }}")
    assert response.status_code == 200, response.text
    assert [b["z"]["value"] for b in response.json()["results"]["bindings"]] == ["INTERNAL"]
    assert listener.requests and listener.requests[0].split()[1].startswith("/allowed/sparql")


def test_the_reported_query_is_refused(node: httpx.Client, listener: Listener) -> None:
    """The issue's query: ``b:c\u203f\\'`` is one prefixed name, so the quote opens no string."""
    listener.requests.clear()
    text = (f"PREFIX b: <http://x/> SELECT * WHERE {{ BIND(b:c\u203f\\' AS ?z) SERVICE <{listener.base}/x> "
            "{ ?s ?p ?o } } # '")
    for response in (_query(node, text),
                     node.post("/sparql", content=text, headers={"Authorization": f"ApiKey {READER_KEY}",
                                                                 "Content-Type": "application/sparql-query"})):
        assert response.status_code == 403, response.text
        assert f"SERVICE <{listener.base}/x> is not on this endpoint's allow-list" in response.text
    assert listener.requests == []


def test_the_reported_load_is_refused(node: httpx.Client, listener: Listener) -> None:
    listener.requests.clear()
    text = (f"PREFIX b: <http://x/> INSERT DATA {{ <http://x/s> <http://x/p> b:c\u203f\\' }} ; "
            f"LOAD <{listener.base}/x> INTO GRAPH <http://x/g> # '")
    response = _update(node, text)
    assert response.status_code == 403, response.text
    assert f"LOAD <{listener.base}/x> is not on this endpoint's allow-list" in response.text
    assert listener.requests == []


#: the nastiest shapes the generator makes (test_allowlist_property.py), written out
NASTIEST = [
    # a comment ends at a carriage return: SERVICE is no comment (rdflib alone reads it as one)
    "SELECT * WHERE {{ BIND(1 AS ?one) # x\r SERVICE <{L}/sparql> {{ ?s ?p ?o }}\n}}",
    # the store ends ex:a.b at its second dot: ".service:x" is "." then SERVICE :x
    "PREFIX : <{L}/> PREFIX ex: <http://x/ex/> SELECT * WHERE {{ ?s ?p ex:a.b.service:x {{ ?a ?b ?c }} }}",
    # \u005C is a backslash in the string for the store, an escape of the next quote for SPARQL 1.1's reading
    'SELECT * WHERE {{ BIND("a\\u005C" AS ?z) SERVICE <{L}/sparql> {{ ?s ?p ?o }} }} #" AS ?z) }}',
    # keywords glued to what follows, in any letter case
    "SELECT*WHERE{{BIND(1 AS ?one)sErViCeSiLeNt<{L}/sparql>{{?s ?p ?o}}}}",
    "PREFIX e: <{L}/> SELECT * WHERE {{ BIND(1 AS ?one) SERVICEe:sparql {{ }} }}",
    # BASE and PREFIX redefined: the second value holds
    "BASE <{L}/allowed/> BASE <{L}/> SELECT * WHERE {{ BIND(1 AS ?one) SERVICE <sparql> {{ }} }}",
    "PREFIX e: <{L}/allowed/> PREFIX e: <{L}/> SELECT * WHERE {{ BIND(1 AS ?one) SERVICE e:sparql {{ }} }}",
    # dot segments out of the allowed path, written plain, percent-encoded and with \u escapes
    "SELECT * WHERE {{ BIND(1 AS ?one) SERVICE <{L}/allowed/../sparql> {{ }} }}",
    "SELECT * WHERE {{ BIND(1 AS ?one) SERVICE <{L}/allowed/%2E%2e/sparql> {{ }} }}",
    "SELECT * WHERE {{ BIND(1 AS ?one) SERVICE <{L}/allowed/\\u002E\\u002E/sparql> {{ }} }}",
    "BASE <{L}/allowed/x/> SELECT * WHERE {{ BIND(1 AS ?one) SERVICE <../../sparql> {{ }} }}",
    # a variable endpoint, bound to the listener
    "SELECT * WHERE {{ BIND(<{L}/sparql> AS ?e) SERVICE ?e {{ }} }}",
    # user information before the allowed host
    "SELECT * WHERE {{ BIND(1 AS ?one) SERVICE <http://x@{H}/allowed/sparql> {{ }} }}",
    # a dataset of the listener's
    "SELECT * FROM <{L}/g> WHERE {{ ?s ?p ?o }}",
]
NASTIEST_UPDATES = [
    "WITH <{L}/g> INSERT {{ GRAPH <http://x/out> {{ ?s ?p ?o }} }} WHERE {{ ?s ?p ?o }}",
    "INSERT {{ GRAPH <http://x/out> {{ ?s ?p ?o }} }} USING NAMED <{L}/g> WHERE {{ ?s ?p ?o }}",
    "PREFIX b: <http://x/> INSERT DATA {{ <http://x/s> <http://x/p> '''\\u0027''' }} ; LOAD <{L}/doc> # '''",
    "LoAdSiLeNt<{L}/doc>",
]


@pytest.mark.parametrize("template", NASTIEST)
def test_nastiest_queries(node: httpx.Client, listener: Listener, template: str) -> None:
    listener.requests.clear()
    host = listener.base.removeprefix("http://")
    _refused_unseen(_query(node, template.format(L=listener.base, H=host)), listener)


@pytest.mark.parametrize("template", NASTIEST_UPDATES)
def test_nastiest_updates(node: httpx.Client, listener: Listener, template: str) -> None:
    listener.requests.clear()
    _refused_unseen(_update(node, template.format(L=listener.base)), listener)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.too_slow])
@given(data=st.data())
def test_generated_payloads(node: httpx.Client, listener: Listener, data: st.DataObject) -> None:
    """A few generated texts with a payload, sent to the node: refused, and the listener sees nothing."""
    kind = data.draw(st.sampled_from(["query", "update"]))
    make = queries if kind == "query" else updates
    case: Case = data.draw(make(listener.base).filter(lambda generated: bool(generated.payloads)))
    listener.requests.clear()
    response = _query(node, case.text) if kind == "query" else _update(node, case.text)
    _refused_unseen(response, listener)


def test_an_own_graph_still_passes(node: httpx.Client) -> None:
    text = f"SELECT ?o FROM <{DATA}> WHERE {{ <{EX}s> <{EX}p> ?o }}"
    response = _query(node, text)
    assert response.status_code == 200, response.text
    assert [b["o"]["value"] for b in response.json()["results"]["bindings"]] == ["on the node"]


def test_a_text_that_cannot_be_checked_is_400(node: httpx.Client, listener: Listener) -> None:
    listener.requests.clear()
    response = _query(node, f"SELECT * WHERE {{ BIND(1 AS ?one) \\u0053ERVICE <{listener.base}/sparql> {{ }} }}")
    assert response.status_code == 400, response.text
    assert "cannot check the text for SERVICE, LOAD, FROM, USING and WITH" in response.text
    assert listener.requests == []
