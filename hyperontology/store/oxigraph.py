"""The embedded store of a node: pyoxigraph (RocksDB on disk, or in memory), with one named graph per role.

Graphs: the hyperontology (``graph/ontology``), the CDM data (``graph/data``), provenance
(``graph/provenance``) and quarantined records with their violations (``graph/quarantine``). Data loads
are transactional (one ``Store.extend`` per batch): a failed or interrupted batch leaves nothing behind.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from hyperontology.errors import HyperontologyError
from hyperontology.prefixes import HO

GRAPHS = {
    "ontology": ox.NamedNode(HO + "graph/ontology"),
    "data": ox.NamedNode(HO + "graph/data"),
    "provenance": ox.NamedNode(HO + "graph/provenance"),
    "quarantine": ox.NamedNode(HO + "graph/quarantine"),
}
_LOADED = ox.NamedNode(HO + "ontologyRelease")
FORMATS = {"nt": ox.RdfFormat.N_TRIPLES, "ttl": ox.RdfFormat.TURTLE, "nq": ox.RdfFormat.N_QUADS,
           "trig": ox.RdfFormat.TRIG}


class StoreError(HyperontologyError):
    """The store cannot be opened, read or written (the message names it)."""


class NodeStore:
    """A node's store: open it on a directory (created if needed) or in memory (``path=None``)."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path
        try:
            self.store = ox.Store(str(path)) if path is not None else ox.Store()
        except OSError as exc:
            raise StoreError(f"{path}: cannot open the store ({exc}); is another process using it?") from exc

    def close(self) -> None:
        self.store.flush()
        del self.store

    def __enter__(self) -> NodeStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------------------------- ontology
    def ontology_release(self) -> str | None:
        quads = list(self.store.quads_for_pattern(GRAPHS["ontology"], _LOADED, None, GRAPHS["ontology"]))
        return str(getattr(quads[0].object, "value", "")) if quads else None

    def ensure_ontology(self, files: list[Path], release: str) -> bool:
        """Load the hyperontology into its graph unless this release is already there; True when loaded now."""
        if self.ontology_release() == release:
            return False
        if self.store.contains_named_graph(GRAPHS["ontology"]):
            self.store.clear_graph(GRAPHS["ontology"])
        for path in files:
            fmt = ox.RdfFormat.TURTLE if path.suffix == ".ttl" else ox.RdfFormat.RDF_XML
            self.store.bulk_load(path=str(path), format=fmt, to_graph=GRAPHS["ontology"])
        marker = ox.Quad(GRAPHS["ontology"], _LOADED, ox.Literal(release), GRAPHS["ontology"])
        self.store.extend([marker])  # written last: a half-loaded ontology has no marker and is reloaded
        return True

    # ------------------------------------------------------------------------------------- data
    def load(self, quads: Iterable[ox.Quad]) -> dict[str, int]:
        """Add quads in one transaction; returns how many of them were new, per graph role."""
        batch = list(quads)
        roles = {node.value: role for role, node in GRAPHS.items()}
        new: dict[str, int] = {}
        for quad in set(batch):
            if quad not in self.store:
                graph = str(getattr(quad.graph_name, "value", quad.graph_name))
                role = roles.get(graph, graph)
                new[role] = new.get(role, 0) + 1
        self.store.extend(batch)
        return new

    def count(self, graph: str) -> int:
        return sum(1 for _ in self.store.quads_for_pattern(None, None, None, GRAPHS[graph]))

    def query(self, sparql: str, *, default_graph: list[str] | None = None) -> Any:
        """SPARQL over the store; the default graph is the union of all graphs unless ``default_graph`` names some."""
        if default_graph:
            return self.store.query(sparql, default_graph=[GRAPHS[g] for g in default_graph])
        return self.store.query(sparql, use_default_graph_as_union=True)

    def export(self, output: Path | None, fmt: str, *, graphs: list[str]) -> bytes | None:
        """Serialise graphs: ``nq``/``trig`` keep graph names; ``nt``/``ttl`` merge the chosen graphs."""
        if fmt not in FORMATS:
            raise StoreError(f"unknown export format {fmt!r}; one of {', '.join(FORMATS)}")
        quads = [q for g in graphs for q in self.store.quads_for_pattern(None, None, None, GRAPHS[g])]
        items: list[ox.Quad] | list[ox.Triple] = quads
        if fmt in ("nt", "ttl"):
            items = [ox.Triple(q.subject, q.predicate, q.object) for q in quads]
        prefixes = {"cdm": HO + "cdm#", "data": HO + "data/", "prov": "http://www.w3.org/ns/prov#"}
        target = str(output) if output else None
        if fmt in ("ttl", "trig"):
            return ox.serialize(items, output=target, format=FORMATS[fmt], prefixes=prefixes)
        return ox.serialize(items, output=target, format=FORMATS[fmt])
