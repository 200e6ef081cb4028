"""The federator: one query to every node, their disclosed counts added up (real ``hyperontology serve`` processes).

Three synthetic nodes (different datasets and patients, :func:`hyperontology.federation.synthetic.build_node_store`)
are served on loopback; a federator (``serve --federation NODES.yaml``) asks them at ``/api/federated/cohort``.
The stores share one on-disk base holding the ontology (built once, copied), so the module runs in about a minute.
"""

from __future__ import annotations

import itertools
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from hyperontology import load_ontology
from hyperontology.federation import Federation, Node, criteria_to_ast, federate_sync, load_nodes
from hyperontology.federation.fanout import FederationError, as_ast, read_criteria
from hyperontology.federation.synthetic import build_node_store
from hyperontology.server.settings import hash_key
from tests.processes import free_port, node_server

NODES = {"a": (1, 300, (("a1", "Hospital A, lung"), ("a2", "Hospital A, prostate"))),
         "b": (2, 250, (("b1", "Hospital B"),)),
         "c": (3, 200, (("c1", "Hospital C, breast"), ("c2", "Hospital C, colon")))}
SERVE = ("--workers", "1")
EVERYONE: dict[str, Any] = {"operand": "AND", "children": []}
LUNG = {"operand": "OR", "children": [{"key": "SNOMEDCT439401001", "type": "EQUALS", "value": "SNOMEDCT363358000"}]}
MR_OR_CT = {"operand": "OR", "children": [{"key": "RID10311", "type": "EQUALS", "value": "RID10312"},
                                          {"key": "RID10311", "type": "EQUALS", "value": "RID10337"}]}
AGE_40_60 = {"operand": "AND", "children": [{"key": "SNOMEDCT423493009", "type": "BETWEEN",
                                             "value": {"min": 40, "max": 60}}]}
CRITERIA = {"everyone": EVERYONE, "lung cancer": LUNG, "MR or CT": MR_OR_CT, "age 40-60": AGE_40_60}
KEY_A = "a" * 20 + "-federator-key-000000000"
KEY_B = "b" * 20 + "-federator-key-111111111"
WRONG_KEY = "w" * 20 + "-not-the-key-2222222222"
_SERIAL = itertools.count()


