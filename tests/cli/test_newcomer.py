"""What a newcomer meets first, on the command line as run (real processes): closed pipes, missing paths, what
``serve`` says at start, progress on a terminal and silence when piped, pydicom's warnings kept from the terminal,
``validate``'s report."""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
from pathlib import Path

import pydicom
import pytest
from pydicom.data import get_testdata_file

from hyperontology import Hyperontology
from hyperontology.mapping.loader import default_mappings_dir
from hyperontology.ontology.codes import valid
from tests.processes import node_server

SAMPLES = default_mappings_dir().parent / "samples"
KEY_ENV = {"HYPERONTOLOGY_KEY": "ab" * 32}
CLI = [sys.executable, "-m", "hyperontology"]


def _run(*args: str, env: dict[str, str] | None = None, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, **(env or {})})


def run_in_pty(args: list[str], env: dict[str, str], timeout: float = 600) -> tuple[int, str]:
    """Run the CLI with a pseudo-terminal as its standard input, output and error; its exit status and output."""
    master, slave = os.openpty()
    proc = subprocess.Popen([*CLI, *args], stdin=slave, stdout=slave, stderr=slave,
                            env={**os.environ, "TERM": "xterm-256color", "COLUMNS": "140", **env})
    os.close(slave)
    out = bytearray()
    try:
        while True:
            ready, _, _ = select.select([master], [], [], 1.0)
            if ready:
                try:
                    chunk = os.read(master, 65536)
                except OSError:  # EIO: the child closed the terminal
                    break
                if not chunk:
                    break
                out += chunk
            elif proc.poll() is not None:
                break
        return proc.wait(timeout), out.decode("utf-8", "replace")
    finally:
        os.close(master)


