"""Authentication of the server: API keys, OIDC bearer tokens (JWT), roles and the rate limit.

Real server processes on loopback (``hyperontology serve --config FILE``); the RSA and EC keys are made here,
their public JWKs written to a local JWKS file (no network).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from hyperontology.server.auth import RateLimiter, required_permission
from hyperontology.server.settings import AuthConfigError, hash_key, load_auth_config
from tests.processes import LAUNCH_SERVE as LAUNCH
from tests.processes import ingest_samples, node_server

ISSUER = "https://keycloak.test/realms/eucaim"
AUDIENCE = "hyperontology-node"
READER_KEY = "r" * 20 + "-reader-key-0123456789"
COUNTS_KEY = "c" * 20 + "-counts-key-0123456789"
LIMITED_KEY = "l" * 20 + "-limited-key-012345678"
ASK = "ASK { ?s ?p ?o }"
RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
OTHER_RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
EC_KEY = ec.generate_private_key(ec.SECP256R1())


# ------------------------------------------------------------------------------------------ fixtures
@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("auth") / "store"
    ingest_samples(path)
    return path


def _jwk(public: Any, kid: str, alg: str) -> dict[str, Any]:
    algorithm = jwt.algorithms.RSAAlgorithm if alg == "RS256" else jwt.algorithms.ECAlgorithm
    return {**json.loads(algorithm.to_jwk(public)), "kid": kid, "alg": alg, "use": "sig"}


def _config(directory: Path, body: str) -> Path:
    path = directory / "node.toml"
    path.write_text(body, encoding="utf-8")
    return path


def _serve(store: Path, config: Path) -> Iterator[httpx.Client]:
    stderr: list[str] = []
    with node_server(store, "--config", str(config), stderr=stderr) as client:
        yield client
    for secret in (READER_KEY, COUNTS_KEY, LIMITED_KEY, "eyJ"):  # keys and tokens never reach the logs
        assert secret not in stderr[0]


@pytest.fixture(scope="module")
def secured(store: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    directory = tmp_path_factory.mktemp("secured")
    jwks = directory / "jwks.json"
    keys = [_jwk(RSA_KEY.public_key(), "rsa", "RS256"), _jwk(EC_KEY.public_key(), "ec", "ES256")]
    jwks.write_text(json.dumps({"keys": keys}), encoding="utf-8")
    config = _config(directory, f"""
[[auth.api_keys]]
id = "reader"
hash = "{hash_key(READER_KEY)}"
roles = ["reader"]

[[auth.api_keys]]
id = "federated-search"
hash = "{hash_key(COUNTS_KEY)}"
roles = ["counts"]

[auth.oidc]
issuer = "{ISSUER}"
audience = "{AUDIENCE}"
jwks = "{jwks}"
roles_claim = "realm_access.roles"
""")
    yield from _serve(store, config)


@pytest.fixture(scope="module")
def limited(store: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    config = _config(tmp_path_factory.mktemp("limited"), f"""
[auth]
rate_limit_per_minute = 3

