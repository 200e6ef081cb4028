"""``hyperontology deidentify IN OUT`` and ``hyperontology keygen FILE``: DICOM de-identification (PS3.15).

``deidentify`` walks IN (a file, or a directory recursively), writes each de-identified DICOM file under OUT
at the same relative path, and accounts for every input in the audit JSON: written, excluded (burned-in
annotation, with the reason) or rejected (not DICOM, unreadable). The key comes from ``--key-file`` or
``$HYPERONTOLOGY_KEY``; only its id is ever printed. ``keygen`` writes a new key and prints its id.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

from hyperontology.mapping.loader import default_mappings_dir
from hyperontology.pseudonymize.dicom import AuditEntry, DeidentificationError, Deidentifier
from hyperontology.pseudonymize.keys import load_key, new_key_file
from hyperontology.pseudonymize.profile import Profile, load_profile

DEFAULT_PROFILE = "deid/profile.yaml"


def register(commands: Any) -> None:
    """Add the ``deidentify`` and ``keygen`` sub-commands to an argparse sub-parsers object."""
    deid = commands.add_parser("deidentify", help="de-identify DICOM files (PS3.15 Annex E profile and options)")
    deid.add_argument("input", type=Path, metavar="IN", help="a DICOM file or a directory (recursive)")
    deid.add_argument("output", type=Path, metavar="OUT", help="output directory (mirrors IN's layout)")
    deid.add_argument("--profile", type=Path, help=f"profile YAML (default: the shipped {DEFAULT_PROFILE})")
    deid.add_argument("--key-file", type=Path, help="pseudonymization key (else $HYPERONTOLOGY_KEY)")
    deid.add_argument("--audit", type=Path, help="write the audit JSON (never holds a value or the key)")
    deid.set_defaults(run=cmd_deidentify)
    keygen = commands.add_parser("keygen", help="write a new pseudonymization key to FILE; prints its id only")
    keygen.add_argument("file", type=Path, metavar="FILE")
    keygen.set_defaults(run=cmd_keygen)


def default_profile() -> Profile:
    """The shipped profile file, else the same options built in (EUCAIM-style research use)."""
    path = default_mappings_dir() / DEFAULT_PROFILE
    if path.is_file():
        return load_profile(path)
    return Profile(retain_longitudinal_modified_dates=True, retain_patient_characteristics=True,
                   retain_device_identity=True, clean_descriptors=True, burned_in="exclude")


def _inputs(root: Path, output: Path) -> list[tuple[Path, Path]]:
    """(source, relative output path) pairs; files already under OUT are skipped."""
    if root.is_file():
        return [(root, Path(root.name))]
    out = output.resolve()
    pairs = []
    for path in sorted(root.rglob("*")):
        if path.is_file() and out not in path.resolve().parents:
            pairs.append((path, path.relative_to(root)))
    return pairs


def _summary(entries: list[AuditEntry], rejected: list[dict[str, str]]) -> dict[str, int]:
    return {"written": sum(1 for e in entries if not e.excluded), "excluded": sum(1 for e in entries if e.excluded),
            "rejected": len(rejected), "flagged_burned_in": sum(1 for e in entries if e.burned_in and not e.excluded)}


def cmd_deidentify(args: argparse.Namespace) -> int:
    key = load_key(args.key_file)
    profile = load_profile(args.profile) if args.profile else default_profile()
    if not args.input.exists():
        raise DeidentificationError(f"{args.input}: no such file or directory")
    engine = Deidentifier(key, profile)
    entries: list[AuditEntry] = []
    rejected: list[dict[str, str]] = []
    for source, relative in _inputs(args.input, args.output):
        try:
            entries.append(engine.deidentify_file(source, args.output / relative))
        except DeidentificationError as exc:
            rejected.append({"source": str(source), "reason": str(exc)})
    summary = _summary(entries, rejected)
    if args.audit:
        report = {"key_id": key.key_id, "profile": asdict(profile), "summary": summary,
                  "files": [e.to_dict() for e in entries], "rejected": rejected}
        args.audit.parent.mkdir(parents=True, exist_ok=True)
        args.audit.write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    print(" ".join(f"{name}={count}" for name, count in summary.items()) + f" key_id={key.key_id}")
    return 0


def cmd_keygen(args: argparse.Namespace) -> int:
    key = new_key_file(args.file)
    print(key.key_id)
    return 0
