"""``hyperontology deidentify IN OUT`` and ``hyperontology keygen FILE``: DICOM de-identification (PS3.15).

``deidentify`` walks IN (a file, or a directory recursively) and writes each de-identified DICOM file under OUT
as ``<patient pseudonym>/<study UID>/<series UID>/<SOP instance UID>.dcm``: keyed values only, never the input's
folder or file names (they often hold patient names or record numbers). Every input is accounted for in the
audit JSON by a keyed digest of its path, never the path: written (with its output name), excluded (burned-in
annotation, with the reason) or rejected (not DICOM, unreadable, not writable as Part 10, or a second copy of
an instance already written). The key comes from ``--key-file`` or ``$HYPERONTOLOGY_KEY``; only its id is ever
printed. ``keygen`` writes a new key and prints its id.
"""

from __future__ import annotations

import argparse
import json
import logging
import re
import sys
import warnings
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, replace
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
    deid.add_argument("output", type=Path, metavar="OUT",
                      help="output directory (patient/study/series/instance, keyed names only)")
    deid.add_argument("--profile", type=Path, help=f"profile YAML (default: the shipped {DEFAULT_PROFILE})")
    deid.add_argument("--key-file", type=Path, help="pseudonymization key (else $HYPERONTOLOGY_KEY)")
    deid.add_argument("--audit", type=Path,
                      help="write the audit JSON (never holds a value, an input path or the key)")
    deid.set_defaults(run=cmd_deidentify)
    keygen = commands.add_parser("keygen", help="write a new pseudonymization key to FILE; prints its id only")
    keygen.add_argument("file", type=Path, metavar="FILE")
    keygen.set_defaults(run=cmd_keygen)


def default_profile() -> Profile:
    """The shipped profile file (it names the options it turns on), else the Basic Profile alone.

    Every option is an explicit opt-in: without a profile file that says so, none is on.
    """
    path = default_mappings_dir() / DEFAULT_PROFILE
    if path.is_file():
        return load_profile(path)
    return Profile()


def _inputs(root: Path, output: Path) -> list[Path]:
    """The input files, sorted; files already under OUT are skipped."""
    if root.is_file():
        return [root]
    out = output.resolve()
    return [path for path in sorted(root.rglob("*")) if path.is_file() and out not in path.resolve().parents]


def _one(engine: Deidentifier, source: Path, output: Path, written: set[str]) -> AuditEntry:
    """De-identify one input into OUT under its keyed name; DeidentificationError when it is rejected."""
    ds, entry = engine.deidentify_path(source)
    if entry.excluded:
        return entry
    name = engine.output_name(ds)
    if name.as_posix() in written:
        raise DeidentificationError("a second copy of an instance already written (same SOP Instance UID)")
    engine.write(ds, output / name)
    written.add(name.as_posix())
    return replace(entry, output=name.as_posix())


def _summary(entries: list[AuditEntry], rejected: list[dict[str, str]]) -> dict[str, int]:
    return {"written": sum(1 for e in entries if not e.excluded), "excluded": sum(1 for e in entries if e.excluded),
            "rejected": len(rejected), "flagged_burned_in": sum(1 for e in entries if e.burned_in and not e.excluded)}


def value_free(message: str) -> str:
    """A pydicom warning as it may be shown: quoted values, UID-like and other long numbers blanked, links cut.

    Examples
    --------
    >>> value_free("Invalid value for VR UI: '1.2.826.0.1.77'. Please see <https://dicom.nema.org/x> for allowed ...")
    "Invalid value for VR UI: '…'."
    >>> value_free("Invalid value for VR DA: 20190101x")
    'Invalid value for VR DA: …'
    """
    text = re.sub(r"'[^']*'|\"[^\"]*\"", "'…'", message)
    text = re.sub(r"\s*Please see .*$|<https?://[^>]*>", "", text, flags=re.DOTALL)
    return re.sub(r"\S*\d[\d.^\\-]{5,}\S*", "…", text).strip()


class _Counting(logging.Handler):
    def __init__(self, seen: Counter[str]) -> None:
        super().__init__(logging.WARNING)
        self.seen = seen

    def emit(self, record: logging.LogRecord) -> None:
        self.seen[value_free(record.getMessage())] += 1


@contextmanager
def pydicom_output_captured() -> Iterator[Counter[str]]:
    """pydicom's warnings and log records of the block (they quote the inputs' values), counted, value-free, and
    kept off the terminal. pydicom both warns and logs most of them: each counts once."""
    seen: Counter[str] = Counter()
    logger = logging.getLogger("pydicom")
    handler, propagate = _Counting(Counter()), logger.propagate
    logger.addHandler(handler)
    logger.propagate = False
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            yield seen
    finally:
        logger.removeHandler(handler)
        logger.propagate = propagate
    seen.update(value_free(str(w.message)) for w in caught)
    for message, count in handler.seen.items():  # logged and not warned
        seen[message] = max(seen[message], count)


def _report_warnings(seen: Counter[str]) -> None:
    if not seen:
        return
    total = sum(seen.values())
    print(f"pydicom gave {total} warning{'' if total == 1 else 's'} about values of the inputs (values not shown):",
          file=sys.stderr)
    for message, count in seen.most_common():
        print(f"  {count:5}  {message}", file=sys.stderr)


def cmd_deidentify(args: argparse.Namespace) -> int:
    key = load_key(args.key_file)
    profile = load_profile(args.profile) if args.profile else default_profile()
    if not args.input.exists():
        raise DeidentificationError("no such file or directory", path=args.input)
    engine = Deidentifier(key, profile)
    entries: list[AuditEntry] = []
    rejected: list[dict[str, str]] = []
    written: set[str] = set()
    with pydicom_output_captured() as seen:
        for source in _inputs(args.input, args.output):
            try:
                entries.append(_one(engine, source, args.output, written))
            except DeidentificationError as exc:
                rejected.append({"source": engine.source_id(source), "reason": exc.reason})
    _report_warnings(seen)
    summary = _summary(entries, rejected)
    if args.audit:
        report = {"key_id": key.key_id, "profile": asdict(profile), "summary": summary,
                  "files": [e.to_dict() for e in entries], "rejected": rejected,
                  "pydicom_warnings": dict(seen.most_common())}
        args.audit.parent.mkdir(parents=True, exist_ok=True)
        args.audit.write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    print(" ".join(f"{name}={count}" for name, count in summary.items()) + f" key_id={key.key_id}")
    return 0


def cmd_keygen(args: argparse.Namespace) -> int:
    key = new_key_file(args.file)
    print(key.key_id)
    return 0
