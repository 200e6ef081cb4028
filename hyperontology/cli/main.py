"""The ``hyperontology`` console script: one entry point, a sub-command per part of the library."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from hyperontology import __version__
from hyperontology.cli import catalog, data, deid, federate, ontology
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
    federate.register(commands)
    catalog.register(commands)
    return parser


def missing_inputs(args: argparse.Namespace) -> list[Path]:
    """The input paths of the command (the arguments it names in its ``inputs`` default) that do not exist."""
    found: list[Path] = []
    for name in getattr(args, "inputs", ()):
        value = getattr(args, name, None)
        for path in value if isinstance(value, list) else [value]:
            if isinstance(path, Path) and not path.exists():
                found.append(path)
    return found


def _quiet_stdout() -> None:
    """Point standard output at /dev/null: the reader has gone, and the exit flush must not fail again."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; errors of the library print one line naming the input and exit with status 2.

    A missing input path is such an error. Output cut short by its reader (``hyperontology ... | head``) ends
    quietly with status 141, as a process killed by SIGPIPE would.
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        for path in missing_inputs(args):
            raise HyperontologyError(f"{path}: no such file or directory")
        status = int(args.run(args))
        sys.stdout.flush()
        return status
    except HyperontologyError as exc:
        print(f"hyperontology: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        _quiet_stdout()
        return 141


if __name__ == "__main__":
    sys.exit(main())
