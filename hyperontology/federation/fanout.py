"""Ask every node of a federation the same explorer query at once, and add up what they disclose.

:func:`federate` posts ``{"ast": tree, "id": <uuid>}`` to each node's explorer route (``/api/eucaim/ast``, the
Focus ``omop`` contract) with that node's own credentials, concurrently, each under its own timeout (the whole
exchange is bounded too: a node that accepts the connection and never answers cannot hold the answer back).
The answer lists every node with its status (``ok``, ``timeout``, ``unreachable`` or ``error``, with a short
detail that never holds a credential), its collections and their counts, and the total of the nodes that
answered. The counts are the nodes' own (already passed through each node's disclosure policy): the federator
only adds them up, it never re-derives anything. ``complete`` says whether every node answered.

:func:`criteria_to_ast` turns the project's own criteria (the body of ``POST /api/cohort``) into the explorer's
tree; :func:`read_criteria` reads a JSON or YAML file holding either form.

Examples
--------
>>> criteria_to_ast({"diagnosis": ["SCT:363358000"], "age": {"min": 40, "max": 60}})["children"][1]
{'key': 'SNOMEDCT423493009', 'type': 'BETWEEN', 'value': {'min': 40, 'max': 60}}
>>> answer = federate_sync(Federation(()), criteria_to_ast({}))
>>> answer["total"], answer["complete"], answer["asked"]
({'subjects_count': 0, 'studies_count': 0}, True, 0)
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import httpx
import yaml

from hyperontology.federation.criteria import CriteriaError, check_tree
from hyperontology.federation.nodes import Federation, Node

LOG = logging.getLogger("hyperontology.federation")
MAX_ANSWER_BYTES = 8_000_000
MAX_COLLECTIONS = 10_000
#: the project's own criteria -> the explorer's keys (lists of concepts: each list ORed, the lists ANDed)
KEYS = {"diagnosis": "SNOMEDCT439401001", "modality": "RID10311", "body_site": "SNOMEDCT123037004",
        "sex": "SNOMEDCT263495000"}
AGE_KEY = "SNOMEDCT423493009"
OWN_FIELDS = frozenset({*KEYS, "stage", "age"})
_TEXT_FIELDS = ("id", "name", "description")
_LIST_FIELDS = ("gender", "modalities", "body_parts")


class FederationError(ValueError):
    """The criteria given to the federator are malformed (the message says where)."""


class _Refused(Exception):
    """A node's answer that is not the explorer's contract (the message is the detail shown)."""


# ---------------------------------------------------------------------------------------------- criteria
def criteria_to_ast(criteria: Any) -> dict[str, Any]:
    """The explorer's tree for the project's own criteria (a dict like the ``/api/cohort`` body, or a
    :class:`~hyperontology.search.cohort.CohortCriteria`). ``stage`` has no explorer key: ValueError.

    Examples
    --------
    >>> criteria_to_ast({"modality": ["RADLEX:RID10312", "RADLEX:RID10337"]})["children"][0]["operand"]
    'OR'
    >>> criteria_to_ast({"stage": ["EUCAIM:COM1000316"]})
    Traceback (most recent call last):
    ...
    hyperontology.federation.fanout.FederationError: stage: the explorer has no key for stage; ask with an \
