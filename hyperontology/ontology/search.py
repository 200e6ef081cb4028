"""Term search over codes, labels and synonyms: exact, prefix, token and fuzzy, knowing clinical shorthand.

Terms and queries are folded alike into words by :mod:`hyperontology.ontology.shorthand` (case, accents,
British spellings, Roman numerals, "non-" joined to its word), which also says what the query's shorthand means
("sclc", "adenoca lung", "liver mets", "ct"). Exact and prefix matches compare terms without their spaces
("ki67" = "ki-67" = "ki 67"), and a short word is also indexed joined to the next one ("BI-RADS" -> "birads").
A terminology's name in the query ("tnm stage iii", "icd10 c61") ranks that terminology's concepts first among
equals. Score bands do not overlap: a code beats an exact label, which beats an exact synonym, an exact term
through shorthand, a term with the same words in another order, a prefix, a term holding all the query's words
(or what they mean), and one found only by near spellings.

Examples
--------
>>> from hyperontology.ontology.index import Concept
>>> lung = Concept("http://example.org/1", "EX:1", "1", "EX", "Lung carcinoma", ("Carcinoma of lung",))
>>> [(hit.matched, hit.match) for hit in TermIndex([lung]).search("carcinoma of the lung")]
[('lung carcinoma', 'words')]
>>> sorted(trigrams("lung"))
['$lu', 'lun', 'ng$', 'ung']
"""

from __future__ import annotations

import bisect
import functools
import heapq
import itertools
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from types import MappingProxyType

from hyperontology.ontology.index import Concept
from hyperontology.ontology.shorthand import (
    STOP_WORDS,
    Phrase,
    Shorthand,
    joined_pairs,
    letters_and_number,
    normalise,
    word_bag,
)

__all__ = ["SearchHit", "Shorthand", "TermIndex", "normalise", "trigrams"]

# score bands: a better kind of match always ranks above a worse one
EXACT_CODE, EXACT_LABEL, EXACT_SYNONYM, PREFIX, TOKENS, FUZZY = 100.0, 90.0, 85.0, 70.0, 50.0, 30.0
#: an exact term reached through shorthand ("crc" -> "colorectal cancer"): below a literal one, above any prefix
EXPANDED_LABEL, EXPANDED_SYNONYM = 84.0, 83.0
#: a term with the query's words in another order, stop words aside ("MRI of prostate" for "prostate mri"),
#: then the same through shorthand; a label gets +0.5. Both above any prefix.
SAME_WORDS, EXPANDED_SAME_WORDS = 82.0, 81.0
#: names of terminologies a query may use as a hint, besides the schemes' own prefixes
SCHEME_NAMES = MappingProxyType({"snomed": "SCT", "snomedct": "SCT", "icd": "ICD10", "icdo": "ICDO3",
                                 "nci": "NCIT", "dicom": "DCM"})
_EMPTY: frozenset[str] = frozenset()


def trigrams(token: str) -> set[str]:
    """The character trigrams of ``token`` padded with ``$``, for near spellings."""
    padded = f"${token}$"
    return {padded[i:i + 3] for i in range(len(padded) - 2)}


@dataclass(frozen=True, slots=True)
class SearchHit:
    """One search result: the concept, its score (0-100), the text that matched and how."""

    concept: Concept
    score: float
    matched: str
    match: str  # "code", "label", "synonym", "words", "prefix", "tokens", "fuzzy"


@dataclass(frozen=True)
class _Query:
    raw: str  # the text as typed (case-folded), for codes
    words: Phrase  # folded
    scheme: str | None = None  # the terminology the query named, if any


@dataclass
class _Word:
    """How concepts match one query word: groups of (weight, concepts, those having the word in their label)."""

    text: str
    groups: list[tuple[float, AbstractSet[str], AbstractSet[str]]]

    @functools.cached_property
    def concepts(self) -> AbstractSet[str]:
        if len(self.groups) == 1:
            return self.groups[0][1]
        return set[str]().union(*(group[1] for group in self.groups))

    def weight(self, iri: str) -> float:
        """A word found in the concept's label counts a little more than one found only in a synonym."""
        best = 0.0
        for weight, found, label in self.groups:
            if weight > best and iri in found:
                best = weight if iri in label else max(best, weight * 0.8)
        return best


