"""``hyperontology serve``: run the node's server (SPARQL endpoint and search API) with uvicorn.

Authentication is configured by the ``[auth]`` table of a TOML file (``--config FILE``; the format is in
:mod:`hyperontology.server.settings`). ``--hash-key`` reads an API key from stdin and prints the entry to paste
into that file (the key itself is never written)::

    python -c "import secrets; print(secrets.token_urlsafe(32))" > agent.key   # give agent.key to the caller
    hyperontology serve --hash-key --key-id federated-search --role counts < agent.key >> node.toml

``SERVICE``, ``LOAD`` and ``FROM`` are refused unless their target is under an ``--allow-remote PREFIX``
(repeatable) or an entry of ``allow_remote`` in the ``[sparql]`` table of that file (both lists are used).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from hyperontology.cli.data import store_location
from hyperontology.server.allowlist import check_entry
from hyperontology.server.settings import AuthConfigError, FileConfig, ServerSettings, hash_key, load_config


def register(commands: Any) -> None:
    """Add the ``serve`` sub-command to the CLI's sub-parsers."""
    parser: argparse.ArgumentParser = commands.add_parser(
        "serve", help="serve a store: SPARQL 1.1 endpoint and semantic search API",
        description="Serve a node's store over HTTP (read-only unless --allow-update).")
    parser.add_argument("--store", type=store_location, metavar="DIR|URL",
                        help="the store: a directory, or the URL of a SPARQL 1.1 + Graph Store Protocol server "
                             "(e.g. an Oxigraph server, http://127.0.0.1:7878); required to serve")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default: %(default)s)")
    parser.add_argument("--port", type=int, default=8000, help="port (default: %(default)s)")
    parser.add_argument("--allow-update", action="store_true", help="accept SPARQL updates")
    parser.add_argument("--max-rows", type=int, default=10_000, metavar="N", help="row cap of SELECT results")
    parser.add_argument("--timeout", type=float, default=30.0, metavar="S", help="query timeout in seconds")
    parser.add_argument("--workers", type=int, default=4, metavar="N",
                        help="queries at once: worker processes on a store directory (one with --allow-update), "
                             "threads on a remote store (default 4)")
    parser.add_argument("--queue-wait", type=float, default=10.0, metavar="S",
                        help="how long a query waits for a free worker before 503 (default 10)")
    parser.add_argument("--query-memory", type=int, default=1024, metavar="MIB",
                        help="memory one query may take on a store directory, in MiB; more is stopped with 507 "
                             "(default 1024; 0: no cap)")
    parser.add_argument("--max-result-bytes", type=int, default=16_000_000, metavar="N",
                        help="results are cut (X-Result-Truncated) before they pass this size (default 16000000)")
    parser.add_argument("--cors-origin", action="append", default=[], metavar="ORIGIN",
                        help="allow this origin (CORS); repeatable")
    parser.add_argument("--allow-remote", action="append", default=[], metavar="PREFIX",
                        help="let SERVICE, LOAD and FROM name URLs under this http(s) prefix; repeatable "
                             "(everything else is refused)")
    counts = parser.add_argument_group("counts that leave the node (docs/federation.md)")
    counts.add_argument("--min-count", type=int, default=10, metavar="K",
                        help="disclosure threshold: a count under K is never returned as such (default 10; 1: exact)")
    counts.add_argument("--small-counts", choices=("round-up", "suppress"), default="round-up",
                        help="explorer counts: zero stays zero, others rounded up to a multiple of K (round-up, "
                             "default), or counts under K become 0 (suppress)")
    counts.add_argument("--aggregate-only", action="store_true",
                        help="answer counts only: /sparql is closed to every caller")
    counts.add_argument("--default-collection", default="default", metavar="ID",
                        help="collection id of patients ingested without --dataset (default: %(default)s)")
    counts.add_argument("--federation", type=Path, metavar="NODES.yaml",
                        help="make this node a federator of the nodes listed in the file (/api/federated/cohort; "
                             "SERVICE may then name their /sparql)")
    parser.add_argument("--config", type=Path, metavar="FILE",
                        help="TOML file whose [auth] table configures API keys, OIDC and the rate limit, and "
                             "whose [sparql] table may list allow_remote prefixes")
    keys = parser.add_argument_group("API keys")
    keys.add_argument("--hash-key", action="store_true",
                      help="read an API key from stdin, print its [[auth.api_keys]] entry and exit")
    keys.add_argument("--key-id", default="caller", help="id of the hashed key (default: %(default)s)")
    keys.add_argument("--role", action="append", default=[], metavar="ROLE",
                      help="role of the hashed key (repeatable; default: reader)")
    parser.set_defaults(run=run)