explorer tree ({"ast": ...}) naming the TNM category
    """
    fields = _own_fields(criteria)
    if fields.get("stage"):
        raise FederationError("stage: the explorer has no key for stage; ask with an explorer tree "
                              '({"ast": ...}) naming the TNM category')
    children: list[dict[str, Any]] = []
    for name, key in KEYS.items():
        values = _concepts(fields.get(name), name)
        if values:
            children.append({"operand": "OR", "children": [{"key": key, "type": "EQUALS", "value": v}
                                                           for v in values]})
    age = _age(fields.get("age"))
    if age:
        children.append({"key": AGE_KEY, "type": "BETWEEN", "value": age})
    return {"operand": "AND", "children": children}


def _own_fields(criteria: Any) -> dict[str, Any]:
    if isinstance(criteria, Mapping):
        unknown = set(criteria) - OWN_FIELDS
        if unknown:
            raise FederationError(f"unknown criteria {sorted(map(str, unknown))}; known: {sorted(OWN_FIELDS)} "
                                  '(or an explorer tree: {"ast": {"operand": ..., "children": [...]}})')
        return dict(criteria)
    if hasattr(criteria, "diagnosis") and hasattr(criteria, "age_min"):  # CohortCriteria
        fields = {name: getattr(criteria, name) for name in (*KEYS, "stage")}
        fields["age"] = {"min": criteria.age_min, "max": criteria.age_max}
        return fields
    raise FederationError(f"criteria must be an object, not {type(criteria).__name__}")


def _concepts(value: Any, name: str) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) and v.strip() for v in value):
        raise FederationError(f"{name}: must be a list of concepts (CURIEs or IRIs)")
    if len(value) > 100:
        raise FederationError(f"{name}: at most 100 concepts")
    return [v.strip() for v in value]


def _age(value: Any) -> dict[str, float | int]:
    if value is None:
        return {}
    if not isinstance(value, Mapping) or set(value) - {"min", "max"}:
        raise FederationError("age: must be an object with min and/or max")
    bounds: dict[str, float | int] = {}
    for side in ("min", "max"):
        bound = value.get(side)
        if bound is None:
            continue
        if isinstance(bound, bool) or not isinstance(bound, int | float) or not math.isfinite(bound) or bound < 0:
            raise FederationError(f"age.{side}: must be a non-negative number")
        bounds[side] = bound
    if "min" in bounds and "max" in bounds and bounds["min"] > bounds["max"]:
        raise FederationError("age: min is greater than max")
    return bounds


def as_ast(body: Any) -> dict[str, Any]:
    """The explorer tree of a request: ``{"ast": tree}``, a tree, or the project's own criteria. FederationError
    (a ValueError) when it is malformed.

    Examples
    --------
    >>> as_ast({"ast": {"operand": "or", "children": []}, "id": "q1"})
    {'operand': 'or', 'children': []}
    >>> as_ast({"operand": "XOR", "children": []})
    Traceback (most recent call last):
    ...
    hyperontology.federation.fanout.FederationError: ast.operand: 'XOR' is neither AND nor OR
    """
    if isinstance(body, Mapping) and "ast" in body:
        tree = body["ast"]
    elif isinstance(body, Mapping) and ("operand" in body or "key" in body):
        tree = body
    else:
        tree = criteria_to_ast({} if body is None else body)
    check_ast(tree)
    return dict(tree)


def check_ast(tree: Any) -> None:
    """Check the shape of an explorer tree (groups of ``operand`` and ``children``, conditions of ``key``,
    ``type`` and ``value``); the nodes check the keys and values themselves."""
    try:
        check_tree(tree)
    except CriteriaError as exc:
        raise FederationError(str(exc)) from None


def read_criteria(path: Path | str) -> dict[str, Any]:
    """The explorer tree in a JSON or YAML file holding ``{"ast": ...}``, a tree, or the project's own criteria.
    FederationError naming the file when it cannot be read or is malformed."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else type(exc).__name__
        raise FederationError(f"{path}: cannot read the criteria ({reason})") from None
    try:
        body = json.loads(text) if path.suffix.lower() == ".json" else yaml.safe_load(text)
    except (ValueError, yaml.YAMLError):
        raise FederationError(f"{path}: not valid {'JSON' if path.suffix.lower() == '.json' else 'YAML'}") from None
    try:
        return as_ast(body)
    except FederationError as exc:
        raise FederationError(f"{path}: {exc}") from None


# ---------------------------------------------------------------------------------------------- fan-out
async def federate(federation: Federation, ast: Mapping[str, Any], *,
                   client: httpx.AsyncClient | None = None) -> dict[str, Any]:
    """Ask every node ``ast`` concurrently; the per-node answers and the total of those that answered.

    ``client``: an ``httpx.AsyncClient`` to send with (one is made and closed otherwise). Each node is given its
    configured ``timeout_s`` for the whole exchange; a node that fails is listed with its status and a short
    detail, never raising.
    """
    body = {"ast": dict(ast), "id": str(uuid.uuid4())}
    if client is None:
        async with httpx.AsyncClient(follow_redirects=False) as own:
            answers = await asyncio.gather(*(_ask(own, node, body) for node in federation.nodes))
    else:
        answers = await asyncio.gather(*(_ask(client, node, body) for node in federation.nodes))
    ok = [a for a in answers if a["status"] == "ok"]
    total = {"subjects_count": sum(a["subjects_count"] for a in ok),
             "studies_count": sum(a["studies_count"] for a in ok)}
    LOG.info("federated query %s: %d of %d nodes answered", body["id"], len(ok), len(answers))
    return {"nodes": list(answers), "total": total, "complete": len(ok) == len(answers), "answered": len(ok),
            "asked": len(answers)}


def federate_sync(federation: Federation, ast: Mapping[str, Any]) -> dict[str, Any]:
    """:func:`federate` from synchronous code (not from inside a running event loop)."""
    return asyncio.run(federate(federation, ast))


