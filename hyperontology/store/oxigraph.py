"""The embedded store of a node: pyoxigraph (RocksDB on disk, or in memory), with one named graph per role.

Graphs: the hyperontology (``graph/ontology``), the CDM data (``graph/data``), provenance
(``graph/provenance``) and quarantined records with their violations (``graph/quarantine``). Data loads
are transactional (one ``Store.extend`` per batch): a failed or interrupted batch leaves nothing behind.
The contract it shares with the remote store is :class:`hyperontology.store.base.Store`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from hyperontology.sparql_text import has_dataset_clause
from hyperontology.store.base import (
    FORMATS,
    GRAPHS,
    RELEASE,
    Dataset,
    StoreError,
    export_quads,
    graph_role,
    rdf_format,
)


class NodeStore:
    """A node's embedded store: open it on a directory (created if needed) or in memory (``path=None``).

    ``read_only`` opens an existing directory without taking the write lock (a server next to an ingesting
    process); writes then fail with :class:`StoreError`.
    """

    def __init__(self, path: Path | None = None, *, read_only: bool = False) -> None:
        self.path = path
        self.location = str(path) if path is not None else ":memory:"
        self.read_only = read_only
        try:
            if path is None:
                self.store = ox.Store()
            elif read_only:
                if not Path(path).is_dir():
                    raise StoreError(f"{path}: no store there")
                self.store = ox.Store.read_only(str(path))
            else:
                self.store = ox.Store(str(path))
        except OSError as exc:
            raise StoreError(f"{path}: cannot open the store ({exc}); is another process writing it?") from exc

    def close(self) -> None:
        self.flush()
        del self.store

    def flush(self) -> None:
        if not self.read_only and self.path is not None:
            self.store.flush()

    def __enter__(self) -> NodeStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------------------------- ontology
    def ontology_release(self) -> str | None:
        quads = list(self.store.quads_for_pattern(GRAPHS["ontology"], RELEASE, None, GRAPHS["ontology"]))
        return str(getattr(quads[0].object, "value", "")) if quads else None

    def ensure_ontology(self, files: list[Path], release: str, extra: Iterable[ox.Triple] = ()) -> bool:
        if self.ontology_release() == release:
            return False
        self._writable()
        if self.store.contains_named_graph(GRAPHS["ontology"]):
            self.store.clear_graph(GRAPHS["ontology"])
        for path in files:
            self.store.bulk_load(path=str(path), format=rdf_format(path), to_graph=GRAPHS["ontology"])
        self.store.bulk_extend(ox.Quad(t.subject, t.predicate, t.object, GRAPHS["ontology"]) for t in extra)
        marker = ox.Quad(GRAPHS["ontology"], RELEASE, ox.Literal(release), GRAPHS["ontology"])
        self.store.extend([marker])  # written last: a half-loaded ontology has no marker and is reloaded
        return True

    # ------------------------------------------------------------------------------------- data
    def load(self, quads: Iterable[ox.Quad], *, count: bool = True) -> dict[str, int]:
        self._writable()
        batch = list(quads)
        new: dict[str, int] = {}
        for quad in set(batch) if count else ():
            if quad not in self.store:
                role = graph_role(quad.graph_name)
                new[role] = new.get(role, 0) + 1
        try:
            self.store.extend(batch)
        except OSError as exc:
            raise StoreError(f"{self.location}: the batch could not be written ({exc}); nothing of it was") from exc
        return new

    def count(self, graph: str) -> int:
        return sum(1 for _ in self.store.quads_for_pattern(None, None, None, GRAPHS[graph]))

    def has_graph(self, graph: str) -> bool:
        return next(iter(self.store.quads_for_pattern(None, None, None, GRAPHS[graph])), None) is not None

    def quads(self, graph: str) -> Iterator[ox.Quad]:
        return iter(self.store.quads_for_pattern(None, None, None, GRAPHS[graph]))

    def match(self, subject: ox.NamedNode | None, predicate: ox.NamedNode | None, obj: Any,
              graph: str) -> Iterator[ox.Quad]:
        """The quads of a graph (a role of :data:`GRAPHS`) matching a pattern (None: any), straight from the
        indexes: the ingest's look-ups of instances, far cheaper than a SPARQL query with a VALUES block."""
        return iter(self.store.quads_for_pattern(subject, predicate, obj, GRAPHS[graph]))

    def query(self, sparql: str, *, default_graph: list[str] | None = None, dataset: Dataset | None = None,
              base_iri: str | None = None) -> Any:
        if dataset is not None:  # the protocol's dataset replaces the query's own
            return self.store.query(sparql, base_iri=base_iri, default_graph=[ox.NamedNode(g) for g in dataset.default],
                                    named_graphs=[ox.NamedNode(g) for g in dataset.named])
        if has_dataset_clause(sparql):  # the query's own FROM / FROM NAMED
            return self.store.query(sparql, base_iri=base_iri)
        if default_graph:
            return self.store.query(sparql, base_iri=base_iri, default_graph=[GRAPHS[g] for g in default_graph],
                                    named_graphs=list(GRAPHS.values()))
        return self.store.query(sparql, base_iri=base_iri, use_default_graph_as_union=True)

    def update(self, sparql: str, *, base_iri: str | None = None) -> None:
        self._writable()
        self.store.update(sparql, base_iri=base_iri)

    def export(self, output: Path | None, fmt: str, *, graphs: list[str]) -> bytes | None:
        return export_quads((q for g in graphs for q in self.quads(g)), output, fmt)

    def _writable(self) -> None:
        if self.read_only:
            raise StoreError(f"{self.location}: the store is open read-only")


__all__ = ["FORMATS", "GRAPHS", "NodeStore", "StoreError"]
