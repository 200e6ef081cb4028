"""The hyperontology's Python API: :func:`load_ontology` and :class:`Hyperontology`.

Examples
--------
>>> onto = load_ontology()
>>> onto.concept("SCT:254637007").label
'Non-small cell lung cancer'
>>> onto.concept("SNOMEDCT363358000").curie      # the federated search explorer's key form
'SCT:363358000'
>>> "NCIT:C3512" in {c.curie for c in onto.expand("EUCAIM:CLIN1000065")}
True
"""

from __future__ import annotations

import re
import time
from collections import defaultdict
from collections.abc import Iterable, Iterator
from functools import cached_property
from pathlib import Path
from typing import Any

from hyperontology.errors import UnknownConceptError, UnknownPrefixError
from hyperontology.ontology import files as ofiles
from hyperontology.ontology.hierarchy import Hierarchy
from hyperontology.ontology.index import (
    Concept,
    OntologyIndex,
    cache_path,
    load_cached,
    read_index,
    store_cached,
)
from hyperontology.ontology.neoplasm import Facets, compatible, defines
from hyperontology.ontology.search import SearchHit, TermIndex
from hyperontology.prefixes import PREFIXES, curie_to_iri

# key forms of the EUCAIM federated search explorer (samply Lens catalogue)
_EXPLORER_FORMS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"^SNOMEDCT(\d+)$"), "SCT:{}"),
    (re.compile(r"^(RID\d+)$"), "RADLEX:{}"),
    (re.compile(r"^(C\d+)$"), "NCIT:{}"),
    (re.compile(r"^(birnlex_\d+)$"), "BIRNLEX:{}"),
    (re.compile(r"^EUCAIM_Hyper-Ontology_V[\d.]*?\.?((?:CLIN|COM|BP|IMG|GEN|SPEC|COR)\d+)$"), "EUCAIM:{}"),
    (re.compile(r"^((?:CLIN|COM|BP|IMG|GEN|SPEC|COR)\d+)$"), "EUCAIM:{}"),
]
Ref = str | Concept


