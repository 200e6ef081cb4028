"""What a SPARQL text asks the store to fetch from elsewhere, and the allow-list that decides whether it may.

``SERVICE`` (a query sent to another endpoint), ``LOAD`` (a document fetched and added to the store), the dataset
clauses ``FROM``/``FROM NAMED`` (queries), ``USING``/``USING NAMED`` and ``WITH`` (updates), and the protocol's
dataset parameters (``default-graph-uri``, ``named-graph-uri``, ``using-graph-uri``, ``using-named-graph-uri``)
name IRIs. The endpoint refuses every one of them unless its target is on
:attr:`~hyperontology.server.settings.ServerSettings.allow_remote` (URL prefixes, see :class:`AllowList`); a
dataset clause naming one of the node's own graphs (:data:`OWN_GRAPHS`) is always allowed, and ``SERVICE
?variable`` never is.

The store answers ``FROM <g>`` from a graph it holds; it does not dereference remote IRIs. An allow-listed
``FROM`` IRI therefore names a graph loaded into the store, e.g. by an allowed ``LOAD <url> INTO GRAPH <g>``.

The decision is made on the parse tree (:func:`refusal`):

1. a text that holds none of the words ``SERVICE``, ``LOAD``, ``FROM``, ``USING``, ``WITH`` anywhere (in any
   letter case, in a string or a name too, ``\\u`` escapes decoded) cannot name a target: it is not parsed;
2. else it is parsed (:func:`hyperontology.sparql_parse.read`): each target in the parse tree, resolved with the
   ``PREFIX`` and ``BASE`` declarations in force, must be allowed (403 otherwise). A text that does not parse, or
   that the store could read another way (an undeclared prefix, a relative IRI without ``BASE``, a local name with
   dots in two places, an invalid IRI), is refused with 400;
3. the text is also read by the tokenizer of :mod:`hyperontology.sparql_text`, which lexes it as the store's
   parser does (keywords glued to what follows, every value of a prefix declared twice): its targets must be
   allowed too, and both readings must find the same keywords, or the text is refused (400). A prefix whose name
   contains a keyword followed by a declared prefix (``download:x`` with ``:`` declared) is read as that keyword
   by the tokenizer: rename such a prefix.

Examples
--------
>>> AllowList(["http://a.org/sparql"]).allows("http://a.org/sparql/x"), AllowList(["http://a.org"]).allows(
...     "http://a.org.evil.com/x")
(True, False)
>>> refusal('PREFIX e: <http://b.org/> SELECT * FROM e:g {}', AllowList(["http://a.org"]))
"FROM e:g (<http://b.org/g>) is not on this endpoint's allow-list"
>>> refusal('SELECT * { ?s ?p ?o } # hello', AllowList([])) is None
True
>>> reason = refusal('SELECT * { SERVICE <http://a.org/s> {} ', AllowList(["http://a.org"]))  # no closing }
>>> reason.status, "it does not parse as SPARQL 1.1 (line 1, column 40" in reason
(400, True)
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from urllib.parse import urlsplit

from hyperontology.sparql_parse import Reading, UnreadableError, names_a_keyword, read
from hyperontology.sparql_text import RemoteUse, Token, remote_uses, tokens
from hyperontology.store.base import GRAPHS

#: IRIs of the node's own graphs: a dataset clause naming one of them is always allowed.
OWN_GRAPHS = frozenset(graph.value for graph in GRAPHS.values())
DEFAULT_PORTS = {"http": 80, "https": 443}
#: the SPARQL 1.1 Protocol's dataset parameters (query: the first two; update: the last two)
DATASET_PARAMETERS = ("default-graph-uri", "named-graph-uri", "using-graph-uri", "using-named-graph-uri")
_NOT_IN_IRIS = re.compile(r'[\x00-\x20<>"{}|^`\\]')
_UNCHECKED = "this endpoint cannot check the text for SERVICE, LOAD, FROM, USING and WITH"


class Refusal(str):
    """Why a request is refused (the text of the answer), and the HTTP status to answer it with: 403 for a target
    that is not allowed, 400 for a text this endpoint cannot check.

    >>> reason = Refusal("SERVICE ?x is refused", 403)
    >>> reason, reason.status
    ('SERVICE ?x is refused', 403)
    """

    status: int

    def __new__(cls, message: str, status: int = 403) -> Refusal:
        made = super().__new__(cls, message)
        made.status = status
        return made


def _url(url: str) -> tuple[str, str, int, str] | None:
    """Scheme, host, port (made explicit) and path of an http(s) URL; None for anything else or with userinfo."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS or not parts.hostname or "@" in parts.netloc or _NOT_IN_IRIS.search(url):
        return None
    try:
        port = parts.port or DEFAULT_PORTS[scheme]
    except ValueError:
        return None
    return scheme, parts.hostname.lower(), port, parts.path or "/"


def check_entry(entry: str) -> str:
    """An allow-list entry, checked: an absolute http(s) URL without user, query or fragment (ValueError else).

    Examples
    --------
    >>> check_entry("https://data.example.org/sparql")
    'https://data.example.org/sparql'
    """
    parts = urlsplit(entry)
    if _url(entry) is None or parts.query or parts.fragment or entry != entry.strip():
        raise ValueError(f"allow_remote entry {entry!r} must be an absolute http:// or https:// URL "
                         "without user, query or fragment")
    return entry


