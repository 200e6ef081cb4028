"""Settings of the server: frozen dataclasses, passed to :func:`hyperontology.server.create_app`.

Authentication is off unless :attr:`ServerSettings.auth` holds API keys or an OIDC issuer. It is read from the
``[auth]`` table of a TOML file (``hyperontology serve --config FILE``, see :func:`load_config`); its ``[sparql]``
table lists the targets ``SERVICE``, ``LOAD`` and ``FROM`` may name (:attr:`ServerSettings.allow_remote`)::

    [auth]
    rate_limit_per_minute = 120          # per caller (API key id or token subject); omit for no limit

    [[auth.api_keys]]                    # print one with: hyperontology serve --hash-key --key-id ID < keyfile
    id = "federated-search"
    hash = "sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
    roles = ["counts"]

    [auth.oidc]                          # Keycloak: issuer is the realm URL; add an audience mapper for `audience`
    issuer = "https://keycloak.example.org/realms/eucaim"
    audience = "hyperontology-node"
    jwks = "/etc/hyperontology/jwks.json" # or https://.../protocol/openid-connect/certs (fetched, cached 5 min)
    algorithms = ["RS256", "ES256"]
    roles_claim = "realm_access.roles"
    leeway_s = 30

    [auth.roles]                         # more roles, or new permissions for the built-in ones
    analyst = ["sparql:query", "api:search"]

    [sparql]                             # targets SERVICE, LOAD and FROM may name (see server.remote)
    allow_remote = ["https://sparql.example.org/sparql"]

Keys are stored as the SHA-256 of the key, never in clear; keys must be random, at least 32 characters (a
fast unsalted hash is then as safe as a slow salted one, and costs nothing per request).
"""

from __future__ import annotations

import hashlib
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hyperontology.errors import HyperontologyError
from hyperontology.server.allowlist import check_entry

#: What a caller may do. ``sparql:query``: SELECT/ASK/CONSTRUCT/DESCRIBE on ``/sparql``; ``sparql:update``:
#: SPARQL updates (when the server accepts them); ``api:search``: ``/api/*`` but the cohort counts;
#: ``api:cohort``: ``/api/cohort`` (counts only).
PERMISSIONS = frozenset({"sparql:query", "sparql:update", "api:search", "api:cohort"})

#: The built-in roles. ``counts`` is for federated search agents that may only see cohort counts.
DEFAULT_ROLES: Mapping[str, frozenset[str]] = {
    "reader": frozenset({"sparql:query", "api:search", "api:cohort"}),
    "updater": frozenset({"sparql:query", "sparql:update", "api:search", "api:cohort"}),
    "counts": frozenset({"api:cohort"}),
}

MIN_KEY_LENGTH = 32
ALGORITHMS = frozenset({"RS256", "RS384", "RS512", "ES256", "ES384", "PS256"})


class AuthConfigError(HyperontologyError, ValueError):
    """The server configuration is invalid (the message names the file, the table and the key)."""


@dataclass(frozen=True)
class ApiKeyEntry:
    """One API key: its id (logged and rate-limited by), ``sha256:<hex>`` of the key, and its roles."""

    id: str
    hash: str
    roles: tuple[str, ...] = ("reader",)


@dataclass(frozen=True)
class OidcSettings:
    """Bearer tokens (JWT) of one OIDC issuer, checked against its JSON Web Key Set.

    ``jwks`` is a local file path, or an ``https://`` URL fetched on first use and cached. ``roles_claim``
    is a dotted path into the claims (Keycloak realm roles: ``realm_access.roles``).
    """

    issuer: str
    audience: str
    jwks: str
    algorithms: tuple[str, ...] = ("RS256", "ES256")
    roles_claim: str = "realm_access.roles"
    leeway_s: float = 30.0


@dataclass(frozen=True)
class AuthSettings:
    """Who may call the server: API keys, an OIDC issuer, a per-caller rate limit and the role table.

    Examples
    --------
    >>> AuthSettings().enabled
    False
    >>> AuthSettings(api_keys=(ApiKeyEntry("agent", hash_key("k" * 32), ("counts",)),)).enabled
    True
    """

    api_keys: tuple[ApiKeyEntry, ...] = ()
    oidc: OidcSettings | None = None
    rate_limit_per_minute: int | None = None
    roles: Mapping[str, frozenset[str]] = field(default_factory=lambda: dict(DEFAULT_ROLES))

    @property
    def enabled(self) -> bool:
        return bool(self.api_keys) or self.oidc is not None


