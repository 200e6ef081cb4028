"""Equivalence sets that cannot merge a concept with its parent: exact matches chained only without conflict.

``skos:exactMatch`` is transitive, so one wrong exact match makes whole sets equal: ``Carcinoma of breast`` =
``Breast Carcinoma`` = ``Malignant neoplasm of breast`` puts the breast's sarcomas into every carcinoma question.
Exact matches are therefore added one at a time, strongest source first, to a union-find whose sets are checked
before each merge. A merge is refused when the two sets would hold

- two codes of one terminology (a code and its own ancestor, or two different concepts);
- concepts with different known behaviour (malignant / in situ / benign / ...);
- a site-specific concept and a site-agnostic morphology, or different sites;
- a neoplasm NOS (``Malignant neoplasm of colon``) and one histology (``Carcinoma of colon``).

A refused match is demoted: to ``broadMatch``/``narrowMatch`` when one side is plainly the narrower (its site lies
inside the other's, it has a histology where the other has none, it is a descendant), else to ``closeMatch``; the
reason is kept in the mapping's comment (the SSSOM ``comment`` column).

Examples
--------
>>> from hyperontology.ontology.neoplasm import Facets
>>> facets = {"A:1": Facets("malignant", frozenset({"C50"}), "generic"),
...           "B:1": Facets("malignant", frozenset({"C50"}), "specific"), "C:1": Facets("malignant")}
>>> sets = EquivalenceSets(facets.get, lambda a, b: False)
>>> sets.conflict("A:1", "C:1") is None
True
>>> sets.merge("A:1", "C:1")
>>> sets.conflict("C:1", "B:1")
('narrow', 'a neoplasm NOS (A:1) and one histology (B:1)')
"""

from __future__ import annotations

import re
from collections.abc import Callable

from hyperontology.ontology.neoplasm import Facets, within

FacetsOf = Callable[[str], Facets | None]
IsAncestor = Callable[[str, str], bool]  # (ancestor, descendant) in one terminology's hierarchy
SameConcept = Callable[[str, str], bool]  # two codes of one terminology that are duplicates of one concept


def scheme(curie: str) -> str:
    return curie.split(":", 1)[0]


