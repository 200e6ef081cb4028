"""``hyperontology federate cohort --nodes NODES.yaml --criteria FILE``: ask every node of a federation.

Prints the federated answer as JSON (every node with its status and disclosed counts, and the total of those that
answered; :func:`hyperontology.federation.fanout.federate`). Exit status: 0 when every node answered, 3 when some
did not (the answer is partial), 2 on bad input (``error: ...`` on stderr, naming the file and the entry).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path
from typing import Any

EXIT_PARTIAL = 3


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError("the timeout must be a positive number of seconds")
    return value


def register(commands: Any) -> None:
    """Add the ``federate`` sub-command (and its ``cohort`` action) to the CLI's sub-parsers."""
    parser: argparse.ArgumentParser = commands.add_parser(
        "federate", help="ask the nodes of a federation (their disclosed counts, added up)",
        description="Send one query to every node listed in a nodes file and add up their answers.")
    actions = parser.add_subparsers(dest="federate_command", required=True, metavar="ACTION")
    cohort = actions.add_parser(
        "cohort", help="count a cohort on every node",
        description="Count a cohort on every node: the criteria are an explorer tree ({\"ast\": ...}) or the "
                    "project's own criteria (diagnosis, modality, body_site, sex, age), in JSON or YAML. Exit 0 "
                    "when every node answered, 3 when the answer is partial, 2 on bad input.")
    cohort.add_argument("--nodes", type=Path, required=True, metavar="NODES.yaml", help="the nodes file")
    cohort.add_argument("--criteria", type=Path, required=True, metavar="FILE", help="the criteria (JSON or YAML)")
    cohort.add_argument("--timeout", type=_seconds, metavar="S", help="per-node timeout (default: the nodes file's)")
    cohort.set_defaults(run=cmd_cohort)


def cmd_cohort(args: argparse.Namespace) -> int:
    from hyperontology.federation.fanout import read_criteria
    from hyperontology.federation.nodes import load_nodes

    try:
        federation = load_nodes(args.nodes)
        ast = read_criteria(args.criteria)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.timeout is not None:
        federation = federation.with_timeout(args.timeout)
    from hyperontology.federation.fanout import federate_sync

    answer = federate_sync(federation, ast)
    print(json.dumps(answer, indent=2))
    for node in answer["nodes"]:
        if node["status"] != "ok":
            print(f"warning: node {node['name']}: {node['status']} ({node['detail']})", file=sys.stderr)
    return 0 if answer["complete"] else EXIT_PARTIAL


__all__ = ["register"]
