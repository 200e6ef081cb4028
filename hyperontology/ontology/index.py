"""The in-memory index of the hyperontology: concepts, is-a edges and mapping edges.

It is read from the release's RDF with pyoxigraph's parser (fast) and cached on disk as a pickle keyed
by the files' fingerprint, so a warm load does not parse RDF at all. The cache lives in the user's
own cache directory; a cache that cannot be read or written is ignored, never an error.
"""

from __future__ import annotations

import hashlib
import pickle  # noqa: S403 - only our own cache files in the user's cache directory
import tempfile
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox

from hyperontology.errors import OntologyLoadError
from hyperontology.ontology.neoplasm import Facets
from hyperontology.prefixes import HO, iri_to_curie

INDEX_VERSION = "3"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
OWL = "http://www.w3.org/2002/07/owl#"
SKOS = "http://www.w3.org/2004/02/skos/core#"
HO_KIND = "https://w3id.org/hyperontology/kind"
#: mapping predicates kept as edges (SKOS mapping relations and owl:equivalentClass between named classes)
MAPPING_PREDICATES = {
    SKOS + "exactMatch": "exact", SKOS + "closeMatch": "close", SKOS + "broadMatch": "broad",
    SKOS + "narrowMatch": "narrow", SKOS + "relatedMatch": "related", OWL + "equivalentClass": "exact",
}


@dataclass(frozen=True, slots=True)
class Concept:
    """A concept of the hyperontology (a class of one terminology, with its code)."""

    iri: str
    curie: str
    code: str
    scheme: str
    label: str
    synonyms: tuple[str, ...] = ()
    kind: str = "other"

    def __str__(self) -> str:
        return f"{self.curie} {self.label}"


@dataclass
class OntologyIndex:
    """Concepts by IRI, is-a parents, and mapping edges ``(subject, relation, object)``."""

    concepts: dict[str, Concept] = field(default_factory=dict)
    parents: dict[str, tuple[str, ...]] = field(default_factory=dict)
    mappings: list[tuple[str, str, str]] = field(default_factory=list)
    triples: int = 0
    facets: dict[str, Facets] = field(default_factory=dict)


