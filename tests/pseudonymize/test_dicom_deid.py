"""DICOM de-identification: no planted identifier survives (byte-level scan), determinism, UID references.

Inputs are pydicom's bundled test files and ``../shared/data/dicom`` when present (read only, never copied).
"""

from __future__ import annotations

import json
import re
import warnings
from pathlib import Path

import pydicom
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydicom.datadict import dictionary_VR
from pydicom.dataelem import DataElement
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

from hyperontology.pseudonymize.dicom import Deidentifier, offset_days
from hyperontology.pseudonymize.keys import PseudonymKey
from hyperontology.pseudonymize.profile import Profile, load_table

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")  # pydicom's warnings about the inputs' values

SHARED = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "dicom"
KEY, OTHER_KEY = PseudonymKey(bytes(range(32))), PseudonymKey(bytes(range(1, 33)))
EUCAIM = Profile(retain_longitudinal_modified_dates=True, retain_patient_characteristics=True,
                 retain_device_identity=True, clean_descriptors=True)
PROFILES = [EUCAIM, Profile(), Profile(retain_institution_identity=True, retain_safe_private=True, burned_in="flag")]
_LIMITS = {"AE": 16, "CS": 16, "SH": 16, "LO": 64, "PN": 64, "ST": 64, "LT": 64, "UT": 64, "UC": 64, "UR": 64}


def _readable(path: Path) -> bool:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ds = pydicom.dcmread(path)
        return "SOPInstanceUID" in ds and "BurnedInAnnotation" not in ds
    except Exception:
        return False


