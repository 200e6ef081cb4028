"""What a SPARQL text asks the store to fetch from elsewhere, and the allow-list that decides whether it may.

``SERVICE`` (a query sent to another endpoint), ``LOAD`` (a document fetched and added to the store) and the
dataset clauses ``FROM``/``FROM NAMED`` (queries) and ``USING``/``USING NAMED`` (updates) name IRIs. The endpoint
refuses every one of them unless its target is on :attr:`~hyperontology.server.settings.ServerSettings.allow_remote`
(URL prefixes, see :class:`AllowList`); a dataset clause naming one of the node's own graphs
(:data:`OWN_GRAPHS`) is always allowed, and ``SERVICE ?variable`` never is.

The store answers ``FROM <g>`` from a graph it holds; it does not dereference remote IRIs. An allow-listed
``FROM`` IRI therefore names a graph loaded into the store, e.g. by an allowed ``LOAD <url> INTO GRAPH <g>``.

The text is read by :func:`hyperontology.sparql_text.remote_uses` (a tokenizer, not a full parser; keywords
glued the way the store's parser accepts them are found too). When a prefix or ``BASE`` is declared more than
once, every value it was given must be allowed. Anything unclear is refused: a keyword without a target, a
prefix that is not declared. A prefix whose name contains a keyword followed by a declared prefix
(``download:x`` with ``:`` declared) is read as that keyword too; rename such a prefix.

Examples
--------
>>> AllowList(["http://a.org/sparql"]).allows("http://a.org/sparql/x"), AllowList(["http://a.org"]).allows(
...     "http://a.org.evil.com/x")
(True, False)
>>> refusal('PREFIX e: <http://b.org/> SELECT * FROM e:g {}', AllowList(["http://a.org"]))
"FROM e:g (<http://b.org/g>) is not on this endpoint's allow-list"
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import urlsplit

from hyperontology.sparql_text import RemoteUse, Token, remote_uses, tokens
from hyperontology.store.base import GRAPHS

#: IRIs of the node's own graphs: a dataset clause naming one of them is always allowed.
OWN_GRAPHS = frozenset(graph.value for graph in GRAPHS.values())
DEFAULT_PORTS = {"http": 80, "https": 443}


def _url(url: str) -> tuple[str, str, int, str] | None:
    """Scheme, host, port (made explicit) and path of an http(s) URL; None for anything else or with userinfo."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS or not parts.hostname or "@" in parts.netloc or "\\" in url:
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
    ``http://h/sparql/x``, not ``http://h/sparqlfoo``); targets with user information, a backslash or a ``.``
    / ``..`` segment are never allowed.
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


def _reason(use: RemoteUse, allowed: AllowList) -> str | None:
    """Why one use is refused, or None when it is allowed."""
    if not use.written:
        return f"{use.keyword} without a target this endpoint can read is refused"
    if use.written.startswith(("?", "$")):
        return f"{use.keyword} {use.written} is refused: a variable endpoint is never allowed"
    if not use.iris:
        return f"{use.keyword} {use.written} is refused: its prefix is not declared"
    dataset = use.keyword.startswith(("FROM", "USING"))
    refused = [iri for iri in use.iris if not (allowed.allows(iri) or (dataset and iri in OWN_GRAPHS))]
    if not refused:
        return None
    shown = use.written if use.written == f"<{refused[0]}>" else f"{use.written} (<{refused[0]}>)"
    return f"{use.keyword} {shown} is not on this endpoint's allow-list"


def refusal(text: str, allowed: AllowList) -> str | None:
    """Why a query or update is refused (the first SERVICE/LOAD/FROM/USING not allowed), or None."""
    for use in remote_uses(text):
        reason = _reason(use, allowed)
        if reason:
            return reason
    return None


__all__ = ["OWN_GRAPHS", "AllowList", "RemoteUse", "Token", "check_entry", "refusal", "remote_uses", "tokens"]
