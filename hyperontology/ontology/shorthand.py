"""Clinical shorthand for the term search: text folded into normalised words, and what a query's words also mean.

Terms and queries are folded alike (:meth:`Shorthand.fold`): case, accents and punctuation dropped, British
spellings made American ("tumour" -> "tumor"), a Roman numeral after "stage", "grade", "type"... made Arabic
("Stage IIIa" -> "stage 3a"), and a negating "non" joined to its word ("non-small" -> "nonsmall"), so that
"small cell" never finds a non-small cell concept. A short word is also indexed joined to the next one
("BI-RADS" -> "birads", :func:`joined_pairs`), a word of letters and digits is also two words ("ki67" ->
"ki 67", :func:`letters_and_number`), and a term's words in any order, stop words aside, make one key
(:func:`word_bag`). The query's shorthand ("sclc", "adenoca lung", "liver mets", "ct") is expanded with the table
``shorthand.tsv`` next to this module: words, never codes (:meth:`Shorthand.variants` on whole terms,
:meth:`Shorthand.word_means` and :meth:`Shorthand.phrase_means` word by word). The index and its ranking are in
:mod:`hyperontology.ontology.search`.

Examples
--------
>>> normalise("  Mélanome   MALIN ")
'melanome malin'
>>> shorthand = Shorthand.bundled()
>>> " ".join(shorthand.fold("Non-small cell tumour, Stage IIIa"))
'nonsmall cell tumor stage 3a'
>>> shorthand.variants(("sclc",))
[(('sclc',), False), (('small', 'cell', 'lung', 'cancer'), True), (('small', 'cell', 'lung', 'carcinoma'), True)]
>>> word_bag(["mri", "of", "prostate"]) == word_bag(["prostate", "mri"])
True
>>> list(joined_pairs(["bi", "rads", "category", "4"]))
['birads']
"""

from __future__ import annotations

import csv
import functools
import itertools
import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from types import MappingProxyType

from hyperontology.errors import OntologyLoadError

_NON_WORD = re.compile(r"[^0-9a-z]+")
#: shorthand this close to the query's meaning is tried on whole terms (exact, same words), not only on words
WHOLE_TERM_WEIGHT = 0.9
#: words a term need not hold to match ("carcinoma of the lung" finds "Lung carcinoma", "CT scan" finds "CT")
STOP_WORDS = frozenset({"of", "the", "and", "in", "a", "an", "to", "for", "on", "at", "by", "scan"})
#: words after which a Roman numeral is a number ("stage IIIa" = "stage 3a", "CIN III" = "CIN 3")
NUMBERED = frozenset({"stage", "grade", "type", "class", "category", "level", "group", "phase", "cin"})
_ROMAN = {"i": "1", "ii": "2", "iii": "3", "iv": "4", "v": "5", "vi": "6", "vii": "7", "viii": "8", "ix": "9",
          "x": "10"}
_LETTERS_NUMBER = re.compile(r"([a-z]{2,3})([0-9]+)")  # "ki67", "her2", "ca125"
_ROMAN_WORD = re.compile(r"(viii|vii|vi|v|iv|iii|ii|i|ix|x)([a-c]?)")
MAX_VARIANTS = 8  # whole-query expansions tried on whole terms
Phrase = tuple[str, ...]
_Row = dict[str, str]


def normalise(text: str) -> str:
    """Case-fold, strip accents, collapse everything but letters and digits to single spaces."""
    plain = text.casefold()
    if not plain.isascii():
        plain = "".join(ch for ch in unicodedata.normalize("NFKD", plain) if not unicodedata.combining(ch))
    return _NON_WORD.sub(" ", plain).strip()


def word_bag(words: Iterable[str]) -> str:
    """A term's words in any order, stop words aside: "MRI of prostate" and "prostate MRI" share one."""
    return " ".join(sorted({w for w in words if w not in STOP_WORDS}))


def _joinable(first: str, second: str) -> bool:
    """A short word indexed joined to the next one too: "ki 67" -> "ki67", "bi rads" -> "birads"."""
    return (first.isalpha() and len(first) <= 3 and first not in STOP_WORDS and second not in STOP_WORDS
            and (len(second) <= 4 or second.isdigit()))


def joined_pairs(words: Iterable[str]) -> Iterator[str]:
    """Each short word of ``words`` joined to the next one, where the index also holds them as one token."""
    return (a + b for a, b in itertools.pairwise(words) if _joinable(a, b))


def letters_and_number(word: str) -> Phrase:
    """A word of two or three letters then digits as two words ("ki67" -> ("ki", "67")), else ``()``."""
    split = _LETTERS_NUMBER.fullmatch(word)
    return (split[1], split[2]) if split else ()


