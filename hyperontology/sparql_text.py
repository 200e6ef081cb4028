"""Reading SPARQL text the way the store's parser lexes it: what a query or update names with SERVICE, LOAD, FROM,
USING and WITH.

A small tokenizer with the grammar's alphabet (``PN_CHARS``, ``PN_LOCAL`` and its escapes, ``VARNAME``; the ranges
of pyoxigraph's parser, which also ends a local name at its second dot): strings (four quote forms, with
escapes), comments (to a line feed or a carriage return), IRIs, variables and prefixed names are single tokens, so a
keyword inside them is not a keyword. Prefixed names are resolved with the ``PREFIX`` declarations, relative IRIs
against ``BASE``. pyoxigraph's parser also reads keywords glued to what follows (``SERVICESILENT<x>``,
``ASKFROMex:g``); these are found too. When a prefix or ``BASE`` is declared more than once, every value it was
given is kept. A prefix whose name contains a keyword followed by a declared prefix (``download:x`` with ``:``
declared) is read as that keyword too.

This is the second reading of the endpoint's allow-list (:mod:`hyperontology.server.allowlist`), which decides on
the parse tree (:mod:`hyperontology.sparql_parse`) and refuses a text the two read differently; the stores use it
to tell whether a query names its own dataset (:func:`has_dataset_clause`).

Examples
--------
>>> [(u.keyword, u.written, u.iris) for u in remote_uses('SELECT * { SERVICE SILENT <http://a.org/sparql> {} }')]
[('SERVICE SILENT', '<http://a.org/sparql>', ('http://a.org/sparql',))]
>>> remote_uses('SELECT ?service { ?s <http://x/LOAD> "SERVICE" ; ex:load ?from } # LOAD <http://y>')
[]
>>> text = "PREFIX b: <http://x/> SELECT * { BIND(b:c\u203f\\\\' AS ?z) SERVICE <http://y/> {} } # '"
>>> [u.written for u in remote_uses(text)]
['<http://y/>']
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from urllib.parse import urljoin, urlsplit

#: the name characters of the SPARQL 1.1 grammar (productions 164-167), as pyoxigraph's parser has them (it leaves
#: out the grammar's U+10000-U+EFFFF)
PN_CHARS_BASE = ("A-Za-z\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u02ff\u0370-\u037d\u037f-\u1fff\u200c-\u200d"
                 "\u2070-\u218f\u2c00-\u2fef\u3001-\ud7ff\uf900-\ufdcf\ufdf0-\ufffd")
PN_CHARS_U = PN_CHARS_BASE + "_"
PN_CHARS = PN_CHARS_U + "\\-0-9\u00b7\u0300-\u036f\u203f-\u2040"
_PLX = r"%[0-9A-Fa-f]{2}|\\[_~.\-!$&'()*+,;=/?#@%]"
_LOCAL = rf"(?:[{PN_CHARS}:]|{_PLX})"
#: a local name as pyoxigraph's parser reads it: like the grammar's ``PN_LOCAL``, but with dots in one place only
STORE_PN_LOCAL = re.compile(rf"(?:[{PN_CHARS_U}:0-9]|{_PLX}){_LOCAL}*(?:\.+{_LOCAL}+)?")
_TOKEN = re.compile(
    r"(?P<space>[ \t\r\n]+)|(?P<comment>#[^\r\n]*)"
    r'|(?P<string>"""(?:(?:"|"")?(?:[^"\\]|\\.))*"""' r"|'''(?:(?:'|'')?(?:[^'\\]|\\.))*'''"
    r'|"(?:[^"\\\r\n]|\\.)*"' r"|'(?:[^'\\\r\n]|\\.)*')"
    r'|<(?P<iri>(?:[^<>"{}|^`\\\x00-\x20]|\\u[0-9A-Fa-f]{4}|\\U[0-9A-Fa-f]{8})*)>'
    rf"|(?P<var>[?$][{PN_CHARS_U}0-9][{PN_CHARS_U}0-9\u00b7\u0300-\u036f\u203f-\u2040]*)"
    r"|(?P<lang>@[A-Za-z]+(?:-[A-Za-z0-9]+)*(?:--[A-Za-z]+)?)"
    rf"|(?P<bnode>_:[{PN_CHARS_U}0-9](?:[{PN_CHARS}.]*[{PN_CHARS}])?)"
    rf"|(?P<pname>(?P<prefix>[{PN_CHARS_BASE}](?:[{PN_CHARS}.]*[{PN_CHARS}])?)?:(?P<local>{STORE_PN_LOCAL.pattern})?)"
    r"|(?P<word>\w+)|(?P<other>.)",
    re.DOTALL,
)
_TARGETED = re.compile(r"SERVICE|LOAD|FROM|USING|WITH", re.IGNORECASE)
_MODIFIER = re.compile(r"(?:SILENT|NAMED)+", re.IGNORECASE)
_UCHAR = re.compile(r"\\u([0-9A-Fa-f]{4})|\\U([0-9A-Fa-f]{8})")
_LOCAL_ESCAPE = re.compile(r"\\(.)")


@dataclass(frozen=True)
class Token:
    kind: str  # iri, var, pname, word or other
    text: str  # as written
    value: str = ""  # iri: the IRI (escapes decoded); pname: the prefix name; word: upper case
    local: str = ""  # pname: the local name, unescaped
    start: int = field(default=0, compare=False)  # where it is in the text
    end: int = field(default=0, compare=False)


@dataclass(frozen=True)
class RemoteUse:
    """One ``SERVICE``/``LOAD``/``FROM``/``USING``/``WITH`` and its target.

    ``keyword`` has its modifiers (``FROM NAMED``, ``LOAD SILENT``); ``written`` is the target as written
    (``<iri>``, ``prefix:name``, ``?var``; empty when none was found); ``iris`` what it may resolve to (empty
    for a variable, an undeclared prefix or a missing target).
    """

    keyword: str
    written: str
    iris: tuple[str, ...]


def tokens(text: str) -> Iterator[Token]:
    """The tokens of a SPARQL text that matter here (no spaces, comments, strings, language tags, blank nodes).

    Examples
    --------
    >>> [t.text for t in tokens("SELECT ?x { ?x ex:p '''a '' b''' } # c")]
    ['SELECT', '?x', '{', '?x', 'ex:p', '}']
    """
    for match in _TOKEN.finditer(text):
        kind = match.lastgroup
        if kind in ("iri", "prefix", "local"):  # inner groups: the token is the enclosing one
            kind = "iri" if match.group("iri") is not None else "pname"
        start, end = match.span()
        if kind == "iri":
            yield Token("iri", match.group(), _UCHAR.sub(_codepoint, match.group("iri")), start=start, end=end)
        elif kind == "pname":
            yield Token("pname", match.group(), match.group("prefix") or "",
                        _LOCAL_ESCAPE.sub(r"\1", match.group("local") or ""), start=start, end=end)
        elif kind == "word":
            yield Token("word", match.group(), match.group().upper(), start=start, end=end)
        elif kind in ("var", "other"):
            yield Token(str(kind), match.group(), start=start, end=end)


def _codepoint(match: re.Match[str]) -> str:
    return chr(int(match.group(1) or match.group(2), 16))


class _Reader:
    """Walks the tokens once, keeping the prefixes and bases declared so far, collecting the remote uses."""

    def __init__(self, text: str, base: str | None = None) -> None:
        self.tokens = list(tokens(text))
        self.prefixes: dict[str, set[str]] = {}
        self.bases: set[str] = {base} if base else set()
        self.uses: list[RemoteUse] = []

    def resolve(self, iri: str) -> set[str]:
        if urlsplit(iri).scheme or not self.bases:
            return {iri}
        return {urljoin(base, iri) for base in self.bases}

    def expand(self, prefix: str, local: str) -> set[str] | None:
        namespaces = self.prefixes.get(prefix)
        return None if namespaces is None else {ns + local for ns in namespaces}

    def at(self, index: int) -> Token | None:
        return self.tokens[index] if index < len(self.tokens) else None

    def read(self) -> list[RemoteUse]:
        for index, token in enumerate(self.tokens):
            following = self.at(index + 1)
            if token.kind == "word":
                self._word(index, token, following)
            elif token.kind == "pname":
                self._pname(index, token, following)
        return self.uses

    def _declare(self, prefix: str, following: Token | None) -> None:
        if following is not None and following.kind == "iri":
            self.prefixes.setdefault(prefix, set()).update(self.resolve(following.value))

    def _word(self, index: int, token: Token, following: Token | None) -> None:
        if token.value == "BASE" and following is not None and following.kind == "iri":
            self.bases = self.resolve(following.value)  # a later BASE replaces the earlier one
        elif token.value == "PREFIX" and following is not None and following.kind == "pname" and not following.local:
            self._declare(following.value, self.at(index + 2))
        for found in _TARGETED.finditer(token.value):
            self._targeted(found.group(), token.value[found.end():], index + 1)

    def _targeted(self, keyword: str, rest: str, index: int) -> None:
        """A keyword in a word: its target is the next token after any SILENT / NAMED words."""
        modifiers = [rest] if _MODIFIER.fullmatch(rest) else []
        target = self.at(index)
        while target is not None and target.kind == "word" and _MODIFIER.fullmatch(target.value):
            modifiers.append(target.value)
            index += 1
            target = self.at(index)
        keyword = " ".join([keyword, *modifiers])
        if target is None or target.kind not in ("iri", "pname", "var"):
            self.uses.append(RemoteUse(keyword, "", ()))
        elif target.kind == "iri":
            self.uses.append(RemoteUse(keyword, target.text, tuple(sorted(self.resolve(target.value)))))
        elif target.kind == "var":
            self.uses.append(RemoteUse(keyword, target.text, ()))
        else:
            self.uses.append(RemoteUse(keyword, target.text, tuple(sorted(self.expand(target.value, target.local)
                                                                          or ()))))

    def _pname(self, index: int, token: Token, following: Token | None) -> None:
        previous = self.at(index - 1) if index else None
        glued_prefix = token.value.upper().startswith("PREFIX") and not token.local
        if glued_prefix and not (previous is not None and previous.kind == "word" and previous.value == "PREFIX"):
            self._declare(token.value[len("PREFIX"):], following)  # PREFIXex: <iri>, read as PREFIX ex: <iri>
        for found in _TARGETED.finditer(token.value):
            # SERVICEex:s read as SERVICE ex:s; a reading whose prefix is undeclared cannot parse: skipped
            rest = token.value[found.end():]
            bare = _MODIFIER.match(rest)
            for prefix in dict.fromkeys([rest, rest[bare.end():] if bare else rest]):
                iris = self.expand(prefix, token.local)
                if iris is not None:
                    self.uses.append(RemoteUse(found.group().upper(), f"{prefix}:{token.local}", tuple(sorted(iris))))


def remote_uses(text: str, base: str | None = None) -> list[RemoteUse]:
    """Every ``SERVICE``, ``LOAD``, ``FROM [NAMED]``, ``USING [NAMED]`` and ``WITH`` of a query or update, in order
    (``base``: the base IRI in force before the text's own ``BASE``, if any)."""
    return list(_uses(text, base))


@lru_cache(maxsize=64)
def _uses(text: str, base: str | None) -> tuple[RemoteUse, ...]:
    # the endpoint's allow-list and the store both read each query: it is tokenized once
    return tuple(_Reader(text, base).read())


class DatasetConflict(ValueError):
    """An update names its own dataset (``USING`` / ``USING NAMED`` / ``WITH``) and the protocol names one too, or
    it has a form the protocol's dataset cannot be given to."""


def with_using(text: str, default: tuple[str, ...], named: tuple[str, ...]) -> str:
    """An update with the protocol's dataset (``using-graph-uri``: ``default``, ``using-named-graph-uri``:
    ``named``) written into each of its ``DELETE``/``INSERT ... WHERE`` operations as ``USING`` clauses; a ``DELETE
    WHERE { P }`` becomes ``DELETE { P } USING ... WHERE { P }``, which means the same. :class:`DatasetConflict`
    when the update has ``USING`` or ``WITH`` of its own (SPARQL 1.1 Protocol, section 2.2.3: refused).

    Examples
    --------
    >>> with_using("INSERT { ?s a ?t } WHERE { ?s a ?t }", ("http://g/1",), ())
    'INSERT { ?s a ?t } USING <http://g/1> WHERE { ?s a ?t }'
    >>> with_using("DELETE WHERE { ?s ?p 1 }", (), ("http://g/2",))
    'DELETE { ?s ?p 1 } USING NAMED <http://g/2> WHERE { ?s ?p 1 }'
    >>> with_using("WITH <http://g/3> DELETE { ?s ?p 1 } WHERE { ?s ?p 1 }", ("http://g/1",), ())
    Traceback (most recent call last):
    ...
    hyperontology.sparql_text.DatasetConflict: the update has its own WITH <http://g/3>: ...
    """
    if not default and not named:
        return text
    own = [use for use in remote_uses(text) if use.keyword.split()[0] in ("USING", "WITH")]
    if own:
        raise DatasetConflict(f"the update has its own {own[0].keyword} {own[0].written}: an update may name its "
                              "dataset in its text or with using-graph-uri / using-named-graph-uri, not both")
    clauses = "".join(f" USING <{g}>" for g in default) + "".join(f" USING NAMED <{g}>" for g in named)
    found = list(tokens(text))
    edits: list[tuple[int, int, str]] = []
    depth = 0
    for index, token in enumerate(found):
        if token.text in ("{", "}"):
            depth += 1 if token.text == "{" else -1
        elif token.kind == "word" and depth == 0 and "WHERE" in token.value:
            edits.append(_where_edit(text, found, index, clauses))
    for start, end, written in reversed(edits):
        text = text[:start] + written + text[end:]
    return text


def _where_edit(text: str, found: list[Token], index: int, clauses: str) -> tuple[int, int, str]:
    """What a top-level ``WHERE`` of an update becomes (start, end, new text) with the ``USING`` clauses."""
    where, previous = found[index], found[index - 1] if index else None
    if where.value != "WHERE" or previous is None:
        raise DatasetConflict(f"the protocol's dataset cannot be given to this update (it reads {where.text!r} "
                              "where a WHERE clause is): write its dataset as USING clauses")
    if previous.text == "}":
        return where.start, where.end, clauses.lstrip() + " " + where.text
    if previous.value == "DELETE" and index + 1 < len(found) and found[index + 1].text == "{":
        depth, close = 0, None
        for after in found[index + 1:]:
            depth += {"{": 1, "}": -1}.get(after.text, 0)
            if depth == 0:
                close = after
                break
        if close is not None:
            pattern = text[found[index + 1].start:close.end]
            return where.start, where.end, f"{pattern}{clauses} {where.text}"
    raise DatasetConflict("the protocol's dataset cannot be given to this update (a WHERE that is not one of "
                          "DELETE/INSERT ... WHERE or DELETE WHERE): write its dataset as USING clauses")


def has_dataset_clause(text: str) -> bool:
    """True when a query names its own dataset (``FROM`` or ``FROM NAMED``, glued forms included).

    >>> has_dataset_clause('SELECT * FROM <http://g> WHERE { ?s ?p ?o }')
    True
    >>> has_dataset_clause('SELECT * WHERE { ?s ?p "from <x>" } # FROM <y>')
    False
    >>> has_dataset_clause('PREFIX a: <http://a#> SELECT * FROM a:g WHERE { ?s ?p ?o }')
    True
    >>> has_dataset_clause('PREFIX a: <http://a#> ASKFROMa:g { ?s ?p ?o }')
    True
    """
    return any(use.keyword.startswith("FROM") for use in remote_uses(text))


__all__ = ["PN_CHARS", "PN_CHARS_BASE", "PN_CHARS_U", "STORE_PN_LOCAL", "DatasetConflict", "RemoteUse", "Token",
           "has_dataset_clause", "remote_uses", "tokens", "with_using"]