class EquivalenceSets:
    """A union-find of concepts (CURIEs) whose every set is free of conflicts."""

    def __init__(self, facets: FacetsOf, is_ancestor: IsAncestor,
                 same_concept: SameConcept | None = None) -> None:
        self._facets = facets
        self._is_ancestor = is_ancestor
        self._same = same_concept
        self._parent: dict[str, str] = {}
        self._members: dict[str, list[str]] = {}

    def find(self, curie: str) -> str:
        parent = self._parent.setdefault(curie, curie)
        if parent == curie:
            self._members.setdefault(curie, [curie])
            return curie
        root = self.find(parent)
        self._parent[curie] = root
        return root

    def members(self, curie: str) -> list[str]:
        return sorted(self._members[self.find(curie)])

    def sets(self) -> list[list[str]]:
        return [sorted(m) for root, m in self._members.items() if self._parent.get(root) == root and len(m) > 1]

    def merge(self, a: str, b: str) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            keep, drop = sorted((ra, rb))
            self._parent[drop] = keep
            self._members[keep].extend(self._members.pop(drop))

    def conflict(self, a: str, b: str) -> tuple[str, str] | None:
        """``None`` if the sets of ``a`` and ``b`` may merge, else ``(relation, reason)``.

        ``relation`` is what the match ``a -> b`` becomes: ``broad`` (a is narrower), ``narrow`` (b is
        narrower) or ``close``.
        """
        if self.find(a) == self.find(b):
            return None
        left, right = self.members(a), self.members(b)
        found = self._clash(left, right)
        if found is not None:
            return found
        return self._facet_conflict(left, right)

    # -- checks ------------------------------------------------------------------------------------
    def _clash(self, left: list[str], right: list[str]) -> tuple[str, str] | None:
        by_scheme = {scheme(x): x for x in left}
        for y in right:
            x = by_scheme.get(scheme(y))
            if x is None:
                continue
            if self._is_ancestor(x, y):
                return "narrow", f"{y} is a descendant of {x} in {scheme(x)}"
            if self._is_ancestor(y, x):
                return "broad", f"{x} is a descendant of {y} in {scheme(x)}"
            if self._same is not None and self._same(x, y):
                continue  # duplicates of one concept in a source (the release's classes with one name)
            if self._morphology_and_its_disorder(x, y):
                continue

            return "close", f"two {scheme(x)} codes ({x}, {y}) would be one concept"
        return None

    def _morphology_and_its_disorder(self, x: str, y: str) -> bool:
        """A site-agnostic morphology and a disorder defined by it alone (Glioblastoma, morphology and disorder)."""
        fx, fy = self._facets(x), self._facets(y)
        if fx is None or fy is None or fx.agnostic == fy.agnostic:
            return False
        disorder = fy if fx.agnostic else fx
        return disorder.sites is None and fx.behaviour == fy.behaviour and fx.behaviour is not None

    def _facet_conflict(self, left: list[str], right: list[str]) -> tuple[str, str] | None:
        fl, fr = self._combined(left), self._combined(right)
        if fl is None or fr is None:
            return None
        (la, a), (rb, b) = fl, fr
        if a.behaviour and b.behaviour and a.behaviour != b.behaviour:
            return "close", f"different behaviour: {la} is {a.behaviour}, {rb} is {b.behaviour}"
        site = _site_conflict(la, a, rb, b)
        if site is not None:
            return site if site[0] else None
        if a.form and b.form and a.form != b.form:
            if a.form == "generic":
                return "narrow", f"a neoplasm NOS ({la}) and one histology ({rb})"
            return "broad", f"one histology ({la}) and a neoplasm NOS ({rb})"
        return None

    def _combined(self, members: list[str]) -> tuple[str, Facets] | None:
        """The most informative member's facets (a set is conflict-free, so members agree)."""
        best: tuple[int, str, Facets] | None = None
        for curie in members:
            f = self._facets(curie)
            if f is None or f.empty:
                continue
            score = (f.behaviour is not None) + 2 * (f.sites is not None and not f.bound) + (f.sites is not None
                     or f.agnostic) + (f.form is not None)
            if best is None or score > best[0]:
                best = (score, curie, f)
        if best is None:
            return None
        merged = best[2]
        for curie in members:
            f = self._facets(curie)
            if f is not None:
                merged = merged.over(f)
        return best[1], merged


def _site_conflict(la: str, a: Facets, rb: str, b: Facets) -> tuple[str, str] | None:
    """A site conflict, ``("", "")`` when an inherited bound holds the other's sites (no conflict at all), or None."""
    if a.agnostic != b.agnostic and (a.sites is not None or b.sites is not None):
        if a.agnostic:
            return "narrow", f"{la} is a morphology at any site, {rb} is site-specific"
        return "broad", f"{la} is site-specific, {rb} is a morphology at any site"
    if a.sites is None or b.sites is None or a.sites == b.sites:
        return None
    if (a.bound and within(b.sites, a.sites)) or (b.bound and within(a.sites, b.sites)):
        return "", ""  # an inherited upper bound holds the other's own sites
    reason = f"different sites: {la} {_sites(a)}, {rb} {_sites(b)}"
    if within(a.sites, b.sites):
        return "broad", reason
    if within(b.sites, a.sites):
        return "narrow", reason
    return "close", reason


def name_key(text: str) -> str:
    """A name as duplicates share it: case, punctuation, ``NOS`` and SNOMED CT semantic tags ignored."""
    text = re.sub(r"\s*\([a-z /]+\)$", "", text.casefold())
    text = re.sub(r"\bnos\b|\bnot otherwise specified\b", " ", text)
    return " ".join(re.findall(r"[a-z0-9]+", text.replace("tumour", "tumor")))


def _sites(f: Facets) -> str:
    return ",".join(sorted(f.sites or ()))


__all__ = ["EquivalenceSets", "name_key", "scheme"]