class AllowList:
    """URL prefixes a target must fall under: same scheme, host and port, and a path under the entry's path.

    The path matches on a segment boundary (``http://h/sparql`` allows ``http://h/sparql`` and
    ``http://h/sparql/x``, not ``http://h/sparqlfoo``); targets with user information, a ``.`` / ``..`` segment
    or a character no IRI has (a space, a control character, a backslash, ``<>"{}|^```) are never allowed.
    """

    def __init__(self, entries: Iterable[str]) -> None:
        self.entries = tuple(check_entry(entry) for entry in entries)
        self._parsed = [parsed for parsed in map(_url, self.entries) if parsed is not None]

    def allows(self, target: str) -> bool:
        parsed = _url(target)
        if parsed is None or any(seg in (".", "..") for seg in re.sub("%2e", ".", parsed[3], flags=re.I).split("/")):
            return False
        scheme, host, port, path = parsed
        for e_scheme, e_host, e_port, e_path in self._parsed:
            base = e_path.rstrip("/")
            if (scheme, host, port) == (e_scheme, e_host, e_port) and (path == base or path.startswith(base + "/")):
                return True
        return False


def _reason(use: RemoteUse, allowed: AllowList) -> Refusal | None:
    """Why one use is refused, or None when it is allowed."""
    if not use.written:
        return Refusal(f"{use.keyword} without a target this endpoint can read is refused")
    if use.written.startswith(("?", "$")):
        return Refusal(f"{use.keyword} {use.written} is refused: a variable endpoint is never allowed")
    if not use.iris:
        why = "it is relative and the text declares no BASE" if use.written.startswith("<") else \
            "its prefix is not declared"
        return Refusal(f"{use.keyword} {use.written} is refused: {why}")
    dataset = use.keyword.startswith(("FROM", "USING", "WITH"))
    refused = [iri for iri in use.iris if not (allowed.allows(iri) or (dataset and iri in OWN_GRAPHS))]
    if not refused:
        return None
    shown = use.written if use.written == f"<{refused[0]}>" else f"{use.written} (<{refused[0]}>)"
    return Refusal(f"{use.keyword} {shown} is not on this endpoint's allow-list")


def _first(uses: Iterable[RemoteUse], allowed: AllowList) -> Refusal | None:
    return next((reason for reason in (_reason(use, allowed) for use in uses) if reason), None)


def _disagreement(reading: Reading, tokenized: Sequence[RemoteUse]) -> Refusal | None:
    """400 when the parse tree and the tokenizer do not find the same SERVICE/LOAD/FROM/USING/WITH."""
    parsed, lexed = sorted(use.keyword for use in reading.uses), sorted(use.keyword for use in tokenized)
    if parsed == lexed:
        return None
    return Refusal(f"{_UNCHECKED}: it reads two ways (parsed: {', '.join(parsed) or 'none'}; as the store lexes "
                   f"it: {', '.join(lexed) or 'none'})", 400)


def refusal(text: str, allowed: AllowList, *, parameters: Iterable[tuple[str, str]] = (),
            base: str | None = None) -> Refusal | None:
    """Why a query or update is refused (a :class:`Refusal`: its first target not allowed, 403; or why it cannot
    be checked, 400), or None when it may run. ``parameters``: the request's protocol parameters, whose dataset
    parameters are checked too (:func:`protocol_refusal`); ``base``: the base IRI the store resolves relative IRIs
    against when the text declares no ``BASE`` (the endpoint's)."""
    found = protocol_refusal(parameters, allowed)
    if found or not names_a_keyword(text):
        return found
    tokenized = remote_uses(text, base)
    try:
        readings = read(text, base)
    except UnreadableError as exc:
        return _first(tokenized, allowed) or Refusal(f"{_UNCHECKED}: {exc}", 400)
    for reading in readings:
        found = _first(reading.uses, allowed) or _first(tokenized, allowed)
        if not found and reading.problems:
            found = Refusal(f"{_UNCHECKED}: {reading.problems[0]}", 400)
        found = found or _disagreement(reading, tokenized)
        if found:
            return found
    return None


def protocol_refusal(parameters: Iterable[tuple[str, str]], allowed: AllowList) -> Refusal | None:
    """Why the protocol's dataset parameters of a request are refused (403), or None: each must name one of the
    node's own graphs or an allowed target, like a dataset clause.

    >>> protocol_refusal([("query", "ASK {}"), ("default-graph-uri", "http://b.org/g")], AllowList([]))
    "default-graph-uri <http://b.org/g> is not on this endpoint's allow-list"
    """
    for name, value in parameters:
        if name in DATASET_PARAMETERS and value not in OWN_GRAPHS and not allowed.allows(value):
            return Refusal(f"{name} <{value}> is not on this endpoint's allow-list")
    return None


__all__ = ["DATASET_PARAMETERS", "OWN_GRAPHS", "AllowList", "Refusal", "RemoteUse", "Token", "check_entry",
           "protocol_refusal", "refusal", "remote_uses", "tokens"]
