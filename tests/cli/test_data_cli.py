"""Smoke tests of `ingest`, `validate`, `export`, `mapping check` and `quickstart`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from hyperontology.cli.main import main
from hyperontology.mapping.loader import default_mappings_dir

SAMPLES = default_mappings_dir().parent / "samples"
KEY = "ab" * 32


@pytest.fixture()
def env_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HYPERONTOLOGY_KEY", KEY)


def test_ingest_validate_export(env_key: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    store, report = tmp_path / "store", tmp_path / "r.json"
    assert main(["ingest", str(SAMPLES), "--store", str(store), "--report", str(report), "--quiet"]) == 0
    data = json.loads(report.read_text())
    assert data["totals"]["loaded"] > 0 and data["totals"]["quarantined"] == 0
    assert main(["validate", "--store", str(store)]) == 0
    assert "conforms" in capsys.readouterr().out
    out = tmp_path / "data.ttl"
    assert main(["export", "--store", str(store), "--format", "ttl", "-o", str(out)]) == 0
    assert "cdm:Diagnosis" in out.read_text()


def test_ingest_without_key_is_a_clear_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv("HYPERONTOLOGY_KEY", raising=False)
    assert main(["ingest", str(SAMPLES), "--store", str(tmp_path / "s")]) == 2
    assert "no pseudonymization key" in capsys.readouterr().err
    assert not (tmp_path / "s").exists()


def test_new_key_is_created_once(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("HYPERONTOLOGY_KEY", raising=False)
    key = tmp_path / "node.key"
    assert main(["ingest", str(SAMPLES), "--store", str(tmp_path / "s"), "--new-key", str(key), "--quiet"]) == 0
    assert oct(key.stat().st_mode)[-3:] == "600"
    assert main(["ingest", str(SAMPLES), "--store", str(tmp_path / "s"), "--new-key", str(key)]) == 2


def test_mapping_check_lists_unmapped_values(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    table = tmp_path / "patient-information.csv"
    table.write_text("mrn,gender,birthsex,dateOfBirth\n1,female,F,1980-01-01\n2,femme,W,\n3,femme,F,\n")
    assert main(["mapping", "check", str(table), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)  # JSON only, no line before it
    assert data["unmapped_values"] == {"fhir-gender\tfemme": 2, "dicom-sex\tW": 1}


def test_mapping_check_reports_bad_mapping_with_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = "mapping: bad\nversion: '1'\nsource: csv\nentities:\n  - name: x\n    colour: red\n"
    (tmp_path / "bad.yaml").write_text(text)
    assert main(["mapping", "check", "--mappings", str(tmp_path)]) == 2
    assert "bad.yaml:5" in capsys.readouterr().err


def test_quickstart_as_a_process(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "HYPERONTOLOGY_KEY"}
    proc = subprocess.run([sys.executable, "-m", "hyperontology", "quickstart", "--store", str(tmp_path / "qs")],
                          capture_output=True, text=True, timeout=300, check=False, env=env, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "series by modality" in proc.stdout and (tmp_path / "qs.key").exists()
    assert "Computed tomography" in proc.stdout