def _failed(node: Node, status: str, detail: str) -> dict[str, Any]:
    return {"name": node.name, "status": status, "detail": _scrub(node, detail), "collections": [],
            "subjects_count": 0, "studies_count": 0, "unknown": []}


async def _ask(client: httpx.AsyncClient, node: Node, body: dict[str, Any]) -> dict[str, Any]:
    try:
        return await asyncio.wait_for(_exchange(client, node, body), timeout=node.timeout_s)
    except (TimeoutError, httpx.TimeoutException):
        return _failed(node, "timeout", f"no answer within {node.timeout_s:g} s")
    except (httpx.ConnectError, httpx.ReadError, httpx.WriteError, httpx.RemoteProtocolError) as exc:
        return _failed(node, "unreachable", f"{type(exc).__name__}: {exc}"[:200])
    except httpx.HTTPError as exc:
        return _failed(node, "error", f"{type(exc).__name__}: {exc}"[:200])
    except _Refused as exc:
        return _failed(node, "error", str(exc))
    except Exception as exc:  # noqa: BLE001 - one node's failure must never break the federated answer
        LOG.warning("federated query: node %s failed with %s", node.name, type(exc).__name__)
        return _failed(node, "error", f"unexpected failure ({type(exc).__name__})")


async def _exchange(client: httpx.AsyncClient, node: Node, body: dict[str, Any]) -> dict[str, Any]:
    async with client.stream("POST", node.endpoint, json=body, headers=dict(node.headers),
                             timeout=node.timeout_s) as response:
        data = bytearray()
        async for chunk in response.aiter_bytes():
            data += chunk
            if len(data) > MAX_ANSWER_BYTES:
                raise _Refused(f"the answer is larger than {MAX_ANSWER_BYTES} bytes")
        if response.status_code != 200:
            raise _Refused(f"HTTP {response.status_code}{_reason(bytes(data))}")
        unknown = [part.strip() for part in response.headers.get("X-Unknown-Criteria", "").split(";") if part.strip()]
    try:
        answer = json.loads(bytes(data))
    except (ValueError, UnicodeDecodeError):
        raise _Refused("the answer is not JSON") from None
    collections = _collections(answer)
    return {"name": node.name, "status": "ok", "detail": None, "collections": collections,
            "subjects_count": sum(c["subjects_count"] for c in collections),
            "studies_count": sum(c["studies_count"] for c in collections), "unknown": unknown}


def _reason(data: bytes) -> str:
    """A node's own short reason for a refusal (``{"detail": "..."}`` or a line of text), printable ASCII."""
    try:
        parsed = json.loads(data)
        text = parsed.get("detail") if isinstance(parsed, dict) else None
        text = text if isinstance(text, str) else ""
    except (ValueError, UnicodeDecodeError):
        text = data[:200].decode("utf-8", "replace").split("\n", 1)[0]
    text = "".join(c if " " <= c <= "~" else "?" for c in text)[:120]
    return f": {text}" if text else ""


def _count(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise _Refused(f"{where}: not a non-negative whole number")
    return value


def _collections(answer: Any) -> list[dict[str, Any]]:
    """The collections of an answer, checked (counts are non-negative integers) and reduced to the contract's
    fields; _Refused when the answer is not of the contract's shape."""
    if not isinstance(answer, dict) or not isinstance(answer.get("collections"), list):
        raise _Refused("the answer has no 'collections' list")
    items = answer["collections"]
    if len(items) > MAX_COLLECTIONS:
        raise _Refused(f"the answer lists more than {MAX_COLLECTIONS} collections")
    out = []
    for index, item in enumerate(items):
        where = f"collections[{index}]"
        if not isinstance(item, dict):
            raise _Refused(f"{where}: not an object")
        clean: dict[str, Any] = {name: str(item.get(name, ""))[:500] for name in _TEXT_FIELDS}
        clean["subjects_count"] = _count(item.get("subjects_count"), f"{where}.subjects_count")
        clean["studies_count"] = _count(item.get("studies_count"), f"{where}.studies_count")
        ages = item.get("age_range")
        clean["age_range"] = ({side: ages.get(side) if isinstance(ages.get(side), int | float) else None
                               for side in ("min", "max")} if isinstance(ages, dict) else {"min": None, "max": None})
        for name in _LIST_FIELDS:
            values = item.get(name)
            clean[name] = [str(v)[:200] for v in values[:1000]] if isinstance(values, list) else []
        out.append(clean)
    return out


def _scrub(node: Node, text: str) -> str:
    for secret in node.secrets():
        text = text.replace(secret, "***")
    return text


__all__ = ["FederationError", "as_ast", "check_ast", "criteria_to_ast", "federate", "federate_sync",
           "read_criteria"]