# ------------------------------------------------------------------------------------------ stores and servers
@pytest.fixture(scope="module")
def stores(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """An empty base store (the ontology only) and the three nodes' stores, each a copy of it with its data."""
    root = tmp_path_factory.mktemp("federation")
    onto = load_ontology()
    build_node_store(root / "base", patients=0, ontology=onto, datasets=())
    found = {"base": root / "base"}
    for name, (seed, patients, datasets) in NODES.items():
        shutil.copytree(root / "base", root / name)
        build_node_store(root / name, patients=patients, ontology=onto, seed=seed, datasets=datasets, prefix=name)
        found[name] = root / name
    return found


def _copy(stores: dict[str, Path], name: str) -> Path:
    """A fresh copy of a store (one server per store directory)."""
    target = stores["base"].parent / f"{name}-{next(_SERIAL)}"
    shutil.copytree(stores[name], target)
    return target


def _nodes_file(directory: Path, entries: list[dict[str, Any]], **top: Any) -> Path:
    path = directory / f"nodes-{next(_SERIAL)}.yaml"
    path.write_text(json.dumps({**top, "nodes": entries}), encoding="utf-8")  # JSON is YAML
    return path


def _url(client: httpx.Client) -> str:
    return str(client.base_url).rstrip("/")


@contextmanager
def _nodes(stores: dict[str, Path], *extra: str) -> Iterator[dict[str, httpx.Client]]:
    with ExitStack() as stack:
        yield {name: stack.enter_context(node_server(_copy(stores, name), *SERVE, *extra)) for name in NODES}


@pytest.fixture(scope="module")
def exact(stores: dict[str, Path]) -> Iterator[dict[str, httpx.Client]]:
    """The three nodes with exact counts (``--min-count 1``)."""
    with _nodes(stores, "--min-count", "1") as clients:
        yield clients


@pytest.fixture(scope="module")
def exact_nodes_file(exact: dict[str, httpx.Client], stores: dict[str, Path]) -> Path:
    return _nodes_file(stores["base"].parent, [{"name": n, "url": _url(c)} for n, c in exact.items()])


@pytest.fixture(scope="module")
def federator(exact_nodes_file: Path, stores: dict[str, Path]) -> Iterator[httpx.Client]:
    with node_server(_copy(stores, "base"), *SERVE, "--federation", str(exact_nodes_file)) as client:
        yield client


def _direct(client: httpx.Client, ast: dict[str, Any], **headers: str) -> list[dict[str, Any]]:
    response = client.post("/api/eucaim/ast", json={"ast": ast, "id": "direct"}, headers=headers)
    assert response.status_code == 200, response.text
    return list(response.json()["collections"])


def _sum(collections: list[dict[str, Any]], what: str = "subjects_count") -> int:
    return sum(int(c[what]) for c in collections)


def _ask(federator: httpx.Client, body: Any, **headers: str) -> dict[str, Any]:
    response = federator.post("/api/federated/cohort", json=body, headers=headers)
    assert response.status_code == 200, response.text
    return dict(response.json())


def _counts(answer: dict[str, Any]) -> list[int]:
    """Every count of a federated answer: the collections', the nodes' and the total."""
    found = [answer["total"]["subjects_count"], answer["total"]["studies_count"]]
    for node in answer["nodes"]:
        found += [node["subjects_count"], node["studies_count"]]
        found += [c[what] for c in node["collections"] for what in ("subjects_count", "studies_count")]
    return found


def _cli(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "hyperontology", "federate", "cohort", *map(str, args)],
                          capture_output=True, text=True, timeout=120, check=False)


class FakeNode:
    """A loopback listener that accepts and then stays ``silent``, ``drip``s header bytes forever, or ``reply``s
    with a fixed HTTP response."""

    def __init__(self, mode: str, status: int = 200, body: bytes = b"", headers: str = "") -> None:
        self.mode = mode
        self.response = (f"HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n"
                         f"{headers}Connection: close\r\n\r\n").encode() + body
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.1)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.stop = threading.Event()
        self.connections: list[socket.socket] = []
        self.threads = [threading.Thread(target=self._accept, daemon=True)]
        self.threads[0].start()

    def _accept(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            self.connections.append(conn)
            thread = threading.Thread(target=self._serve, args=(conn,), daemon=True)
            self.threads.append(thread)
            thread.start()

    def _serve(self, conn: socket.socket) -> None:
        try:
            if self.mode == "drip":
                conn.sendall(b"HTTP/1.1 200 OK\r\nX-Slow: ")
                while not self.stop.wait(0.2):
                    conn.sendall(b"x")
            elif self.mode == "reply":
                data = b""
                while b"\r\n\r\n" not in data:
                    data += conn.recv(65536)
                head, _, rest = data.partition(b"\r\n\r\n")
                length = next((int(line.split(b":")[1]) for line in head.split(b"\r\n")
                               if line.lower().startswith(b"content-length:")), 0)
                while len(rest) < length:
                    rest += conn.recv(65536)
                conn.sendall(self.response)
        except OSError:
            pass

    def close(self) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=5)
        for conn in self.connections:
            conn.close()
        self.sock.close()


@contextmanager
def fake_node(mode: str, status: int = 200, body: bytes = b"", headers: str = "") -> Iterator[FakeNode]:
    node = FakeNode(mode, status, body, headers)
    try:
        yield node
    finally:
        node.close()