@dataclass(frozen=True)
class Shorthand:
    """Clinical shorthand: British spellings (word starts) and what a query word or phrase also means."""

    spellings: Mapping[str, str]
    means: Mapping[Phrase, tuple[tuple[Phrase, float], ...]]

    @classmethod
    def read(cls, text: str, *, source: str = "shorthand.tsv") -> Shorthand:
        """Parse the table (see ``shorthand.tsv``); a malformed row is an :class:`OntologyLoadError`."""
        rows = _rows(text, source)
        spellings = {row["term"]: row["means"] for _, row in rows if row["kind"] == "spelling"}
        plain = cls(MappingProxyType(spellings), MappingProxyType({}))
        found: dict[Phrase, dict[Phrase, float]] = defaultdict(dict)
        for number, row in rows:
            if row["kind"] == "means":
                weight = _weight(row["weight"], where=f"{source}:{number}")
                for phrase in row["means"].split("|"):
                    found[tuple(plain.fold(row["term"]))][tuple(plain.fold(phrase))] = weight
        means = {term: tuple(sorted(alts.items(), key=lambda a: -a[1])) for term, alts in found.items()}
        return cls(plain.spellings, MappingProxyType(means))

    @staticmethod
    def bundled() -> Shorthand:
        """The table shipped with hyperontology."""
        return _bundled()

    @functools.cached_property
    def _spelling(self) -> re.Pattern[str] | None:
        stems = sorted(self.spellings, key=len, reverse=True)
        return re.compile("|".join(map(re.escape, stems))) if stems else None

    def fold(self, text: str) -> list[str]:
        """The words of ``text`` as the index compares them (see the module's documentation)."""
        words: list[str] = []
        for word in normalise(text.replace("*", " star ")).split():  # "T2*" is "T2 star", not "T2"
            if self._spelling is not None and (found := self._spelling.match(word)):
                word = self.spellings[found.group()] + word[found.end():]
            previous = words[-1] if words else ""
            if previous == "non":
                words[-1] = previous + word
            elif word == "s" and previous:  # a possessive: "Hodgkin's"
                continue
            elif previous in NUMBERED and (roman := _ROMAN_WORD.fullmatch(word)):
                words.append(_ROMAN[roman[1]] + roman[2])
            else:
                words.append(word)
        return words

    @functools.cached_property
    def longest(self) -> int:
        """Words in the longest phrase the table knows."""
        return max((len(term) for term in self.means), default=1)

    def segments(self, words: Phrase) -> list[Phrase]:
        """Folded ``words`` cut into the longest phrases the table knows, and single words."""
        out, i = [], 0
        while i < len(words):
            size = next((n for n in range(min(self.longest, len(words) - i), 1, -1)
                         if words[i:i + n] in self.means), 1)
            out.append(words[i:i + size])
            i += size
        return out

    def variants(self, words: Phrase) -> list[tuple[Phrase, bool]]:
        """The query's words, then with its shorthand expanded (at most :data:`MAX_VARIANTS`): (words, expanded)."""
        options = [[(seg, False), *((alt, True) for alt, weight in self.means.get(seg, ())
                                    if weight >= WHOLE_TERM_WEIGHT)]
                   for seg in self.segments(words)]
        combos = itertools.islice(itertools.product(*options), MAX_VARIANTS)
        return [(tuple(w for seg, _ in combo for w in seg), any(e for _, e in combo)) for combo in combos]

    def word_means(self, word: str) -> list[tuple[str, float]]:
        """The single words ``word`` also means, with their weight, then its singular ("hodgkins" -> "hodgkin")."""
        others = [(other, weight) for (other, *more), weight in self.means.get((word,), ()) if not more]
        if word.endswith("s") and len(word) > 3:  # a plural or a possessive without its apostrophe: "hodgkins"
            others.append((word[:-1], 0.95))
        return others

    def phrase_means(self, segment: Phrase) -> list[tuple[Phrase, float]]:
        """What a segment of the query also means, but a word for a word (see :meth:`word_means`)."""
        return [(alt, weight) for alt, weight in self.means.get(segment, ()) if len(alt) > 1 or len(segment) > 1]


def _rows(text: str, source: str) -> list[tuple[int, _Row]]:
    """The table's rows with their line numbers, each checked to be a spelling or a means with its two words."""
    numbered = [(n, line) for n, line in enumerate(text.splitlines(), 1) if line.strip() and line[0] != "#"]
    rows: list[tuple[int, _Row]] = list(zip((n for n, _ in numbered[1:]),
                                            csv.DictReader((line for _, line in numbered), delimiter="\t"),
                                            strict=True))
    for number, row in rows:
        if row["kind"] not in ("spelling", "means") or not row["term"] or not row["means"]:
            raise OntologyLoadError(f"a row is a spelling or a means, with a term and what it means: {row}",
                                    path=f"{source}:{number}")
    return rows


def _weight(text: str, *, where: str) -> float:
    """A row's weight (1 when empty); one that is not a number is an :class:`OntologyLoadError`."""
    try:
        return float(text or 1.0)
    except ValueError as exc:
        raise OntologyLoadError(f"weight {text!r} is not a number", path=where) from exc


@functools.cache
def _bundled() -> Shorthand:
    text = resources.files("hyperontology.ontology").joinpath("shorthand.tsv").read_text("utf-8")
    return Shorthand.read(text, source=str(Path("hyperontology") / "ontology" / "shorthand.tsv"))
