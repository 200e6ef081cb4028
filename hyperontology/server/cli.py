"""``hyperontology serve``: run the node's server (SPARQL endpoint and search API) with uvicorn."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from hyperontology.server.settings import ServerSettings


def register(commands: Any) -> None:
    """Add the ``serve`` sub-command to the CLI's sub-parsers."""
    parser: argparse.ArgumentParser = commands.add_parser(
        "serve", help="serve a store: SPARQL 1.1 endpoint and semantic search API",
        description="Serve a node's store over HTTP (read-only unless --allow-update).")
    parser.add_argument("--store", type=Path, required=True, metavar="DIR", help="the store directory")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default: %(default)s)")
    parser.add_argument("--port", type=int, default=8000, help="port (default: %(default)s)")
    parser.add_argument("--allow-update", action="store_true", help="accept SPARQL updates")
    parser.add_argument("--max-rows", type=int, default=10_000, metavar="N", help="row cap of SELECT results")
    parser.add_argument("--timeout", type=float, default=30.0, metavar="S", help="query timeout in seconds")
    parser.add_argument("--cors-origin", action="append", default=[], metavar="ORIGIN",
                        help="allow this origin (CORS); repeatable")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    import uvicorn

    from hyperontology.server.app import create_app

    settings = ServerSettings(store=args.store, allow_update=args.allow_update, max_rows=args.max_rows,
                              timeout_s=args.timeout, cors_origins=tuple(args.cors_origin))
    uvicorn.run(create_app(settings), host=args.host, port=args.port, log_level="warning")
    return 0


__all__ = ["register"]