# ------------------------------------------------------------------------------------------ (a) exact sums
@pytest.mark.parametrize("name", list(CRITERIA))
def test_federated_totals_are_the_sum_of_the_nodes_answers(name: str, exact: dict[str, httpx.Client],
                                                           federator: httpx.Client) -> None:
    ast = CRITERIA[name]
    answer = _ask(federator, {"ast": ast})
    assert (answer["complete"], answer["answered"], answer["asked"]) == (True, 3, 3)
    direct = {node: _direct(client, ast) for node, client in exact.items()}
    by_name = {node["name"]: node for node in answer["nodes"]}
    for node, collections in direct.items():
        assert by_name[node]["status"] == "ok" and by_name[node]["detail"] is None
        assert by_name[node]["collections"] == collections
        assert by_name[node]["subjects_count"] == _sum(collections)
        assert by_name[node]["unknown"] == []
    assert answer["total"] == {"subjects_count": sum(_sum(c) for c in direct.values()),
                               "studies_count": sum(_sum(c, "studies_count") for c in direct.values())}
    assert 0 < answer["total"]["subjects_count"] <= sum(patients for _, patients, _ in NODES.values())
    if name == "everyone":
        assert answer["total"]["subjects_count"] == sum(patients for _, patients, _ in NODES.values())
        assert sorted(c["id"] for n in answer["nodes"] for c in n["collections"]) == ["a1", "a2", "b1", "c1", "c2"]


def test_own_criteria_are_asked_as_the_explorer_tree(federator: httpx.Client) -> None:
    own = {"diagnosis": ["SCT:363358000"], "age": {"min": 40, "max": 60}}
    tree = {"operand": "AND", "children": [LUNG, AGE_40_60["children"][0]]}
    assert _ask(federator, own)["total"] == _ask(federator, {"ast": tree})["total"]
    assert _ask(federator, criteria_to_ast(own))["total"] == _ask(federator, {"ast": tree})["total"]


def test_unknown_criteria_are_named_per_node(federator: httpx.Client) -> None:
    answer = _ask(federator, {"ast": {"operand": "AND", "children": [
        {"key": "SNOMEDCT439401001", "type": "EQUALS", "value": "NOT-A-CODE"}]}})
    assert answer["complete"] and answer["total"]["subjects_count"] == 0
    assert all(any("NOT-A-CODE" in u for u in node["unknown"]) for node in answer["nodes"])


