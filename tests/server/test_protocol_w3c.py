"""The W3C SPARQL 1.1 Protocol tests, against a real ``serve --allow-update`` on the embedded store and on a remote
(Oxigraph server) store.

Every entry of the protocol manifest of the W3C rdf-tests suite (``sparql/sparql11/protocol/manifest.ttl``, 34
tests, approved 2012-11-20) is here under its name, written as a table of this project: the requests each test
sends (method, URL parameters, media type, body), what its answer must be (a status class, a result format, the
boolean of an ASK), and the named graphs it starts with (the manifest's ``ut:graphData``: graphs named
``http://kasei.us/2009/09/sparql/data/dataN.rdf``, each holding ``<dataN.rdf> a foaf:Document``). The
requests mean what the manifest's do; their text is this project's.

The node's allow-list holds the two graph prefixes the tests name, so that a dataset parameter is refused only
where the protocol says it must be (``bad_update_dataset_conflict``), not by the allow-list.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field

import httpx
import pyoxigraph as ox
import pytest

from tests.processes import node_server, oxigraph_server

KASEI = "http://kasei.us/2009/09/sparql/data/"
FOAF = "http://xmlns.com/foaf/0.1/"
DC = "http://purl.org/dc/terms/"
FORM = "application/x-www-form-urlencoded"
QUERY = "application/sparql-query"
UPDATE = "application/sparql-update"
ALLOWED = ("http://kasei.us/2009/09/sparql/data", "http://example/")
TABULAR = {"application/sparql-results+json", "application/sparql-results+xml", "text/csv",
           "text/tab-separated-values"}
BOOLEAN = {"application/sparql-results+json", "application/sparql-results+xml"}
RDF = {"text/turtle", "application/n-triples", "application/rdf+xml", "application/ld+json", "application/n-quads"}


def doc(n: int) -> str:
    return f"{KASEI}data{n}.rdf"


@dataclass(frozen=True)
class Step:
    """One request of a test and what its answer must be."""

    method: str
    params: tuple[tuple[str, str], ...] = ()  # in the URL, in order (a name may repeat)
    media: str | None = None  # the Content-Type of the body (None: no header)
    body: str | bytes | None = None
    status: int = 2  # the status class: 2 (2xx or 3xx, as the manifest allows) or 4
    format: str | None = None  # boolean, tabular or RDF
    boolean: bool | None = None


@dataclass(frozen=True)
class Case:
    name: str  # the manifest entry
    steps: tuple[Step, ...]
    graphs: tuple[int, ...] = field(default=())  # the kasei.us data graphs it starts with


def ask(text: str, *params: tuple[str, str], expected: bool = True) -> Step:
    return Step("POST", params, QUERY, text, format="boolean", boolean=expected)


def update(text: str, *params: tuple[str, str]) -> Step:
    return Step("POST", params, UPDATE, text)


def both_types(*numbers: int) -> str:
    return "ASK { " + " ".join(f"<{doc(n)}> a ?kind ." for n in numbers) + " }"


def in_graphs(*numbers: int) -> str:
    return "ASK { " + " ".join(f"GRAPH ?g{n} {{ <{doc(n)}> a ?kind }}" for n in numbers) + " }"


DATA0 = ("default-graph-uri", doc(0))
CASES = (
    Case("query_post_form", (Step("POST", (DATA0,), FORM, "query=ASK%20%7B%7D", format="boolean", boolean=True),)),
    Case("query_dataset_default_graphs_get",
         (Step("GET", (("query", both_types(1, 2)), ("default-graph-uri", doc(1)), ("default-graph-uri", doc(2))),
               format="boolean", boolean=True),), graphs=(1, 2)),
    Case("query_dataset_default_graphs_post",
         (ask(both_types(1, 2), ("default-graph-uri", doc(1)), ("default-graph-uri", doc(2))),), graphs=(1, 2)),
    Case("query_dataset_named_graphs_post",
         (ask(in_graphs(1, 2), ("named-graph-uri", doc(1)), ("named-graph-uri", doc(2))),), graphs=(1, 2)),
    Case("query_dataset_named_graphs_get",
         (Step("GET", (("query", in_graphs(1, 2)), ("named-graph-uri", doc(1)), ("named-graph-uri", doc(2))),
               format="boolean", boolean=True),), graphs=(1, 2)),
    Case("query_dataset_full",
         (ask(f"ASK {{ <{doc(3)}> a ?kind GRAPH ?a {{ <{doc(1)}> a ?kind }} GRAPH ?b {{ <{doc(2)}> a ?kind }} }}",
              ("default-graph-uri", doc(3)), ("named-graph-uri", doc(1)), ("named-graph-uri", doc(2))),),
         graphs=(1, 2, 3)),
    # the protocol's dataset wins over the query's FROM (which names a graph where data1 and data2 are not)
    Case("query_multiple_dataset",
         (ask(f"ASK FROM <{doc(3)}> {{ GRAPH ?a {{ <{doc(1)}> a ?kind }} GRAPH ?b {{ <{doc(2)}> a ?kind }} }}",
              ("named-graph-uri", doc(1)), ("named-graph-uri", doc(2))),), graphs=(1, 2, 3)),
    Case("query_get", (Step("GET", (("query", "ASK {}"), DATA0), format="boolean", boolean=True),)),
    Case("query_content_type_select", (Step("POST", (DATA0,), QUERY, "SELECT (1 AS ?one) {}", format="tabular"),)),
    Case("query_content_type_ask", (Step("POST", (DATA0,), QUERY, "ASK {}", format="boolean"),)),
    Case("query_content_type_describe", (Step("POST", (DATA0,), QUERY, "DESCRIBE <http://example.org/>",
                                              format="RDF"),)),
    # a relative IRI: resolved against the endpoint's base
    Case("query_content_type_construct", (Step("POST", (DATA0,), QUERY, "CONSTRUCT { <s> <p> 1 } WHERE {}",
                                               format="RDF"),)),
    Case("update_dataset_default_graph", (
        update(f"CLEAR ALL ; INSERT DATA {{ GRAPH <{doc(1)}> {{ <{doc(1)}> a <{FOAF}Document> }} }} ; "
               f"INSERT {{ GRAPH <http://example.org/protocol-update-dataset-test/> "
               f"{{ ?s a <{DC}BibliographicResource> }} }} "
               f"WHERE {{ ?s a <{FOAF}Document> }}", ("using-graph-uri", doc(1))),
        ask(f"ASK {{ GRAPH <http://example.org/protocol-update-dataset-test/> "
            f"{{ <{doc(1)}> a <{DC}BibliographicResource> }} }}"))),
    Case("update_dataset_default_graphs", (
        update(f"CLEAR ALL ; INSERT DATA {{ GRAPH <{doc(1)}> {{ <{doc(1)}> a <{FOAF}Document> }} "
               f"GRAPH <{doc(2)}> {{ <{doc(2)}> a <{FOAF}Document> }} }} ; "
               f"INSERT {{ GRAPH <http://example.org/protocol-update-dataset-graphs-test/> "
               f"{{ ?s a <{DC}BibliographicResource> }} }} WHERE {{ ?s a <{FOAF}Document> }}",
               ("using-graph-uri", doc(1)), ("using-graph-uri", doc(2))),
        ask(f"ASK {{ GRAPH <http://example.org/protocol-update-dataset-graphs-test/> "
            f"{{ <{doc(1)}> a <{DC}BibliographicResource> . <{doc(2)}> a <{DC}BibliographicResource> }} }}"))),
    Case("update_dataset_named_graphs", (
        update(f"CLEAR ALL ; INSERT DATA {{ GRAPH <{doc(1)}> {{ <{doc(1)}> a <{FOAF}Document> }} "
               f"GRAPH <{doc(2)}> {{ <{doc(2)}> a <{FOAF}Document> }} }} ; "
               f"INSERT {{ GRAPH <http://example.org/protocol-update-dataset-named-graphs-test/> "
               f"{{ ?s a <{DC}BibliographicResource> }} }} WHERE {{ GRAPH ?g {{ ?s a <{FOAF}Document> }} }}",
               ("using-named-graph-uri", doc(1)), ("using-named-graph-uri", doc(2))),
        ask(f"ASK {{ GRAPH <http://example.org/protocol-update-dataset-named-graphs-test/> "
            f"{{ <{doc(1)}> a <{DC}BibliographicResource> . <{doc(2)}> a <{DC}BibliographicResource> }} }}"))),
    # data3 is in neither part of the dataset: nothing may be written about it
    Case("update_dataset_full", (
        update("DROP ALL ; INSERT DATA { " + " ".join(f"GRAPH <{doc(n)}> {{ <{doc(n)}> a <{FOAF}Document> }}"
                                                      for n in (1, 2, 3)) + " } ; "
               "INSERT { GRAPH <http://example.org/protocol-update-dataset-full-test/> "
               "{ ?s <http://example.org/in> ?in } } "
               f"WHERE {{ {{ GRAPH ?g {{ ?s a <{FOAF}Document> }} BIND(?g AS ?in) }} "
               f"UNION {{ ?s a <{FOAF}Document> BIND(\"default\" AS ?in) }} }}",
               ("using-graph-uri", doc(1)), ("using-named-graph-uri", doc(2))),
        ask("ASK { GRAPH <http://example.org/protocol-update-dataset-full-test/> { "
            f"<{doc(1)}> <http://example.org/in> \"default\" . <{doc(2)}> <http://example.org/in> <{doc(2)}> }} "
            "FILTER NOT EXISTS { GRAPH <http://example.org/protocol-update-dataset-full-test/> "
            f"{{ <{doc(3)}> ?p ?o }} }} }}"))),
    Case("update_post_form", (Step("POST", (), FORM, "update=CLEAR+ALL"),)),
    Case("update_post_direct", (update("CLEAR ALL"),)),
    # a relative IRI in an update: resolved against the endpoint's base, so stored as an absolute IRI
    Case("update_base_uri", (
        update("CLEAR SILENT GRAPH <http://example.org/protocol-base-test/> ; INSERT DATA { GRAPH "
               "<http://example.org/protocol-base-test/> { <http://example.org/s> <http://example.org/p> <test> } }"),
        ask("ASK { GRAPH <http://example.org/protocol-base-test/> { <http://example.org/s> <http://example.org/p> ?o "
            "FILTER (isIRI(?o) && STR(?o) != \"test\") } }"))),
    Case("query_post_direct", (ask("ASK {}"),)),
    Case("bad_query_method", (Step("PUT", (("query", "ASK {}"), DATA0), FORM, status=4),)),
    Case("bad_multiple_queries", (Step("GET", (("query", "ASK {}"), ("query", "SELECT * {}")), status=4),)),
    Case("bad_query_wrong_media_type", (Step("POST", (), "text/plain", "ASK {}", status=4),)),
    Case("bad_query_missing_form_type", (Step("POST", (), None, "query=ASK%20%7B%7D", status=4),)),
    Case("bad_query_missing_direct_type", (Step("POST", (), None, "ASK {}", status=4),)),
    Case("bad_query_non_utf8", (Step("POST", (), QUERY + "; charset=UTF-16", "ASK {}".encode("utf-16"), status=4),)),
    Case("bad_query_syntax", (Step("GET", (("query", "ASK {"),), status=4),)),
    Case("bad_update_get", (Step("GET", (("update", "CLEAR ALL"),), status=4),)),
    Case("bad_multiple_updates", (Step("POST", (), FORM, "update=CLEAR%20NAMED&update=CLEAR%20DEFAULT", status=4),)),
    Case("bad_update_wrong_media_type", (Step("POST", (), "text/plain", "CLEAR NAMED", status=4),)),
    Case("bad_update_missing_form_type", (Step("POST", (), None, "update=CLEAR%20NAMED", status=4),)),
    Case("bad_update_non_utf8", (Step("POST", (), UPDATE + "; charset=UTF-16", "CLEAR NAMED".encode("utf-16"),
                                      status=4),)),
    Case("bad_update_syntax", (Step("POST", (), FORM, "update=CLEAR%20XYZ", status=4),)),
    Case("bad_update_dataset_conflict", (
        Step("POST", (("using-named-graph-uri", "http://example/people"),), UPDATE,
             f"PREFIX foaf: <{FOAF}> WITH <http://example/addresses> DELETE {{ ?who foaf:givenName 'Bill' }} "
             "INSERT { ?who foaf:givenName 'William' } WHERE { ?who foaf:givenName 'Bill' }", status=4),)),
)


def test_the_table_has_every_entry_of_the_manifest() -> None:
    assert len(CASES) == 34 and len({case.name for case in CASES}) == 34


@pytest.fixture(scope="module", params=["embedded", "remote"])
def node(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    directory = tmp_path_factory.mktemp(f"protocol-{request.param}")
    allow = [arg for prefix in ALLOWED for arg in ("--allow-remote", prefix)]
    if request.param == "embedded":
        ox.Store(str(directory / "store")).flush()
        with node_server(directory / "store", "--allow-update", *allow) as client:
            yield client
    else:
        with oxigraph_server(directory / "oxigraph") as url, node_server(url, "--allow-update", *allow) as client:
            yield client


def _start(client: httpx.Client, graphs: tuple[int, ...]) -> None:
    """The test's starting store: nothing but its data graphs."""
    data = " ".join(f"GRAPH <{doc(n)}> {{ <{doc(n)}> a <{FOAF}Document> }}" for n in graphs)
    response = client.post("/sparql", content=f"DROP ALL ; INSERT DATA {{ {data} }}",
                           headers={"Content-Type": UPDATE})
    assert response.status_code == 200, response.text


