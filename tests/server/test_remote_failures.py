"""What a client's text costs the server before it runs, and what a remote endpoint's nonsense gives back.

Real servers (``hyperontology serve``) on a small store. The allow-list parses a text that names SERVICE, LOAD,
FROM, USING or WITH (rdflib's parser: tens of seconds for a megabyte); that happens on a query worker within
the query's timeout, so the server keeps answering meanwhile and a text too slow to check is stopped with its
worker. An allowed SERVICE whose endpoint answers something unreadable is a 502 naming the failure, never a
bare 500 with a traceback in the log.
"""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.processes import node_server

#: what a SPARQL endpoint might answer instead of results: truncated JSON, HTML, broken XML, a control character
NONSENSE = [
    ("application/sparql-results+json", b'{"head": {"vars": ["s"]}, "results": {"bindings": [{"s": {"type": "uri"'),
    ("text/html", b"<html><body>Bad gateway</body></html>"),
    ("application/sparql-results+xml", b"<sparql xmlns='http://www.w3.org/2005/sparql-results#'><head>"),
    ("application/sparql-results+json", b'{"head":{"vars":["s"]},"results":{"bindings":[{"s":{"type":"literal",'
                                        b'"value":"a\x01b"}}]}}'),
]


class _Nonsense(http.server.BaseHTTPRequestHandler):
    answer: tuple[str, bytes] = NONSENSE[0]

    def do_GET(self) -> None:  # noqa: N802 (the name http.server calls)
        self._answer()

    def do_POST(self) -> None:  # noqa: N802
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self._answer()

    def _answer(self) -> None:
        media, body = type(self).answer
        self.send_response(200)
        self.send_header("Content-Type", media)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        """Quiet."""


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    """A local HTTP server that answers every request with :attr:`_Nonsense.answer`."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Nonsense)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/sparql"
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize("answer", NONSENSE, ids=["truncated-json", "html", "broken-xml", "control-character"])
def test_an_unreadable_service_answer_is_a_502(small_store: Path, endpoint: str, answer: tuple[str, bytes]) -> None:
    _Nonsense.answer = answer
    stderr: list[str] = []
    with node_server(small_store, "--allow-remote", endpoint, stderr=stderr) as client:
        response = client.get("/sparql", params={"query": f"SELECT * WHERE {{ SERVICE <{endpoint}> {{ ?s ?p ?o }} }}"})
        assert response.status_code == 502, response.text
        assert "a remote call (SERVICE or LOAD) failed" in response.text
        assert client.get("/sparql", params={"query": "ASK {}"}).status_code == 200  # and the node goes on
    assert "Traceback" not in stderr[0]


def _keyword_text(size: int) -> str:
    """A query of about ``size`` bytes whose strings say "from": the allow-list must parse it."""
    branch = '{ ?s <http://example.org/p> "taken from somewhere" }'
    return "SELECT * WHERE { " + " UNION ".join([branch] * (size // (len(branch) + 7))) + " }"


def test_a_text_too_slow_to_check_is_stopped_at_the_timeout(small_store: Path) -> None:
    """Checked on the server's event loop, the text would hold the server for its whole check and then run (200);
    on a worker, the check is part of the query's time: stopped at the timeout, its worker replaced."""
    text = _keyword_text(900_000)
    with node_server(small_store, "--workers", "1", "--timeout", "1", "--queue-wait", "120") as client:
        response = client.post("/sparql", content=text, headers={"Content-Type": "application/sparql-query"})
        assert response.status_code == 503 and "query timeout" in response.text
        assert client.get("/sparql", params={"query": "ASK {}"}).status_code == 200  # the worker was replaced
