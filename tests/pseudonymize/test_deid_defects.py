"""One test per leak of the de-identifier found in the issue (defect 3): each plants a marker where it leaked.

Inputs are pydicom's bundled test files and, where a test needs them, ``../shared/data/dicom`` (read only,
never copied; those tests skip when the folder is absent).
"""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

import pydicom
import pytest
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence
from pydicom.uid import ExplicitVRLittleEndian, ImplicitVRLittleEndian

from hyperontology.cli import deid
from hyperontology.pseudonymize.dicom import Deidentifier
from hyperontology.pseudonymize.keys import PseudonymKey
from hyperontology.pseudonymize.profile import Profile

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")  # pydicom's warnings about the inputs' values

BUNDLED = Path(pydicom.__file__).parent / "data" / "test_files"
SHARED = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "dicom"
KEY = PseudonymKey(bytes(range(32)))
EUCAIM = Profile(retain_longitudinal_modified_dates=True, retain_patient_characteristics=True,
                 retain_device_identity=True, clean_descriptors=True)
PROFILES = [Profile(), EUCAIM]
PROFILE_IDS = ["basic", "eucaim"]


def _shared(name: str) -> Path:
    path = SHARED / name
    if not path.is_file():
        pytest.skip(f"{path} absent (../shared/data/dicom not mounted)")
    return path


def _run(ds: Dataset, tmp: Path, profile: Profile) -> bytes:
    """Write ``ds`` as an input file, de-identify it and return the output's bytes."""
    ds.save_as(tmp / "in.dcm", enforce_file_format=False)
    Deidentifier(KEY, profile).deidentify_file(tmp / "in.dcm", tmp / "out.dcm")
    return (tmp / "out.dcm").read_bytes()


@pytest.mark.parametrize("profile", PROFILES, ids=PROFILE_IDS)
def test_preamble_is_zeroed(tmp_path: Path, profile: Profile) -> None:
    ds = pydicom.dcmread(BUNDLED / "CT_small.dcm")
    ds.preamble = b"PREAMBLE-MARKER-7Q".ljust(128, b"#")
    data = _run(ds, tmp_path, profile)
    assert (tmp_path / "in.dcm").read_bytes()[:18] == b"PREAMBLE-MARKER-7Q"  # the input really carries it
    assert data[:128] == bytes(128) and data[128:132] == b"DICM"
    assert b"PREAMBLE-MARKER" not in data


def _text_item(text: str) -> Dataset:
    item = Dataset()
    item.RelationshipType, item.ValueType = "CONTAINS", "TEXT"
    concept = Dataset()
    concept.CodeValue, concept.CodingSchemeDesignator, concept.CodeMeaning = "121106", "DCM", "Comment"
    item.ConceptNameCodeSequence = Sequence([concept])
    item.TextValue = text
    return item


@pytest.mark.parametrize("profile", [*PROFILES, "structured"], ids=[*PROFILE_IDS, "clean-structured-content"])
def test_content_sequence_free_text_is_removed(tmp_path: Path, profile: Profile | str) -> None:
    chosen = Profile(clean_structured_content=True) if profile == "structured" else profile
    assert isinstance(chosen, Profile)
    ds = pydicom.dcmread(BUNDLED / "test-SR.dcm")
    ds.ContentSequence[0].ContentSequence = Sequence([_text_item("CONTENT-MARKER-NESTED-5K")])
    ds.ContentSequence.append(_text_item("CONTENT-MARKER-TOP-5K"))
    data = _run(ds, tmp_path, chosen)
    assert b"CONTENT-MARKER" not in data


@pytest.mark.parametrize("profile", PROFILES, ids=PROFILE_IDS)
def test_nested_code_meaning_in_request_attributes_is_removed(tmp_path: Path, profile: Profile) -> None:
    ds = pydicom.dcmread(BUNDLED / "CT_small.dcm")
    code = Dataset()
    code.CodeValue, code.CodingSchemeDesignator = "P-77", "99LOCAL"
    code.CodeMeaning = "MEANING-MARKER-Smith protocol"
    request = Dataset()
    request.ScheduledProtocolCodeSequence = Sequence([code])
    ds.RequestAttributesSequence = Sequence([request])
    data = _run(ds, tmp_path, profile)
    assert b"MEANING-MARKER" not in data