def _print_key_entry(args: argparse.Namespace) -> int:
    try:
        digest = hash_key(sys.stdin.readline())
    except AuthConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    roles = ", ".join(f'"{role}"' for role in (args.role or ["reader"]))
    print(f'[[auth.api_keys]]\nid = "{args.key_id}"\nhash = "{digest}"\nroles = [{roles}]')
    return 0


def _settings(args: argparse.Namespace) -> ServerSettings:
    """The settings from the options and the ``--config`` file (its allow_remote list added to the options')."""
    for entry in args.allow_remote:
        try:
            check_entry(entry)
        except ValueError as exc:
            raise AuthConfigError(f"--allow-remote: {exc}") from exc
    config = load_config(args.config) if args.config is not None else FileConfig()
    federation = None
    members: list[str] = []
    if args.federation is not None:
        from hyperontology.federation.nodes import load_nodes

        try:
            federation = load_nodes(args.federation)
        except ValueError as exc:
            raise AuthConfigError(str(exc)) from exc
        members = [node.sparql_url for node in federation.nodes]
    allow_remote = tuple(dict.fromkeys([*args.allow_remote, *config.allow_remote, *members]))
    return ServerSettings(store=args.store, allow_update=args.allow_update, max_rows=args.max_rows,
                          timeout_s=args.timeout, cors_origins=tuple(args.cors_origin),
                          auth=config.auth if args.config is not None else None, workers=max(1, args.workers),
                          queue_wait_s=args.queue_wait, allow_remote=allow_remote,
                          query_memory_mb=args.query_memory or None, max_result_bytes=args.max_result_bytes,
                          min_count=args.min_count, small_counts=args.small_counts,
                          aggregate_only=args.aggregate_only, default_collection=args.default_collection,
                          federation=federation)


def run(args: argparse.Namespace) -> int:
    import uvicorn

    from hyperontology.server.app import create_app

    if args.hash_key:
        return _print_key_entry(args)
    if args.store is None:
        print("error: serve needs --store DIR", file=sys.stderr)
        return 2
    if isinstance(args.store, Path) and not args.store.is_dir():
        what = "not a store directory" if args.store.exists() else "no such directory"
        print(f"error: {args.store}: {what} (create one with `hyperontology ingest` or `quickstart`)",
              file=sys.stderr)
        return 2
    try:
        settings = _settings(args)
        app = create_app(settings)
    except AuthConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(start_line(settings, args.host, args.port), file=sys.stderr, flush=True)
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")
    return 0


def start_line(settings: ServerSettings, host: str, port: int) -> str:
    """What ``serve`` says at start: its URL, the store it serves and how callers authenticate.

    Examples
    --------
    >>> print(start_line(ServerSettings(store=Path("store")), "127.0.0.1", 8000))
    serving store on http://127.0.0.1:8000/ (SPARQL at /sparql, API at /docs); read-only; auth: none (open to \
anyone who reaches the port); Ctrl+C to stop
    """
    shown = f"[{host}]" if ":" in host else host
    auth = settings.auth
    if auth is None or not auth.enabled:
        mode = "none (open to anyone who reaches the port)"
    else:
        kinds = [f"{len(auth.api_keys)} API keys"] if auth.api_keys else []
        kinds += ["OIDC bearer tokens"] if auth.oidc is not None else []
        mode = " and ".join(kinds) or "on"
    access = "updates allowed" if settings.allow_update else "read-only"
    return (f"serving {_without_credentials(settings.store)} on http://{shown}:{port}/ (SPARQL at /sparql, API at "
            f"/docs); {access}; auth: {mode}; Ctrl+C to stop")


def _without_credentials(store: Path | str) -> str:
    """The store as it may be shown: a remote store's URL without ``user:password@``."""
    if isinstance(store, Path):
        return str(store)
    parts = urlsplit(store)
    return urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))


__all__ = ["register"]
