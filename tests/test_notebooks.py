"""Every notebook runs top to bottom (its code cells executed in one namespace, without a Jupyter kernel)."""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb"))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_runs(path: Path) -> None:
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    namespace: dict[str, object] = {"__name__": "__notebook__"}
    for number, cell in enumerate(cells):
        if cell["cell_type"] != "code":
            continue
        source = "".join(cell["source"])
        with contextlib.redirect_stdout(io.StringIO()):
            exec(compile(source, f"{path.name}[{number}]", "exec"), namespace)  # noqa: S102 - our own notebook


def test_there_is_a_notebook() -> None:
    assert NOTEBOOKS


def test_the_curating_notebook_is_committed_with_its_outputs() -> None:
    """A curator reads the notebook on the web before running it: every code cell that prints or shows something
    is committed with its output, executed top to bottom in one kernel (nbclient; re-run it after a change)."""
    path = next(p for p in NOTEBOOKS if p.name == "curating-a-mapping.ipynb")
    code = [c for c in json.loads(path.read_text(encoding="utf-8"))["cells"] if c["cell_type"] == "code"]
    assert [c["execution_count"] for c in code] == list(range(1, len(code) + 1))
    showing = [c for c in code if "print(" in "".join(c["source"]) or "main([" in "".join(c["source"])]
    assert showing and all(c["outputs"] for c in showing)
    assert not [o for c in code for o in c["outputs"] if o["output_type"] == "error"]
