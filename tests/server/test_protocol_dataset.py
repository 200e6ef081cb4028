"""The SPARQL 1.1 Protocol's dataset parameters under the allow-list (``default-graph-uri``, ``named-graph-uri``,
``using-graph-uri``, ``using-named-graph-uri``): each names a dataset as a FROM or USING clause does.

The endpoint does not read these parameters yet (it runs a query on the node's union default graph whatever they
say): these tests pin the decision it is to call when it does, ``refusal(text, allowed, parameters=...)``.
"""

from __future__ import annotations

import pytest

from hyperontology.server.allowlist import DATASET_PARAMETERS, AllowList, protocol_refusal, refusal

DATA = "https://w3id.org/hyperontology/graph/data"
ALLOWED = AllowList(["http://a.org/graphs"])


@pytest.mark.parametrize("name", DATASET_PARAMETERS)
def test_each_dataset_parameter_is_checked(name: str) -> None:
    assert protocol_refusal([(name, "http://b.org/g")], ALLOWED) == \
        f"{name} <http://b.org/g> is not on this endpoint's allow-list"
    assert protocol_refusal([(name, DATA), (name, "http://a.org/graphs/g")], ALLOWED) is None


@pytest.mark.parametrize("value", ["http://a.org/graphs/../admin", "http://u@a.org/graphs/g", "graphs/g",
                                   "http://a.org/graphs/g\n", "http://a.org/graphsx"])
def test_what_an_allow_list_never_allows(value: str) -> None:
    reason = protocol_refusal([("named-graph-uri", value)], ALLOWED)
    assert reason is not None and reason.status == 403


def test_other_parameters_are_not_targets() -> None:
    assert protocol_refusal([("query", "SELECT * FROM <http://b.org/g> {}"), ("timeout", "http://b.org/")],
                            ALLOWED) is None


def test_the_request_decision_checks_parameters_and_text() -> None:
    query = "SELECT * WHERE { ?s ?p ?o }"
    assert refusal(query, ALLOWED, parameters=[("default-graph-uri", "http://b.org/g")]) is not None
    assert refusal(query, ALLOWED, parameters=[("default-graph-uri", DATA)]) is None
    update = "INSERT { ?s ?p ?o } WHERE { ?s ?p ?o }"
    reason = refusal(update, ALLOWED, parameters=[("using-named-graph-uri", "http://b.org/g")])
    assert reason == "using-named-graph-uri <http://b.org/g> is not on this endpoint's allow-list"