@dataclass(frozen=True)
class ServerSettings:
    """What the server serves and the limits it enforces.

    Parameters
    ----------
    store
        Directory of the node's pyoxigraph store (opened read-only unless ``allow_update``), or the URL of a
        remote store (a SPARQL 1.1 + Graph Store Protocol server, see :mod:`hyperontology.store.remote`).
    allow_update
        Accept SPARQL updates (``update=`` or ``application/sparql-update``); refused with 403 otherwise.
    max_rows
        SELECT results are cut to this many rows; the response then carries ``X-Result-Truncated: true``.
    timeout_s
        A query still running after this many seconds is answered with 503 and stopped: on the embedded store
        its worker process is killed and replaced (see :mod:`hyperontology.server.workers`); on a remote store
        the request to the store is abandoned.
    max_request_bytes
        Larger request bodies (on every route) or query strings are refused with 413.
    cors_origins
        Origins allowed by CORS (none by default).
    workers
        How many queries run at once: worker processes on the embedded store (one when ``allow_update``: the
        store then has one writer, which runs every query and update), threads on a remote store.
    queue_wait_s
        How long a query waits for a free worker before it is refused with 503, so the server keeps answering.
    query_memory_mb
        Memory (MiB) one query may take on the embedded store, on top of what its idle worker process holds
        (the worker's ``RLIMIT_DATA``, set before each query; Linux). A query over it is stopped and answered
        with 507. None: no cap.
    max_result_bytes
        Results are cut (``X-Result-Truncated: true``) before their serialisation grows past this many bytes.
    min_count, small_counts
        Disclosure control of every count that leaves the node (see
        :mod:`hyperontology.federation.disclosure`): the threshold k (1: exact counts) and what happens under it
        (``round-up`` or ``suppress``).
    aggregate_only
        Close ``/sparql`` to everyone: the node answers counts only.
    default_collection
        The collection id of patients ingested without ``--dataset``.
    federation
        Member nodes (see :mod:`hyperontology.federation.nodes`): this node is then a federator
        (``/api/federated/cohort``), and SERVICE may name the members' ``/sparql``.
    auth
        Authentication and authorisation (see :mod:`hyperontology.server.auth`); off when None or empty.
    allow_remote
        URL prefixes (absolute ``http``/``https``) that ``SERVICE``, ``LOAD`` and ``FROM``/``USING`` may name;
        every other target is refused with 403 (see :mod:`hyperontology.server.allowlist`). A dataset clause
        naming one of the node's own graphs is always allowed.

    Examples
    --------
    >>> ServerSettings(store="store", max_rows=2).timeout_s
    30.0
    """

    store: Path | str
    allow_update: bool = False
    max_rows: int = 10_000
    timeout_s: float = 30.0
    max_request_bytes: int = 1_000_000
    cors_origins: tuple[str, ...] = ()
    workers: int = 4
    queue_wait_s: float = 10.0
    auth: AuthSettings | None = None
    allow_remote: tuple[str, ...] = ()
    query_memory_mb: int | None = 1024
    max_result_bytes: int = 16_000_000
    min_count: int = 10
    small_counts: str = "round-up"
    aggregate_only: bool = False
    default_collection: str = "default"
    federation: Any = None

    def __post_init__(self) -> None:
        if not isinstance(self.min_count, int) or self.min_count < 1:
            raise AuthConfigError(f"min_count must be at least 1, not {self.min_count!r}")
        if self.small_counts not in ("round-up", "suppress"):
            raise AuthConfigError(f"small_counts is round-up or suppress, not {self.small_counts!r}")
        if self.query_memory_mb is not None and self.query_memory_mb < 16:
            raise AuthConfigError(f"query_memory_mb must be at least 16 (MiB), not {self.query_memory_mb}")
        for entry in self.allow_remote:
            try:
                check_entry(entry)
            except ValueError as exc:
                raise AuthConfigError(str(exc)) from exc


@dataclass(frozen=True)
class FileConfig:
    """What a ``--config`` TOML file configures: authentication (``[auth]``) and remote targets (``[sparql]``)."""

    auth: AuthSettings = field(default_factory=AuthSettings)
    allow_remote: tuple[str, ...] = ()


def hash_key(key: str) -> str:
    """The stored form of an API key: ``sha256:<hex>`` (refuses keys shorter than 32 characters).

    Examples
    --------
    >>> hash_key("x" * 32)[:15]
    'sha256:c62e4615'
    """
    key = key.strip()
    if len(key) < MIN_KEY_LENGTH:
        raise AuthConfigError(f"an API key must be at least {MIN_KEY_LENGTH} random characters")
    return "sha256:" + hashlib.sha256(key.encode()).hexdigest()


