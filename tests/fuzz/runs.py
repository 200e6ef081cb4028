"""Fuzzed inputs through ``hyperontology ingest`` as users run it (a process per batch directory, a key file, the
shipped mappings, ``--report``), and every input checked:

- no crash: the process exits with status 0 (``ingest`` documents no other status for bad input), without a
  traceback, within the timeout, not killed by a signal, and writes its report;
- accounted for: the report lists the input (a name that is not UTF-8 as ``utf8_safe`` writes it), every record
  it read is loaded, quarantined or not mapped, and an input that gave no record was rejected with a reason.

A batch that crashes is split in halves and each half run again (into the same store), down to the inputs that
crash alone; the inputs of a batch that crashes only as a whole all count as crashed.

Examples
--------
>>> account({"path": "a.csv", "records": 2, "loaded": 1, "quarantined": 0, "not_mapped": 1, "rejected": []})
('loaded', None)
>>> account({"path": "b.csv", "records": 0, "loaded": 0, "quarantined": 0, "not_mapped": 0, "rejected": []})[1]
'no record and no rejection'
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hyperontology.mapping.loader import default_mappings_dir
from hyperontology.sources.base import utf8_safe
from tests.fuzz.inputs import FuzzInput

__all__ = ["Figures", "Fuzzing", "Outcome", "account"]

KEY = "ab" * 32  # a fixed test key (the same pseudonyms run after run)
_TRACEBACK = "Traceback (most recent call last)"


@dataclass
class Outcome:
    """What happened to one input: ``loaded``, ``quarantined``, ``not mapped``, ``rejected`` or ``crash``, and
    ``problem`` (a crash, or why it is not accounted for)."""

    item: FuzzInput
    status: str
    problem: str | None = None


@dataclass
class Figures:
    """The tally of a fuzzing run."""

    kinds: Counter[str] = field(default_factory=Counter)
    statuses: Counter[str] = field(default_factory=Counter)
    crashes: list[Outcome] = field(default_factory=list)
    unaccounted: list[Outcome] = field(default_factory=list)
    processes: int = 0

    def add(self, outcome: Outcome) -> None:
        self.kinds[outcome.item.kind] += 1
        self.statuses[outcome.status] += 1
        if outcome.status == "crash":
            self.crashes.append(outcome)
        elif outcome.problem:
            self.unaccounted.append(outcome)


def account(entry: dict[str, Any] | None) -> tuple[str, str | None]:
    """The status of an input from its entry in the report, and why it is not accounted for (None when it is)."""
    if entry is None:
        return "unaccounted", "not in the report"
    records, rejected = entry.get("records", 0), entry.get("rejected", [])
    states = {name: entry.get(name.replace(" ", "_"), 0) for name in ("loaded", "quarantined", "not mapped")}
    if sum(states.values()) != records:
        return "unaccounted", f"{records} records but {states}"
    if any(not (isinstance(r, dict) and str(r.get("reason", "")).strip()) for r in rejected):
        return "unaccounted", "a rejection without a reason"
    if records == 0:
        return ("rejected", None) if rejected else ("unaccounted", "no record and no rejection")
    return next(name for name in ("loaded", "quarantined", "not mapped") if states[name]), None


def _crash(proc: subprocess.CompletedProcess[str] | None, report: Path, timeout: float) -> str | None:
    """Why a finished ingest process counts as a crash, or None."""
    if proc is None:
        return f"did not end within {timeout:.0f} s"
    if proc.returncode < 0:
        return f"killed by signal {-proc.returncode}"
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    if _TRACEBACK in proc.stderr:
        return "traceback: " + (lines[-1] if lines else "")
    if proc.returncode != 0:
        return f"exit status {proc.returncode}: {lines[-1] if lines else ''}"
    if not report.is_file():
        return "no report written"
    return None


class Fuzzing:
    """Runs of ``hyperontology ingest`` on fuzzed inputs into one store under ``workdir``."""

    def __init__(self, workdir: Path, *, jobs: int = 1, timeout: float = 900, store: Path | None = None) -> None:
        self.workdir = workdir
        self.store = store or workdir / "store"
        self.jobs = jobs
        self.timeout = timeout
        self.key_file = workdir / "fuzz.key"
        self.key_file.write_text(KEY + "\n", encoding="ascii")
        self.key_file.chmod(0o600)
        self.figures = Figures()
        self._runs = 0

    def ingest(self, paths: list[Path]) -> tuple[dict[str, Any] | None, str | None]:
        """One ``hyperontology ingest`` process on ``paths``: its report's inputs by path, or why it crashed."""
        self._runs += 1
        report = self.workdir / "reports" / f"run-{self._runs:05d}.json"
        report.parent.mkdir(parents=True, exist_ok=True)
        command = [sys.executable, "-m", "hyperontology", "ingest", *map(str, paths), "--store", str(self.store),
                   "--key-file", str(self.key_file), "--mappings", str(default_mappings_dir()), "--report",
                   str(report), "--jobs", str(self.jobs), "--quiet"]
        env = {k: v for k, v in os.environ.items() if k != "HYPERONTOLOGY_KEY"}
        try:
            proc: subprocess.CompletedProcess[str] | None = subprocess.run(
                command, capture_output=True, text=True, errors="replace", timeout=self.timeout, env=env, check=False)
        except subprocess.TimeoutExpired:
            proc = None
        self.figures.processes += 1
        crash = _crash(proc, report, self.timeout)
        if crash is not None:
            return None, crash
        data = json.loads(report.read_text(encoding="utf-8"))
        return {entry["path"]: entry for entry in data["inputs"]}, None

    def run(self, batch: Path, items: list[FuzzInput]) -> list[Outcome]:
        """Ingest the directory ``batch`` holding ``items``; split it when it crashes."""
        inputs, crash = self.ingest([batch])
        if crash is None:
            return self._accounted(batch, items, inputs or {})
        return self._split(batch, items, crash)

    def _split(self, batch: Path, items: list[FuzzInput], crash: str) -> list[Outcome]:
        if len(items) == 1:
            return [Outcome(items[0], "crash", crash)]
        half = len(items) // 2
        outcomes = []
        for part in (items[:half], items[half:]):
            inputs, part_crash = self.ingest([batch / item.name for item in part])
            outcomes += (self._accounted(batch, part, inputs or {}) if part_crash is None
                         else self._split(batch, part, part_crash))
        if all(o.status != "crash" for o in outcomes):  # crashes only as a whole: every input of it counts
            return [Outcome(item, "crash", f"with the other {len(items) - 1} inputs of its batch: {crash}")
                    for item in items]
        return outcomes

    @staticmethod
    def _accounted(batch: Path, items: Iterable[FuzzInput], inputs: dict[str, Any]) -> list[Outcome]:
        out = []
        for item in items:
            status, problem = account(inputs.get(utf8_safe(str(batch / item.name))))
            out.append(Outcome(item, status, problem))
        return out

    def batch(self, number: int, made: Iterable[tuple[FuzzInput, bytes]]) -> list[Outcome]:
        """Write the inputs of batch ``number`` to a directory of their own, ingest it, tally the outcomes."""
        directory = self.workdir / "inputs" / f"batch-{number:04d}"
        directory.mkdir(parents=True, exist_ok=True)
        items = []
        for item, data in made:
            (directory / item.name).write_bytes(data)
            items.append(item)
        outcomes = self.run(directory, items)
        for outcome in outcomes:
            self.figures.add(outcome)
        return outcomes