@dataclass(frozen=True)
class _Alternative:
    """One way a slot of the query can match: all of its words (each a :class:`_Word`), with its weight."""

    words: tuple[_Word, ...]
    weight: float
    length: int  # characters of the words, for the share of the concept's label the query covers

    @functools.cached_property
    def concepts(self) -> AbstractSet[str]:
        sets = sorted((word.concepts for word in self.words), key=len)
        if len(sets) == 1:
            return sets[0]
        return set(sets[0]).intersection(*sets[1:]) if sets else _EMPTY

    def weigh(self, iri: str) -> float:
        if iri not in self.concepts:
            return 0.0
        return self.weight * sum(word.weight(iri) for word in self.words) / len(self.words)


class TermIndex:
    """Search structures over every concept's code, CURIE, label and synonyms."""

    def __init__(self, concepts: Iterable[Concept], *, shorthand: Shorthand | None = None) -> None:
        self.shorthand = shorthand if shorthand is not None else Shorthand.bundled()
        self.codes: dict[str, list[str]] = defaultdict(list)
        self.exact: dict[str, list[tuple[str, bool]]] = defaultdict(list)  # term without spaces -> (iri, is label)
        self.same_words: dict[str, list[tuple[str, bool, str]]] = defaultdict(list)  # word_bag -> (iri, label?, term)
        tokens: dict[str, set[str]] = defaultdict(set)
        label_tokens: dict[str, set[str]] = defaultdict(set)
        self.terms: list[tuple[str, str, bool, str]] = []  # (term without spaces, iri, is label, term), sorted
        self.concepts: dict[str, Concept] = {}
        self.label_length: dict[str, int] = {}
        for concept in concepts:
            self._add(concept, tokens, label_tokens)
        self.tokens, self.label_tokens = dict(tokens), dict(label_tokens)
        self.terms.sort()
        self._keys = [t[0] for t in self.terms]
        self._token_keys = sorted(self.tokens)
        self.grams: dict[str, set[str]] = defaultdict(set)
        for token in self.tokens:
            for gram in trigrams(token):
                self.grams[gram].add(token)
        schemes = {c.scheme for c in self.concepts.values()}
        self.schemes = {"".join(self.shorthand.fold(s)): s for s in schemes}
        self.schemes.update((name, s) for name, s in SCHEME_NAMES.items() if s in schemes)

    def _add(self, concept: Concept, tokens: dict[str, set[str]], label_tokens: dict[str, set[str]]) -> None:
        self.concepts[concept.iri] = concept
        for key in {concept.code.casefold(), concept.curie.casefold()}:
            self.codes[key].append(concept.iri)
        for text, is_label in [(concept.label, True), *((s, False) for s in concept.synonyms)]:
            words = self.shorthand.fold(text)
            if not words:
                continue
            term, compact = " ".join(words), "".join(words)
            if is_label:
                self.label_length[concept.iri] = len(term)
            self.exact[compact].append((concept.iri, is_label))
            if bag := word_bag(words):
                self.same_words[bag].append((concept.iri, is_label, term))
            self.terms.append((compact, concept.iri, is_label, term))
            for token in itertools.chain(words, joined_pairs(words)):
                tokens[token].add(concept.iri)
                if is_label:
                    label_tokens[token].add(concept.iri)

    # ---------------------------------------------------------------------------------------------
    def search(self, text: str, *, limit: int = 10, schemes: set[str] | None = None) -> list[SearchHit]:
        """Ranked hits for ``text``; ``schemes`` restricts to some terminologies (e.g. ``{"SCT"}``)."""
        words = tuple(self.shorthand.fold(text))
        if not words:
            return []
        best: dict[str, SearchHit] = {}
        queries = self._queries(text.strip().casefold(), words)
        for query in queries:
            for hit in self._candidates(query, limit, enough=lambda: len(best) >= limit):
                if schemes and hit.concept.scheme not in schemes:
                    continue
                have = best.get(hit.concept.iri)
                if have is None or hit.score > have.score:
                    best[hit.concept.iri] = hit
        hint = queries[-1].scheme  # among equal scores, the terminology the query named first
        ranked = sorted(best.values(),
                        key=lambda h: (-h.score, h.concept.scheme != hint, len(h.concept.label), h.concept.curie))
        return ranked[:limit]

    def _queries(self, raw: str, words: Phrase) -> list[_Query]:
        """The query, and without a terminology's name at its start or end as a hint ("tnm stage iii")."""
        queries = [_Query(raw, words)]
        parts = raw.split()
        for named, rest in ((parts[0], parts[1:]), (parts[-1], parts[:-1])) if len(parts) > 1 else ():
            scheme = self.schemes.get("".join(self.shorthand.fold(named)))
            if scheme is not None and (rest_words := tuple(self.shorthand.fold(" ".join(rest)))):
                return [*queries, _Query(" ".join(rest), rest_words, scheme)]
        return queries

    def _candidates(self, query: _Query, limit: int, *, enough: Callable[[], bool]) -> Iterator[SearchHit]:
        for iri in self.codes.get(query.raw, ()):
            yield SearchHit(self.concepts[iri], EXACT_CODE, query.raw, "code")
        for words, expanded in self.shorthand.variants(query.words):
            yield from self._exact(words, expanded=expanded)
        yield from self._prefix(query.words, limit)
        if not enough():  # token hits rank below every prefix hit: only needed when those are too few
            yield from self._token_hits(query.words, limit)

    def _exact(self, words: Phrase, *, expanded: bool) -> Iterator[SearchHit]:
        for iri, is_label in self.exact.get("".join(words), ()):
            if expanded:
                score = EXPANDED_LABEL if is_label else EXPANDED_SYNONYM
            else:
                score = EXACT_LABEL if is_label else EXACT_SYNONYM
            yield SearchHit(self.concepts[iri], score, " ".join(words), "label" if is_label else "synonym")
        base = EXPANDED_SAME_WORDS if expanded else SAME_WORDS
        for iri, is_label, term in self.same_words.get(word_bag(words) or "-", ()):
            yield SearchHit(self.concepts[iri], base + (0.5 if is_label else 0.0), term, "words")

    def _prefix(self, words: Phrase, limit: int) -> Iterator[SearchHit]:
        """Terms the query begins, as typed (its shorthand is not expanded: "lung ca" is not "pulmonary ca...")."""
        key = "".join(words)
        start = bisect.bisect_left(self._keys, key)
        for compact, iri, is_label, term in self.terms[start:start + 50 * limit]:
            if not compact.startswith(key):
                break
            if compact != key:
                score = PREFIX + 10.0 * len(key) / len(compact) + (1.0 if is_label else 0.0)
                yield SearchHit(self.concepts[iri], score, term, "prefix")

    # ---------------------------------------------------------------------------------------------
    def _token_hits(self, words: Phrase, limit: int) -> Iterator[SearchHit]:
        """Concepts whose terms hold every slot of the query (a word, a known phrase, or what either means)."""
        memo: dict[tuple[str, bool], _Word] = {}
        slots = self._slots(words, memo)
        required = [alts for optional, alts in slots if not optional] or [alts for _, alts in slots]
        fuzzy = False
        for i, alts in enumerate(required):
            if not any(alt.concepts for alt in alts) and len(alts[0].words) == 1:
                word = alts[0].words[0].text
                required[i] = [_Alternative((self._fuzzy(word),), 1.0, alts[0].length)]
                fuzzy = True
            if not any(alt.concepts for alt in required[i]):
                return
        sets = sorted((set().union(*(alt.concepts for alt in alts)) for alts in required), key=len)
        hits = sets[0].intersection(*sets[1:])
        for iri in heapq.nsmallest(200 * limit, hits, key=lambda h: (self.label_length.get(h, 0), h)):
            quality, length = 0.0, len(required) - 1
            for alts in required:
                weight, size = 0.0, alts[0].length
                for alt in alts:
                    if (this := alt.weigh(iri)) > weight:
                        weight, size = this, alt.length
                quality, length = quality + weight, length + size
            quality /= len(required)
            coverage = length / max(self.label_length.get(iri, length), length)
            yield SearchHit(self.concepts[iri], (FUZZY if fuzzy else TOKENS) + 10.0 * quality * coverage
                            + 5.0 * quality, " ".join(words), "fuzzy" if fuzzy else "tokens")

    def _slots(self, words: Phrase, memo: dict[tuple[str, bool], _Word]) -> list[tuple[bool, list[_Alternative]]]:
        """(optional, alternatives) for each part of the query; a lone stop word is optional."""
        segments = self.shorthand.segments(words)
        slots: list[tuple[bool, list[_Alternative]]] = []
        i = 0
        while i < len(segments):
            pair, used = self._pair(segments[i:i + 2])
            last = i + used == len(segments)
            if pair:  # "ki 67" = "ki67": both words, or the one token
                slots.append((False, [self._alternative(pair, 1.0, memo, last=last),
                                      self._alternative(("".join(pair),), 1.0, memo, last=False)]))
                i += used
                continue
            seg = segments[i]
            means = self.shorthand.phrase_means(seg)
            alts = [self._alternative(seg, 1.0, memo, last=last)]
            alts += [self._alternative(alt, w, memo, last=False) for alt, w in means]
            slots.append((len(seg) == 1 and seg[0] in STOP_WORDS and not means, alts))
            i += 1
        return slots

    def _pair(self, segments: list[Phrase]) -> tuple[Phrase, int]:
        """Two words the index also has as one token, apart ("ki 67", "her 2") or together ("ki67").

        Returns the two words and how many of ``segments`` they take, or ``((), 1)``.
        """
        first = segments[0]
        if len(segments) == 2 and len(first) == len(segments[1]) == 1 and first[0] + segments[1][0] in self.tokens:
            return first + segments[1], 2
        if len(first) == 1 and first[0] in self.tokens and (split := letters_and_number(first[0])):
            return split, 1
        return (), 1

    def _alternative(self, phrase: Phrase, weight: float, memo: dict[tuple[str, bool], _Word], *,
                     last: bool) -> _Alternative:
        """The words of ``phrase`` a term must hold (not its stop words); the last one may be a word's start."""
        kept = [(i, w) for i, w in enumerate(phrase) if w not in STOP_WORDS] or list(enumerate(phrase))
        words = []
        for i, word in kept:
            key = (word, last and i == len(phrase) - 1)
            if key not in memo:
                memo[key] = self._word(*key)
            words.append(memo[key])
        return _Alternative(tuple(words), weight, len(" ".join(phrase)))

    def _word(self, word: str, prefix: bool) -> _Word:
        """The concepts holding ``word``, a word it begins (when ``prefix``), or a word it means."""
        groups: list[tuple[float, AbstractSet[str], AbstractSet[str]]] = []
        if word in self.tokens:
            groups.append((1.0, self.tokens[word], self.label_tokens.get(word, _EMPTY)))
        if prefix and len(word) >= 3:  # the word being typed: accept tokens it begins
            found: set[str] = set()
            label: set[str] = set()
            start = bisect.bisect_left(self._token_keys, word)
            for token in self._token_keys[start:start + 200]:
                if not token.startswith(word):
                    break
                if token != word:
                    found |= self.tokens[token]
                    label |= self.label_tokens.get(token, _EMPTY)
            if found:
                groups.append((0.9, found, label))
        for other, weight in self.shorthand.word_means(word):
            if other in self.tokens:
                groups.append((weight, self.tokens[other], self.label_tokens.get(other, _EMPTY)))
        return _Word(word, groups)

    def _fuzzy(self, word: str) -> _Word:
        """Concepts with a token close to ``word`` (trigram Jaccard >= 0.45: a typo or two), with that Jaccard."""
        if len(word) < 4:
            return _Word(word, [])
        grams = trigrams(word)
        counts: dict[str, int] = defaultdict(int)
        for gram in grams:
            for token in self.grams.get(gram, ()):
                counts[token] += 1
        groups: list[tuple[float, AbstractSet[str], AbstractSet[str]]] = []
        for token, shared in counts.items():
            score = shared / len(grams | trigrams(token))
            if score >= 0.45:
                groups.append((score, self.tokens[token], self.label_tokens.get(token, _EMPTY)))
        return _Word(word, groups)