def load_config(path: Path) -> FileConfig:
    """Read the ``[auth]`` and ``[sparql]`` tables of a TOML file; errors name the file, the table and the key."""
    try:
        with path.open("rb") as handle:
            document = tomllib.load(handle)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise AuthConfigError(f"{path}: {exc}") from exc
    try:
        auth = _auth_settings(document.get("auth", {}))
    except (KeyError, TypeError, ValueError) as exc:
        raise AuthConfigError(f"{path}: [auth] {exc}") from exc
    try:
        allow_remote = _sparql_settings(document.get("sparql", {}))
    except (KeyError, TypeError, ValueError) as exc:
        raise AuthConfigError(f"{path}: [sparql] {exc}") from exc
    return FileConfig(auth=auth, allow_remote=allow_remote)


def load_auth_config(path: Path) -> AuthSettings:
    """Read the ``[auth]`` table of a TOML file; errors name the file and the key."""
    return load_config(path).auth


def _sparql_settings(table: Any) -> tuple[str, ...]:
    if not isinstance(table, dict):
        raise TypeError("must be a table")
    _known(table, {"allow_remote"}, "sparql")
    entries = table.get("allow_remote", [])
    if not isinstance(entries, list) or not all(isinstance(entry, str) for entry in entries):
        raise TypeError("allow_remote must be a list of URL strings")
    return tuple(check_entry(entry) for entry in entries)


def _auth_settings(table: dict[str, Any]) -> AuthSettings:
    _known(table, {"api_keys", "oidc", "rate_limit_per_minute", "roles"}, "auth")
    roles = dict(DEFAULT_ROLES)
    for name, perms in table.get("roles", {}).items():
        unknown = set(perms) - PERMISSIONS
        if unknown:
            raise ValueError(f"roles.{name}: unknown permissions {sorted(unknown)}; known: {sorted(PERMISSIONS)}")
        roles[name] = frozenset(perms)
    keys = tuple(_api_key(entry, roles) for entry in table.get("api_keys", []))
    if len({k.id for k in keys}) != len(keys):
        raise ValueError("api_keys: two entries share an id")
    limit = table.get("rate_limit_per_minute")
    if limit is not None and (not isinstance(limit, int) or limit < 1):
        raise ValueError("rate_limit_per_minute must be a positive integer")
    oidc = _oidc(table["oidc"]) if "oidc" in table else None
    return AuthSettings(api_keys=keys, oidc=oidc, rate_limit_per_minute=limit, roles=roles)


def _api_key(entry: dict[str, Any], roles: Mapping[str, frozenset[str]]) -> ApiKeyEntry:
    _known(entry, {"id", "hash", "roles"}, "api_keys")
    digest = str(entry["hash"])
    if not digest.startswith("sha256:") or len(digest) != 71:
        raise ValueError(f"api_keys {entry['id']!r}: hash must be 'sha256:' and 64 hex digits (see --hash-key)")
    granted = tuple(entry.get("roles", ["reader"]))
    unknown = set(granted) - set(roles)
    if unknown:
        raise ValueError(f"api_keys {entry['id']!r}: unknown roles {sorted(unknown)}")
    return ApiKeyEntry(id=str(entry["id"]), hash=digest.lower(), roles=granted)


def _oidc(table: dict[str, Any]) -> OidcSettings:
    _known(table, {"issuer", "audience", "jwks", "algorithms", "roles_claim", "leeway_s"}, "oidc")
    algorithms = tuple(table.get("algorithms", ("RS256", "ES256")))
    if not algorithms or set(algorithms) - ALGORITHMS:
        raise ValueError(f"oidc.algorithms must be among {sorted(ALGORITHMS)}")
    return OidcSettings(issuer=str(table["issuer"]), audience=str(table["audience"]), jwks=str(table["jwks"]),
                        algorithms=algorithms, roles_claim=str(table.get("roles_claim", "realm_access.roles")),
                        leeway_s=float(table.get("leeway_s", 30.0)))


def _known(table: dict[str, Any], keys: set[str], where: str) -> None:
    unknown = set(table) - keys
    if unknown:
        raise ValueError(f"{where}: unknown keys {sorted(unknown)}; known: {sorted(keys)}")


__all__ = ["ApiKeyEntry", "AuthConfigError", "AuthSettings", "FileConfig", "OidcSettings", "ServerSettings",
           "hash_key", "load_auth_config", "load_config"]