class _Collector:
    """Accumulates the raw facts of one parse, then turns them into an :class:`OntologyIndex`."""

    def __init__(self) -> None:
        self.notation: dict[str, str] = {}
        self.scheme: dict[str, str] = {}
        self.pref: dict[str, list[str]] = defaultdict(list)
        self.labels: dict[str, list[str]] = defaultdict(list)
        self.alt: dict[str, list[str]] = defaultdict(list)
        self.kind: dict[str, str] = {}
        self.parents: dict[str, list[str]] = defaultdict(list)
        self.mappings: list[tuple[str, str, str]] = []
        self.facet_values: dict[str, dict[str, str]] = defaultdict(dict)
        self.sites: dict[str, set[str]] = defaultdict(set)
        self.bounds: dict[str, set[str]] = defaultdict(set)
        self.triples = 0

    def add(self, s: str, p: str, o: ox.NamedNode | ox.Literal | ox.BlankNode) -> None:
        self.triples += 1
        if isinstance(o, ox.Literal):
            self._literal(s, p, o.value)
        elif isinstance(o, ox.NamedNode):
            self._link(s, p, o.value)

    def _literal(self, s: str, p: str, value: str) -> None:
        if p == SKOS + "notation":
            self.notation.setdefault(s, value)
        elif p == SKOS + "prefLabel":
            self.pref[s].append(value.strip())
        elif p == RDFS + "label":
            self.labels[s].append(value.strip())
        elif p == SKOS + "altLabel":
            self.alt[s].append(value.strip())
        elif p == HO_KIND:
            self.kind[s] = value
        elif p in (HO + "behaviour", HO + "form", HO + "siteAgnostic"):
            self.facet_values[s][p[len(HO):]] = value

    def _link(self, s: str, p: str, o: str) -> None:
        if p == SKOS + "inScheme":
            self.scheme[s] = o
        elif p == RDFS + "subClassOf":
            self.parents[s].append(o)
        elif p in MAPPING_PREDICATES:
            self.mappings.append((s, MAPPING_PREDICATES[p], o))
        elif p == HO + "site":
            self.sites[s].add(o)
        elif p == HO + "siteWithin":
            self.bounds[s].add(o)

    def index(self) -> OntologyIndex:
        out = OntologyIndex(triples=self.triples)
        for iri, code in self.notation.items():
            scheme_iri = self.scheme.get(iri)
            if scheme_iri is None:
                continue
            out.concepts[iri] = self._concept(iri, code, scheme_iri)
        known = out.concepts
        out.parents = {c: tuple(dict.fromkeys(p for p in ps if p in known and p != c))
                       for c, ps in self.parents.items() if c in known}
        out.mappings = sorted({m for m in self.mappings if m[0] in known and m[2] in known and m[0] != m[2]})
        for iri in (set(self.facet_values) | set(self.sites) | set(self.bounds)) & known.keys():
            values = self.facet_values.get(iri, {})
            bound = iri not in self.sites and iri in self.bounds
            sites = frozenset(self.notation.get(s, s.rsplit("/", 1)[-1])
                              for s in (self.bounds if bound else self.sites).get(iri, ()))
            out.facets[iri] = Facets(values.get("behaviour"), sites or None, values.get("form"),
                                     values.get("siteAgnostic") == "true", bound)
        return out

    def _concept(self, iri: str, code: str, scheme_iri: str) -> Concept:
        scheme = self.notation.get(scheme_iri) or scheme_iri.rsplit("/", 1)[-1]
        names = sorted(self.labels.get(iri, []))
        prefs = sorted(self.pref.get(iri, []), key=lambda p: (p not in names, len(p), p))
        label = prefs[0] if prefs else (names[0] if names else code)
        others = [*prefs[1:], *names, *sorted(self.alt.get(iri, []))]
        synonyms = tuple(dict.fromkeys(s for s in others if s and s != label))
        curie = iri_to_curie(iri) or iri
        return Concept(iri, curie, code, scheme, label, synonyms, self.kind.get(iri, "other"))


def read_index(files: list[Path]) -> OntologyIndex:
    """Parse every module file (Turtle, N-Triples or RDF/XML) into an index; errors name the file."""
    collector = _Collector()
    for path in files:
        fmt = {".ttl": ox.RdfFormat.TURTLE, ".nt": ox.RdfFormat.N_TRIPLES}.get(path.suffix, ox.RdfFormat.RDF_XML)
        try:
            for triple in ox.parse(path=str(path), format=fmt):
                subject = triple.subject
                if isinstance(subject, ox.NamedNode):
                    collector.add(subject.value, triple.predicate.value, triple.object)
        except (SyntaxError, OSError, ValueError) as exc:
            raise OntologyLoadError(f"cannot parse: {exc}", path=str(path)) from exc
    return collector.index()


def cache_path(cache_dir: Path, signature: str) -> Path:
    digest = hashlib.sha256(f"{INDEX_VERSION}|{ox.__version__}|{signature}".encode()).hexdigest()[:24]
    return cache_dir / f"index-{digest}.pickle"


def load_cached(path: Path) -> OntologyIndex | None:
    try:
        with path.open("rb") as handle:
            index = pickle.load(handle)  # noqa: S301 - our own cache file
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError, TypeError):
        return None
    return index if isinstance(index, OntologyIndex) else None


def store_cached(path: Path, index: OntologyIndex) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile("wb", dir=path.parent, delete=False, suffix=".tmp") as handle:
            pickle.dump(index, handle, protocol=pickle.HIGHEST_PROTOCOL)
        Path(handle.name).replace(path)
    except OSError:
        return
