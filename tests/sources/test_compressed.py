"""Compressed inputs are bounded: one that inflates past the limit is rejected, naming the file, before it is read."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
import zlib
from pathlib import Path

import pydicom
import pytest
from pydicom.data import get_testdata_file

from hyperontology.sources.base import MAX_INFLATED_BYTES, Record, Rejection
from hyperontology.sources.dicom import DicomSource
from hyperontology.sources.fhir import FhirSource

PATIENT = {"resourceType": "Patient", "id": "p1", "gender": "female"}


def gz_bomb(path: Path, inflated: int) -> Path:
    """A gzipped FHIR Patient whose JSON is padded with spaces to ``inflated`` bytes (written piece by piece)."""
    head = json.dumps(PATIENT)[:-1].encode()
    with gzip.open(path, "wb", compresslevel=9) as out:
        out.write(head)
        left = inflated - len(head) - 1
        block = b" " * (1 << 20)
        while left > 0:
            out.write(block[:left])
            left -= len(block)
        out.write(b"}")
    return path


def test_a_small_gzip_reads(tmp_path: Path) -> None:
    path = gz_bomb(tmp_path / "p.json.gz", 10_000)
    [record] = FhirSource(max_inflated_bytes=10_000).read(path)
    assert isinstance(record, Record) and record.fields["id"] == "p1"


@pytest.mark.parametrize("name", ["bomb.json.gz", "Patient.000.ndjson.gz"])
def test_a_gzip_past_the_limit_is_one_rejection_naming_the_file(tmp_path: Path, name: str) -> None:
    path = gz_bomb(tmp_path / name, 10_001)
    [rejection] = FhirSource(max_inflated_bytes=10_000).read(path)
    assert isinstance(rejection, Rejection)
    assert rejection.provenance.path == str(path) and name in rejection.reason
    assert "inflates to more than 10,000 bytes" in rejection.reason


@pytest.mark.skipif(not Path("/proc/self/status").is_file(), reason="needs Linux /proc to measure peak memory")
def test_a_400_mb_bomb_costs_no_memory(tmp_path: Path) -> None:
    """The issue's case: a small .json.gz inflating to 400 MB; read in a fresh process, whose peak memory is kept."""
    path = gz_bomb(tmp_path / "bomb.json.gz", 400 * 1024 * 1024)
    assert path.stat().st_size < 2 * 1024 * 1024
    # the peak resident size of this process's own memory (VmHWM; ru_maxrss would count the forking pytest's)
    script = ("import re, sys; from pathlib import Path; from hyperontology.sources.fhir import FhirSource;"
              "items = list(FhirSource().read(Path(sys.argv[1])));"
              "peak = re.search(r'VmHWM:\\s*(\\d+)', Path('/proc/self/status').read_text()).group(1);"
              "print(type(items[0]).__name__, len(items), peak)")
    out = subprocess.run([sys.executable, "-c", script, str(path)], capture_output=True, text=True, timeout=300,
                         check=True).stdout.split()
    assert out[:2] == ["Rejection", "1"]
    assert int(out[2]) < 400 * 1024  # KiB: far below the 1.4 GB that parsing it would cost
    assert 400 * 1024 * 1024 > MAX_INFLATED_BYTES


def deflated(tmp_path: Path, inflated_extra: int = 0) -> Path:
    """pydicom's deflated test file, with ``inflated_extra`` zero bytes appended to its deflated dataset."""
    source = Path(get_testdata_file("image_dfl.dcm"))
    meta = pydicom.filereader.read_file_meta_info(source)
    start = 132 + 12 + int(meta.FileMetaInformationGroupLength)
    data = source.read_bytes()
    if inflated_extra:
        dataset = zlib.decompress(data[start:], -zlib.MAX_WBITS) + bytes(inflated_extra)
        packer = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
        data = data[:start] + packer.compress(dataset) + packer.flush()
    path = tmp_path / "deflated.dcm"
    path.write_bytes(data)
    return path


def test_a_deflated_dicom_within_the_limit_reads(tmp_path: Path) -> None:
    [record] = DicomSource().read(deflated(tmp_path))
    assert isinstance(record, Record) and record.fields["Modality"] == "OT"


def test_a_deflated_dicom_past_the_limit_is_rejected(tmp_path: Path) -> None:
    path = deflated(tmp_path, inflated_extra=50_000)
    [rejection] = DicomSource(max_inflated_bytes=40_000).read(path)
    assert isinstance(rejection, Rejection)
    assert "deflated.dcm: compressed input inflates to more than 40,000 bytes" in rejection.reason