@pytest.mark.parametrize("profile", PROFILES, ids=PROFILE_IDS)
def test_overlay_description_and_label_are_removed(tmp_path: Path, profile: Profile) -> None:
    ds = pydicom.dcmread(BUNDLED / "CT_small.dcm")
    for group in (0x6000, 0x6002):
        ds.add_new((group, 0x0010), "US", 8)
        ds.add_new((group, 0x0011), "US", 8)
        ds.add_new((group, 0x0040), "CS", "G")
        ds.add_new((group, 0x0050), "SS", [1, 1])
        ds.add_new((group, 0x0100), "US", 1)
        ds.add_new((group, 0x0102), "US", 0)
        ds.add_new((group, 0x3000), "OW", bytes(8))
        ds.add_new((group, 0x0022), "LO", f"OVERLAY-MARKER-DESC-{group:04X}")
        ds.add_new((group, 0x1500), "LO", f"OVERLAY-MARKER-LABEL-{group:04X}")
    data = _run(ds, tmp_path, profile)
    assert b"OVERLAY-MARKER" not in data
    assert not [tag for tag in pydicom.dcmread(tmp_path / "out.dcm").keys() if tag.group >> 8 == 0x60]


@pytest.mark.parametrize("profile", PROFILES, ids=PROFILE_IDS)
def test_unknown_public_tag_is_removed(tmp_path: Path, profile: Profile) -> None:
    ds = pydicom.dcmread(BUNDLED / "CT_small.dcm")
    ds.add_new(0x00109999, "LO", "UNKNOWN-TAG-MARKER-3")
    data = _run(ds, tmp_path, profile)
    assert b"UNKNOWN-TAG-MARKER" not in data
    assert 0x00109999 not in pydicom.dcmread(tmp_path / "out.dcm")


def _cli(*argv: str) -> int:
    parser = argparse.ArgumentParser()
    deid.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(list(argv))
    result: int = args.run(args)
    return result


def test_output_names_and_audit_hold_no_input_name(tmp_path: Path) -> None:
    (tmp_path / "key").write_text(KEY.secret.hex(), encoding="ascii")
    folder = tmp_path / "in" / "DOE^JOHN MRN-48213"
    folder.mkdir(parents=True)
    shutil.copyfile(BUNDLED / "CT_small.dcm", folder / "DOE_JOHN_MRN-48213_ct.dcm")
    shutil.copyfile(BUNDLED / "MR_small.dcm", folder / "DOE_JOHN_MRN-48213_mr.dcm")
    (folder / "DOE_JOHN_MRN-48213_notes.txt").write_text("not DICOM", encoding="utf-8")
    assert _cli("deidentify", str(tmp_path / "in"), str(tmp_path / "out"), "--key-file", str(tmp_path / "key"),
                "--audit", str(tmp_path / "audit.json")) == 0
    written = [p.relative_to(tmp_path / "out").as_posix() for p in (tmp_path / "out").rglob("*")]
    assert len([p for p in written if p.endswith(".dcm")]) == 2
    assert not [p for p in written if "DOE" in p.upper() or "48213" in p]
    audit = (tmp_path / "audit.json").read_text(encoding="utf-8")
    assert "DOE" not in audit.upper() and "48213" not in audit and str(tmp_path / "in") not in audit
    report = json.loads(audit)
    assert report["summary"]["written"] == 2 and report["summary"]["rejected"] == 1


@pytest.mark.shared
@pytest.mark.parametrize("name", ["openrem/CT-RDSR-GEPixelMed.dcm", "openrem/CT-RDSR-Siemens_Flash-TAP-SS.dcm"])
@pytest.mark.parametrize("profile", [*PROFILES, "structured"], ids=[*PROFILE_IDS, "clean-structured-content"])
def test_dose_sr_institution_text_is_removed(tmp_path: Path, name: str, profile: Profile | str) -> None:
    chosen = Profile(clean_structured_content=True) if profile == "structured" else profile
    assert isinstance(chosen, Profile)
    source = _shared(name)
    Deidentifier(KEY, chosen).deidentify_file(source, tmp_path / "out.dcm")
    data = (tmp_path / "out.dcm").read_bytes()
    for institution in (b"Royal Marsden", b"Hospital Number One", b"OpenREM centre"):
        assert institution not in data


@pytest.mark.parametrize("source", [BUNDLED / "rtstruct.dcm", SHARED / "fo-dicom" / "CR-MONO1-10-chest"],
                         ids=["rtstruct", "fo-dicom-cr"])
def test_headerless_input_gives_part10_output(tmp_path: Path, source: Path) -> None:
    if not source.is_file():
        pytest.skip(f"{source} absent (../shared/data/dicom not mounted)")
    assert source.read_bytes()[128:132] != b"DICM"  # really headerless
    Deidentifier(KEY, EUCAIM).deidentify_file(source, tmp_path / "out.dcm")
    data = (tmp_path / "out.dcm").read_bytes()
    assert data[:128] == bytes(128) and data[128:132] == b"DICM"
    ds = pydicom.dcmread(tmp_path / "out.dcm")  # no force: a Part 10 file
    meta = ds.file_meta
    assert meta.MediaStorageSOPClassUID == ds.SOPClassUID
    assert meta.MediaStorageSOPInstanceUID == ds.SOPInstanceUID
    assert meta.TransferSyntaxUID in (ImplicitVRLittleEndian, ExplicitVRLittleEndian)
