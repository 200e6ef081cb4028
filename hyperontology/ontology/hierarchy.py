"""The is-a graph of the hyperontology as networkx, with exact matches merged, for semantic similarity.

Concepts that are exact matches of each other (across terminologies) become one node, so the
hierarchies of SNOMED CT, NCIt, ICD-10, ... and the EUCAIM hub form one graph. Similarity is
Wu-Palmer: ``2 * depth(lcs) / (depth(a) + depth(b))`` with depth counted from a virtual root.
"""

from __future__ import annotations

from collections import deque

import networkx as nx

from hyperontology.ontology.index import OntologyIndex

ROOT = "__root__"


class Hierarchy:
    """Equivalence-merged is-a DAG (cycles from inconsistent sources are tolerated)."""

    def __init__(self, index: OntologyIndex) -> None:
        self.rep = _union_find(index)
        graph = nx.DiGraph()  # child -> parent
        graph.add_nodes_from(set(self.rep.values()))
        for child, parents in index.parents.items():
            for parent in parents:
                a, b = self.rep[child], self.rep[parent]
                if a != b:
                    graph.add_edge(a, b)
        for node in [n for n in graph.nodes if graph.out_degree(n) == 0]:
            graph.add_edge(node, ROOT)
        self.graph = graph
        self.depth = _depths(graph)

    def ancestors(self, iri: str) -> set[str]:
        """Merged nodes above ``iri`` (including its own), without the virtual root."""
        node = self.rep[iri]
        above: set[str] = {node} | set(nx.descendants(self.graph, node))
        return above - {ROOT}

    def wu_palmer(self, a: str, b: str) -> float:
        """``2*N3 / (N1 + N2 + 2*N3)``: N1, N2 the steps up to a common ancestor, N3 its depth; best ancestor."""
        ra, rb = self.rep[a], self.rep[b]
        if ra == rb:
            return 1.0
        up_a = nx.single_source_shortest_path_length(self.graph, ra)
        up_b = nx.single_source_shortest_path_length(self.graph, rb)
        best = 0.0
        for node in up_a.keys() & up_b.keys():
            n3 = self.depth.get(node, 0)
            if node == ROOT or n3 == 0:
                continue
            best = max(best, 2.0 * n3 / (up_a[node] + up_b[node] + 2.0 * n3))
        return round(best, 6)


def _union_find(index: OntologyIndex) -> dict[str, str]:
    parent = {iri: iri for iri in index.concepts}

    def find(x: str) -> str:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for s, rel, o in index.mappings:
        if rel == "exact":
            ra, rb = find(s), find(o)
            if ra != rb:
                parent[max(ra, rb)] = min(ra, rb)
    return {iri: find(iri) for iri in parent}


def _depths(graph: nx.DiGraph) -> dict[str, int]:
    """Shortest distance from the virtual root, walking parent -> child."""
    depth = {ROOT: 0}
    queue = deque([ROOT])
    while queue:
        node = queue.popleft()
        for child in graph.predecessors(node):
            if child not in depth:
                depth[child] = depth[node] + 1
                queue.append(child)
    return depth
