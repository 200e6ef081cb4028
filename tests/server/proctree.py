"""A process and its descendants (a server, its fork server and its query workers), measured: with psutil when it
is installed, else from ``/proc`` (Linux). Used by the runaway-query tests and ``bench/soak.py``."""

from __future__ import annotations

import os
from pathlib import Path

try:
    import psutil
except ImportError:  # pragma: no cover - depends on the environment
    psutil = None

_GONE = (OSError, ValueError) if psutil is None else (psutil.Error, OSError, ValueError)
_TICKS = os.sysconf("SC_CLK_TCK")
_PAGE = os.sysconf("SC_PAGE_SIZE")


def _stat(pid: int) -> list[str]:
    """The fields of /proc/PID/stat after the command name (field 3, the state, comes first)."""
    text = Path(f"/proc/{pid}/stat").read_text()
    return text[text.rindex(")") + 2:].split()


def family(pid: int) -> list[int]:
    """``pid`` and every live descendant of it."""
    if psutil is not None:
        try:
            root = psutil.Process(pid)
            return [pid, *(child.pid for child in root.children(recursive=True))]
        except psutil.NoSuchProcess:
            return []
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parents[int(entry.name)] = int(_stat(int(entry.name))[1])
            except (OSError, ValueError, IndexError):
                continue
    found, frontier = [pid], [pid]
    while frontier:
        frontier = [child for child, parent in parents.items() if parent in frontier]
        found += frontier
    return found


def cpu_seconds(pids: list[int]) -> dict[int, float]:
    """User and system CPU seconds of each process and of its children that have ended and been reaped (so a
    killed worker's time counts, in its parent's); processes that have ended are left out."""
    times: dict[int, float] = {}
    for pid in pids:
        try:
            if psutil is not None:
                used = psutil.Process(pid).cpu_times()
                times[pid] = used.user + used.system + used.children_user + used.children_system
            else:
                fields = _stat(pid)
                times[pid] = sum(int(f) for f in fields[11:15]) / _TICKS
        except _GONE:
            continue
    return times


def rss_bytes(pids: list[int]) -> int:
    """The resident set sizes of the processes, added up (pages shared between them count in each)."""
    total = 0
    for pid in pids:
        try:
            if psutil is not None:
                total += psutil.Process(pid).memory_info().rss
            else:
                total += int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * _PAGE
        except _GONE:
            continue
    return total


def cpu_used(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU seconds used between two samples by the processes in both."""
    return sum(after[pid] - before[pid] for pid in before.keys() & after.keys())
