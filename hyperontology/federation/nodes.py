"""The member nodes of a federation, read from a YAML file (``hyperontology serve --federation NODES.yaml``,
``hyperontology federate cohort --nodes NODES.yaml``)::

    timeout_s: 10                        # default per-node timeout in seconds (optional)
    nodes:
      - name: hospital-a
        url: http://127.0.0.1:8001       # base URL of the node (http or https)
        api_key_env: NODE_A_KEY          # sent as "Authorization: ApiKey <value of $NODE_A_KEY>"
        timeout_s: 5                     # optional
        path: /api/eucaim/ast            # optional (the default): any Focus omop-contract provider works
      - name: hospital-b
        url: https://node-b.example.org
        secret_env: NODE_B_SECRET        # sent as "Authorization: Secret <value>"

A node takes at most one credential: ``api_key_env`` / ``api_key`` (``ApiKey <v>``), ``secret_env`` / ``secret``
(``Secret <v>``), ``bearer_env`` / ``bearer`` (``Bearer <v>``); the ``*_env`` forms read an environment variable
when the file is loaded, and keep the key out of the file. Credentials live in :attr:`Node.headers` only: never in
a ``repr``, a log line or an error message (errors name the file, the entry and the variable, never a value).

Examples
--------
>>> node = Node("hospital-a", "http://127.0.0.1:8001", headers={"Authorization": "ApiKey s3cret-value"})
>>> node.sparql_url, node.endpoint
('http://127.0.0.1:8001/sparql', 'http://127.0.0.1:8001/api/eucaim/ast')
>>> "s3cret" in repr(node)
False
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from hyperontology.errors import HyperontologyError

DEFAULT_PATH = "/api/eucaim/ast"
DEFAULT_TIMEOUT_S = 10.0
#: credential keys of an entry -> (the Authorization scheme, whether the value names an environment variable)
CREDENTIALS = {"api_key_env": ("ApiKey", True), "api_key": ("ApiKey", False), "secret_env": ("Secret", True),
               "secret": ("Secret", False), "bearer_env": ("Bearer", True), "bearer": ("Bearer", False)}
ENTRY_KEYS = frozenset({"name", "url", "timeout_s", "path", *CREDENTIALS})
TOP_KEYS = frozenset({"nodes", "timeout_s"})
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
_PATH = re.compile(r"^/[A-Za-z0-9._~/%-]*$")
_TOKEN = re.compile(r"^[\x21-\x7e]+$")


class NodesConfigError(HyperontologyError, ValueError):
    """The nodes file is invalid; the message names the file and the entry (never a credential)."""


@dataclass(frozen=True)
class Node:
    """One member: its name, base URL, request headers (credentials: left out of ``repr``), timeout and path."""

    name: str
    url: str
    headers: Mapping[str, str] = field(default_factory=dict, repr=False, compare=False)
    timeout_s: float = DEFAULT_TIMEOUT_S
    path: str = DEFAULT_PATH

    @property
    def sparql_url(self) -> str:
        """The node's SPARQL endpoint (what ``SERVICE`` may name on a federator)."""
        return self.url.rstrip("/") + "/sparql"

    @property
    def endpoint(self) -> str:
        """Where the federator posts the explorer's query tree."""
        return self.url.rstrip("/") + self.path

    def secrets(self) -> tuple[str, ...]:
        """The credential values of the headers (to scrub from anything shown)."""
        found = []
        for value in self.headers.values():
            found.append(value)
            found.append(value.partition(" ")[2])
        return tuple(v for v in found if len(v) >= 4)


@dataclass(frozen=True)
class Federation:
    """The member nodes, and the default per-node timeout."""

    nodes: tuple[Node, ...]
    timeout_s: float = DEFAULT_TIMEOUT_S

    def with_timeout(self, timeout_s: float) -> Federation:
        """The same nodes, each with ``timeout_s``.

        Examples
        --------
        >>> Federation((Node("a", "http://a.test", timeout_s=3),)).with_timeout(1.5).nodes[0].timeout_s
        1.5
        """
        return Federation(tuple(replace(node, timeout_s=timeout_s) for node in self.nodes), timeout_s)


