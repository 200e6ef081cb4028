"""SERVICE, LOAD, FROM and USING: the analysis of a SPARQL text, the allow-list, and real nodes calling each other.

The integration tests start two ``hyperontology serve`` processes on loopback: a second node serving a small
store, and a first node (``--allow-update``) allowed to reach the second node's ``/sparql`` only.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import httpx
import pyoxigraph as ox
import pytest

from hyperontology.server.allowlist import AllowList, check_entry, refusal, remote_uses
from hyperontology.server.settings import AuthConfigError, ServerSettings, load_auth_config, load_config
from tests.processes import LAUNCH_SERVE, node_server

DATA = "https://w3id.org/hyperontology/graph/data"
EX = "http://example.org/remote/"
NOTHING = AllowList([])


def _targets(text: str) -> list[tuple[str, str, tuple[str, ...]]]:
    return [(use.keyword, use.written, use.iris) for use in remote_uses(text)]


# ------------------------------------------------------------------------------------------ the analysis
@pytest.mark.parametrize("text", [
    'SELECT ?service WHERE { ?service <http://x/LOAD> "SERVICE <http://evil/>" }',
    "SELECT ?s WHERE { ?s <http://x/p> 'FROM <http://evil/>' } # SERVICE <http://evil/> LOAD <http://evil/>",
    'SELECT ?s WHERE { ?s <http://x/p> """multi\nline SERVICE <http://evil/> "" \\""" still""" }',
    "SELECT ?s WHERE { ?s <http://x/p> '''USING <http://evil/> '' ''' }",
    'SELECT ?s WHERE { ?s <http://x/p> "escaped \\" SERVICE <http://evil/> \\u00e9 LOAD" }',
    "PREFIX ex: <http://x/> SELECT ?load ?from WHERE { ?s ex:load ?load ; ex:service ?from ; ex:using $using }",
    "SELECT * WHERE { <http://x/SERVICE/LOAD?FROM=1> ?p ?o }",
    'SELECT * WHERE { ?s ?p "x"@from }',
    "SELECT * WHERE { _:service ?p ?o }",
    "SELECT * WHERE { GRAPH <http://x/g> { ?s ?p ?o } }",
])
def test_keywords_that_are_not_keywords(text: str) -> None:
    assert remote_uses(text) == []
    assert refusal(text, NOTHING) is None


@pytest.mark.parametrize(("text", "expected"), [
    ("SELECT * WHERE { SERVICE <http://a.org/sparql> { ?s ?p ?o } }",
     [("SERVICE", "<http://a.org/sparql>", ("http://a.org/sparql",))]),
    ("select * where { service silent <http://a.org/sparql> { ?s ?p ?o } }",
     [("SERVICE SILENT", "<http://a.org/sparql>", ("http://a.org/sparql",))]),
    ("PREFIX ep: <http://a.org/> SELECT * { SERVICE ep:sparql {} }", [("SERVICE", "ep:sparql", ("http://a.org/sparql",))]),
    ("PREFIX : <http://a.org/> SELECT * { SERVICE :sparql {} }", [("SERVICE", ":sparql", ("http://a.org/sparql",))]),
    ("PREFIX ep: <http://a.org/> SELECT * { SERVICE ep:sp\\.ar {} }", [("SERVICE", "ep:sp\\.ar", ("http://a.org/sp.ar",))]),
    ("BASE <http://a.org/x/> SELECT * { SERVICE <../sparql> {} }", [("SERVICE", "<../sparql>", ("http://a.org/sparql",))]),
    ("BASE <http://a.org/> PREFIX p: <sub/> SELECT * { SERVICE p:q {} }", [("SERVICE", "p:q", ("http://a.org/sub/q",))]),
    ("SELECT * { SERVICE ?endpoint {} }", [("SERVICE", "?endpoint", ())]),
    ("SELECT * { SERVICE $endpoint {} }", [("SERVICE", "$endpoint", ())]),
    ("SELECT * { SERVICE # comment\n <http://a.org/s> {} }", [("SERVICE", "<http://a.org/s>", ("http://a.org/s",))]),
    ("SELECT * WHERE { SERVICE <\\u0068ttp://a.org/s> {} }", [("SERVICE", "<\\u0068ttp://a.org/s>", ("http://a.org/s",))]),
    ("SELECT * FROM <http://a.org/g> FROM NAMED <http://a.org/h> { ?s ?p ?o }",
     [("FROM", "<http://a.org/g>", ("http://a.org/g",)), ("FROM NAMED", "<http://a.org/h>", ("http://a.org/h",))]),
    ("LOAD SILENT <http://a.org/d.ttl> INTO GRAPH <http://x/g> ; load <http://b.org/e.ttl>",
     [("LOAD SILENT", "<http://a.org/d.ttl>", ("http://a.org/d.ttl",)),
      ("LOAD", "<http://b.org/e.ttl>", ("http://b.org/e.ttl",))]),
    ("DELETE { ?s ?p ?o } USING <http://a.org/g> USING NAMED <http://a.org/h> WHERE { ?s ?p ?o }",
     [("USING", "<http://a.org/g>", ("http://a.org/g",)), ("USING NAMED", "<http://a.org/h>", ("http://a.org/h",))]),
    # the store's parser reads keywords glued to what follows: so does the analysis
    ("SELECT * { SERVICESILENT<http://a.org/s>{} }", [("SERVICE SILENT", "<http://a.org/s>", ("http://a.org/s",))]),
    ("ASKFROM<http://a.org/g>{}", [("FROM", "<http://a.org/g>", ("http://a.org/g",))]),
    ("PREFIX e: <http://a.org/> ASKFROMe:g{}", [("FROM", "e:g", ("http://a.org/g",))]),
    ("PREFIXe:<http://a.org/> SELECT * { SERVICE e:s {} }", [("SERVICE", "e:s", ("http://a.org/s",))]),
    # a prefix declared twice: every value must be allowed
    ("PREFIX e: <http://a.org/> PREFIX e: <http://b.org/> SELECT * { SERVICE e:s {} }",
     [("SERVICE", "e:s", ("http://a.org/s", "http://b.org/s"))]),
])
def test_targets_are_found_and_resolved(text: str, expected: list[tuple[str, str, tuple[str, ...]]]) -> None:
    assert _targets(text) == expected