@pytest.mark.parametrize(("body", "message"), [
    (b"{not json", "not JSON"),
    (b'{"ast": {"operand": "XOR", "children": []}}', "ast.operand"),
    (b'{"ast": {"operand": "OR", "children": [{"type": "EQUALS"}]}}', "ast.children[0]"),
    (b'{"stage": ["EUCAIM:COM1000316"]}', "stage"),
    (b'{"diagnosis": "SCT:363358000", "colour": ["red"]}', "colour"),
    (b'{"age": {"min": 70, "max": 20}}', "age"),
    (b"[1, 2]", "object"),
])
def test_a_malformed_body_is_400_with_a_clear_message(federator: httpx.Client, body: bytes, message: str) -> None:
    response = federator.post("/api/federated/cohort", content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert message in response.json()["detail"]


# ------------------------------------------------------------------------------------------ (e) the CLI
def test_cli_gives_the_same_totals(exact_nodes_file: Path, federator: httpx.Client, tmp_path: Path) -> None:
    tree_file = tmp_path / "lung.json"
    tree_file.write_text(json.dumps({"ast": LUNG}), encoding="utf-8")
    own_file = tmp_path / "own.yaml"
    own_file.write_text("modality: [RADLEX:RID10312, RADLEX:RID10337]\n", encoding="utf-8")
    for criteria, ast in ((tree_file, LUNG), (own_file, criteria_to_ast({"modality": ["RADLEX:RID10312",
                                                                                        "RADLEX:RID10337"]}))):
        done = _cli("--nodes", exact_nodes_file, "--criteria", criteria)
        assert done.returncode == 0, done.stderr
        answer = json.loads(done.stdout)
        assert answer["complete"] and answer["total"] == _ask(federator, {"ast": ast})["total"]
    assert _ask(federator, {"ast": MR_OR_CT})["total"] == json.loads(done.stdout)["total"]


def test_cli_refuses_bad_input_with_status_2(exact_nodes_file: Path, tmp_path: Path) -> None:
    stage = tmp_path / "stage.json"
    stage.write_text('{"stage": ["EUCAIM:COM1000316"]}', encoding="utf-8")
    done = _cli("--nodes", exact_nodes_file, "--criteria", stage)
    assert done.returncode == 2 and done.stderr.startswith("error: ") and str(stage) in done.stderr
    assert "stage" in done.stderr and done.stdout == ""
    done = _cli("--nodes", tmp_path / "absent.yaml", "--criteria", stage)
    assert done.returncode == 2 and "absent.yaml" in done.stderr


# ------------------------------------------------------------------------------------------ (b) partial answers
class TestPartial:
    """A node killed, one that accepts TCP and never answers, one that drips bytes, a port nobody listens on."""

    @pytest.fixture(scope="class")
    @classmethod
    def setup(cls, exact: dict[str, httpx.Client], stores: dict[str, Path]) -> Iterator[dict[str, Any]]:
        pid: list[int] = []
        with ExitStack() as stack:
            victim = stack.enter_context(node_server(_copy(stores, "c"), *SERVE, "--min-count", "1", pid=pid))
            silent = stack.enter_context(fake_node("silent"))
            drip = stack.enter_context(fake_node("drip"))
            entries = [{"name": "a", "url": _url(exact["a"])}, {"name": "b", "url": _url(exact["b"])},
                       {"name": "killed", "url": _url(victim)}, {"name": "silent", "url": silent.url},
                       {"name": "drip", "url": drip.url},
                       {"name": "nobody", "url": f"http://127.0.0.1:{free_port()}", "timeout_s": 1}]
            nodes = _nodes_file(stores["base"].parent, entries, timeout_s=2)
            fed = stack.enter_context(node_server(_copy(stores, "base"), *SERVE, "--federation", str(nodes)))
            os.kill(pid[0], signal.SIGKILL)
            yield {"federator": fed, "nodes": nodes, "exact": exact}

    def test_a_partial_answer_arrives_within_the_timeout(self, setup: dict[str, Any]) -> None:
        started = time.monotonic()
        answer = _ask(setup["federator"], {"ast": LUNG})
        elapsed = time.monotonic() - started
        assert elapsed < 2 + 3, f"the answer took {elapsed:.1f} s with a 2 s timeout"
        status = {node["name"]: node["status"] for node in answer["nodes"]}
        assert status["a"] == status["b"] == "ok"
        assert status["killed"] in ("unreachable", "error", "timeout")
        assert status["silent"] == status["drip"] == "timeout"
        assert status["nobody"] == "unreachable"
        assert (answer["complete"], answer["answered"], answer["asked"]) == (False, 2, 6)
        expected = sum(_sum(_direct(setup["exact"][n], LUNG)) for n in ("a", "b"))
        assert answer["total"]["subjects_count"] == expected
        for node in answer["nodes"]:
            if node["status"] != "ok":
                assert node["detail"] and node["collections"] == [] and node["subjects_count"] == 0

    def test_cli_exits_3_on_a_partial_answer(self, setup: dict[str, Any], tmp_path: Path) -> None:
        criteria = tmp_path / "lung.json"
        criteria.write_text(json.dumps(LUNG), encoding="utf-8")
        done = _cli("--nodes", setup["nodes"], "--criteria", criteria, "--timeout", "1")
        assert done.returncode == 3, done.stderr
        answer = json.loads(done.stdout)
        assert not answer["complete"] and answer["answered"] == 2
        assert "killed" in done.stderr and "silent" in done.stderr


def test_a_node_killed_mid_query_gives_a_partial_answer(exact: dict[str, httpx.Client],
                                                       stores: dict[str, Path]) -> None:
    """The question reaches a node, which is frozen (SIGSTOP) so the question is in flight, then killed (SIGKILL):
    the federator answers with that node marked and the others' total intact, well before the timeout."""
    pid: list[int] = []
    with ExitStack() as stack:
        victim = stack.enter_context(node_server(_copy(stores, "c"), *SERVE, "--min-count", "1", pid=pid))
        entries = [{"name": "a", "url": _url(exact["a"])}, {"name": "b", "url": _url(exact["b"])},
                   {"name": "victim", "url": _url(victim)}]
        nodes = _nodes_file(stores["base"].parent, entries, timeout_s=20)
        fed = stack.enter_context(node_server(_copy(stores, "base"), *SERVE, "--federation", str(nodes)))
        assert _ask(fed, {"ast": LUNG})["complete"]  # every node answers before the kill
        os.kill(pid[0], signal.SIGSTOP)
        with ThreadPoolExecutor(1) as pool:
            started = time.monotonic()
            pending = pool.submit(_ask, fed, {"ast": LUNG})
            time.sleep(1.0)  # the question is now waiting on the frozen node
            assert not pending.done()
            os.kill(pid[0], signal.SIGKILL)
            answer = pending.result(timeout=30)
            elapsed = time.monotonic() - started
    status = {node["name"]: node["status"] for node in answer["nodes"]}
    assert status == {"a": "ok", "b": "ok", "victim": status["victim"]}
    assert status["victim"] in ("unreachable", "error"), status
    assert elapsed < 15, f"the partial answer took {elapsed:.1f} s (the timeout is 20 s)"
    assert not answer["complete"] and answer["answered"] == 2
    expected = sum(_sum(_direct(exact[n], LUNG)) for n in ("a", "b"))
    assert answer["total"]["subjects_count"] == expected


def test_garbage_answers_are_errors_never_crashes() -> None:
    good = json.dumps({"collections": [{"id": "x", "name": "X", "description": "", "subjects_count": 20,
                                        "studies_count": 30, "gender": ["male"], "extra": "dropped"}]}).encode()
    cases = {"not-json": (200, b"<html>oops</html>", ""), "not-a-dict": (200, b"[1, 2]", ""),
             "negative": (200, b'{"collections": [{"subjects_count": -5, "studies_count": 1}]}', ""),
             "text-count": (200, b'{"collections": [{"subjects_count": "12", "studies_count": 1}]}', ""),
             "bool-count": (200, b'{"collections": [{"subjects_count": true, "studies_count": 1}]}', ""),
             "float-count": (200, b'{"collections": [{"subjects_count": 1.5, "studies_count": 1}]}', ""),
             "no-list": (200, b'{"collections": {"a": 1}}', ""),
             "server-error": (500, b'{"detail": "boom"}', ""),
             "good": (200, good, "X-Unknown-Criteria: key 'a'; value 'b' of key 'c'\r\n")}
    with ExitStack() as stack:
        fakes = {name: stack.enter_context(fake_node("reply", *case)) for name, case in cases.items()}
        federation = Federation(tuple(Node(name, fake.url, timeout_s=5) for name, fake in fakes.items()))
        answer = federate_sync(federation, EVERYONE)
    by_name = {node["name"]: node for node in answer["nodes"]}
    for name in cases:
        assert by_name[name]["status"] == ("ok" if name == "good" else "error"), (name, by_name[name])
    assert "HTTP 500: boom" in by_name["server-error"]["detail"]
    assert "not JSON" in by_name["not-json"]["detail"]
    assert by_name["good"]["unknown"] == ["key 'a'", "value 'b' of key 'c'"]
    assert "extra" not in by_name["good"]["collections"][0]
    assert answer["total"] == {"subjects_count": 20, "studies_count": 30}
    assert (answer["complete"], answer["answered"], answer["asked"]) == (False, 1, len(cases))


# ------------------------------------------------------------------------------------------ (c) small counts
class TestSmallCounts:
    """Nodes at the default k=10: no count between 1 and 9 ever leaves a node, nor the federator."""

    @pytest.fixture(scope="class")
    @classmethod
    def k10(cls, stores: dict[str, Path]) -> Iterator[httpx.Client]:
        with _nodes(stores) as clients:
            nodes = _nodes_file(stores["base"].parent, [{"name": n, "url": _url(c)} for n, c in clients.items()])
            with node_server(_copy(stores, "base"), *SERVE, "--federation", str(nodes)) as fed:
                yield fed

    @staticmethod
    def _age(low: float, high: float) -> dict[str, Any]:
        return {"key": "SNOMEDCT423493009", "type": "BETWEEN", "value": {"min": low, "max": high}}

    def _isolating(self, federator: httpx.Client) -> dict[str, Any]:
        """A one-year age range and a diagnosis that some node's collection holds for 1 to 9 patients."""
        for age in range(20, 90):
            tree = {"operand": "AND", "children": [self._age(age, age), LUNG]}
            answer = _ask(federator, {"ast": tree})
            if any(0 < c["subjects_count"] < 10 for n in answer["nodes"] for c in n["collections"]):
                return tree
        raise AssertionError("no one-year age range isolates a few patients")

    def _everyone_but_one(self, federator: httpx.Client) -> dict[str, Any]:
        """Every age but one year, leaving out exactly one patient of the federation."""
        everyone = _ask(federator, {"ast": EVERYONE})["total"]["subjects_count"]
        for age in [*range(89, 75, -1), *range(19, 30)]:
            tree = {"operand": "OR", "children": [self._age(0, age - 0.5), self._age(age + 0.5, 200)]}
            if _ask(federator, {"ast": tree})["total"]["subjects_count"] == everyone - 1:
                return tree
        raise AssertionError("no age leaves out exactly one patient")

    def test_no_count_under_k_leaves_a_node(self, federator: httpx.Client, k10: httpx.Client) -> None:
        tree = self._isolating(federator)  # found on the exact nodes
        answer = _ask(k10, {"ast": tree})
        assert answer["complete"]
        counts = _counts(answer)
        assert any(counts) and all(c % 10 == 0 for c in counts), counts
        assert not any(0 < c < 10 for c in counts)

    def test_everyone_but_one_answers_as_everyone(self, federator: httpx.Client, k10: httpx.Client) -> None:
        tree = self._everyone_but_one(federator)
        everyone, but_one = _ask(k10, {"ast": EVERYONE}), _ask(k10, {"ast": tree})
        assert everyone["total"]["subjects_count"] == but_one["total"]["subjects_count"]
        for before, after in zip(everyone["nodes"], but_one["nodes"], strict=True):
            assert [c["subjects_count"] for c in before["collections"]] == \
                [c["subjects_count"] for c in after["collections"]]
        assert all(c % 10 == 0 for c in _counts(but_one))

    @pytest.mark.parametrize("name", list(CRITERIA))
    def test_every_count_is_a_multiple_of_k(self, k10: httpx.Client, name: str) -> None:
        assert all(c % 10 == 0 for c in _counts(_ask(k10, {"ast": CRITERIA[name]})))


# ------------------------------------------------------------------------------------------ (d) authentication
class TestAuth:
    """Nodes with API keys; the federator asks with its configured keys, never the caller's."""

    @pytest.fixture(scope="class")
    @classmethod
    def secured(cls, stores: dict[str, Path]) -> Iterator[dict[str, Any]]:
        directory = stores["base"].parent
        configs = {}
        for name, key in (("a", KEY_A), ("b", KEY_B)):
            configs[name] = directory / f"node-{name}-{next(_SERIAL)}.toml"
            configs[name].write_text(f'[[auth.api_keys]]\nid = "federator"\nhash = "{hash_key(key)}"\n'
                                     'roles = ["counts"]\n', encoding="utf-8")
        env = {"FEDTEST_KEY_A": KEY_A, "FEDTEST_SECRET_B": KEY_B, "FEDTEST_WRONG": WRONG_KEY}
        os.environ.update(env)
        logs: list[str] = []
        try:
            with ExitStack() as stack:
                a = stack.enter_context(node_server(_copy(stores, "a"), *SERVE, "--min-count", "1", "--config",
                                                    str(configs["a"]), stderr=logs))
                b = stack.enter_context(node_server(_copy(stores, "b"), *SERVE, "--min-count", "1", "--config",
                                                    str(configs["b"]), stderr=logs))
                nodes = _nodes_file(directory, [
                    {"name": "a", "url": _url(a), "api_key_env": "FEDTEST_KEY_A"},
                    {"name": "b", "url": _url(b), "secret_env": "FEDTEST_SECRET_B"},
                    {"name": "b-wrong-key", "url": _url(b), "api_key_env": "FEDTEST_WRONG"}])
                fed = stack.enter_context(node_server(_copy(stores, "base"), *SERVE, "--federation", str(nodes),
                                                      stderr=logs))
                yield {"a": a, "b": b, "federator": fed, "nodes": nodes}
        finally:
            for name in env:
                os.environ.pop(name, None)
        for key in (KEY_A, KEY_B, WRONG_KEY):  # no key ever reaches a log
            assert all(key not in text for text in logs)

    def test_configured_keys_are_used_and_a_wrong_key_is_an_error(self, secured: dict[str, Any]) -> None:
        # the caller's own (valid) key for node b is not passed on: b-wrong-key still fails
        response = secured["federator"].post("/api/federated/cohort", json={"ast": LUNG},
                                             headers={"Authorization": f"ApiKey {KEY_B}"})
        assert response.status_code == 200
        answer = response.json()
        by_name = {node["name"]: node for node in answer["nodes"]}
        assert by_name["a"]["status"] == by_name["b"]["status"] == "ok"
        assert by_name["b-wrong-key"]["status"] == "error" and "401" in by_name["b-wrong-key"]["detail"]
        assert not answer["complete"] and answer["answered"] == 2
        direct_a = _direct(secured["a"], LUNG, Authorization=f"ApiKey {KEY_A}")
        direct_b = _direct(secured["b"], LUNG, Authorization=f"Secret {KEY_B}")
        assert answer["total"]["subjects_count"] == _sum(direct_a) + _sum(direct_b)
        for key in (KEY_A, KEY_B, WRONG_KEY):
            assert key not in response.text and key not in str(response.headers)

    def test_without_a_key_the_node_refuses(self, secured: dict[str, Any]) -> None:
        assert secured["a"].post("/api/eucaim/ast", json={"ast": LUNG}).status_code == 401

    def test_cli_uses_the_configured_keys(self, secured: dict[str, Any], tmp_path: Path) -> None:
        criteria = tmp_path / "lung.json"
        criteria.write_text(json.dumps({"ast": LUNG}), encoding="utf-8")
        done = _cli("--nodes", secured["nodes"], "--criteria", criteria)
        assert done.returncode == 3
        for key in (KEY_A, KEY_B, WRONG_KEY):
            assert key not in done.stdout and key not in done.stderr
        assert [n["status"] for n in json.loads(done.stdout)["nodes"]] == ["ok", "ok", "error"]


# ------------------------------------------------------------------------------------------ (f) the nodes file
def _load(tmp_path: Path, text: str, **env: str) -> Federation:
    path = tmp_path / "nodes.yaml"
    path.write_text(text, encoding="utf-8")
    return load_nodes(path, environ=env)


@pytest.mark.parametrize(("text", "env", "message"), [
    ("nodes:\n  - {name: a, url: 'http://h:1'}\n  - {name: a, url: 'http://h:2'}\n", {},
     "nodes[1] ('a'): duplicate name 'a'"),
    ("nodes:\n  - {name: a, url: 'ftp://h/'}\n", {}, "nodes[0] ('a'): url 'ftp://h/' must be an http"),
    ("nodes:\n  - {name: a, url: 'http://'}\n", {}, "nodes[0] ('a'): url 'http://' must be an http"),
    ("nodes:\n  - {name: a, url: 'http://h:99999'}\n", {}, "nodes[0] ('a'): url is not a valid URL"),
    ("nodes:\n  - {name: a, url: 'http://h', api_key_env: FEDTEST_MISSING}\n", {},
     "nodes[0] ('a'): environment variable FEDTEST_MISSING is not set"),
    ("nodes:\n  - {name: a, url: 'http://h', timeout_s: -1}\n", {}, "nodes[0] ('a'): timeout_s must be a positive"),
    ("nodes:\n  - {name: a, url: 'http://h', colour: red}\n", {}, "nodes[0] ('a'): unknown keys ['colour']"),
    ("nodes:\n  - {url: 'http://h'}\n", {}, "nodes[0]: name must be"),
    ("nodes: []\n", {}, "'nodes' must be a non-empty list"),
    ("nodes: [\n", {}, "not valid YAML at line"),
])
def test_load_nodes_errors_name_the_file_and_the_entry(tmp_path: Path, text: str, env: dict[str, str],
                                                       message: str) -> None:
    with pytest.raises(ValueError, match="^" + str(tmp_path / "nodes.yaml").replace("\\", "\\\\")) as caught:
        _load(tmp_path, text, **env)
    assert message in str(caught.value)


def test_credentials_never_show(tmp_path: Path) -> None:
    secret = "s" * 40
    for text in (f"nodes:\n  - {{name: a, url: 'http://user:{secret}@h'}}\n",
                 f"nodes:\n  - {{name: a, url: 'http://h', api_key: '{secret}', secret_env: X}}\n",
                 f"nodes:\n  - {{name: a, url: 'http://h', api_key: '{secret} x'}}\n"):
        with pytest.raises(ValueError) as caught:
            _load(tmp_path, text, X=secret)
        assert secret not in str(caught.value)
    federation = _load(tmp_path, "nodes:\n  - {name: a, url: 'http://h/', secret_env: X}\n", X=secret)
    node = federation.nodes[0]
    assert node.headers == {"Authorization": f"Secret {secret}"}
    assert secret not in repr(federation) and secret not in str(node)
    assert (node.url, node.sparql_url, node.timeout_s) == ("http://h", "http://h/sparql", 10.0)


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="absent.yaml: cannot read"):
        load_nodes(tmp_path / "absent.yaml")


def test_criteria_files_and_forms(tmp_path: Path) -> None:
    (tmp_path / "tree.yaml").write_text("operand: OR\nchildren:\n  - {key: RID10311, type: EQUALS, value: RID10312}\n",
                                        encoding="utf-8")
    assert read_criteria(tmp_path / "tree.yaml")["operand"] == "OR"
    (tmp_path / "bad.json").write_text("{", encoding="utf-8")
    with pytest.raises(FederationError, match="bad.json: not valid JSON"):
        read_criteria(tmp_path / "bad.json")
    assert as_ast({}) == EVERYONE == criteria_to_ast({})
    assert criteria_to_ast({"sex": ["SCT:248153007"], "age": {"min": 50}}) == {"operand": "AND", "children": [
        {"operand": "OR", "children": [{"key": "SNOMEDCT263495000", "type": "EQUALS", "value": "SCT:248153007"}]},
        {"key": "SNOMEDCT423493009", "type": "BETWEEN", "value": {"min": 50}}]}
