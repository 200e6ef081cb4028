"""Real processes for tests: ``hyperontology serve`` and an Oxigraph server, on free loopback ports."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

LAUNCH_SERVE = """
import argparse, sys
from hyperontology.server import cli
parser = argparse.ArgumentParser()
cli.register(parser.add_subparsers())
args = parser.parse_args(sys.argv[1:])
sys.exit(args.run(args))
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait(proc: subprocess.Popen[bytes], ready: Callable[[], bool], what: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while True:
        assert proc.poll() is None, f"{what} exited with {proc.returncode}"
        try:
            if ready():
                return
        except httpx.TransportError:
            pass
        assert time.monotonic() < deadline, f"{what} did not start in {seconds} s"
        time.sleep(0.1)


def oxigraph_binary() -> str:
    """The ``oxigraph`` server of the PyPI package ``oxigraph`` (a test dependency)."""
    found = shutil.which("oxigraph") or str(Path(sys.executable).parent / "oxigraph")
    assert Path(found).is_file(), "the oxigraph server is missing: pip install -e '.[test]' installs it"
    return found


@contextmanager
def oxigraph_server(location: Path) -> Iterator[str]:
    """An Oxigraph server (read-write) on ``location``; yields its base URL."""
    port = free_port()
    proc = subprocess.Popen([oxigraph_binary(), "serve", "--location", str(location), "--bind", f"127.0.0.1:{port}"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait(proc, lambda: httpx.get(url + "/query", params={"query": "ASK {}"}, timeout=5).status_code == 200,
              "the oxigraph server")
        yield url
    finally:
        proc.kill()
        proc.wait()


@contextmanager
def node_server(store: Path | str, *extra: str, stderr: list[str] | None = None,
                pid: list[int] | None = None) -> Iterator[httpx.Client]:
    """``hyperontology serve --store STORE`` as a process; yields a client on its base URL once /health answers.

    With ``stderr`` (a list), what the process wrote there is appended to it when it has stopped. With ``pid``
    (a list), the process id is appended to it when it has started.
    """
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-c", LAUNCH_SERVE, "serve", "--store", str(store), "--port", str(port),
                             *extra], stderr=subprocess.PIPE if stderr is not None else None, text=True)
    if pid is not None:
        pid.append(proc.pid)
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
            _wait(proc, lambda: client.get("/health").status_code == 200, "the node server")
            yield client
    finally:
        proc.kill()
        _, err = proc.communicate()
        if stderr is not None:
            stderr.append(err or "")


def ingest_samples(location: Path | str) -> dict[str, Any]:
    """The shipped samples ingested into a store (a directory or a remote URL) with a fixed test key."""
    from hyperontology import load_ontology
    from hyperontology.mapping.loader import MappingSet, default_mappings_dir
    from hyperontology.pipeline import IngestOptions, ingest
    from hyperontology.pseudonymize.keys import PseudonymKey

    options = IngestOptions(key=PseudonymKey(bytes(range(32))), mappings=MappingSet.load(default_mappings_dir()),
                            store_path=location)
    return ingest([default_mappings_dir().parent / "samples"], options, ontology=load_ontology())
