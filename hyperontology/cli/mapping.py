"""``hyperontology mapping check``: validate mapping files and, given data, a dry run of what ingest would do."""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from hyperontology.mapping.dryrun import CheckReport, check_data, check_mappings
from hyperontology.mapping.loader import MappingSet, default_mappings_dir
from hyperontology.ontology.api import load_ontology
from hyperontology.pipeline import discover, group_series, read_all
from hyperontology.sources.base import Record, Rejection

MAPPING_SUFFIXES = (".yaml", ".yml")


class IntermixedParser(argparse.ArgumentParser):
    """A parser whose options may come anywhere among its positional arguments (``check a.csv --json b.csv``)."""

    _inner = False

    def parse_known_args(self, args: Sequence[str] | None = None,  # type: ignore[override]
                         namespace: argparse.Namespace | None = None) -> tuple[argparse.Namespace, list[str]]:
        if self._inner:  # parse_known_intermixed_args parses in two passes, through this method
            return super().parse_known_args(args, namespace)
        self._inner = True
        try:
            return self.parse_known_intermixed_args(args, namespace)
        finally:
            self._inner = False


def register(commands: Any) -> None:
    mapping = commands.add_parser("mapping", help="check mapping files and, on data, what they would do")
    mapping.add_argument("--json", action="store_true", default=argparse.SUPPRESS, help="print JSON only")
    sub = mapping.add_subparsers(dest="action", required=True, metavar="ACTION", parser_class=IntermixedParser)
    chk = sub.add_parser(
        "check", help="validate mapping files; with data, a dry run: missing columns, values that do not parse, "
        "values no value map covers, invalid codes and TNM values, required properties never filled (writes nothing)")
    chk.add_argument("paths", nargs="*", type=Path, metavar="PATH",
                     help="mapping files (*.yaml, replacing the shipped mappings) and data files or directories")
    chk.add_argument("--mappings", type=Path, help="mapping directory (default: the shipped mappings)")
    chk.add_argument("--valuemaps", type=Path,
                     help="value-map directory layered over the shipped value maps and MAPPINGS/valuemaps")
    chk.add_argument("--json", action="store_true", default=argparse.SUPPRESS, help="print JSON only")
    chk.set_defaults(run=cmd_mapping_check, inputs=("paths",))
    from hyperontology.cli import suggest  # imports this module (split_paths, the reader)

    suggest.add_parser(sub)


def split_paths(paths: Sequence[Path]) -> tuple[list[Path], list[Path]]:
    """Mapping files (``*.yaml`` / ``*.yml`` files) and data (everything else) among the PATH arguments."""
    files = [p for p in paths if p.suffix.lower() in MAPPING_SUFFIXES and p.is_file()]
    return files, [p for p in paths if p not in files]


def mapping_sources(files: list[Path], mappings: Path | None,
                    valuemaps: Path | None) -> tuple[list[Path], list[Path | None], Path | None]:
    """The mapping files of a command (those of ``--mappings``, else the shipped ones when no file is given, then
    the files given), its value-map folders in layering order (the mappings folder's, each file's, then
    ``--valuemaps``) and the mappings folder."""
    directory = mappings or (None if files else default_mappings_dir())
    own = sorted([*directory.glob("*.yaml"), *directory.glob("*.yml")]) if directory else []
    folders = [directory / "valuemaps" if directory else None, *(f.parent / "valuemaps" for f in files), valuemaps]
    return [*own, *files], folders, directory


def load_mappings(files: list[Path], mappings: Path | None, valuemaps: Path | None) -> MappingSet:
    """The mapping files given (with those of ``--mappings``), else ``--mappings``, else the shipped ones."""
    if not files:
        return MappingSet.load(mappings or default_mappings_dir(), valuemaps_dir=valuemaps)
    paths, folders, _ = mapping_sources(files, mappings, valuemaps)
    return MappingSet.from_files(paths, valuemaps_dirs=folders)


def cmd_mapping_check(args: argparse.Namespace) -> int:
    """Exit 0 when nothing needs the mapping changed, 1 when the check found errors (2: a mapping file is invalid)."""
    files, data = split_paths(args.paths)
    mappings = load_mappings(files, args.mappings, args.valuemaps)
    if data:
        records, rejected = read_records(data)
        report = check_data(mappings, group_series(records)[0], load_ontology())
        report.warnings[:0] = rejected
    else:
        report = check_mappings(mappings)
    if getattr(args, "json", False):
        print(json.dumps(report.as_dict(), indent=2, ensure_ascii=False))
    else:
        _print(report, with_data=bool(data))
    return 1 if report.errors else 0


def read_records(paths: list[Path]) -> tuple[list[Record], list[str]]:
    """The records of the data paths, and what could not be read (each with its file and reason)."""
    records: list[Record] = []
    rejected: list[str] = []
    for _, _, items in read_all(list(discover(paths)), 1):
        for item in items:
            if isinstance(item, Rejection):
                rejected.append(f"{item.provenance}: not read: {item.reason}")
            else:
                records.append(item)
    return records, rejected


def _print(report: CheckReport, *, with_data: bool) -> None:
    print(f"{len(report.mappings)} mapping files valid: " + ", ".join(report.mappings))
    for note in report.notes:
        print(f"note: {note}")
    for error in report.errors:
        print(f"error: {error}")
    for warning in report.warnings:
        print(f"warning: {warning}")
    if with_data:
        print("value map\tvalue\tcount (not in the value map: extend it)")
        for key, n in report.unmapped_values.items():
            print(f"{key}\t{n}")
        unknown = ", ".join(f"{c} ({n})" for c, n in report.unknown_codes.items())
        print("codes not in the hyperontology: " + (unknown or "none"))
        print("records no mapping selects: " + (", ".join(
            f"{k} ({n})" for k, n in report.records_not_mapped.items()) or "none"))
    print(f"{len(report.errors)} errors, {len(report.warnings)} warnings")
