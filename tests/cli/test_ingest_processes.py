"""`ingest --jobs N` as a real process: killing it (SIGKILL) leaves none of its reader processes behind."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").is_file(), reason="needs Linux /proc to find processes")


def _stat(pid: int) -> list[str] | None:
    """The fields of /proc/PID/stat after the command name (state, ppid, ...), or None if there is no such process."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text.rsplit(")", 1)[1].split()


def descendants(pid: int) -> set[int]:
    found: set[int] = set()
    todo = [pid]
    while todo:
        parent = todo.pop()
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit() and (fields := _stat(int(entry.name))) and int(fields[1]) == parent:
                found.add(int(entry.name))
                todo.append(int(entry.name))
    return found


def alive(pid: int) -> bool:
    fields = _stat(pid)
    return fields is not None and fields[0] not in ("Z", "X")  # a zombie has ended (nobody reaped it yet)


def test_readers_end_when_ingest_is_killed(tmp_path: Path) -> None:
    inputs = tmp_path / "in"
    inputs.mkdir()
    for n in range(3000):  # enough work for the readers to be busy when the ingest is killed
        resource = {"resourceType": "Patient", "id": f"p{n}", "gender": "female", "birthDate": "1950-01-01"}
        (inputs / f"patient-{n:04d}.json").write_text(json.dumps(resource), encoding="utf-8")
    env = {**os.environ, "HYPERONTOLOGY_KEY": "ab" * 32}
    proc = subprocess.Popen([sys.executable, "-m", "hyperontology", "ingest", str(inputs), "--store",
                             str(tmp_path / "store"), "--jobs", "2", "--quiet"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    workers: set[int] = set()
    try:
        deadline = time.monotonic() + 120
        while len(workers) < 2:
            assert proc.poll() is None, "ingest ended before its readers were seen"
            assert time.monotonic() < deadline, "no reader processes appeared"
            workers = descendants(proc.pid)
            time.sleep(0.05)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
        deadline = time.monotonic() + 5
        while any(alive(pid) for pid in workers) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not [pid for pid in workers if alive(pid)], "reader processes outlived the killed ingest"
    finally:
        for pid in workers | {proc.pid}:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
