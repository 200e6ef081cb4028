"""One contract, two stores: every test here runs on the embedded pyoxigraph store and on a real Oxigraph server
(``oxigraph serve``, reached over SPARQL 1.1 and the Graph Store Protocol)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pyoxigraph as ox
import pytest

from hyperontology.ontology.files import bundled_dir, module_files
from hyperontology.store.base import GRAPHS, Store, StoreError, open_store
from hyperontology.store.remote import RemoteStore
from tests.processes import oxigraph_server

EX = "http://example.org/"
XSD = "http://www.w3.org/2001/XMLSchema#"
DATA, PROV, QUAR = GRAPHS["data"], GRAPHS["provenance"], GRAPHS["quarantine"]


def q(s: str, p: str, o: ox.NamedNode | ox.Literal | ox.BlankNode, g: ox.NamedNode = DATA) -> ox.Quad:
    return ox.Quad(ox.NamedNode(EX + s), ox.NamedNode(EX + p), o, g)


#: terms that must survive a round trip through either store unchanged
VARIED = [
    q("a", "label", ox.Literal("Carcinome épidermoïde", language="fr")),
    q("a", "label", ox.Literal("quote \" backslash \\ newline \n tab \t end")),
    q("a", "age", ox.Literal("63", datatype=ox.NamedNode(XSD + "integer"))),
    q("a", "when", ox.Literal("2024-02-29", datatype=ox.NamedNode(XSD + "date"))),
    q("a", "dose", ox.Literal("150.5", datatype=ox.NamedNode(XSD + "double"))),
    q("a", "code", ox.NamedNode("http://snomed.info/id/363358000")),
    q("a", "text", ox.Literal("肺癌 – 😀")),
    q("a", "wasDerivedFrom", ox.NamedNode(EX + "src/1"), PROV),
    q("b", "reason", ox.Literal("missing value"), QUAR),
]


@pytest.fixture(scope="module", params=["embedded", "remote"])
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="module")
def location(kind: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    path = tmp_path_factory.mktemp(kind) / "store"
    if kind == "embedded":
        yield str(path)
        return
    with oxigraph_server(path) as url:
        yield url


@pytest.fixture(scope="module")
def loaded(location: str) -> Iterator[Store]:
    """The store with the bundled hyperontology in its ontology graph (loaded once per module)."""
    with open_store(location) as store:
        assert store.ensure_ontology(module_files(bundled_dir()), "contract-1") is True
        yield store


@pytest.fixture
def store(loaded: Store) -> Store:
    """The loaded store with empty data, provenance and quarantine graphs."""
    for role in ("data", "provenance", "quarantine"):
        loaded.update(f"DROP SILENT GRAPH <{GRAPHS[role].value}>")
    return loaded


def test_the_ontology_loads_once_per_release(store: Store) -> None:
    assert store.ontology_release() == "contract-1"
    assert store.ensure_ontology(module_files(bundled_dir()), "contract-1") is False
    assert store.has_graph("ontology")
    assert not store.has_graph("data")


def test_both_stores_hold_the_same_ontology(store: Store, tmp_path: Path) -> None:
    """The count is the one pyoxigraph gets parsing the module files itself (plus the release marker)."""
    expected = set()
    for path in module_files(bundled_dir()):
        fmt = ox.RdfFormat.TURTLE if path.suffix == ".ttl" else ox.RdfFormat.RDF_XML
        expected |= {t.triple for t in ox.parse(path=str(path), format=fmt)}
    assert store.count("ontology") == len(expected) + 1
    assert len(expected) > 250_000


def test_load_counts_new_quads_per_graph(store: Store) -> None:
    assert store.load(VARIED) == {"data": 7, "provenance": 1, "quarantine": 1}
    assert store.load(VARIED) == {}
    assert store.load([*VARIED[:2], q("c", "label", ox.Literal("new"))]) == {"data": 1}
    assert (store.count("data"), store.count("provenance"), store.count("quarantine")) == (8, 1, 1)


def test_terms_round_trip_unchanged(store: Store) -> None:
    store.load(VARIED)
    got = {quad for role in ("data", "provenance", "quarantine") for quad in store.quads(role)}
    assert got == set(VARIED)


def test_queries_see_the_union_and_each_graph_by_name(store: Store) -> None:
    store.load(VARIED)
    rows = list(store.query(f"SELECT ?o WHERE {{ <{EX}a> ?p ?o }}"))
    assert len(rows) == 8  # data and provenance, without GRAPH
    by_graph = {r["g"].value: int(r["n"].value) for r in store.query(
        "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g")}
    assert by_graph[DATA.value] == 7 and by_graph[PROV.value] == 1 and by_graph[QUAR.value] == 1
    assert GRAPHS["ontology"].value in by_graph
    only_data = list(store.query(f"SELECT ?o WHERE {{ <{EX}a> ?p ?o }}", default_graph=["data"]))
    assert len(only_data) == 7
    own = list(store.query(f"SELECT ?o FROM <{PROV.value}> WHERE {{ <{EX}a> ?p ?o }}"))
    assert [r["o"].value for r in own] == [EX + "src/1"]


def test_ask_construct_and_the_ontology_in_one_query(store: Store) -> None:
    store.load(VARIED)
    assert bool(store.query(f"ASK {{ <{EX}a> <{EX}age> 63 }}")) is True
    assert bool(store.query(f"ASK {{ <{EX}a> <{EX}age> 64 }}")) is False
    triples = list(store.query(f"CONSTRUCT {{ ?c ?p ?o }} WHERE {{ <{EX}a> <{EX}code> ?c . ?c ?p ?o }}"))
    labels = {t.object.value for t in triples if t.predicate.value.endswith("prefLabel")}
    assert any("lung" in label.lower() for label in labels), labels  # SCT 363358000 from the ontology graph
    turtle = store.query(f"CONSTRUCT WHERE {{ <{EX}a> <{EX}label> ?l }}").serialize(format=ox.RdfFormat.TURTLE)
    assert len(list(ox.parse(turtle, ox.RdfFormat.TURTLE))) == 2


def test_updates_and_malformed_text(store: Store) -> None:
    store.update(f"INSERT DATA {{ GRAPH <{DATA.value}> {{ <{EX}x> <{EX}p> 1 }} }}")
    assert store.count("data") == 1
    with pytest.raises(SyntaxError):
        store.query("SELECT WHERE {")
    with pytest.raises(SyntaxError):
        store.update("INSERT DATA {")
    assert store.count("data") == 1


@pytest.mark.parametrize("fmt", ["nq", "trig", "nt", "ttl"])
def test_export_round_trips(store: Store, fmt: str, tmp_path: Path) -> None:
    store.load(VARIED)
    data = store.export(None, fmt, graphs=["data", "provenance"])
    assert data is not None
    parsed = list(ox.parse(data, {"nq": ox.RdfFormat.N_QUADS, "trig": ox.RdfFormat.TRIG, "nt": ox.RdfFormat.N_TRIPLES,
                                  "ttl": ox.RdfFormat.TURTLE}[fmt]))
    if fmt in ("nq", "trig"):
        assert set(parsed) == set(VARIED[:8])
    else:
        assert {p.triple for p in parsed} == {v.triple for v in VARIED[:8]}
    out = tmp_path / f"x.{fmt}"
    assert store.export(out, fmt, graphs=["data"]) is None and out.stat().st_size > 0
    with pytest.raises(StoreError, match="unknown export format"):
        store.export(None, "xml", graphs=["data"])


def test_read_only_refuses_writes(location: str, loaded: Store) -> None:
    with open_store(location, read_only=True) as reader:
        assert reader.ontology_release() == "contract-1"
        with pytest.raises(StoreError, match="read-only"):
            reader.load(VARIED)
        with pytest.raises(StoreError, match="read-only"):
            reader.update(f"INSERT DATA {{ <{EX}x> <{EX}p> 1 }}")


# ------------------------------------------------------------------------------------- remote only
def test_an_unreachable_remote_store_is_named_without_credentials() -> None:
    from tests.processes import free_port

    url = f"http://user:s3cret@127.0.0.1:{free_port()}"
    with open_store(url) as store, pytest.raises(StoreError) as info:
        store.count("data")
    assert "127.0.0.1" in str(info.value) and "s3cret" not in str(info.value)
    assert "s3cret" not in store.location


class _FailingOn(RemoteStore):
    """A real remote store whose Graph Store write to one graph fails (as a server error would)."""

    def __init__(self, url: str, graph: ox.NamedNode) -> None:
        super().__init__(url)
        self.failing = graph

    def _post_graph(self, graph: ox.NamedNode, body: object, media: str, *, replace: bool) -> None:
        if graph == self.failing:
            raise StoreError(f"{self.location}: cannot write graph <{graph.value}> (HTTP 500: injected)")
        super()._post_graph(graph, body, media, replace=replace)  # type: ignore[arg-type]


def test_a_failed_remote_batch_leaves_nothing_behind(kind: str, location: str, store: Store) -> None:
    if kind != "remote":
        pytest.skip("the embedded store writes a batch in one transaction (pyoxigraph extend)")
    store.load([VARIED[0]])
    with _FailingOn(location, QUAR) as failing, pytest.raises(StoreError, match="undone"):
        failing.load(VARIED)  # data and provenance are written first, then quarantine fails
    assert {quad for quad in store.quads("data")} == {VARIED[0]}  # what was there before stays
    assert store.count("provenance") == 0 and store.count("quarantine") == 0