@pytest.mark.parametrize(("text", "message"), [
    ("SELECT * { SERVICE <http://x/sparql> {} }", "SERVICE <http://x/sparql> is not on this endpoint's allow-list"),
    ("SELECT * { SERVICE ?x {} }", "SERVICE ?x is refused: a variable endpoint is never allowed"),
    ("SELECT * { SERVICE nope:s {} }", "SERVICE nope:s is refused: its prefix is not declared"),
    ("SELECT * { SERVICE {} }", "SERVICE without a target"),
    ("SELECT * FROM <http://elsewhere/g> {}", "FROM <http://elsewhere/g> is not on"),
    ("PREFIX e: <http://b.org/> SELECT * FROM e:g {}", "FROM e:g (<http://b.org/g>) is not on"),
    ("BASE <http://b.org/> SELECT * FROM NAMED <g> {}", "FROM NAMED <g> (<http://b.org/g>) is not on"),
    ("LOAD <http://b.org/d.ttl>", "LOAD <http://b.org/d.ttl> is not on"),
    ("LOAD <https://w3id.org/hyperontology/graph/data>", "LOAD <https://w3id.org/hyperontology/graph/data> is not on"),
])
def test_refusals_name_the_keyword_and_the_iri(text: str, message: str) -> None:
    reason = refusal(text, AllowList(["http://a.org/"]))
    assert reason is not None and reason.startswith(message), reason


def test_own_graphs_and_allowed_targets_pass() -> None:
    allowed = AllowList(["http://a.org/sparql", "https://b.org"])
    assert refusal(f"SELECT * FROM <{DATA}> FROM NAMED <{DATA}> {{}}", NOTHING) is None
    assert refusal(f"DELETE {{ ?s ?p ?o }} USING <{DATA}> WHERE {{ ?s ?p ?o }}", NOTHING) is None
    assert refusal("SELECT * { SERVICE <http://a.org/sparql> {} SERVICE <https://B.org:443/x> {} }", allowed) is None
    assert refusal("LOAD <http://a.org/sparql/dump.ttl> INTO GRAPH <http://x/g>", allowed) is None


# ------------------------------------------------------------------------------------------ prefix matching
@pytest.mark.parametrize(("entry", "target", "allowed"), [
    ("http://a.org", "http://a.org/x", True),
    ("http://a.org", "http://A.ORG:80/x", True),
    ("http://a.org", "http://a.org.evil.com/x", False),
    ("http://a.org", "http://a.org@evil.com/", False),
    ("http://a.org", "http://user:pw@a.org/", False),
    ("http://a.org", "https://a.org/", False),
    ("http://a.org", "http://a.org:8080/", False),
    ("https://a.org:443/", "https://a.org/sparql", True),
    ("http://h/sparql", "http://h/sparql", True),
    ("http://h/sparql", "http://h/sparql/x", True),
    ("http://h/sparql", "http://h/sparql?query=ASK%7B%7D", True),
    ("http://h/sparql/", "http://h/sparql/x", True),
    ("http://h/sparql", "http://h/sparqlfoo", False),
    ("http://h/sparql", "http://h/sparql/../admin", False),
    ("http://h/sparql", "http://h/sparql/%2e%2E/admin", False),
    ("http://h/sparql", "http://h/sparql\\..\\admin", False),
    ("http://h/sparql", "http://h/", False),
    ("http://h", "ftp://h/x", False),
    ("http://h", "urn:x:h", False),
    ("http://h", "relative/path", False),
])
def test_prefix_matching(entry: str, target: str, allowed: bool) -> None:
    assert AllowList([entry]).allows(target) is allowed


@pytest.mark.parametrize("entry", ["ftp://a.org/", "a.org/sparql", "/sparql", "http://u@a.org/", "http://a.org/?q=1",
                                   "http://a.org/#f", "http://", "http://a.org:99999/"])
