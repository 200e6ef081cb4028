"""A remote store: any SPARQL 1.1 endpoint with the Graph Store Protocol, reached over HTTP.

``--store http://host:7878`` names an Oxigraph server (``oxigraph serve``): queries go to ``/query``, updates
to ``/update``, graph reads and writes to ``/store`` (the Graph Store Protocol). Other servers lay their
endpoints out differently: pass :class:`Endpoints` (Fuseki: the dataset URL serves all three; RDF4J/GraphDB:
``/repositories/ID``, ``.../statements``, ``.../rdf-graphs/service``).

Credentials: ``http://user:password@host/...`` (HTTP Basic), or a bearer token in the environment variable
``HYPERONTOLOGY_STORE_TOKEN``; neither is ever part of :attr:`RemoteStore.location` or of an error message.

The contract is the embedded store's (:class:`hyperontology.store.base.Store`), with these differences:

* Queries name the dataset in the protocol (``default-graph-uri`` and ``named-graph-uri``: the node's four
  graphs and any other graph the store holds, listed once and again after each write through this object), so
  they work on servers whose default graph is not the union of the named graphs; a query with its own FROM /
  FROM NAMED is sent as it is, one with a protocol dataset with that dataset. A base IRI is sent as a leading
  ``BASE`` (the protocol has no parameter for it).
* A batch is written with one Graph Store Protocol POST per graph. If a later POST of a batch fails, the
  triples the batch added to earlier graphs are deleted again (a SPARQL ``DELETE DATA``), so a failed batch
  leaves nothing behind unless the server fails that too (the error then says so).
* Which quads of a batch are new is asked before writing (``VALUES`` queries): with two writers at once,
  counts may be off (the data is not).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

import httpx
import pyoxigraph as ox

from hyperontology.sparql_text import has_dataset_clause
from hyperontology.store.base import (
    GRAPHS,
    RELEASE,
    Dataset,
    StoreError,
    export_quads,
    graph_role,
    rdf_format,
)

TOKEN_ENV = "HYPERONTOLOGY_STORE_TOKEN"  # noqa: S105 (the name of the variable)
FORM = "application/x-www-form-urlencoded"
_RESULTS = {"application/sparql-results+json": ox.QueryResultsFormat.JSON,
            "application/sparql-results+xml": ox.QueryResultsFormat.XML,
            "text/tab-separated-values": ox.QueryResultsFormat.TSV}
_GRAPHS_OUT = {"application/n-triples": ox.RdfFormat.N_TRIPLES, "text/turtle": ox.RdfFormat.TURTLE,
               "application/rdf+xml": ox.RdfFormat.RDF_XML, "application/n-quads": ox.RdfFormat.N_QUADS}
_ACCEPT = "application/sparql-results+json, application/n-triples;q=0.9, text/turtle;q=0.8"
_MEDIA = {ox.RdfFormat.TURTLE: "text/turtle", ox.RdfFormat.RDF_XML: "application/rdf+xml",
          ox.RdfFormat.N_TRIPLES: "application/n-triples"}
_CHECK_CHUNK = 200  # triples per VALUES query asking which are already there
def _based(sparql: str, base_iri: str | None) -> str:
    """The text with a leading ``BASE`` (on its first line: the store's line numbers stay right), which a
    ``BASE`` of its own then replaces: the protocol has no parameter for a base IRI."""
    return sparql if base_iri is None else f"BASE <{base_iri}> {sparql}"


@dataclass(frozen=True)
class Endpoints:
    """The three URLs of a remote store: SPARQL query, SPARQL update, Graph Store Protocol."""

    query: str
    update: str
    graph_store: str

    @classmethod
    def oxigraph(cls, base: str) -> Endpoints:
        """Oxigraph server's layout under ``base``: ``/query``, ``/update``, ``/store``."""
        base = base.rstrip("/")
        return cls(base + "/query", base + "/update", base + "/store")


class RemoteTriples:
    """The triples a remote CONSTRUCT or DESCRIBE gave: iterable, and serialisable like pyoxigraph's."""

    def __init__(self, triples: list[ox.Triple]) -> None:
        self.triples = triples

    def __iter__(self) -> Iterator[ox.Triple]:
        return iter(self.triples)

    def serialize(self, output: Any = None, format: ox.RdfFormat | None = None) -> bytes | None:  # noqa: A002
        return ox.serialize(self.triples, output=output, format=format or ox.RdfFormat.N_TRIPLES)


def _split_credentials(url: str) -> tuple[str, httpx.BasicAuth | None]:
    parts = urlsplit(url)
    if parts.username is None:
        return url, None
    host = parts.hostname or ""
    netloc = f"[{host}]" if ":" in host else host
    if parts.port is not None:
        netloc += f":{parts.port}"
    clean = urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))
    return clean, httpx.BasicAuth(parts.username, parts.password or "")