class Hyperontology:
    """The loaded hyperontology: look-up, hierarchy, cross-terminology expansion and term search.

    Create it with :func:`load_ontology`. Concepts are referred to by CURIE (``SCT:363358000``),
    IRI, :class:`Concept`, or the explorer's key forms (``SNOMEDCT363358000``, ``RID10312``,
    ``C2926``, ``birnlex_3066``, ``CLIN1000065``).
    """

    def __init__(self, index: OntologyIndex, *, files: list[Path], load_seconds: float = 0.0,
                 from_cache: bool = False) -> None:
        self._index = index
        self.files = files
        self.load_seconds = load_seconds
        self.from_cache = from_cache
        self._children: dict[str, list[str]] = defaultdict(list)
        for child, parents in index.parents.items():
            for parent in parents:
                self._children[parent].append(child)
        self._edges: dict[str, list[tuple[str, str]]] = defaultdict(list)
        for s, rel, o in index.mappings:
            self._edges[s].append((rel, o))
            self._edges[o].append((_INVERSE[rel], s))
        self._facets = index.facets
        self._by_site: dict[str, list[str]] = defaultdict(list)  # 3-character ICD-O-3 site -> sited neoplasms
        for iri, f in sorted(index.facets.items()):
            for site in sorted({s[:3] for s in f.sites or ()}):
                self._by_site[site].append(iri)

    # ------------------------------------------------------------------------------- look-up
    def __len__(self) -> int:
        return len(self._index.concepts)

    def __iter__(self) -> Iterator[Concept]:
        return iter(self._index.concepts.values())

    def __contains__(self, ref: object) -> bool:
        return isinstance(ref, str | Concept) and self._find(ref) is not None

    @property
    def triples(self) -> int:
        return self._index.triples

    @property
    def mappings(self) -> list[tuple[str, str, str]]:
        """Every mapping edge ``(subject IRI, relation, object IRI)``; relation in exact/close/broad/narrow/related."""
        return list(self._index.mappings)

    def concept(self, ref: Ref) -> Concept:
        """The concept a reference names; :class:`UnknownConceptError` (with suggestions) when none."""
        found = self._find(ref)
        if found is None:
            text = ref.curie if isinstance(ref, Concept) else str(ref)
            hits = self.search(text, limit=3) if text.strip() else []
            hint = f"did you mean {', '.join(h.concept.curie for h in hits)}?" if hits else ""
            raise UnknownConceptError(text, hint=hint)
        return found

    def _find(self, ref: Ref) -> Concept | None:
        if isinstance(ref, Concept):
            return self._index.concepts.get(ref.iri)
        ref = ref.strip()
        found = self._index.concepts.get(ref)
        if found is not None:
            return found
        for pattern, template in _EXPLORER_FORMS:
            match = pattern.match(ref)
            if match:
                return self._index.concepts.get(curie_to_iri(template.format(match.group(1))))
        try:
            return self._index.concepts.get(curie_to_iri(ref))
        except UnknownPrefixError:
            return None

    # ------------------------------------------------------------------------------- hierarchy
    def parents(self, ref: Ref) -> list[Concept]:
        return self._concepts(self._index.parents.get(self.concept(ref).iri, ()))

    def children(self, ref: Ref) -> list[Concept]:
        return self._concepts(self._children.get(self.concept(ref).iri, ()))

    def ancestors(self, ref: Ref) -> list[Concept]:
        """Every is-a ancestor inside the concept's own hierarchy (transitive), nearest first."""
        return self._concepts(self._walk(self.concept(ref).iri, lambda i: self._index.parents.get(i, ())))

    def descendants(self, ref: Ref) -> list[Concept]:
        """Every is-a descendant (transitive), nearest first."""
        return self._concepts(self._walk(self.concept(ref).iri, lambda i: self._children.get(i, ())))

    def equivalents(self, ref: Ref) -> list[Concept]:
        """Concepts of any terminology that mean the same (exact matches and equivalent classes, transitively)."""
        start = self.concept(ref).iri
        return self._concepts(self._walk(start, lambda i: [o for rel, o in self._edges.get(i, ()) if rel == "exact"]))

    def mappings_of(self, ref: Ref) -> list[tuple[str, Concept]]:
        """Direct mapping edges of a concept: ``(relation, concept)``, relation read from this concept's side."""
        iri = self.concept(ref).iri
        return [(rel, self._index.concepts[o]) for rel, o in sorted(self._edges.get(iri, ()))]

    def facets(self, ref: Ref) -> Facets:
        """The neoplasm facets of a concept: behaviour, ICD-O-3 sites, form, site-agnostic (empty if none)."""
        return self._facets.get(self.concept(ref).iri, _NO_FACETS)

    def expand(self, ref: Ref, *, include_self: bool = True) -> list[Concept]:
        """Every concept a query for ``ref`` must match, across terminologies.

        The closure of: is-a descendants, exact matches (and equivalent classes) and narrower matches,
        repeated until nothing new is reached. Broader and close matches are not followed. For a cancer
        concept the walk keeps to what the concept means (see :mod:`hyperontology.ontology.neoplasm`): a
        malignant concept never reaches in situ, benign, uncertain or metastatic ones, a site-specific one never
        reaches a bare morphology or another organ's disease; and a neoplasm NOS at a site (``Malignant tumor
        of lung``) also gets every concept whose facets say it is one of its kinds, whatever the terminology.
        """
        start = self.concept(ref).iri
        query = self._facets.get(start)

        def fits(iri: str) -> bool:
            return query is None or compatible(self._facets.get(iri, _NO_FACETS), query)

        def step(iri: str) -> Iterable[str]:
            yield from (c for c in self._children.get(iri, ()) if fits(c))
            yield from (o for rel, o in self._edges.get(iri, ()) if rel in ("exact", "narrow") and fits(o))

        seeds = [start]
        if query is not None:  # kinds by facets, but never its own is-a ancestors (it is narrower than they are)
            above = self._above(start)
            seeds += [i for i in self._defined(query) if i not in above]
        found = self._walk_from(seeds, step)
        return self._concepts(([start] if include_self else []) + [i for i in found if i != start])

    def _above(self, start: str) -> set[str]:
        """The is-a ancestors of a concept and what is exactly equivalent to them, itself left out."""
        selves = {start, *(o for rel, o in self._edges.get(start, ()) if rel == "exact")}
        ancestors = {a for s in selves for a in self._walk(s, lambda i: self._index.parents.get(i, ()))}
        same = {o for a in ancestors for rel, o in self._edges.get(a, ()) if rel == "exact"}
        return (ancestors | same) - selves

    def _defined(self, query: Facets) -> list[str]:
        """Concepts that are kinds of a neoplasm NOS at known sites by their facets (sorted, deterministic)."""
        if query.sites is None:
            return []
        candidates = {iri for site in sorted({s[:3] for s in query.sites}) for iri in self._by_site.get(site, ())}
        return sorted(i for i in candidates if defines(self._facets[i], query))

    def _walk(self, start: str, step: Any) -> list[str]:
        return self._walk_from([start], step)[1:]

    def _walk_from(self, starts: list[str], step: Any) -> list[str]:
        """Breadth-first from ``starts`` (listed first), each concept once."""
        seen, order, frontier = set(starts), list(dict.fromkeys(starts)), list(dict.fromkeys(starts))
        while frontier:
            nxt = []
            for iri in frontier:
                for other in step(iri):
                    if other not in seen:
                        seen.add(other)
                        order.append(other)
                        nxt.append(other)
            frontier = nxt
        return order

    def _concepts(self, iris: Iterable[str]) -> list[Concept]:
        return [self._index.concepts[i] for i in iris if i in self._index.concepts]

    # ------------------------------------------------------------------------------- search
    @cached_property
    def _terms(self) -> TermIndex:
        return TermIndex(self._index.concepts.values())

    def search(self, text: str, *, limit: int = 10, schemes: Iterable[str] | None = None) -> list[SearchHit]:
        """Concepts ranked by how well code, label or synonym match ``text`` (exact > prefix > tokens > fuzzy)."""
        return self._terms.search(text, limit=limit, schemes=set(schemes) if schemes else None)

    # ------------------------------------------------------------------------------- similarity
    @cached_property
    def hierarchy(self) -> Hierarchy:
        """The is-a graph over equivalence classes (networkx), for similarity and graph queries."""
        return Hierarchy(self._index)

    def similarity(self, a: Ref, b: Ref) -> float:
        """Wu-Palmer similarity over the is-a graph in which exact matches are merged (0..1)."""
        return self.hierarchy.wu_palmer(self.concept(a).iri, self.concept(b).iri)

    # ------------------------------------------------------------------------------- stats
    def schemes(self) -> dict[str, int]:
        counts: dict[str, int] = defaultdict(int)
        for concept in self._index.concepts.values():
            counts[concept.scheme] += 1
        return dict(sorted(counts.items()))


_NO_FACETS = Facets()
_INVERSE = {"exact": "exact", "close": "close", "related": "related", "broad": "narrow", "narrow": "broad"}


def load_ontology(source: str | Path | None = None, *, cache: bool = True,
                  cache_dir: str | Path | None = None) -> Hyperontology:
    """Load the hyperontology: the bundled release by default, or a release directory (e.g. from ``import``).

    Imports are resolved through the release's ``catalog-v001.xml`` only; nothing is fetched from the
    network. The parsed index is cached in ``cache_dir`` (default: the user's cache directory) so that a
    second load takes a fraction of a second.
    """
    started = time.perf_counter()
    directory = Path(source) if source is not None else ofiles.bundled_dir()
    module_files = ofiles.module_files(directory)
    where = cache_path(Path(cache_dir) if cache_dir else ofiles.default_cache_dir(), ofiles.signature(module_files))
    index = load_cached(where) if cache else None
    from_cache = index is not None
    if index is None:
        index = read_index(module_files)
        if cache:
            store_cached(where, index)
    return Hyperontology(index, files=module_files, load_seconds=time.perf_counter() - started,
                         from_cache=from_cache)


__all__ = ["PREFIXES", "Concept", "Hyperontology", "SearchHit", "load_ontology"]
