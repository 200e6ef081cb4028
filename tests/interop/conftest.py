"""Fixtures of the interoperability tests: one throwaway PostgreSQL cluster for the whole run."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.pgcluster import Unavailable, cluster


@pytest.fixture(scope="session")
def postgres() -> Iterator[str]:
    """The URL of a throwaway cluster's ``postgres`` database; skips when PostgreSQL cannot run here."""
    try:
        with cluster() as url:
            yield url
    except Unavailable as exc:
        pytest.skip(str(exc))