class RemoteStore:
    """A node's store on a SPARQL 1.1 + Graph Store Protocol server (see the module docs)."""

    def __init__(self, url: str, *, endpoints: Endpoints | None = None, read_only: bool = False,
                 timeout_s: float = 300.0) -> None:
        self.location, auth = _split_credentials(url)
        self.endpoints = endpoints or Endpoints.oxigraph(self.location)
        self.read_only = read_only
        self._graphs: list[str] | None = None
        headers = {"User-Agent": "hyperontology"}
        token = os.environ.get(TOKEN_ENV)
        if token:
            headers["Authorization"] = f"Bearer {token.strip()}"
        self._http = httpx.Client(auth=auth, headers=headers, timeout=httpx.Timeout(timeout_s, connect=10.0),
                                  limits=httpx.Limits(max_connections=32, max_keepalive_connections=16))

    def flush(self) -> None:
        """Nothing is buffered here: every write is a request the server has answered."""

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> RemoteStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------------------------- HTTP
    def _send(self, method: str, url: str, *, what: str, **kwargs: Any) -> httpx.Response:
        try:
            response = self._http.request(method, url, **kwargs)
        except httpx.TimeoutException as exc:
            raise StoreError(f"{self.location}: no answer in time to {what} ({type(exc).__name__})") from exc
        except httpx.HTTPError as exc:
            raise StoreError(f"{self.location}: cannot {what}: {exc}") from exc
        return response

    @staticmethod
    def _reason(response: httpx.Response) -> str:
        text = response.text.strip().splitlines()
        return f"HTTP {response.status_code}" + (f": {text[0][:300]}" if text else "")

    def _dataset(self, sparql: str, default_graph: list[str] | None,
                 dataset: Dataset | None = None) -> list[tuple[str, str]]:
        if dataset is not None:  # the protocol's dataset, as the caller named it
            return ([("default-graph-uri", g) for g in dataset.default]
                    + [("named-graph-uri", g) for g in dataset.named])
        if has_dataset_clause(sparql):
            return []
        graphs = self._graph_names()
        defaults = [GRAPHS[g].value for g in default_graph] if default_graph else graphs
        return [("default-graph-uri", g) for g in defaults] + [("named-graph-uri", g) for g in graphs]

    def _graph_names(self) -> list[str]:
        """The graphs a query sees by name and, merged, as its default graph, as on the embedded store: the
        node's, and any other the store holds (listed once, and again after a write through this store)."""
        graphs = self._graphs
        if graphs is None:
            listed = self._ask_store([("query", "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }")])
            graphs = list(dict.fromkeys([*(g.value for g in GRAPHS.values()),
                                         *(row["g"].value for row in listed if isinstance(row["g"], ox.NamedNode))]))
            self._graphs = graphs
        return graphs

    # ------------------------------------------------------------------------------------- queries
    def query(self, sparql: str, *, default_graph: list[str] | None = None, dataset: Dataset | None = None,
              base_iri: str | None = None) -> Any:
        return self._ask_store([("query", _based(sparql, base_iri)), *self._dataset(sparql, default_graph, dataset)])

    def _ask_store(self, form: list[tuple[str, str]]) -> Any:
        response = self._send("POST", self.endpoints.query, what="query", content=urlencode(form),
                              headers={"Accept": _ACCEPT, "Content-Type": FORM})
        if response.status_code == 400:
            raise SyntaxError(f"the store refused the query: {self._reason(response)}")
        if response.status_code != 200:
            raise StoreError(f"{self.location}: query failed ({self._reason(response)})")
        media = response.headers.get("content-type", "").split(";")[0].strip().lower()
        try:
            if media in _RESULTS:
                return ox.parse_query_results(response.content, _RESULTS[media])
            if media in _GRAPHS_OUT:
                return RemoteTriples([q.triple for q in ox.parse(response.content, _GRAPHS_OUT[media])])
        except SyntaxError as exc:
            raise StoreError(f"{self.location}: unreadable query results ({exc})") from exc
        raise StoreError(f"{self.location}: query results in an unexpected media type {media!r}")

    def ontology_release(self) -> str | None:
        g = GRAPHS["ontology"].value
        rows = list(self.query(f"SELECT ?r WHERE {{ GRAPH <{g}> {{ <{g}> <{RELEASE.value}> ?r }} }} LIMIT 1"))
        return str(rows[0]["r"].value) if rows else None

    def count(self, graph: str) -> int:
        rows = list(self.query(f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{GRAPHS[graph].value}> {{ ?s ?p ?o }} }}"))
        return int(rows[0]["n"].value) if rows else 0

    def has_graph(self, graph: str) -> bool:
        return bool(self.query(f"ASK {{ GRAPH <{GRAPHS[graph].value}> {{ ?s ?p ?o }} }}"))

    def quads(self, graph: str) -> Iterator[ox.Quad]:
        name = GRAPHS[graph]
        response = self._send("GET", self.endpoints.graph_store, what=f"read the {graph} graph",
                              params={"graph": name.value}, headers={"Accept": "application/n-triples"})
        if response.status_code == 404:
            return iter(())
        if response.status_code != 200:
            raise StoreError(f"{self.location}: cannot read the {graph} graph ({self._reason(response)})")
        media = response.headers.get("content-type", "").split(";")[0].strip().lower()
        fmt = _GRAPHS_OUT.get(media, ox.RdfFormat.N_TRIPLES)
        return (ox.Quad(t.subject, t.predicate, t.object, name)
                for t in (q.triple for q in ox.parse(response.content, fmt)))

    def export(self, output: Path | None, fmt: str, *, graphs: list[str]) -> bytes | None:
        return export_quads((q for g in graphs for q in self.quads(g)), output, fmt)

    # ------------------------------------------------------------------------------------- writes
    def _writable(self) -> None:
        if self.read_only:
            raise StoreError(f"{self.location}: the store is open read-only")

    def update(self, sparql: str, *, base_iri: str | None = None) -> None:
        self._writable()
        self._graphs = None  # it may add or remove graphs
        response = self._send("POST", self.endpoints.update, what="update",
                              content=urlencode({"update": _based(sparql, base_iri)}),
                              headers={"Content-Type": FORM})
        if response.status_code == 400:
            raise SyntaxError(f"the store refused the update: {self._reason(response)}")
        if response.status_code not in (200, 204):
            raise StoreError(f"{self.location}: update failed ({self._reason(response)})")

    def _post_graph(self, graph: ox.NamedNode, body: bytes | Iterator[bytes], media: str, *, replace: bool) -> None:
        response = self._send("PUT" if replace else "POST", self.endpoints.graph_store,
                              what=f"write graph <{graph.value}>", params={"graph": graph.value},
                              content=body, headers={"Content-Type": media})
        if response.status_code not in (200, 201, 204):
            raise StoreError(f"{self.location}: cannot write graph <{graph.value}> ({self._reason(response)})")

    def ensure_ontology(self, files: list[Path], release: str, extra: Iterable[ox.Triple] = ()) -> bool:
        if self.ontology_release() == release:
            return False
        self._writable()
        graph = GRAPHS["ontology"]
        for i, path in enumerate(files):
            fmt = rdf_format(path)
            media = _MEDIA.get(fmt)
            if media is None:
                raise StoreError(f"{path}: cannot send {fmt} to a remote store")
            self._post_graph(graph, path.read_bytes(), media, replace=i == 0)
        triples = list(extra)
        for start in range(0, len(triples), 200_000):
            body = ox.serialize(triples[start:start + 200_000], format=ox.RdfFormat.N_TRIPLES) or b""
            self._post_graph(graph, body, "application/n-triples", replace=False)
        marker = ox.serialize([ox.Triple(graph, RELEASE, ox.Literal(release))], format=ox.RdfFormat.N_TRIPLES)
        self._post_graph(graph, marker or b"", "application/n-triples", replace=False)  # last, as embedded
        return True

    def _present(self, graph: ox.NamedNode, triples: list[ox.Triple]) -> set[ox.Triple]:
        """Which of these triples (without blank nodes) the graph already holds."""
        present: set[ox.Triple] = set()
        for start in range(0, len(triples), _CHECK_CHUNK):
            chunk = triples[start:start + _CHECK_CHUNK]
            values = " ".join(f"({t.subject} {t.predicate} {t.object})" for t in chunk)
            sparql = (f"SELECT ?s ?p ?o WHERE {{ VALUES (?s ?p ?o) {{ {values} }} "
                      f"GRAPH <{graph.value}> {{ ?s ?p ?o }} }}")
            present |= {ox.Triple(row["s"], row["p"], row["o"]) for row in self.query(sparql)}
        return present

    def load(self, quads: Iterable[ox.Quad], *, count: bool = True) -> dict[str, int]:
        # counts always: what was new is what a failed batch must undo
        self._writable()
        self._graphs = None
        by_graph: dict[ox.NamedNode, list[ox.Triple]] = {}
        for quad in quads:
            if not isinstance(quad.graph_name, ox.NamedNode):
                raise StoreError(f"{self.location}: a quad outside the node's named graphs: {quad}")
            by_graph.setdefault(quad.graph_name, []).append(quad.triple)
        plan: list[tuple[ox.NamedNode, list[ox.Triple], list[ox.Triple]]] = []
        for graph, triples in by_graph.items():
            distinct = list(dict.fromkeys(triples))
            ground = [t for t in distinct if not _has_blank(t)]
            present = self._present(graph, ground)
            plan.append((graph, distinct, [t for t in ground if t not in present]
                         + [t for t in distinct if _has_blank(t)]))
        written: list[tuple[ox.NamedNode, list[ox.Triple]]] = []
        for graph, triples, new in plan:
            try:
                self._post_graph(graph, ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES) or b"",
                                 "application/n-triples", replace=False)
            except StoreError as exc:
                self._undo(written, exc)
            written.append((graph, new))
        return {graph_role(graph): len(new) for graph, _, new in plan if new}

    def _undo(self, written: list[tuple[ox.NamedNode, list[ox.Triple]]], cause: StoreError) -> None:
        """Delete what the failed batch added to earlier graphs, then raise (saying whether that worked)."""
        ground = [(g, [t for t in new if not _has_blank(t)]) for g, new in written]
        body = " ".join(f"GRAPH <{g.value}> {{ {' '.join(f'{t} .' for t in new)} }}" for g, new in ground if new)
        if not body:
            raise cause
        try:
            self.update(f"DELETE DATA {{ {body} }}")
        except (StoreError, SyntaxError) as exc:
            raise StoreError(f"{cause}; undoing the batch's earlier writes failed too ({exc}): "
                             f"the store may hold part of the batch") from cause
        raise StoreError(f"{cause}; the batch's earlier writes were undone") from cause


def _has_blank(triple: ox.Triple) -> bool:
    return isinstance(triple.subject, ox.BlankNode) or isinstance(triple.object, ox.BlankNode)


__all__ = ["TOKEN_ENV", "Endpoints", "RemoteStore", "RemoteTriples"]
