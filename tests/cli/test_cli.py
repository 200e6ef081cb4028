"""Smoke tests of the console script: every sub-command, in-process and once as a real process."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from hyperontology.cli.main import main


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_stats(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "ontology", "--json", "stats")
    assert code == 0 and json.loads(out)["concepts"]["EUCAIM"] == 3991


def test_search_expand_concept_prefixes(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "ontology", "search", "NSCLC", "--limit", "3")
    assert code == 0 and "NCIT:C2926" in out
    code, out, _ = run(capsys, "ontology", "expand", "SCT:363358000", "--scheme", "ICD10")
    assert code == 0 and "ICD10:C34.1" in out
    code, out, _ = run(capsys, "ontology", "--json", "concept", "SNOMEDCT363358000")
    assert code == 0 and json.loads(out)["curie"] == "SCT:363358000"
    code, out, _ = run(capsys, "ontology", "prefixes")
    assert code == 0 and "http://snomed.info/id/" in out


def test_no_match_and_unknown_concept(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "ontology", "search", "zzzzqqqqxxxx")
    assert code == 1 and "no match" in out
    code, _, err = run(capsys, "ontology", "expand", "SCT:999999999")
    assert code == 2 and "unknown concept 'SCT:999999999'" in err


def test_check_without_reasoner(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "ontology", "check", "--no-reasoner")
    assert code == 0 and "PASS" in out


def test_import_errors_name_the_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _, err = run(capsys, "ontology", "import", str(tmp_path / "none.owl"), "--out", str(tmp_path / "o"))
    assert code == 2 and "none.owl" in err


def test_console_script_runs_as_a_process() -> None:
    proc = subprocess.run([sys.executable, "-m", "hyperontology", "ontology", "search", "lung adenocarcinoma"],
                          capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    assert "NCIT:C3512" in proc.stdout