def _send(client: httpx.Client, step: Step) -> httpx.Response:
    headers = {"Content-Type": step.media} if step.media else {}
    body = step.body.encode() if isinstance(step.body, str) else step.body
    return client.request(step.method, "/sparql", params=list(step.params), content=body, headers=headers)


def _boolean(response: httpx.Response) -> bool:
    if response.headers["content-type"].startswith("application/sparql-results+json"):
        return bool(json.loads(response.content)["boolean"])
    return "<boolean>true</boolean>" in response.text


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_protocol(node: httpx.Client, case: Case) -> None:
    _start(node, case.graphs)
    for number, step in enumerate(case.steps, 1):
        response = _send(node, step)
        where = f"{case.name}, request {number}: {response.status_code} {response.text[:300]}"
        assert response.status_code // 100 in ((2, 3) if step.status == 2 else (4,)), where
        media = response.headers.get("content-type", "").split(";")[0].strip()
        if step.format is not None:
            assert media in {"boolean": BOOLEAN, "tabular": TABULAR, "RDF": RDF}[step.format], where
        if step.boolean is not None:
            assert _boolean(response) is step.boolean, where


# ------------------------------------------------------------------------------------------ beyond the manifest
def test_a_dataset_parameter_of_the_other_operation_is_refused(node: httpx.Client) -> None:
    response = node.post("/sparql", params={"default-graph-uri": doc(1)}, content="CLEAR ALL",
                         headers={"Content-Type": UPDATE})
    assert response.status_code == 400 and "default-graph-uri" in response.text
    response = node.get("/sparql", params={"query": "ASK {}", "using-graph-uri": doc(1)})
    assert response.status_code == 400 and "using-graph-uri" in response.text