def load_nodes(path: Path | str, *, environ: Mapping[str, str] | None = None) -> Federation:
    """Read and check a nodes file; ``environ`` (default ``os.environ``) supplies the ``*_env`` credentials.

    Raises :class:`NodesConfigError` (a ValueError) naming the file and the entry.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     file = Path(tmp) / "nodes.yaml"
    ...     _ = file.write_text("nodes:\\n  - {name: a, url: 'http://127.0.0.1:8001', api_key_env: A_KEY}\\n")
    ...     federation = load_nodes(file, environ={"A_KEY": "k" * 32})
    ...     try:
    ...         load_nodes(file, environ={})
    ...     except ValueError as exc:
    ...         print(str(exc).replace(str(file), "nodes.yaml"))
    nodes.yaml: nodes[0] ('a'): environment variable A_KEY is not set (or empty)
    >>> federation.nodes[0].name, federation.nodes[0].headers["Authorization"][:7]
    ('a', 'ApiKey ')
    """
    path = Path(path)
    env = os.environ if environ is None else environ
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise NodesConfigError(f"{path}: cannot read the nodes file ({exc.strerror or type(exc).__name__})") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise NodesConfigError(f"{path}: not valid YAML{where}") from None
    if not isinstance(data, Mapping):
        raise NodesConfigError(f"{path}: must be a mapping with a 'nodes' list")
    unknown = set(data) - TOP_KEYS
    if unknown:
        raise NodesConfigError(f"{path}: unknown keys {sorted(map(str, unknown))}; known: {sorted(TOP_KEYS)}")
    default = _timeout(data.get("timeout_s", DEFAULT_TIMEOUT_S), f"{path}: timeout_s")
    entries = data.get("nodes")
    if not isinstance(entries, list) or not entries:
        raise NodesConfigError(f"{path}: 'nodes' must be a non-empty list")
    nodes: list[Node] = []
    for index, entry in enumerate(entries):
        node = _node(entry, f"{path}: nodes[{index}]", default, env)
        if any(other.name == node.name for other in nodes):
            raise NodesConfigError(f"{path}: nodes[{index}] ({node.name!r}): duplicate name {node.name!r}")
        nodes.append(node)
    return Federation(tuple(nodes), default)


def _node(entry: Any, where: str, default: float, env: Mapping[str, str]) -> Node:
    if not isinstance(entry, Mapping):
        raise NodesConfigError(f"{where}: must be a mapping with name and url")
    name = entry.get("name")
    if not isinstance(name, str) or not _NAME.match(name):
        raise NodesConfigError(f"{where}: name must be letters, digits, '.', '_' or '-' (at most 100)")
    where = f"{where} ({name!r})"
    unknown = set(entry) - ENTRY_KEYS
    if unknown:
        raise NodesConfigError(f"{where}: unknown keys {sorted(map(str, unknown))}; known: {sorted(ENTRY_KEYS)}")
    url = _url(entry.get("url"), where)
    timeout_s = _timeout(entry.get("timeout_s", default), f"{where}: timeout_s")
    node_path = entry.get("path", DEFAULT_PATH)
    if not isinstance(node_path, str) or not _PATH.match(node_path):
        raise NodesConfigError(f"{where}: path must start with '/' and hold no query or fragment")
    return Node(name, url, headers=_headers(entry, where, env), timeout_s=timeout_s, path=node_path)


def _url(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value:
        raise NodesConfigError(f"{where}: url is required (http:// or https://)")
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - a bad port raises here
    except ValueError:
        raise NodesConfigError(f"{where}: url is not a valid URL") from None
    if "@" in parts.netloc:
        raise NodesConfigError(f"{where}: url must not hold credentials (use api_key_env or secret_env)")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise NodesConfigError(f"{where}: url {value!r} must be an http:// or https:// URL with a host")
    if parts.query or parts.fragment or any(c.isspace() for c in value):
        raise NodesConfigError(f"{where}: url {value!r} must not hold a query, a fragment or spaces")
    return value.rstrip("/")


def _timeout(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or value <= 0:
        raise NodesConfigError(f"{where} must be a positive number of seconds")
    return float(value)


def _headers(entry: Mapping[str, Any], where: str, env: Mapping[str, str]) -> dict[str, str]:
    given = [key for key in CREDENTIALS if key in entry]
    if not given:
        return {}
    if len(given) > 1:
        raise NodesConfigError(f"{where}: give one credential, not {' and '.join(given)}")
    key = given[0]
    scheme, from_env = CREDENTIALS[key]
    value = entry[key]
    if from_env:
        if not isinstance(value, str) or not value:
            raise NodesConfigError(f"{where}: {key} must name an environment variable")
        if not env.get(value):
            raise NodesConfigError(f"{where}: environment variable {value} is not set (or empty)")
        value = env[value]
    if not isinstance(value, str) or not _TOKEN.match(value.strip()):
        raise NodesConfigError(f"{where}: the {key} credential must be printable text without spaces")
    return {"Authorization": f"{scheme} {value.strip()}"}


__all__ = ["DEFAULT_PATH", "DEFAULT_TIMEOUT_S", "Federation", "Node", "NodesConfigError", "load_nodes"]
