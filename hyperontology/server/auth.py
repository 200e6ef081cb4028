"""Authentication, authorisation and rate limiting of the server (off unless configured).

:class:`AuthMiddleware` (pure ASGI, outside every router, so routers added later are covered) lets through
the public paths: ``/health``, ``/ready``, the OpenAPI docs, the FAIR Data Point (``/fdp``, ``/fdp/...``:
read-only dataset descriptions with disclosed counts) and the query page (``/`` and ``/static/*``: static
files holding no data; the page's own calls to ``/sparql`` and ``/api`` need credentials, which the user
pastes into its sign-in field: kept in the tab's sessionStorage and sent as ``Authorization``).
Every other request needs ``Authorization: ApiKey <key>`` (or ``Secret <key>``, as the infrastructure's Focus
agents send it; the SHA-256 of the key compared in constant time
with every configured hash) or ``Authorization: Bearer <JWT>`` (signature against the issuer's JWKS, ``iss``,
``aud``, ``exp``/``nbf`` with a small leeway, an allow-list of asymmetric algorithms: ``none`` and ``HS*``
are refused). Missing or invalid credentials are 401 with ``WWW-Authenticate``; a caller whose roles lack the
permission of the path is 403; a caller over its rate limit is 429 with ``Retry-After``.

Permissions by path (:func:`required_permission`): ``/sparql`` needs ``sparql:query`` (an update also needs
``sparql:update``, checked by the route), the counts (``/api/cohort``, the explorer's ``/api/eucaim/...``, the
federation's ``/api/federated/...``) need ``api:cohort``, the rest of ``/api`` needs
``api:search``; any other path only needs an authenticated caller. Roles map to permissions
(:data:`~hyperontology.server.settings.DEFAULT_ROLES`: ``reader``, ``updater``, ``counts``); a new role is a new
entry of ``[auth.roles]`` in the config file, and a new kind of access a new permission here.

Keys, hashes and tokens never appear in logs or responses: the messages are fixed strings.

Examples
--------
>>> required_permission("/api/cohort"), required_permission("/health")
('api:cohort', None)
"""

from __future__ import annotations

import hashlib
import hmac
import json
import math
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt
from fastapi import Request
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from hyperontology.server.settings import AuthConfigError, AuthSettings, OidcSettings

PUBLIC_PATHS = frozenset({"/", "/health", "/ready", "/docs", "/docs/oauth2-redirect", "/redoc", "/openapi.json",
                          "/fdp", "/fdp/catalog"})
#: the FAIR Data Point (server.fdp) is public and read-only: GET routes only, counts through the disclosure policy
PUBLIC_PREFIXES = ("/static/", "/fdp/")
#: paths answering counts only (the cohort API, the explorer's contracts, the federation)
COUNT_PREFIXES = ("/api/cohort/", "/api/eucaim/", "/api/federated/")
SCOPE_KEY = "hyperontology.principal"
REALM = 'realm="hyperontology"'
_KEY_TYPES = {"RS": "RSA", "PS": "RSA", "ES": "EC"}


@dataclass(frozen=True)
class Principal:
    """An authenticated caller: ``key:<id>`` or ``jwt:<sub>``, its roles and what they permit."""

    id: str
    roles: tuple[str, ...]
    permissions: frozenset[str]