def test_a_direct_post_with_a_query_in_the_url_too_is_refused(node: httpx.Client) -> None:
    response = node.post("/sparql", params={"query": "ASK { ?s ?p ?o }"}, content="ASK {}",
                         headers={"Content-Type": QUERY})
    assert response.status_code == 400


def test_a_query_and_an_update_in_one_form_are_refused(node: httpx.Client) -> None:
    response = node.post("/sparql", content="query=ASK%20%7B%7D&update=CLEAR%20ALL", headers={"Content-Type": FORM})
    assert response.status_code == 400 and "this one has 2" in response.text


def test_delete_where_takes_the_protocol_dataset(node: httpx.Client) -> None:
    _start(node, (1, 2))
    response = node.post("/sparql", params={"using-graph-uri": doc(1)}, headers={"Content-Type": UPDATE},
                         content=f"DELETE WHERE {{ GRAPH <{doc(2)}> {{ ?s a <{FOAF}Document> }} }}")
    assert response.status_code == 200, response.text
    # the pattern is matched against the dataset, which has no graph data2: nothing is deleted
    assert _boolean(node.post("/sparql", content=in_graphs(2), headers={"Content-Type": QUERY}))
    response = node.post("/sparql", params={"using-named-graph-uri": doc(2)}, headers={"Content-Type": UPDATE},
                         content=f"DELETE WHERE {{ GRAPH <{doc(2)}> {{ ?s a <{FOAF}Document> }} }}")
    assert response.status_code == 200, response.text
    assert not _boolean(node.post("/sparql", content=in_graphs(2), headers={"Content-Type": QUERY}))


def test_a_relative_service_is_judged_as_the_store_resolves_it(node: httpx.Client) -> None:
    """The endpoint's base resolves ``SERVICE <x>`` to a URL under the node itself, not on the allow-list."""
    response = node.post("/sparql", content="SELECT * { SERVICE <elsewhere> { ?s ?p ?o } }",
                         headers={"Content-Type": QUERY})
    assert response.status_code == 403 and "/elsewhere" in response.text


def test_the_base_comes_from_the_listening_address_not_the_host_header(node: httpx.Client) -> None:
    response = node.post("/sparql", content="CONSTRUCT { <s> <p> 1 } WHERE {}", headers={
        "Content-Type": QUERY, "Accept": "application/n-triples", "Host": "evil> } ; DROP ALL ; INSERT DATA { <x"})
    assert response.status_code == 200, response.text
    assert response.text.startswith(f"<{node.base_url}/s> "), response.text

