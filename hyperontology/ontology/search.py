"""Term search over codes, labels and synonyms: exact, prefix, token and fuzzy, accent- and case-insensitive.

Examples
--------
>>> normalise("  Mélanome   MALIN ")
'melanome malin'
>>> sorted(trigrams("lung"))
['$lu', 'lun', 'ng$', 'ung']
"""

from __future__ import annotations

import bisect
import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from hyperontology.ontology.index import Concept

_NON_WORD = re.compile(r"[^0-9a-z]+")
# score bands: a better kind of match always ranks above a worse one
EXACT_CODE, EXACT_LABEL, EXACT_SYNONYM, PREFIX, TOKENS, FUZZY = 100.0, 90.0, 85.0, 70.0, 50.0, 30.0


def normalise(text: str) -> str:
    """Case-fold, strip accents, collapse everything but letters and digits to single spaces."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return _NON_WORD.sub(" ", plain).strip()


def trigrams(token: str) -> set[str]:
    padded = f"${token}$"
    return {padded[i:i + 3] for i in range(len(padded) - 2)}


@dataclass(frozen=True, slots=True)
class SearchHit:
    """One search result: the concept, its score (0-100), the text that matched and how."""

    concept: Concept
    score: float
    matched: str
    match: str  # "code", "label", "synonym", "prefix", "tokens", "fuzzy"


class TermIndex:
    """Search structures over every concept's code, CURIE, label and synonyms."""

    def __init__(self, concepts: Iterable[Concept]) -> None:
        self.codes: dict[str, list[str]] = defaultdict(list)
        self.exact: dict[str, list[tuple[str, bool]]] = defaultdict(list)
        self.tokens: dict[str, set[str]] = defaultdict(set)
        self.label_tokens: dict[str, set[str]] = defaultdict(set)
        self.terms: list[tuple[str, str, bool]] = []  # (normalised term, iri, is_label), sorted
        self.concepts: dict[str, Concept] = {}
        for concept in concepts:
            self._add(concept)
        self.terms.sort()
        self._keys = [t[0] for t in self.terms]
        self._token_keys = sorted(self.tokens)
        self.grams: dict[str, set[str]] = defaultdict(set)
        for token in self.tokens:
            for gram in trigrams(token):
                self.grams[gram].add(token)

    def _add(self, concept: Concept) -> None:
        self.concepts[concept.iri] = concept
        for key in {concept.code.casefold(), concept.curie.casefold()}:
            self.codes[key].append(concept.iri)
        for text, is_label in [(concept.label, True), *((s, False) for s in concept.synonyms)]:
            norm = normalise(text)
            if not norm:
                continue
            self.exact[norm].append((concept.iri, is_label))
            self.terms.append((norm, concept.iri, is_label))
            for token in norm.split():
                self.tokens[token].add(concept.iri)
                if is_label:
                    self.label_tokens[token].add(concept.iri)

    # ---------------------------------------------------------------------------------------------
    def search(self, text: str, *, limit: int = 10, schemes: set[str] | None = None) -> list[SearchHit]:
        """Ranked hits for ``text``; ``schemes`` restricts to some terminologies (e.g. ``{"SCT"}``)."""
        query = normalise(text)
        if not query:
            return []
        best: dict[str, SearchHit] = {}
        for hit in self._candidates(text.strip().casefold(), query, limit):
            if schemes and hit.concept.scheme not in schemes:
                continue
            have = best.get(hit.concept.iri)
            if have is None or hit.score > have.score:
                best[hit.concept.iri] = hit
        ranked = sorted(best.values(), key=lambda h: (-h.score, len(h.concept.label), h.concept.curie))
        return ranked[:limit]

    def _candidates(self, raw: str, query: str, limit: int) -> Iterable[SearchHit]:
        for iri in self.codes.get(raw, []):
            yield SearchHit(self.concepts[iri], EXACT_CODE, raw, "code")
        for iri, is_label in self.exact.get(query, []):
            yield SearchHit(self.concepts[iri], EXACT_LABEL if is_label else EXACT_SYNONYM, query,
                            "label" if is_label else "synonym")
        yield from self._prefix(query, limit)
        yield from self._token_hits(query, limit)

    def _prefix(self, query: str, limit: int) -> Iterable[SearchHit]:
        start = bisect.bisect_left(self._keys, query)
        for term, iri, is_label in self.terms[start:start + 50 * limit]:
            if not term.startswith(query):
                break
            if term != query:
                score = PREFIX + 10.0 * len(query) / len(term) + (1.0 if is_label else 0.0)
                yield SearchHit(self.concepts[iri], score, term, "prefix")

    def _token_hits(self, query: str, limit: int) -> Iterable[SearchHit]:
        """Concepts whose terms hold every query word (as a token, a token's start, or a near spelling)."""
        words = query.split()
        weights: list[dict[str, float]] = []
        fuzzy = False
        for i, word in enumerate(words):
            found = self._token_matches(word, last=i == len(words) - 1)
            if not found:
                found, fuzzy = self._fuzzy(word), True
            if not found:
                return
            weights.append(found)
        weights.sort(key=len)
        hits = set(weights[0]).intersection(*weights[1:])
        for iri in sorted(hits)[: 200 * limit]:
            concept = self.concepts[iri]
            quality = sum(w[iri] for w in weights) / len(weights)
            coverage = len(query) / max(len(normalise(concept.label)), len(query))
            yield SearchHit(concept, (FUZZY if fuzzy else TOKENS) + 10.0 * quality * coverage + 5.0 * quality,
                            query, "fuzzy" if fuzzy else "tokens")

    def _token_matches(self, word: str, *, last: bool) -> dict[str, float]:
        found = {iri: self._weight(word, iri, 1.0) for iri in self.tokens.get(word, ())}
        if last and len(word) >= 3:  # the word being typed: accept tokens it begins
            start = bisect.bisect_left(self._token_keys, word)
            for token in self._token_keys[start:start + 200]:
                if not token.startswith(word):
                    break
                for iri in self.tokens[token]:
                    found.setdefault(iri, self._weight(token, iri, 0.9))
        return found

    def _weight(self, token: str, iri: str, weight: float) -> float:
        """A word found in the concept's label counts a little more than one found only in a synonym."""
        return weight if iri in self.label_tokens.get(token, ()) else weight * 0.8

    def _fuzzy(self, word: str) -> dict[str, float]:
        """Concepts with a token close to ``word`` (trigram Jaccard >= 0.45: a typo or two), with that Jaccard."""
        if len(word) < 4:
            return {}
        grams = trigrams(word)
        counts: dict[str, int] = defaultdict(int)
        for gram in grams:
            for token in self.grams.get(gram, ()):
                counts[token] += 1
        found: dict[str, float] = {}
        for token, shared in counts.items():
            score = shared / len(grams | trigrams(token))
            if score >= 0.45:
                for iri in self.tokens[token]:
                    found[iri] = max(found.get(iri, 0.0), self._weight(token, iri, score))
        return found