def _files() -> list[Path]:
    bundled = sorted((Path(pydicom.__file__).parent / "data" / "test_files").glob("*.dcm"))
    shared = sorted(p for p in SHARED.rglob("*") if p.is_file()) if SHARED.is_dir() else []
    found = [p for p in bundled + shared if _readable(p)]
    return found[:: max(1, len(found) // 40)]


FILES = _files()


def _token(seed: int, index: int, vr: str) -> str:
    if vr == "UI":
        return f"1.3.6.1.4.1.9999.{seed + 10**12}{index:04d}"
    text = f"ID{seed:010X}{index:03X}"[: _LIMITS[vr]] if vr in ("AE", "CS", "SH") else f"ID-{seed:010x}-{index}"
    return f"http://{text.lower()}.example" if vr == "UR" else text


def _plant(ds: Dataset, profile: Profile, seed: int) -> list[str]:
    """Put a distinct identifying value in every table attribute (not K) the dataset can hold by VR."""
    engine, planted = Deidentifier(KEY, profile), []
    date = f"19{seed % 9 + 1:02d}{seed % 12 + 1:02d}{seed % 27 + 1:02d}"
    for index, entry in enumerate(load_table()["attributes"]):
        if not re.fullmatch(r"[0-9a-f]{8}", entry["id"]) or entry["id"][:4] in ("0000", "0002"):
            continue
        tag = int(entry["id"], 16)
        action, vr = engine.action_for(tag), dictionary_VR(tag)
        if action == "K" or (action == "C" and vr == "TM"):
            continue
        if vr in ("DA", "DT"):
            value = date if vr == "DA" else date + "101010"
        elif vr in _LIMITS or vr == "UI":
            value = _token(seed, index, vr)
        else:
            continue
        ds[tag] = DataElement(tag, vr, value)
        planted.append(value)
    return planted


def _plant_extra(ds: Dataset, seed: int) -> list[str]:
    nested, inner = Dataset(), Dataset()
    inner.PatientName, inner.ReferringPhysicianName = f"ID-{seed:x}-n2", f"ID-{seed:x}-i2"
    nested.PersonName, nested.ContentSequence = f"ID-{seed:x}-n1", Sequence([inner])
    ds.AnatomicRegionSequence = Sequence([nested])
    ds.private_block(0x0011, "HYPERONTOLOGY TEST", create=True).add_new(0x01, "LO", f"ID-{seed:x}-p")
    planted = [f"ID-{seed:x}-n2", f"ID-{seed:x}-i2", f"ID-{seed:x}-n1", f"ID-{seed:x}-p"]
    if "TransferSyntaxUID" in getattr(ds, "file_meta", Dataset()):
        ds.file_meta.ImplementationVersionName = f"IV{seed:010X}"
        ds.file_meta.SourceApplicationEntityTitle = f"AE{seed:010X}"
        planted += [f"IV{seed:010X}", f"AE{seed:010X}"]
    return planted


def _prepared(src: Path, tmp: Path, profile: Profile, seed: int) -> tuple[Path, list[str], list[str]]:
    ds = pydicom.dcmread(src)
    originals = [str(ds.get(k, "") or "") for k in ("PatientID", "PatientName")]
    planted = _plant(ds, profile, seed) + _plant_extra(ds, seed)
    path = tmp / f"in-{seed}.dcm"
    ds.save_as(path, enforce_file_format=False)
    ours = {"REMOVED", "MODIFIED", "ANONYMIZED", "UNMODIFIED"}  # words the engine itself writes
    return path, planted, [o for o in originals if len(o.strip()) >= 6 and o.strip().upper() not in ours]


@pytest.mark.skipif(not FILES, reason="no readable DICOM test files")
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(src=st.sampled_from(FILES), profile=st.sampled_from(PROFILES), seed=st.integers(1, 2**36))
def test_no_planted_identifier_survives(tmp_path: Path, src: Path, profile: Profile, seed: int) -> None:
    path, planted, originals = _prepared(src, tmp_path, profile, seed)
    out = tmp_path / f"out-{seed}.dcm"
    audit = Deidentifier(KEY, profile).deidentify_file(path, out)
    data = out.read_bytes()
    leaked = [value for value in planted + originals if value.encode() in data]
    assert not leaked, f"{src.name}: {leaked}"
    text = json.dumps(audit.to_dict())
    assert not [value for value in planted + originals if value in text] and KEY.secret.hex() not in text
    again = tmp_path / f"again-{seed}.dcm"
    Deidentifier(KEY, profile).deidentify_file(path, again)
    assert again.read_bytes() == data
    before, after = pydicom.dcmread(path), pydicom.dcmread(out)
    if "PixelData" in before:  # pydicom pads odd-length values to even length on any write
        assert after.PixelData[: len(before.PixelData)] == before.PixelData
        assert len(after.PixelData) - len(before.PixelData) in (0, 1)
    codes = [item.CodeValue for item in after.DeidentificationMethodCodeSequence]
    assert "113100" in codes and after.PatientIdentityRemoved == "YES"


@pytest.mark.skipif(not FILES, reason="no readable DICOM test files")
@pytest.mark.parametrize("profile", PROFILES, ids=["eucaim", "basic", "institution-private"])
def test_every_output_is_a_part10_file(tmp_path: Path, profile: Profile) -> None:
    engine = Deidentifier(KEY, profile)
    for index, src in enumerate(FILES):
        out = tmp_path / f"{index}.dcm"
        engine.deidentify_file(src, out)
        data = out.read_bytes()
        assert data[:128] == bytes(128) and data[128:132] == b"DICM", src.name
        ds = pydicom.dcmread(out)  # no force
        assert ds.file_meta.MediaStorageSOPClassUID == ds.SOPClassUID, src.name
        assert ds.file_meta.MediaStorageSOPInstanceUID == ds.SOPInstanceUID, src.name
        assert ds.file_meta.TransferSyntaxUID == pydicom.dcmread(src).file_meta.TransferSyntaxUID, src.name


def _pair(tmp: Path) -> tuple[Path, Path, Dataset]:
    a = pydicom.dcmread(FILES[0])
    a.PatientID, a.StudyDate, a.PatientBirthDate = "Pat 77", "20200315", "19600101"
    a.save_as(tmp / "a.dcm", enforce_file_format=False)
    b = pydicom.dcmread(FILES[0])
    b.PatientID, b.StudyDate = "pat  77 ", "20210101"
    b.SOPInstanceUID = b.SOPInstanceUID + ".2"
    b.file_meta.MediaStorageSOPInstanceUID = b.SOPInstanceUID
    ref = Dataset()
    ref.ReferencedSOPClassUID, ref.ReferencedSOPInstanceUID = a.SOPClassUID, a.SOPInstanceUID
    b.ReferencedImageSequence = Sequence([ref])
    b.save_as(tmp / "b.dcm", enforce_file_format=False)
    return tmp / "a.dcm", tmp / "b.dcm", a


@pytest.mark.skipif(not FILES, reason="no readable DICOM test files")
def test_references_and_intervals_survive(tmp_path: Path) -> None:
    a_in, b_in, a = _pair(tmp_path)
    engine = Deidentifier(KEY, EUCAIM)
    engine.deidentify_file(a_in, tmp_path / "a-out.dcm")
    audit = engine.deidentify_file(b_in, tmp_path / "b-out.dcm")
    a2, b2 = pydicom.dcmread(tmp_path / "a-out.dcm"), pydicom.dcmread(tmp_path / "b-out.dcm")
    assert a2.StudyInstanceUID == b2.StudyInstanceUID != a.StudyInstanceUID
    assert b2.ReferencedImageSequence[0].ReferencedSOPInstanceUID == a2.SOPInstanceUID != a.SOPInstanceUID
    assert a2.file_meta.MediaStorageSOPInstanceUID == a2.SOPInstanceUID
    assert a2.PatientID == b2.PatientID == str(a2.PatientName) and audit.uid_mappings >= 3
    assert _days(b2.StudyDate) - _days(a2.StudyDate) == _days("20210101") - _days("20200315")
    assert _days(a2.StudyDate) - _days("20200315") == offset_days(KEY, "pat 77")
    assert a2.PatientAge == "060Y" and a2.LongitudinalTemporalInformationModified == "MODIFIED"


def _days(text: str) -> int:
    import datetime as dt
    return dt.date(int(text[:4]), int(text[4:6]), int(text[6:8])).toordinal()


@pytest.mark.skipif(not FILES, reason="no readable DICOM test files")
def test_other_key_other_pseudonyms(tmp_path: Path) -> None:
    a_in, _b, _a = _pair(tmp_path)
    Deidentifier(KEY, EUCAIM).deidentify_file(a_in, tmp_path / "k1.dcm")
    Deidentifier(OTHER_KEY, EUCAIM).deidentify_file(a_in, tmp_path / "k2.dcm")
    one, two = pydicom.dcmread(tmp_path / "k1.dcm"), pydicom.dcmread(tmp_path / "k2.dcm")
    assert one.PatientID != two.PatientID and one.SOPInstanceUID != two.SOPInstanceUID


@pytest.mark.skipif(not FILES, reason="no readable DICOM test files")
@pytest.mark.parametrize("policy", ["exclude", "flag"])
def test_burned_in_policy(tmp_path: Path, policy: str) -> None:
    ds = pydicom.dcmread(FILES[0])
    ds.BurnedInAnnotation = "YES"
    ds.save_as(tmp_path / "in.dcm", enforce_file_format=False)
    audit = Deidentifier(KEY, Profile(burned_in=policy)).deidentify_file(tmp_path / "in.dcm", tmp_path / "o.dcm")
    assert audit.burned_in and audit.excluded == (policy == "exclude")
    assert (tmp_path / "o.dcm").exists() == (policy == "flag")
    assert audit.reason is None or "BurnedInAnnotation" in audit.reason


def test_not_dicom_is_rejected(tmp_path: Path) -> None:
    from hyperontology.pseudonymize.dicom import DeidentificationError
    (tmp_path / "notes.md").write_text("# not DICOM\n", encoding="utf-8")
    with pytest.raises(DeidentificationError, match="notes.md"):
        Deidentifier(KEY, EUCAIM).deidentify_file(tmp_path / "notes.md", tmp_path / "out.dcm")
    assert not (tmp_path / "out.dcm").exists()


@pytest.mark.skipif(not FILES, reason="no readable DICOM test files")
def test_cli_deidentify_and_keygen(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import argparse

    from hyperontology.cli import deid
    parser = argparse.ArgumentParser()
    deid.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["keygen", str(tmp_path / "key")])
    assert args.run(args) == 0
    key_text = (tmp_path / "key").read_text().strip()
    source = tmp_path / "in" / "sub"
    source.mkdir(parents=True)
    (source / "x.dcm").write_bytes(FILES[0].read_bytes())
    (source / "README").write_text("not dicom", encoding="utf-8")
    args = parser.parse_args(["deidentify", str(tmp_path / "in"), str(tmp_path / "out"),
                              "--key-file", str(tmp_path / "key"), "--audit", str(tmp_path / "audit.json")])
    assert args.run(args) == 0
    out = capsys.readouterr().out
    assert key_text not in out
    report = json.loads((tmp_path / "audit.json").read_text())
    assert report["summary"] == {"written": 1, "excluded": 0, "rejected": 1, "flagged_burned_in": 0}
    assert key_text not in json.dumps(report)
    written = [p for p in (tmp_path / "out").rglob("*") if p.is_file()]  # keyed names, not IN's layout
    assert [p.relative_to(tmp_path / "out").as_posix() for p in written] == [report["files"][0]["output"]]
    ds = pydicom.dcmread(written[0])
    assert written[0].name == f"{ds.SOPInstanceUID}.dcm" and written[0].parts[-4] == ds.PatientID