# ------------------------------------------------------------------------------------------ closed pipe
def test_a_closed_pipe_ends_quietly() -> None:
    """``hyperontology ontology search x | head``: the reader goes away; no BrokenPipeError traceback."""
    proc = subprocess.Popen([*CLI, "ontology", "search", "lung", "--limit", "2000"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # as `head` does once it has its lines
    with proc.stderr:
        err = proc.stderr.read().decode()
    assert proc.wait(timeout=300) == 141
    assert "Traceback" not in err and "BrokenPipe" not in err, err


# ------------------------------------------------------------------------------------------ missing paths
@pytest.mark.parametrize("command", [["ingest"], ["scan"]])
def test_a_missing_input_path_is_exit_2_naming_it(command: list[str], tmp_path: Path) -> None:
    store = tmp_path / "store"
    proc = _run(*command, str(tmp_path / "does-not-exist"), "--store", str(store), env=KEY_ENV)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert f"{tmp_path / 'does-not-exist'}: no such file or directory" in proc.stderr
    assert not store.exists()  # nothing created


def test_serve_refuses_a_missing_store_at_start(tmp_path: Path) -> None:
    proc = _run("serve", "--store", str(tmp_path / "nonexistent"), "--port", "1", timeout=120)
    assert proc.returncode == 2
    assert f"{tmp_path / 'nonexistent'}: no such directory" in proc.stderr


def test_serve_says_where_it_listens_which_store_and_auth(tmp_path: Path) -> None:
    from hyperontology.store.oxigraph import NodeStore

    NodeStore(tmp_path / "store").close()  # an empty store: enough to start
    stderr: list[str] = []
    with node_server(tmp_path / "store", stderr=stderr) as client:
        base = str(client.base_url).rstrip("/")
    assert f"serving {tmp_path / 'store'} on {base}/" in stderr[0]
    assert "read-only; auth: none" in stderr[0]


# ------------------------------------------------------------------------------------------ progress
def test_ingest_shows_progress_on_a_terminal_and_none_when_piped(tmp_path: Path) -> None:
    """Every part of ingest, the first load of the hyperontology (its cache built) and the first load of the
    ontology graph into the store (what makes a first ingest into a remote store long) included."""
    env = {**KEY_ENV, "HYPERONTOLOGY_CACHE_DIR": str(tmp_path / "cache")}  # an empty cache, as on a first run
    status, out = run_in_pty(["ingest", str(SAMPLES), "--store", str(tmp_path / "tty")], env)
    assert status == 0, out
    for step in ("loading the hyperontology (the first run builds its cache)", "reading", "mapping", "validating",
                 "loading the hyperontology into the store", "writing"):
        assert step in out, step
    piped = _run("ingest", str(SAMPLES), "--store", str(tmp_path / "piped"), env=KEY_ENV)
    assert piped.returncode == 0, piped.stderr
    assert "\x1b[" not in piped.stderr + piped.stdout  # no terminal control sequences
    assert "reading" not in piped.stderr and "validating" not in piped.stderr


@pytest.mark.slow
def test_ontology_check_shows_its_steps_on_a_terminal() -> None:
    status, out = run_in_pty(["ontology", "check", "--no-reasoner"], {})
    assert "checking the release: parsing the modules" in out
    assert "checking the release: semantics" in out
    assert status in (0, 1)
    piped = _run("ontology", "check", "--no-reasoner")
    assert "checking the release" not in piped.stderr + piped.stdout


# ------------------------------------------------------------------------------------------ deidentify
SECRET_UID = "1.2.826.0.1.3680043.SECRET.77"


@pytest.mark.filterwarnings("ignore::UserWarning")  # pydicom warns here too, writing the input
def test_deidentify_keeps_pydicom_warnings_about_values_off_the_terminal(tmp_path: Path) -> None:
    ds = pydicom.dcmread(get_testdata_file("CT_small.dcm"))
    ds.StudyInstanceUID = SECRET_UID  # not a valid UID: pydicom warns, quoting it
    (tmp_path / "in").mkdir()
    ds.save_as(tmp_path / "in" / "x.dcm", enforce_file_format=True)
    proc = _run("deidentify", str(tmp_path / "in"), str(tmp_path / "out"), "--audit", str(tmp_path / "audit.json"),
                env={**KEY_ENV, "PYTHONWARNINGS": "always"})
    assert proc.returncode == 0, proc.stderr
    assert "SECRET" not in proc.stdout + proc.stderr
    assert "pydicom gave 1 warning about values of the inputs (values not shown)" in proc.stderr
    assert "Invalid value for VR UI: '…'" in proc.stderr
    audit = (tmp_path / "audit.json").read_text()
    assert "SECRET" not in audit
    assert json.loads(audit)["pydicom_warnings"] == {"Invalid value for VR UI: '…'.": 1}


# ------------------------------------------------------------------------------------------ validate
MAPPING = """
mapping: registry
version: "0.1.0"
source: csv
entities:
  - name: patient
    select: {entity: registry}
    class: cdm:Patient
    id: {value: patient_number, domain: patient}
    fields:
      - {property: cdm:patientIdentifier, value: patient_number, pseudonym: patient}
  - name: diagnosis
    select: {entity: registry}
    class: cdm:Diagnosis
    id: {value: patient_number, domain: condition}
    fields:
      - {property: cdm:patient, value: patient_number, link: patient, required: true}
      - {property: cdm:diagnosisCode, value: code, transform: "code(SCT)", datatype: iri, required: true}
"""


def test_validate_counts_what_it_does_not_print_and_shows_the_value(tmp_path: Path, onto: Hyperontology) -> None:
    """69 results: 50 printed with the offending code, "19 more", counts keyed by the shapes' names."""
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "registry.yaml").write_text(MAPPING, encoding="utf-8")
    (tmp_path / "d").mkdir()
    codes = [str(n) for n in range(99990000, 99999999) if valid("SCT", str(n)) and f"SCT:{n}" not in onto][:69]
    rows = "".join(f"P{i},{code}\n" for i, code in enumerate(codes))  # well-formed codes the hyperontology lacks
    (tmp_path / "d" / "registry.csv").write_text("patient_number,code\n" + rows, encoding="utf-8")
    store = str(tmp_path / "store")
    ingested = _run("ingest", str(tmp_path / "d"), "--store", store, "--mappings", str(tmp_path / "m"),
                    "--report", str(tmp_path / "run.json"), env=KEY_ENV)
    assert ingested.returncode == 0, ingested.stderr
    by_shape = json.loads((tmp_path / "run.json").read_text())["violations"]["by_shape"]
    assert by_shape == {"cdm:diagnosisCode: diagnosis code is a known concept": 69}
    proc = _run("validate", "--store", store, "--report", str(tmp_path / "v.json"))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    lines = proc.stdout.splitlines()
    warnings = [line for line in lines if line.startswith("Warning: ")]
    assert len(warnings) == 50
    assert all("cdm:diagnosisCode" in w and "(value: SCT:9999" in w for w in warnings)
    assert f"... 19 more (all in {tmp_path / 'v.json'})" in lines
    assert any(line.split() == ["69", "cdm:diagnosisCode:", "diagnosis", "code", "is", "a", "known", "concept"]
               for line in lines)
    assert len(json.loads((tmp_path / "v.json").read_text())) == 69
