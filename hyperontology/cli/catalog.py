"""``hyperontology catalog describe | template``: dataset descriptions for the EUCAIM catalogue (docs/catalogue.md).

``describe`` writes the ``dcat:Dataset`` and ``dcat:Distribution`` of one dataset of a store, computed from the store
and completed from the data holder's metadata YAML, validated against the EUCAIM DCAT-AP v2.0 shapes
(:mod:`hyperontology.interop.dcat`); a missing mandatory property is an error naming it (exit 2). Values without a
EUCAIM code are left out and listed on stderr. ``template`` prints the metadata template.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from hyperontology.cli.data import _positive


def register(commands: Any) -> None:
    """Add the ``catalog`` sub-command (``describe``, ``template``) to the CLI's sub-parsers."""
    parser: argparse.ArgumentParser = commands.add_parser(
        "catalog", help="dataset descriptions for the EUCAIM catalogue (DCAT-AP)",
        description="Describe a dataset of the store as the EUCAIM DCAT Application Profile v2.0 asks.")
    actions = parser.add_subparsers(dest="catalog_command", required=True, metavar="ACTION")
    describe = actions.add_parser(
        "describe", help="write the dcat:Dataset and dcat:Distribution of a dataset",
        description="Counts, codes, ages and dates from the store; the rest from the metadata YAML. Exit 2 when a "
                    "mandatory property of the profile is missing (the message names it).")
    describe.add_argument("--store", required=True, metavar="DIR", help="the store (a directory or a SPARQL URL)")
    which = describe.add_mutually_exclusive_group(required=True)
    which.add_argument("--dataset", metavar="ID", help="the dataset's identifier")
    which.add_argument("--catalogue", action="store_true",
                       help="the node's dcat:Catalog of every dataset of the store instead (the metadata's catalog: "
                            "entry; publisher and applicable legislation default to the datasets')")
    describe.add_argument("--metadata", type=Path, metavar="FILE.yaml", help="the data holder's metadata")
    describe.add_argument("--output", type=Path, metavar="FILE", help="where to write (default: standard output)")
    describe.add_argument("--format", choices=("ttl", "jsonld"), default="ttl", help="Turtle (default) or JSON-LD")
    describe.add_argument("--min-count", type=_positive, default=10, metavar="K",
                          help="disclosure threshold: counts rounded up to multiples of K (default 10; 1: exact)")
    describe.set_defaults(run=cmd_describe, inputs=("metadata",))
    template = actions.add_parser("template", help="print the metadata template to fill")
    template.set_defaults(run=cmd_template)


def cmd_describe(args: argparse.Namespace) -> int:
    from hyperontology.federation.disclosure import Disclosure
    from hyperontology.interop.dcat import describe_catalog_store, describe_store, read_metadata, serialize
    from hyperontology.ontology import load_ontology

    metadata = read_metadata(args.metadata)
    store = args.store if "://" in args.store else Path(args.store)
    if isinstance(store, Path) and not store.is_dir():
        from hyperontology.errors import HyperontologyError

        raise HyperontologyError(f"{store}: no store there")
    if args.catalogue:
        description = describe_catalog_store(store, metadata=metadata)
    else:
        description = describe_store(store, args.dataset, load_ontology(), metadata=metadata,
                                     disclosure=Disclosure(args.min_count))
    for prop, iri in description.omitted:
        print(f"note: eucaim:{prop}: {iri} has no EUCAIM code of the profile's branch; left out", file=sys.stderr)
    for warning in description.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    text = serialize(description.graph, args.format)
    if args.output is None:
        sys.stdout.write(text)
    else:
        args.output.write_text(text, encoding="utf-8")
    return 0


def cmd_template(args: argparse.Namespace) -> int:
    from hyperontology.interop.dcat import template_text

    sys.stdout.write(template_text())
    return 0


__all__ = ["register"]