def test_bad_entries_are_refused(entry: str) -> None:
    with pytest.raises(ValueError, match="allow_remote entry"):
        check_entry(entry)
    with pytest.raises(AuthConfigError, match="allow_remote entry"):
        ServerSettings(store="s", allow_remote=(entry,))


# ------------------------------------------------------------------------------------------ configuration
def test_sparql_table_of_the_config_file(tmp_path: Path) -> None:
    path = tmp_path / "node.toml"
    path.write_text('[sparql]\nallow_remote = ["https://a.org/sparql"]\n', encoding="utf-8")
    assert load_config(path).allow_remote == ("https://a.org/sparql",)
    assert not load_auth_config(path).enabled
    for body, message in [('[sparql]\nallow_remote = ["ftp://a.org"]\n', r"node.toml: \[sparql\] allow_remote entry"),
                          ('[sparql]\nallow_remote = "https://a.org"\n', r"node.toml: \[sparql\] allow_remote must"),
                          ('[sparql]\nallow_remotes = []\n', r"node.toml: \[sparql\] sparql: unknown keys")]:
        path.write_text(body, encoding="utf-8")
        with pytest.raises(AuthConfigError, match=message):
            load_config(path)


def test_serve_refuses_a_bad_allow_remote(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-c", LAUNCH_SERVE, "serve", "--store", str(tmp_path), "--allow-remote",
                           "ftp://a.org/"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert "--allow-remote" in done.stderr and "ftp://a.org/" in done.stderr


# ------------------------------------------------------------------------------------------ real nodes
def _store(path: Path, value: str) -> Path:
    store = ox.Store(str(path))
    store.add(ox.Quad(ox.NamedNode(EX + "s"), ox.NamedNode(EX + "p"), ox.Literal(value), ox.NamedNode(DATA)))
    store.flush()
    del store
    return path


@pytest.fixture(scope="module")
def second(tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    with node_server(_store(tmp_path_factory.mktemp("second") / "store", "from the second node")) as client:
        yield client


@pytest.fixture(scope="module")
def first(second: httpx.Client, tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    store = _store(tmp_path_factory.mktemp("first") / "store", "from the first node")
    with node_server(store, "--allow-update", "--allow-remote", _endpoint(second)) as client:
        yield client


def _endpoint(node: httpx.Client) -> str:
    return str(node.base_url).rstrip("/") + "/sparql"


def _values(response: httpx.Response, name: str = "o") -> list[str]:
    assert response.status_code == 200, response.text
    return [b[name]["value"] for b in response.json()["results"]["bindings"]]


def test_service_to_an_allowed_node(first: httpx.Client, second: httpx.Client) -> None:
    query = f"SELECT ?o WHERE {{ SERVICE <{_endpoint(second)}> {{ <{EX}s> <{EX}p> ?o }} }}"
    assert _values(first.get("/sparql", params={"query": query})) == ["from the second node"]


@pytest.mark.parametrize("target", ["{endpoint}x", "{endpoint}/../other", "http://127.0.0.2:1/sparql"])
def test_service_elsewhere_is_403(first: httpx.Client, second: httpx.Client, target: str) -> None:
    url = target.format(endpoint=_endpoint(second))
    response = first.get("/sparql", params={"query": f"SELECT * WHERE {{ SERVICE <{url}> {{ ?s ?p ?o }} }}"})
    assert response.status_code == 403
    assert f"SERVICE <{url}>" in response.text and "is not on this endpoint's allow-list" in response.text


def test_load_from_an_allowed_node(first: httpx.Client, second: httpx.Client) -> None:
    construct = f"CONSTRUCT {{ <{EX}loaded> <{EX}p> ?o }} WHERE {{ <{EX}s> <{EX}p> ?o }}"
    url = f"{_endpoint(second)}?query={quote(construct, safe='')}"
    update = f"LOAD <{url}> INTO GRAPH <{EX}copy>"
    response = first.post("/sparql", data={"update": update})
    assert response.status_code == 200, response.text
    query = f"SELECT ?o WHERE {{ GRAPH <{EX}copy> {{ <{EX}loaded> <{EX}p> ?o }} }}"
    assert _values(first.get("/sparql", params={"query": query})) == ["from the second node"]


def test_load_from_elsewhere_is_403(first: httpx.Client) -> None:
    response = first.post("/sparql", data={"update": "LOAD <http://127.0.0.2:1/data.ttl>"})
    assert response.status_code == 403
    assert "LOAD <http://127.0.0.2:1/data.ttl> is not on this endpoint's allow-list" in response.text


def test_from_own_graph_without_an_allow_list(second: httpx.Client) -> None:
    query = f"SELECT ?o FROM <{DATA}> WHERE {{ <{EX}s> <{EX}p> ?o }}"
    assert _values(second.get("/sparql", params={"query": query})) == ["from the second node"]
    response = second.get("/sparql", params={"query": "SELECT * FROM <http://elsewhere/g> WHERE { ?s ?p ?o }"})
    assert response.status_code == 403
    assert "FROM <http://elsewhere/g> is not on this endpoint's allow-list" in response.text
