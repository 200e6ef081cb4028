"""Reading a SPARQL query or update with a parser: what it names with SERVICE, LOAD, FROM, USING and WITH.

The text is parsed with rdflib's SPARQL 1.1 grammar (:mod:`rdflib.plugins.sparql.parser`, which follows the
grammar's alphabet: ``PN_CHARS``, ``PN_LOCAL`` escapes, ``PLX``) and the parse tree is walked: every
``ServiceGraphPattern`` (its IRI or variable), ``LOAD`` (its source), ``FROM``/``FROM NAMED``, ``USING``/``USING
NAMED`` and ``WITH`` becomes a :class:`~hyperontology.sparql_text.RemoteUse`, its IRI resolved with the
``PREFIX`` and ``BASE`` declarations in force there (RFC 3986 resolution, as the store does).

Where rdflib would read a text differently from the store (pyoxigraph) or from the SPARQL 1.1 specification,
the text is read the way they do, or the difference is reported as a problem (:attr:`Reading.problems`, on which
the endpoint refuses the text):

- a comment ends at a carriage return too (rdflib reads it to the line feed): ``\\r`` is read as ``\\n``;
- ``\\uXXXX`` escapes: the specification decodes them everywhere before parsing (rdflib does), pyoxigraph only
  in strings and IRIs. A text with such an escape is read both ways (two readings);
- a prefix that is not declared, a relative IRI without ``BASE`` and an invalid IRI fail in the store's parser,
  which then tries other readings of the text: each is a problem;
- a local name with dots in two places (``ex:a.b.c``): the store's parser ends it at the second dot.

Examples
--------
>>> [(u.keyword, u.written, u.iris) for r in read('PREFIX e: <http://a.org/> SELECT * { SERVICE e:s {} }')
...  for u in r.uses]
[('SERVICE', 'e:s', ('http://a.org/s',))]
>>> read('SELECT * { ?s ?p "SERVICE <http://x/>" } # LOAD <http://y/>')[0].uses
()
>>> read("SELECT * { <rel> ?p ?o }")[0].problems
('<rel> is a relative IRI and the text declares no BASE',)
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from pyparsing import ParseBaseException, ParserElement, ParseResults
from rdflib.plugins.sparql import parser as grammar
from rdflib.plugins.sparql.parserutils import CompValue
from rdflib.term import URIRef, Variable

from hyperontology.sparql_text import STORE_PN_LOCAL, RemoteUse

#: the keywords whose targets the endpoint checks; a text without any of them (in any letter case, even in a
#: string or a name, even written with ``\\u`` escapes) names nothing remote
KEYWORDS = ("SERVICE", "LOAD", "FROM", "USING", "WITH")
_ESCAPE = re.compile(r"\\u([0-9A-Fa-f]{4})|\\U([0-9A-Fa-f]{8})")
_HELD_ESCAPE = re.compile(r"\\\\|\\u([0-9A-Fa-f]{4})|\\U([0-9A-Fa-f]{8})")
_SPARE = range(0xF0000, 0xFFFFE)  # private use, plane 15: not a name character in SPARQL, fine in strings and IRIs
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+\-.]*:")
_PARTS = re.compile(r"(?:([A-Za-z][A-Za-z0-9+\-.]*):)?(?://([^/?#]*))?([^?#]*)(?:\?([^#]*))?(?:#(.*))?", re.DOTALL)

# RFC 3987 IRI (a little more lenient than the RFC on characters outside the BMP and inside IP literals)
_UCS = "\u00a0-\ud7ff\uf900-\ufdcf\ufdf0-\uffef\U00010000-\U000efffd"
_PRIVATE = "\ue000-\uf8ff\U000f0000-\U000ffffd\U00100000-\U0010fffd"
_UNRESERVED = rf"A-Za-z0-9\-._~{_UCS}"
_SUB_DELIMS = "!$&'()*+,;="
_PCT = "%[0-9A-Fa-f]{2}"
_PCHAR = rf"(?:[{_UNRESERVED}{_SUB_DELIMS}:@]|{_PCT})"
_HOST = rf"(?:\[[0-9A-Za-z:.\-_~{_SUB_DELIMS}]*\]|(?:[{_UNRESERVED}{_SUB_DELIMS}]|{_PCT})*)"
_AUTHORITY = rf"(?:(?:[{_UNRESERVED}{_SUB_DELIMS}:]|{_PCT})*@)?{_HOST}(?::[0-9]*)?"
_IRI = re.compile(rf"[A-Za-z][A-Za-z0-9+\-.]*:(?://{_AUTHORITY}(?:/{_PCHAR}*)*|(?:/?{_PCHAR}+(?:/{_PCHAR}*)*|/)?)"
                  rf"(?:\?(?:{_PCHAR}|[/?{_PRIVATE}])*)?(?:#(?:{_PCHAR}|[/?])*)?")


_UNITS: tuple[tuple[Literal["query", "update"], ParserElement], ...] = (("query", grammar.Query),
                                                                       ("update", grammar.UpdateUnit))


class UnreadableError(ValueError):
    """The text does not parse as a SPARQL 1.1 query or update (the message says where and why)."""


@dataclass(frozen=True)
class Reading:
    """One reading of a text: a query or an update, what it names remotely, and what the store may read otherwise."""

    kind: Literal["query", "update"]
    uses: tuple[RemoteUse, ...]
    problems: tuple[str, ...]


def names_a_keyword(text: str) -> bool:
    """Whether the text holds one of :data:`KEYWORDS` anywhere (any letter case, ``\\u`` escapes decoded).

    Without one, no SPARQL parser can read a ``SERVICE``, ``LOAD`` or dataset clause in the text.

    >>> names_a_keyword("SELECT ?s { ?s ?p ?o }"), names_a_keyword('SELECT * { ?s ?p "from" }')
    (False, True)
    >>> names_a_keyword("SELECT * { \\\\u0053ERVICE <http://x/> {} }")
    True
    """
    once = _decode_all(text)  # SPARQL 1.1 decodes escapes once; twice here, for the escape of a backslash
    return any(keyword in variant.upper() for variant in (text, once, _decode_all(once)) for keyword in KEYWORDS)


@lru_cache(maxsize=64)
def read(text: str, base: str | None = None) -> tuple[Reading, ...]:
    """The readings of a query or update: one, or two when it has ``\\u`` escapes (UnreadableError if one fails).
    ``base``: the base IRI in force before the text's own ``BASE`` (the endpoint's, say)."""
    held, placeholders = _hold_escapes(text)
    readings = [_read(held, placeholders.get, base)]
    decoded = _decode_all(text)
    if decoded != text:
        try:
            readings.append(_read(decoded, None, base))
        except UnreadableError as exc:
            raise UnreadableError(f"with its \\u escapes decoded first (SPARQL 1.1, section 19.2), {exc}") from exc
    return tuple(readings)


def _decode_all(text: str) -> str:
    """The text with every ``\\uXXXX``/``\\UXXXXXXXX`` escape decoded (an invalid code point is left as written)."""
    return _ESCAPE.sub(lambda m: _char(m) or m.group(), text)


def _char(match: re.Match[str]) -> str | None:
    code = int(match.group(1) or match.group(2), 16)
    return None if 0xD800 <= code <= 0xDFFF or code > 0x10FFFF else chr(code)


def _hold_escapes(text: str) -> tuple[str, dict[str, str]]:
    """The text as pyoxigraph reads it: each ``\\u`` escape (outside a ``\\\\``) held by a private-use character
    that rdflib reads as content in a string or an IRI, and an error anywhere else; and what each one stands for."""
    used = set(text)
    spare = (c for c in map(chr, _SPARE) if c not in used)
    held: dict[str, str] = {}  # the character an escape stands for -> its placeholder

    def hold(match: re.Match[str]) -> str:
        char = _char(match) if match.group() != "\\\\" else None
        if char is None:
            return match.group()
        if char not in held:
            held[char] = next(spare, "")
            if not held[char]:
                raise UnreadableError("the text has too many different \\u escapes")
        return held[char]

    return _HELD_ESCAPE.sub(hold, text), {placeholder: char for char, placeholder in held.items()}


def _read(text: str, placeholder: Callable[[str], str | None] | None, base: str | None) -> Reading:
    kind, tree = _parse(text.replace("\r", "\n"))
    walker = _Walker(placeholder, base)
    try:
        _walk(walker, kind, tree)
    except RecursionError:
        raise UnreadableError("it is nested too deeply for this endpoint's parser") from None
    return Reading(kind, tuple(walker.uses), tuple(dict.fromkeys(walker.problems)))


def _walk(walker: _Walker, kind: Literal["query", "update"], tree: ParseResults) -> None:
    if kind == "query":
        walker.prologue(tree[0])
        walker.visit(tree[1])
    else:
        update = tree[0]
        requests = list(update["request"]) if "request" in update else []
        for index, prologue in enumerate(update["prologue"]):
            walker.prologue(prologue)
            walker.visit(requests[index] if index < len(requests) else None)


def _parse(text: str) -> tuple[Literal["query", "update"], ParseResults]:
    """rdflib's parse tree of the text as a query, else as an update (without rdflib's own escape decoding)."""
    failures: list[ParseBaseException] = []
    for kind, unit in _UNITS:
        try:
            return kind, unit.parse_string(text, parse_all=True)
        except ParseBaseException as exc:
            failures.append(exc)
        except RecursionError:
            raise UnreadableError("it is nested too deeply for this endpoint's parser (a group of more than "
                                  "about 80 triple patterns joined by '.' counts too: split it with { })") from None
        except Exception as exc:  # a parse action of rdflib failed: the text cannot be read either
            raise UnreadableError(f"it does not parse as SPARQL 1.1 ({exc})") from exc
    furthest = max(failures, key=lambda exc: exc.loc)
    raise UnreadableError(f"it does not parse as SPARQL 1.1 (line {furthest.lineno}, column {furthest.col}: "
                          f"{furthest.msg})")


class _Walker:
    """Walks a parse tree in document order, with the prefixes and base in force, collecting uses and problems."""

    def __init__(self, placeholder: Callable[[str], str | None] | None, base: str | None = None) -> None:
        self._placeholder = placeholder
        self.base = base
        self.prefixes: dict[str, str] = {}
        self.uses: list[RemoteUse] = []
        self.problems: list[str] = []

    def prologue(self, declarations: Iterable[CompValue]) -> None:
        for declaration in declarations:
            written, iris, problem = self.iri_ref(declaration["iri"])
            if not problem and len(iris) > 1:
                problem = f"{written} has dot segments (. or ..), which stores resolve differently"
            if problem:
                self.problems.append(problem)
            elif declaration.name == "Base":
                self.base = iris[0]
            else:
                self.prefixes[str(declaration["prefix"]) if "prefix" in declaration else ""] = iris[0]

    def visit(self, node: object) -> None:
        if isinstance(node, CompValue):
            self._use(node)
            if node.name == "pname":
                self._problem(self.pname(node)[2])
                return
            children: Iterable[object] = node.values()
        elif isinstance(node, URIRef):
            self._problem(self.iri_ref(node)[2])
            return
        elif isinstance(node, ParseResults | list | tuple):
            children = node
        else:
            return
        for child in children:
            self.visit(child)

    def _problem(self, problem: str | None) -> None:
        if problem:
            self.problems.append(problem)

    def _use(self, node: CompValue) -> None:
        silent = " SILENT" if "silent" in node else ""
        if node.name == "ServiceGraphPattern":
            self._add("SERVICE" + silent, node["term"])
        elif node.name == "Load":
            self._add("LOAD" + silent, node["iri"])
        elif node.name in ("DatasetClause", "UsingClause"):
            keyword = "FROM" if node.name == "DatasetClause" else "USING"
            named = "named" in node
            self._add(keyword + " NAMED" * named, node["named" if named else "default"])
        elif node.name == "Modify" and "withClause" in node:
            self._add("WITH", node["withClause"])

    def _add(self, keyword: str, target: object) -> None:
        if isinstance(target, Variable):
            self.uses.append(RemoteUse(keyword, f"?{target}", ()))
            return
        written, iris, _ = self.pname(target) if isinstance(target, CompValue) else self.iri_ref(str(target))
        self.uses.append(RemoteUse(keyword, written, iris))

    def pname(self, node: CompValue) -> tuple[str, tuple[str, ...], str | None]:
        """A prefixed name as written, its IRI (none when it has none) and the problem with it."""
        prefix = str(node["prefix"]) if "prefix" in node else ""
        local = str(node["localname"]) if "localname" in node else ""
        written = f"{prefix}:{local}"
        if prefix not in self.prefixes:
            return written, (), f"the prefix {prefix}: is not declared"
        iri = self.prefixes[prefix] + local.replace("\\", "")
        if local and not STORE_PN_LOCAL.fullmatch(local):
            return written, (iri,), (f"the store reads {written} differently: it ends a local name at its second "
                                     "dot (write the dots as \\.) and takes no escape but \\_~.-!$&'()*+,;=/?#@%")
        return written, (iri,), None if is_iri(iri) else f"{written} is <{iri}>, which is not a valid IRI"

    def iri_ref(self, value: str) -> tuple[str, tuple[str, ...], str | None]:
        """An IRI reference as written (escapes decoded), what it may resolve to, and the problem with it."""
        iri = value if self._placeholder is None else "".join(self._placeholder(c) or c for c in value)
        written = f"<{iri}>"
        if self.base is not None:
            iris = resolutions(self.base, iri)
        elif _SCHEME.match(iri):
            iris = (iri,)
        else:
            return written, (), f"{written} is a relative IRI and the text declares no BASE"
        return written, iris, None if all(map(is_iri, iris)) else f"{written} is not a valid IRI"


def is_iri(text: str) -> bool:
    """Whether the text is an absolute IRI (RFC 3987).

    >>> is_iri("http://a.org/x?y#z"), is_iri("http://a.org/x#y#z"), is_iri("http://a b/"), is_iri("x/y")
    (True, False, False, False)
    """
    return _IRI.fullmatch(text) is not None


def resolutions(base: str, reference: str) -> tuple[str, ...]:
    """What a store may resolve the reference to: :func:`resolve`, and the same without removing dot segments.

    Stores differ on dot segments (pyoxigraph 0.5 removes those of the reference only, not those of the base or
    of an absolute reference). When the second IRI has no dot segment, every way gives the same IRI, which is
    then the only one; else the second has dot segments, which the allow-list refuses.

    >>> resolutions("http://a/b/", "c"), resolutions("http://a/./b/", "../c")
    (('http://a/b/c',), ('http://a/c', 'http://a/./b/../c'))
    """
    return tuple(dict.fromkeys([resolve(base, reference), resolve(base, reference, remove_dots=False)]))


def resolve(base: str, reference: str, *, remove_dots: bool = True) -> str:
    """The reference resolved against the base (RFC 3986, section 5.2; ``remove_dots=False``: without step 5.2.4).

    >>> resolve("http://a/b/c/d;p?q", "../g"), resolve("http://a/b/c/d;p?q", "//g/./h"), resolve("http://a/b", "?y")
    ('http://a/b/g', 'http://g/h', 'http://a/b?y')
    """
    dots = _remove_dot_segments if remove_dots else str
    scheme, authority, path, query, fragment = _parts(reference)
    b_scheme, b_authority, b_path, b_query, _ = _parts(base)
    if scheme is not None:
        return _compose(scheme, authority, dots(path), query, fragment)
    if authority is not None:
        return _compose(b_scheme, authority, dots(path), query, fragment)
    if not path:
        return _compose(b_scheme, b_authority, b_path, b_query if query is None else query, fragment)
    if not path.startswith("/"):
        path = ("/" if b_authority is not None and not b_path else b_path[:b_path.rfind("/") + 1]) + path
    return _compose(b_scheme, b_authority, dots(path), query, fragment)


def _parts(reference: str) -> tuple[str | None, str | None, str, str | None, str | None]:
    """Scheme, authority, path, query and fragment (RFC 3986, appendix B; None for a part that is absent)."""
    match = _PARTS.fullmatch(reference)
    assert match is not None  # every string matches
    scheme, authority, path, query, fragment = match.groups()
    return scheme, authority, path, query, fragment


def _compose(scheme: str | None, authority: str | None, path: str, query: str | None, fragment: str | None) -> str:
    return "".join([f"{scheme}:" if scheme is not None else "", f"//{authority}" if authority is not None else "",
                    path, f"?{query}" if query is not None else "", f"#{fragment}" if fragment is not None else ""])


def _remove_dot_segments(path: str) -> str:
    """RFC 3986, section 5.2.4, walking the path once."""
    output: list[str] = []
    at, end = 0, len(path)
    while at < end:
        if path.startswith(("../", "./"), at):
            at = path.index("/", at) + 1
        elif path.startswith("/./", at):
            at += 2
        elif path.startswith("/../", at):
            at += 3
            if output:
                output.pop()
        elif end - at <= 3 and path[at:] in ("/.", "/.."):
            if path[at:] == "/.." and output:
                output.pop()
            output.append("/")
            at = end
        elif end - at <= 2 and path[at:] in (".", ".."):
            at = end
        else:
            following = path.find("/", at + 1)
            following = end if following < 0 else following
            output.append(path[at:following])
            at = following
    return "".join(output)


__all__ = ["KEYWORDS", "Reading", "UnreadableError", "is_iri", "names_a_keyword", "read", "resolutions",
           "resolve"]
