"""The ``hyperontology`` console script: one entry point, a sub-command per part of the library."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from hyperontology import __version__
from hyperontology.cli import data, deid, ontology
from hyperontology.errors import HyperontologyError
from hyperontology.server import cli as server_cli


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hyperontology", description="Semantic interoperability for cancer imaging.")
    parser.add_argument("--version", action="version", version=f"hyperontology {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    ontology.register(commands)
    data.register(commands)
    deid.register(commands)
    server_cli.register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; errors of the library print one line naming the input and exit with status 2."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.run(args))
    except HyperontologyError as exc:
        print(f"hyperontology: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