class AuthFailure(Exception):
    """A request refused by the middleware (status, a fixed message, extra headers)."""

    def __init__(self, status: int, message: str, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.headers = status, message, dict(headers or {})


def required_permission(path: str) -> str | None:
    """The permission a path needs; None for public paths, ``""`` for any authenticated caller."""
    if path in PUBLIC_PATHS or path.startswith(PUBLIC_PREFIXES):
        return None
    if path == "/sparql":
        return "sparql:query"
    if path.startswith(COUNT_PREFIXES) or path in ("/api/cohort", "/api/eucaim", "/api/federated"):
        return "api:cohort"
    if path == "/api" or path.startswith("/api/"):
        return "api:search"
    return ""


def _unauthorized(message: str, error: str | None = None) -> AuthFailure:
    bearer = f'Bearer {REALM}, error="{error}"' if error else f"Bearer {REALM}"
    return AuthFailure(401, message, {"WWW-Authenticate": f"ApiKey {REALM}, {bearer}"})


class JwtVerifier:
    """Checks bearer tokens of one OIDC issuer against its JWKS (a local file, or a URL fetched and cached)."""

    def __init__(self, settings: OidcSettings) -> None:
        self.settings = settings
        self._client: jwt.PyJWKClient | None = None
        self._keys: dict[str | None, jwt.PyJWK] = {}
        if settings.jwks.startswith("https://") or settings.jwks.startswith("http://"):
            self._client = jwt.PyJWKClient(settings.jwks, cache_jwk_set=True, lifespan=300, timeout=10)
        else:
            self._keys = _load_jwks(Path(settings.jwks))

    @property
    def remote(self) -> bool:
        return self._client is not None

    def _key(self, token: str, header: Mapping[str, Any]) -> jwt.PyJWK:
        if self._client is not None:
            return self._client.get_signing_key_from_jwt(token)
        kid = header.get("kid")
        if kid in self._keys:
            return self._keys[kid]
        if kid is None and len(self._keys) == 1:
            return next(iter(self._keys.values()))
        raise _unauthorized("invalid bearer token", "invalid_token")

    def verify(self, token: str) -> dict[str, Any]:
        """The claims of a valid token; :class:`AuthFailure` (401) otherwise."""
        try:
            header = jwt.get_unverified_header(token)
            alg = header.get("alg")
            if alg not in self.settings.algorithms:
                raise _unauthorized("invalid bearer token", "invalid_token")
            key = self._key(token, header)
            if key.key_type != _KEY_TYPES.get(str(alg)[:2]):
                raise _unauthorized("invalid bearer token", "invalid_token")
            claims: dict[str, Any] = jwt.decode(
                token, key.key, algorithms=[str(alg)], audience=self.settings.audience, issuer=self.settings.issuer,
                leeway=self.settings.leeway_s, options={"require": ["exp", "iss", "aud", "sub"]})
        except (jwt.PyJWTError, ValueError, TypeError) as exc:
            raise _unauthorized("invalid bearer token", "invalid_token") from exc
        return claims

    def roles(self, claims: Mapping[str, Any]) -> tuple[str, ...]:
        """The roles at the claim path (a list, or a space-separated string); none when absent."""
        value: Any = claims
        for part in self.settings.roles_claim.split("."):
            value = value.get(part) if isinstance(value, Mapping) else None
        if isinstance(value, str):
            return tuple(value.split())
        if isinstance(value, list):
            return tuple(str(v) for v in value)
        return ()


def _load_jwks(path: Path) -> dict[str | None, jwt.PyJWK]:
    try:
        keyset = jwt.PyJWKSet.from_dict(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, jwt.PyJWTError) as exc:
        raise AuthConfigError(f"{path}: not a usable JSON Web Key Set ({type(exc).__name__})") from exc
    return {key.key_id: key for key in keyset.keys}


class RateLimiter:
    """A token bucket per caller, in memory: ``per_minute`` requests in a burst, refilled evenly."""

    def __init__(self, per_minute: int, *, max_callers: int = 10_000) -> None:
        self.capacity, self.rate = float(per_minute), per_minute / 60.0
        self.max_callers = max_callers
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def take(self, caller: str, now: float | None = None) -> float:
        """0 when the request may go on; otherwise the seconds until the caller may retry."""
        now = time.monotonic() if now is None else now
        with self._lock:
            tokens, last = self._buckets.get(caller, (self.capacity, now))
            tokens = min(self.capacity, tokens + (now - last) * self.rate)
            if len(self._buckets) >= self.max_callers and caller not in self._buckets:
                self._buckets.clear()  # many callers at once: forget them all rather than grow without bound
            if tokens >= 1.0:
                self._buckets[caller] = (tokens - 1.0, now)
                return 0.0
            self._buckets[caller] = (tokens, now)
            return (1.0 - tokens) / self.rate


class Authenticator:
    """Turns an ``Authorization`` header into a :class:`Principal` (or raises :class:`AuthFailure`)."""

    def __init__(self, settings: AuthSettings) -> None:
        self.settings = settings
        self._hashes = [(bytes.fromhex(entry.hash.removeprefix("sha256:")), entry) for entry in settings.api_keys]
        self.jwt = JwtVerifier(settings.oidc) if settings.oidc is not None else None
        limit = settings.rate_limit_per_minute
        self.limiter = RateLimiter(limit) if limit else None

    def _principal(self, caller: str, roles: tuple[str, ...]) -> Principal:
        granted = frozenset().union(*(self.settings.roles.get(role, frozenset()) for role in roles))
        return Principal(caller, roles, granted)

    def _api_key(self, key: str) -> Principal:
        digest = hashlib.sha256(key.strip().encode()).digest()
        found = None
        for stored, entry in self._hashes:  # every entry is compared: the time does not tell which one matched
            if hmac.compare_digest(stored, digest):
                found = entry
        if found is None:
            raise _unauthorized("invalid API key")
        return self._principal(f"key:{found.id}", found.roles)

    async def authenticate(self, authorization: str | None) -> Principal:
        scheme, _, credentials = (authorization or "").partition(" ")
        scheme, credentials = scheme.lower(), credentials.strip()
        if scheme in ("apikey", "secret") and credentials and self._hashes:  # Secret: the dataset-service's form
            return self._api_key(credentials)
        if scheme == "bearer" and credentials and self.jwt is not None:
            verify = self.jwt.verify
            claims = await run_in_threadpool(verify, credentials) if self.jwt.remote else verify(credentials)
            return self._principal(f"jwt:{claims['sub']}", self.jwt.roles(claims))
        raise _unauthorized("authentication required: Authorization: ApiKey <key> or Bearer <token>")

    async def check(self, path: str, authorization: str | None) -> Principal | None:
        """The caller of a request to ``path`` (None on public paths); :class:`AuthFailure` when refused."""
        needed = required_permission(path)
        if needed is None:
            return None
        principal = await self.authenticate(authorization)
        if self.limiter is not None:
            wait = self.limiter.take(principal.id)
            if wait > 0:
                raise AuthFailure(429, "rate limit exceeded", {"Retry-After": str(max(1, math.ceil(wait)))})
        if needed and needed not in principal.permissions:
            raise AuthFailure(403, f"the caller's roles do not allow this endpoint (needs {needed})")
        return principal


class AuthMiddleware:
    """ASGI middleware applying an :class:`Authenticator` to every HTTP request."""

    def __init__(self, app: ASGIApp, *, authenticator: Authenticator) -> None:
        self.app, self.authenticator = app, authenticator

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        try:
            principal = await self.authenticator.check(scope["path"], Headers(scope=scope).get("authorization"))
        except AuthFailure as failure:
            response = PlainTextResponse(failure.message + "\n", status_code=failure.status, headers=failure.headers)
            await response(scope, receive, send)
            return
        scope[SCOPE_KEY] = principal
        await self.app(scope, receive, send)


def principal_of(request: Request) -> Principal | None:
    """The authenticated caller of a request (None when auth is off or the path is public)."""
    found = request.scope.get(SCOPE_KEY)
    return found if isinstance(found, Principal) else None


def allows(request: Request, permission: str) -> bool:
    """Whether the caller may do ``permission``: always when auth is off."""
    if SCOPE_KEY not in request.scope:
        return True
    principal = principal_of(request)
    return principal is not None and permission in principal.permissions


__all__ = ["AuthFailure", "AuthMiddleware", "Authenticator", "JwtVerifier", "Principal", "RateLimiter",
           "allows", "principal_of", "required_permission"]