[[auth.api_keys]]
id = "limited"
hash = "{hash_key(LIMITED_KEY)}"
""")
    yield from _serve(store, config)


# ------------------------------------------------------------------------------------------ tokens
def _claims(**changes: Any) -> dict[str, Any]:
    now = int(time.time())
    claims = {"iss": ISSUER, "aud": AUDIENCE, "sub": "alice", "iat": now, "exp": now + 300,
              "realm_access": {"roles": ["reader"]}}
    claims.update(changes)
    return {k: v for k, v in claims.items() if v is not None}


def _token(key: Any = RSA_KEY, kid: str = "rsa", alg: str = "RS256", **changes: Any) -> str:
    return jwt.encode(_claims(**changes), key, algorithm=alg, headers={"kid": kid})


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _forged(alg: str, secret: bytes | None) -> str:
    """A token jwt.encode refuses to make: ``alg: none``, or HS256 keyed with the RSA public key."""
    head = _b64(json.dumps({"alg": alg, "typ": "JWT", "kid": "rsa"}).encode())
    signing_input = f"{head}.{_b64(json.dumps(_claims()).encode())}"
    signature = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest() if secret else b""
    return f"{signing_input}.{_b64(signature)}"


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _api_key(key: str) -> dict[str, str]:
    return {"Authorization": f"ApiKey {key}"}


# ------------------------------------------------------------------------------------------ API keys
def test_no_credentials_is_401_with_a_challenge(secured: httpx.Client) -> None:
    for response in (secured.get("/sparql", params={"query": ASK}), secured.get("/api/terms", params={"q": "lung"})):
        assert response.status_code == 401
        challenge = response.headers["WWW-Authenticate"]
        assert "ApiKey" in challenge and "Bearer" in challenge


def test_wrong_key_is_401_and_not_echoed(secured: httpx.Client) -> None:
    wrong = "w" * 40
    response = secured.get("/sparql", params={"query": ASK}, headers=_api_key(wrong))
    assert response.status_code == 401
    assert wrong not in response.text and wrong not in str(response.headers)


def test_right_key_is_200(secured: httpx.Client) -> None:
    response = secured.get("/sparql", params={"query": ASK}, headers=_api_key(READER_KEY))
    assert response.status_code == 200
    assert response.json()["boolean"] is True
    assert secured.get("/api/terms", params={"q": "NSCLC"}, headers=_api_key(READER_KEY)).status_code == 200


def test_public_paths_stay_public(secured: httpx.Client) -> None:
    for path in ("/health", "/ready", "/openapi.json", "/docs", "/"):
        assert secured.get(path).status_code == 200, path


def test_counts_role_may_only_reach_the_cohort_api(secured: httpx.Client) -> None:
    headers = _api_key(COUNTS_KEY)
    assert secured.get("/sparql", params={"query": ASK}, headers=headers).status_code == 403
    assert secured.get("/api/terms", params={"q": "lung"}, headers=headers).status_code == 403
    response = secured.post("/api/cohort", json={"diagnosis": ["SCT:363358000"]}, headers=headers)
    assert response.status_code == 200
    assert set(response.json()) >= {"patients", "studies", "series", "sparql"}


def test_reader_may_not_update(secured: httpx.Client) -> None:
    update = "INSERT DATA { <http://x/s> <http://x/p> <http://x/o> }"
    response = secured.post("/sparql", data={"update": update}, headers=_api_key(READER_KEY))
    assert response.status_code == 403
    assert "roles" in response.text


# ------------------------------------------------------------------------------------------ bearer tokens
# tokens are minted when the test runs, never at collection: a slow run must not see them expire or start
@pytest.mark.parametrize("mint", [_token, lambda: _token(EC_KEY, "ec", "ES256")], ids=["RS256", "ES256"])
def test_valid_jwt_is_200(secured: httpx.Client, mint: Callable[[], str]) -> None:
    assert secured.get("/sparql", params={"query": ASK}, headers=_bearer(mint())).status_code == 200


@pytest.mark.parametrize("mint", [
    lambda: _token(exp=int(time.time()) - 600),
    lambda: _token(nbf=int(time.time()) + 600),
    lambda: _token(iss="https://evil.test/realms/eucaim"),
    lambda: _token(aud="another-service"),
    lambda: _token(exp=None),
    lambda: _token(OTHER_RSA_KEY),
    lambda: _token(kid="unknown"),
    lambda: _forged("none", None),
    lambda: _forged("HS256", RSA_KEY.public_key().public_bytes(serialization.Encoding.PEM,
                                                               serialization.PublicFormat.SubjectPublicKeyInfo)),
    lambda: "not.a.token",
], ids=["expired", "not-yet-valid", "wrong-issuer", "wrong-audience", "no-exp", "other-key", "unknown-kid",
        "alg-none", "hs256-with-rsa-key", "garbage"])
def test_invalid_jwt_is_401(secured: httpx.Client, mint: Callable[[], str]) -> None:
    token = mint()
    response = secured.get("/sparql", params={"query": ASK}, headers=_bearer(token))
    assert response.status_code == 401
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"] or token == "not.a.token"
    assert token not in response.text


def test_jwt_without_the_reader_role_is_403(secured: httpx.Client) -> None:
    token = _token(realm_access={"roles": ["offline_access"]})
    assert secured.get("/sparql", params={"query": ASK}, headers=_bearer(token)).status_code == 403
    counts = _token(realm_access={"roles": ["counts"]})
    assert secured.get("/sparql", params={"query": ASK}, headers=_bearer(counts)).status_code == 403


# ------------------------------------------------------------------------------------------ rate limit
def test_rate_limit_is_429_with_retry_after(limited: httpx.Client) -> None:
    statuses = [limited.get("/sparql", params={"query": ASK}, headers=_api_key(LIMITED_KEY)) for _ in range(4)]
    assert [r.status_code for r in statuses] == [200, 200, 200, 429]
    assert 1 <= int(statuses[-1].headers["Retry-After"]) <= 20
    assert limited.get("/health").status_code == 200


def test_token_bucket_refills() -> None:
    bucket = RateLimiter(60)
    assert all(bucket.take("a", now=0.0) == 0 for _ in range(60))
    assert bucket.take("a", now=0.0) == pytest.approx(1.0)
    assert bucket.take("b", now=0.0) == 0
    assert bucket.take("a", now=1.5) == 0


# ------------------------------------------------------------------------------------------ configuration
def test_paths_and_permissions() -> None:
    assert [required_permission(p) for p in ("/sparql", "/api/terms", "/api/cohort", "/static/app.js", "/other")] \
        == ["sparql:query", "api:search", "api:cohort", None, ""]


def test_config_errors_name_the_file(tmp_path: Path) -> None:
    bad = _config(tmp_path, '[[auth.api_keys]]\nid = "a"\nhash = "plain-text-key"\n')
    with pytest.raises(AuthConfigError, match="node.toml.*sha256"):
        load_auth_config(bad)
    with pytest.raises(AuthConfigError, match="unknown roles"):
        load_auth_config(_config(tmp_path, f'[[auth.api_keys]]\nid = "a"\nhash = "{hash_key("k" * 32)}"\n'
                                           'roles = ["admin"]\n'))
    with pytest.raises(AuthConfigError, match="at least 32"):
        hash_key("short")


def test_hash_key_command_prints_a_loadable_entry(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-c", LAUNCH, "serve", "--hash-key", "--key-id", "agent",
                           "--role", "counts"], input=COUNTS_KEY + "\n", capture_output=True, text=True, check=True)
    assert COUNTS_KEY not in done.stdout
    settings = load_auth_config(_config(tmp_path, done.stdout))
    assert settings.api_keys[0].id == "agent" and settings.api_keys[0].roles == ("counts",)
    assert settings.api_keys[0].hash == hash_key(COUNTS_KEY)
