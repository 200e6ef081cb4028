"""Inputs the walk cannot read are reported, never lost: a folder that cannot be listed, a broken link, a pipe.

The unlistable folder needs real permissions, which do not bind root: as root, the walk runs in a child process
started by ``setpriv`` without the capabilities that let root read any folder (CAP_DAC_OVERRIDE,
CAP_DAC_READ_SEARCH), so a folder of mode 000 is refused to it as to any user.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from hyperontology.batch import read_file
from hyperontology.pipeline import discover

SAMPLES = Path(__file__).parents[2] / "samples"
DROP_DAC = ["setpriv", "--bounding-set=-dac_override,-dac_read_search", "--inh-caps=-dac_override,-dac_read_search"]

REPORT_WALK = """
import json, sys
from pathlib import Path
from hyperontology.batch import read_file
from hyperontology.pipeline import discover
out = []
for path in discover([Path(sys.argv[1])]):
    where, source, items = read_file(path)
    out.append([where, [getattr(i, "reason", None) for i in items][:1]])
print(json.dumps(out))
"""


@pytest.fixture
def tree() -> Iterator[Path]:
    """A tree any user may walk: a readable CSV, a folder of one file no one but root may list, a broken link
    and a named pipe."""
    root = Path(tempfile.mkdtemp(prefix="unreadable-", dir="/tmp"))
    try:
        root.chmod(0o755)
        csv = next(SAMPLES.rglob("*.csv"))
        shutil.copy(csv, root / csv.name)
        (root / csv.name).chmod(0o644)
        locked = root / "locked"
        locked.mkdir()
        shutil.copy(csv, locked / "inside.csv")
        locked.chmod(0o000)
        (root / "dangling.csv").symlink_to(root / "gone.csv")
        os.mkfifo(root / "pipe.csv")
        yield root
    finally:
        (root / "locked").chmod(0o755)
        shutil.rmtree(root)


def test_broken_links_and_pipes_are_reported(tree: Path) -> None:
    reasons = {Path(where).name: [getattr(i, "reason", None) for i in items][:1]
               for where, _, items in map(read_file, discover([tree]))}
    assert reasons["dangling.csv"] == ["a broken symbolic link"]
    assert reasons["pipe.csv"] == ["not a regular file (a pipe, socket or device)"]
    assert any(name.endswith(".csv") and r == [None] for name, r in reasons.items())  # the readable CSV: records


def _walk_unprivileged(tree: Path) -> list[list]:  # type: ignore[type-arg]
    prefix = DROP_DAC if os.geteuid() == 0 else []
    done = subprocess.run([*prefix, sys.executable, "-c", REPORT_WALK, str(tree)], capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)  # type: ignore[no-any-return]


def test_a_folder_that_cannot_be_listed_is_a_rejected_input(tree: Path) -> None:
    if os.geteuid() == 0 and shutil.which("setpriv") is None:
        pytest.skip("running as root without setpriv: no way to walk the tree without root's right to read all")
    walked = _walk_unprivileged(tree)
    reasons = {Path(where).name: reason for where, reason in walked}
    assert reasons["locked"] == ["a folder that cannot be listed (PermissionError): its files were not read"]
    assert "inside.csv" not in reasons  # its file could not be seen, and the folder says so
