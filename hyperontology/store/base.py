"""What every store of a node offers, embedded or remote: :class:`Store`, and :func:`open_store` to get one.

A node keeps four named graphs (:data:`GRAPHS`): the hyperontology, the CDM data, provenance, and quarantined
records with their reasons. Queries see the union of them as their default graph, and each by name in
``GRAPH``. Two implementations answer the same contract (``tests/store/test_contract.py`` runs one suite
against both):

* :class:`hyperontology.store.oxigraph.NodeStore`: the embedded pyoxigraph store (RocksDB on disk, or in memory);
* :class:`hyperontology.store.remote.RemoteStore`: any SPARQL 1.1 endpoint with the Graph Store Protocol
  (an Oxigraph server, Fuseki, GraphDB...), reached over HTTP.

Examples
--------
>>> is_remote("http://127.0.0.1:7878"), is_remote("/data/node/store")
(True, False)
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import pyoxigraph as ox

from hyperontology.errors import HyperontologyError
from hyperontology.prefixes import HO

GRAPHS = {
    "ontology": ox.NamedNode(HO + "graph/ontology"),
    "data": ox.NamedNode(HO + "graph/data"),
    "provenance": ox.NamedNode(HO + "graph/provenance"),
    "quarantine": ox.NamedNode(HO + "graph/quarantine"),
}
_ROLES = {node.value: role for role, node in GRAPHS.items()}
#: the triple in the ontology graph naming the release it holds (written last: a half-loaded ontology has none)
RELEASE = ox.NamedNode(HO + "ontologyRelease")
FORMATS = {"nt": ox.RdfFormat.N_TRIPLES, "ttl": ox.RdfFormat.TURTLE, "nq": ox.RdfFormat.N_QUADS,
           "trig": ox.RdfFormat.TRIG}
EXPORT_PREFIXES = {"cdm": HO + "cdm#", "data": HO + "data/", "prov": "http://www.w3.org/ns/prov#"}


class StoreError(HyperontologyError):
    """The store cannot be opened, read or written (the message names it)."""


@dataclass(frozen=True)
class Dataset:
    """An RDF dataset named by graph IRIs, as the SPARQL 1.1 Protocol's ``default-graph-uri`` and
    ``named-graph-uri`` name one: the default graph is the merge of the ``default`` graphs, the named graphs are
    the ``named`` ones; either may be empty (no triple in the default graph, no graph for ``GRAPH``). It replaces
    the dataset of the query's own ``FROM`` / ``FROM NAMED``.

    >>> Dataset(default=("http://a.org/g",))
    Dataset(default=('http://a.org/g',), named=())
    """

    default: tuple[str, ...] = ()
    named: tuple[str, ...] = ()


class Store(Protocol):
    """A node's store. Use it as a context manager, or call :meth:`close`."""

    #: where it is: a directory, ``:memory:``, or the endpoint URL (without credentials)
    location: str

    def close(self) -> None: ...

    def __enter__(self) -> Store: ...

    def __exit__(self, *exc: object) -> None: ...

    def ontology_release(self) -> str | None:
        """The release of the hyperontology in the ontology graph, or None when it is not (fully) loaded."""

    def ensure_ontology(self, files: list[Path], release: str, extra: Iterable[ox.Triple] = ()) -> bool:
        """Load the hyperontology into its graph unless this release is already there; True when loaded now.

        ``extra`` triples go in with it (the subsumption closure); a generator is only run when loading.
        """

    def load(self, quads: Iterable[ox.Quad], *, count: bool = True) -> dict[str, int]:
        """Add quads as one batch; returns how many of them were new, per graph role (or graph IRI). With
        ``count=False`` a store may skip finding which were new (and return nothing): for a caller that knows."""

    def flush(self) -> None:
        """Write what is buffered in memory to disk (an embedded store's memtables grow until flushed: an ingest
        flushes after each batch, so its memory stays flat); nothing to do for a remote store."""

    def count(self, graph: str) -> int:
        """The number of triples in a graph (a role of :data:`GRAPHS`)."""

    def has_graph(self, graph: str) -> bool:
        """Whether a graph (a role of :data:`GRAPHS`) holds any triple."""

    def quads(self, graph: str) -> Iterator[ox.Quad]:
        """Every quad of a graph (a role of :data:`GRAPHS`)."""

    def query(self, sparql: str, *, default_graph: list[str] | None = None, dataset: Dataset | None = None,
              base_iri: str | None = None) -> Any:
        """SPARQL over the store: solutions, a boolean or triples, as pyoxigraph gives them.

        The default graph is the union of the node's graphs unless ``default_graph`` names some roles; named
        graphs are the node's graphs. A query's own FROM / FROM NAMED take precedence over both, and a protocol
        ``dataset`` over all of these. ``base_iri`` resolves relative IRIs when the query declares no ``BASE``.
        """

    def update(self, sparql: str, *, base_iri: str | None = None) -> None:
        """Run a SPARQL update (``base_iri``: for relative IRIs when the update declares no ``BASE``)."""

    def export(self, output: Path | None, fmt: str, *, graphs: list[str]) -> bytes | None:
        """Serialise graphs: ``nq``/``trig`` keep graph names; ``nt``/``ttl`` merge the chosen graphs."""


def export_quads(quads: Iterable[ox.Quad], output: Path | None, fmt: str) -> bytes | None:
    """Serialise quads in one of :data:`FORMATS` to ``output`` (None: return the bytes)."""
    if fmt not in FORMATS:
        raise StoreError(f"unknown export format {fmt!r}; one of {', '.join(FORMATS)}")
    items: list[ox.Quad] | list[ox.Triple] = list(quads)
    if fmt in ("nt", "ttl"):
        items = [ox.Triple(q.subject, q.predicate, q.object) for q in items]
    target = str(output) if output else None
    if fmt in ("ttl", "trig"):
        return ox.serialize(items, output=target, format=FORMATS[fmt], prefixes=EXPORT_PREFIXES)
    return ox.serialize(items, output=target, format=FORMATS[fmt])


def rdf_format(path: Path) -> ox.RdfFormat:
    """The RDF format of an ontology module file by its extension (``.owl`` and unknown ones: RDF/XML)."""
    return ox.RdfFormat.from_extension(path.suffix.lstrip(".")) or ox.RdfFormat.RDF_XML


def graph_role(graph: object) -> str:
    """The role of a graph name (``data``...), or its IRI when it is not one of the node's graphs."""
    value = str(getattr(graph, "value", graph))
    return _ROLES.get(value, value)


def is_remote(location: str | Path | None) -> bool:
    """True when ``location`` is an http(s) URL (a remote store), False for a directory or None (in memory)."""
    return isinstance(location, str) and location.lower().startswith(("http://", "https://"))


def open_store(location: str | Path | None, *, read_only: bool = False, timeout_s: float = 300.0) -> Store:
    """The store at ``location``: an ``http(s)://`` URL (remote), a directory (embedded) or None (in memory).

    ``read_only`` opens an embedded store read-only (other processes may write it meanwhile); a remote store
    is then only queried. ``timeout_s`` bounds each request to a remote store.
    """
    if is_remote(location):
        from hyperontology.store.remote import RemoteStore

        return RemoteStore(str(location), read_only=read_only, timeout_s=timeout_s)
    from hyperontology.store.oxigraph import NodeStore

    return NodeStore(Path(location) if location is not None else None, read_only=read_only)


__all__ = ["FORMATS", "GRAPHS", "Store", "StoreError", "export_quads", "graph_role", "is_remote", "open_store"]
