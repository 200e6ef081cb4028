"""The suite passes on a slow machine: nothing depends on how fast the tests run (README: the test command)."""

from __future__ import annotations

import inspect

from hypothesis import settings

from tests.server import test_auth


def test_property_tests_have_no_deadline() -> None:
    assert settings.default.deadline is None


def test_tokens_are_minted_when_the_test_runs_not_at_collection() -> None:
    """A token minted at collection expires if the run reaches its test minutes later (seen after 7.5 minutes)."""
    for name in ("test_valid_jwt_is_200", "test_invalid_jwt_is_401"):
        marks = [m for m in getattr(test_auth, name).pytestmark if m.name == "parametrize"]
        values = marks[0].args[1]
        assert values and all(callable(v) for v in values), name
    source = inspect.getsource(test_auth)
    assert "int(time.time())" in inspect.getsource(test_auth._claims)
    assert not [line for line in source.splitlines() if line.startswith(("TOKEN", "JWT")) and "=" in line]
