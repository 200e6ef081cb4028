"""``hyperontology mapping suggest``: candidate concepts for the values no value map covers, as SSSOM TSV.

``mapping suggest MAPPING.yaml DATA...`` runs the mapping on the data and writes, for every value a field's value
map lacks, the ranked candidates (:mod:`hyperontology.mapping.suggest`). A value map the mapping names but that no
folder holds yet is taken as empty, so a curator can start a new table from the template with made-up value-map
names. ``mapping suggest --accept FILE.sssom.tsv --valuemap NAME`` turns the rows the curator kept into the value
map ``NAME`` (written to ``--out``, by default ``NAME.sssom.tsv``).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from hyperontology.cli.mapping import mapping_sources, read_records, split_paths
from hyperontology.mapping.loader import MappingSet
from hyperontology.mapping.sssom import accept, write_suggestions, write_valuemap
from hyperontology.mapping.suggest import Unmapped, suggest
from hyperontology.ontology.api import load_ontology
from hyperontology.pipeline import group_series


def add_parser(sub: Any) -> None:
    sug = sub.add_parser(
        "suggest", help="rank hyperontology concepts for every value no value map covers (SSSOM TSV to curate); "
        "--accept turns the curated rows into a value map")
    sug.add_argument("paths", nargs="*", type=Path, metavar="PATH",
                     help="mapping files (*.yaml) and data files or directories")
    sug.add_argument("--mappings", type=Path, help="mapping directory (default: the shipped mappings)")
    sug.add_argument("--valuemaps", type=Path, help="value-map directory layered over the shipped value maps")
    sug.add_argument("--out", type=Path, help="write the SSSOM TSV (or, with --accept, the value map) here")
    sug.add_argument("--top", type=int, default=5, metavar="N", help="candidates per value (default 5)")
    sug.add_argument("--accept", type=Path, metavar="FILE",
                     help="a curated suggestion file: write the value map of its kept rows (needs --valuemap)")
    sug.add_argument("--valuemap", metavar="NAME", help="with --accept: the value map whose rows to keep")
    sug.add_argument("--json", action="store_true", default=argparse.SUPPRESS, help="print JSON only")
    sug.set_defaults(run=cmd_mapping_suggest, inputs=("paths",))


def load_for_suggest(files: list[Path], mappings: Path | None, valuemaps: Path | None) -> MappingSet:
    """The mappings as ``mapping check`` loads them, a value map no folder holds being taken as empty."""
    paths, folders, directory = mapping_sources(files, mappings, valuemaps)
    return MappingSet.from_files(paths, valuemaps_dirs=folders, directory=directory, missing_valuemaps_empty=True)


def cmd_mapping_suggest(args: argparse.Namespace) -> int:
    """Exit 0 (suggestions written, or the value map accepted), 2 on a usage error."""
    if args.accept is not None:
        return _accept(args)
    files, data = split_paths(args.paths)
    if not data:
        print("error: mapping suggest needs data files or directories (or --accept FILE)", file=sys.stderr)
        return 2
    mappings = load_for_suggest(files, args.mappings, args.valuemaps)
    records, rejected = read_records(data)
    for reason in rejected:  # not lost silently: said on stderr, the suggestions stay on stdout
        print(reason, file=sys.stderr)
    found = suggest(mappings, group_series(records)[0], load_ontology(), top=args.top)
    if getattr(args, "json", False):
        print(json.dumps([_as_dict(u) for u in found], indent=2, ensure_ascii=False))
    elif args.out is not None:
        with args.out.open("w", encoding="utf-8", newline="") as out:
            write_suggestions(found, out)
        print(f"{sum(len(u.suggestions) for u in found)} candidates for {len(found)} values -> {args.out}")
    else:
        write_suggestions(found, sys.stdout)
    return 0


def _accept(args: argparse.Namespace) -> int:
    if not args.valuemap:
        print("error: --accept needs --valuemap NAME (the value map to write)", file=sys.stderr)
        return 2
    if not args.accept.is_file():
        print(f"error: {args.accept}: no such file", file=sys.stderr)
        return 2
    with args.accept.open(encoding="utf-8-sig") as text:
        rows = accept(text, args.valuemap, source=str(args.accept))
    out_path = args.out or Path(f"{args.valuemap}.sssom.tsv")
    with out_path.open("w", encoding="utf-8", newline="") as out:
        write_valuemap(rows, out, name=args.valuemap, source=args.accept.name)
    print(f"{len(rows)} rows of value map {args.valuemap} -> {out_path}")
    return 0


def _as_dict(u: Unmapped) -> dict[str, Any]:
    return {"valuemap": u.valuemap, "value": u.value, "count": u.count, "fields": list(u.fields),
            "suggestions": [{"object_id": s.curie, "object_label": s.concept.label, "predicate_id": s.predicate,
                             "confidence": s.confidence, "evidence": s.evidence} for s in u.suggestions]}
