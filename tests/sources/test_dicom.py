"""DicomSource: pydicom's bundled test files, in-memory datasets, bad input, and the shared real-world files."""

from __future__ import annotations

import csv
import json
import warnings
from pathlib import Path

import pydicom
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydicom.data import get_testdata_file
from pydicom.dataelem import RawDataElement
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sequence import Sequence
from pydicom.tag import Tag
from pydicom.uid import ExplicitVRLittleEndian

from hyperontology.sources.base import Record, Rejection, Source
from hyperontology.sources.dicom import DicomSource, _time, header_fields

SHARED_DICOM = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "dicom"
INDEX = SHARED_DICOM.parent / "dicom-index.csv"


def read_one(path: Path) -> Record | Rejection:
    results = list(DicomSource().read(path))
    assert len(results) == 1
    return results[0]


def record_of(name: str) -> Record:
    result = read_one(Path(get_testdata_file(name)))
    assert isinstance(result, Record), result
    return result


def test_is_a_source() -> None:
    assert isinstance(DicomSource(), Source)
    assert DicomSource.name == "dicom"


def test_ct_small_fields() -> None:
    record = record_of("CT_small.dcm")
    fields = record.fields
    assert (record.source, record.entity) == ("dicom", "instance")
    assert fields["Modality"] == "CT"
    assert fields["StudyDate"] == "2004-01-19"
    assert fields["PixelSpacing"] == [0.661468, 0.661468]
    assert fields["Rows"] == 128 and isinstance(fields["Rows"], int)
    assert fields["KVP"] == 120.0 and isinstance(fields["KVP"], float)
    assert fields["PatientName"] == "CompressedSamples^CT1"
    assert fields["ImageType"] == ["ORIGINAL", "PRIMARY", "AXIAL"]
    assert fields["TransferSyntaxUID"] == "1.2.840.10008.1.2.1"
    assert fields["StudyInstanceUID"] and fields["SeriesInstanceUID"] and fields["SOPInstanceUID"]
    assert record.provenance.path == get_testdata_file("CT_small.dcm")
    assert all(value not in ("", [], None) for value in fields.values())


@pytest.mark.parametrize("name", ["MR_small_bigendian.dcm", "MR_small_implicit.dcm", "MR_small_RLE.dcm",
                                  "MR_small_jp2klossless.dcm"])
def test_mr_small_in_every_encoding_reads_the_same(name: str) -> None:
    reference = dict(record_of("MR_small.dcm").fields)
    fields = dict(record_of(name).fields)
    assert fields.pop("TransferSyntaxUID") != reference.pop("TransferSyntaxUID")
    assert fields == reference
    assert fields["Modality"] == "MR" and fields["RepetitionTime"] == 4000.0 and fields["EchoTime"] == 240.0


@pytest.mark.parametrize(("name", "modality"), [("JPEG2000.dcm", "NM"), ("JPEG-lossy.dcm", "NM"),
                                                ("ExplVR_BigEndNoMeta.dcm", "RTPLAN"),
                                                ("ExplVR_LitEndNoMeta.dcm", "RTPLAN"), ("rtstruct.dcm", "RTSTRUCT"),
                                                ("image_dfl.dcm", "OT")])
def test_compressed_and_no_preamble_files(name: str, modality: str) -> None:
    assert record_of(name).fields["Modality"] == modality
    assert DicomSource().accepts(Path(get_testdata_file(name)))


def test_no_preamble_file_is_sniffed_without_extension(tmp_path: Path) -> None:
    path = tmp_path / "noext"
    path.write_bytes(Path(get_testdata_file("rtstruct.dcm")).read_bytes())
    path_txt = tmp_path / "instance.bin"
    path_txt.write_bytes(path.read_bytes())
    assert DicomSource().accepts(path) and DicomSource().accepts(path_txt)
    assert isinstance(read_one(path_txt), Record)


def enhanced(top: dict[str, object], shared: Dataset | None, per_frame: Dataset | None) -> Dataset:
    ds = Dataset()
    ds.SOPInstanceUID, ds.StudyInstanceUID, ds.SeriesInstanceUID = "1.2.3.1", "1.2.3.2", "1.2.3.3"
    for keyword, value in top.items():
        setattr(ds, keyword, value)
    if shared is not None:
        ds.SharedFunctionalGroupsSequence = Sequence([shared])
    if per_frame is not None:
        ds.PerFrameFunctionalGroupsSequence = Sequence([per_frame, Dataset()])
    return ds


def item(**values: object) -> Sequence:
    dataset = Dataset()
    for keyword, value in values.items():
        setattr(dataset, keyword, value)
    return Sequence([dataset])


def test_enhanced_functional_groups() -> None:
    shared = Dataset()
    shared.PixelMeasuresSequence = item(PixelSpacing=["0.5", "0.25"], SliceThickness="2.0", SpacingBetweenSlices="3")
    shared.MRTimingAndRelatedParametersSequence = item(RepetitionTime="500", FlipAngle="12")
    shared.CTXRayDetailsSequence = item(KVP="120", FilterType="BODY")
    shared.CTExposureSequence = item(XRayTubeCurrentInmA=250.0, ExposureTimeInms=500.0)
    shared.CTReconstructionSequence = item(ConvolutionKernel=["B30f", "SHARP"])
    shared.FrameAnatomySequence = item(FrameLaterality="L")
    per_frame = Dataset()
    per_frame.MREchoSequence = item(EffectiveEchoTime=30.0)
    per_frame.MRImageFrameTypeSequence = item(FrameType=["ORIGINAL", "PRIMARY", "M", "NONE"])
    per_frame.PixelMeasuresSequence = item(PixelSpacing=["9", "9"])  # the shared group is read first
    fields, notes = header_fields(enhanced({"Modality": "MR"}, shared, per_frame))
    assert notes == []
    assert fields["PixelSpacing"] == [0.5, 0.25]
    assert (fields["SliceThickness"], fields["SpacingBetweenSlices"]) == (2.0, 3.0)
    assert (fields["RepetitionTime"], fields["FlipAngle"], fields["EchoTime"]) == (500.0, 12.0, 30.0)
    assert (fields["KVP"], fields["FilterType"]) == (120.0, "BODY")
    assert (fields["XRayTubeCurrent"], fields["ExposureTime"]) == (250, 500)
    assert fields["ConvolutionKernel"] == "B30f\\SHARP"
    assert fields["Laterality"] == "L"
    assert fields["ImageType"] == ["ORIGINAL", "PRIMARY", "M", "NONE"]


def test_top_level_wins_over_functional_groups() -> None:
    shared = Dataset()
    shared.PixelMeasuresSequence = item(SliceThickness="2.0")
    shared.FrameAnatomySequence = item(FrameLaterality="L")
    fields, _ = header_fields(enhanced({"SliceThickness": "5", "Laterality": "R", "ImageType": ["DERIVED"]},
                                       shared, None))
    assert (fields["SliceThickness"], fields["Laterality"], fields["ImageType"]) == (5.0, "R", ["DERIVED"])


def test_contrast_and_radiopharmaceutical_from_sequences() -> None:
    per_frame = Dataset()
    per_frame.ContrastBolusUsageSequence = item(ContrastBolusAgentNumber=1, ContrastBolusAgentAdministered="YES")
    ds = enhanced({}, None, per_frame)
    ds.ContrastBolusAgentSequence = item(  # the Enhanced Contrast/Bolus Module
        CodeValue="C-B0317", CodingSchemeDesignator="SRT", CodeMeaning="Gadolinium", ContrastBolusAgentNumber=1,
        ContrastBolusAdministrationRouteSequence=item(CodeValue="G-D101", CodingSchemeDesignator="SRT",
                                                      CodeMeaning="Intravenous route"))
    ds.RadiopharmaceuticalInformationSequence = item(Radiopharmaceutical=" Fluorodeoxyglucose ")
    fields, _ = header_fields(ds)
    assert fields["ContrastBolusAgent"] == "Gadolinium"
    assert fields["ContrastBolusRoute"] == "Intravenous route"
    assert fields["Radiopharmaceutical"] == "Fluorodeoxyglucose"


def test_bad_dates_and_numbers_are_noted() -> None:
    with warnings.catch_warnings():  # pydicom warns about the invalid values being set
        warnings.simplefilter("ignore")
        ds = enhanced({"StudyDate": "20231345", "SeriesDate": "2023.01.02", "PatientBirthDate": "",
                       "StudyTime": "1230", "SeriesNumber": "7"}, None, None)
    # values as read from a file, before pydicom converts them (it cannot convert these)
    ds[0x00180050] = RawDataElement(Tag(0x00180050), "DS", 6, b"thick ", 0, False, True)  # SliceThickness
    ds[0x00280030] = RawDataElement(Tag(0x00280030), "DS", 8, b"1.0\\n/a ", 0, False, True)  # PixelSpacing
    ds[0x00180088] = RawDataElement(Tag(0x00180088), "DS", 4, b"nan ", 0, False, True)  # SpacingBetweenSlices
    fields, notes = header_fields(ds)
    assert fields["StudyDate"] == "20231345"
    assert fields["SeriesDate"] == "2023-01-02" and fields["StudyTime"] == "12:30:00" and fields["SeriesNumber"] == 7
    assert "PatientBirthDate" not in fields
    assert not {"SliceThickness", "PixelSpacing", "SpacingBetweenSlices"} & fields.keys()
    assert any(note.startswith("StudyDate: invalid date") for note in notes)
    for keyword in ("SliceThickness", "PixelSpacing", "SpacingBetweenSlices"):
        assert any(note.startswith(f"{keyword}: unparsable number") for note in notes), keyword


def test_non_ascii_digits_in_dates_and_times_are_noted_not_raised() -> None:
    """Latin-1 files may hold superscript digits: str.isdigit() accepts them, int() does not."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ds = enhanced({"StudyDate": "2023010\u00b2", "StudyTime": "123\u00b3"}, None, None)
    fields, notes = header_fields(ds)
    assert fields["StudyDate"] == "2023010\u00b2" and fields["StudyTime"] == "123\u00b3"
    assert any(note.startswith("StudyDate: invalid date") for note in notes)
    assert any(note.startswith("StudyTime: invalid time") for note in notes), notes
    assert _time("1230.5\u00b9") is None and _time("1230.5") == "12:30:00.5"


def test_missing_uids_reject(tmp_path: Path) -> None:
    ds = pydicom.dcmread(get_testdata_file("CT_small.dcm"))
    del ds.StudyInstanceUID
    path = tmp_path / "no-study.dcm"
    ds.save_as(path)
    result = read_one(path)
    assert isinstance(result, Rejection) and result.reason == "no Study Instance UID"


def test_dicomdir_is_rejected() -> None:
    result = read_one(Path(get_testdata_file("DICOMDIR")))
    assert isinstance(result, Rejection) and result.reason.startswith("DICOMDIR")


def test_json_empty_text_and_truncated_files(tmp_path: Path) -> None:
    source = DicomSource()
    json_path = tmp_path / "patient.json"
    json_path.write_text(json.dumps({"resourceType": "Patient", "id": "p1"}))
    csv_path = tmp_path / "README"
    csv_path.write_text("id,modality\n1,CT\n")
    assert not source.accepts(json_path) and not source.accepts(csv_path)
    assert isinstance(read_one(json_path), Rejection) and isinstance(read_one(csv_path), Rejection)
    empty = tmp_path / "empty.dcm"
    empty.write_bytes(b"")
    assert read_one(empty) == Rejection(read_one(empty).provenance, "empty file")
    truncated = tmp_path / "truncated.dcm"
    truncated.write_bytes(Path(get_testdata_file("CT_small.dcm")).read_bytes()[:1000])
    result = read_one(truncated)
    assert isinstance(result, Rejection) and result.reason.startswith("truncated")
    pixels_cut = tmp_path / "pixels-cut.dcm"
    pixels_cut.write_bytes(Path(get_testdata_file("CT_small.dcm")).read_bytes()[:20000])  # pixels: 6288-39068
    result = read_one(pixels_cut)
    assert isinstance(result, Rejection) and "pixel data" in result.reason
    assert not source.accepts(tmp_path / "absent.dcm")
    assert isinstance(read_one(tmp_path / "absent.dcm"), Rejection)


def test_warnings_become_notes_not_errors(tmp_path: Path) -> None:
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta.MediaStorageSOPClassUID = ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.7"
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID = "1.2.3.1"
    ds.StudyInstanceUID, ds.SeriesInstanceUID = "1.2.3.2", "1.2.3.3"
    path = tmp_path / "bad-is.dcm"
    with warnings.catch_warnings():  # pydicom warns when the invalid value is set and written
        warnings.simplefilter("ignore")
        ds.add_new(0x00200011, "IS", "12.5")  # SeriesNumber: IS must be an integer
        ds.save_as(path, enforce_file_format=True)
    record = read_one(path)
    assert isinstance(record, Record) and "SeriesNumber" not in record.fields
    assert any("SeriesNumber" in note for note in record.notes)


DICOM_HEADS = st.sampled_from([b"", b"\x08\x00\x05\x00CS", b"\x00\x08\x00\x05CS", b"\x02\x00\x00\x00UL\x04\x00",
                               b"\x08\x00\x16\x00\x1a\x00\x00\x00", bytes(128) + b"DICM"])


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(head=DICOM_HEADS, body=st.binary(max_size=600))
def test_random_bytes_never_raise(tmp_path: Path, head: bytes, body: bytes) -> None:
    path = tmp_path / "random.dcm"
    path.write_bytes(head + body)
    DicomSource().accepts(path)
    results = list(DicomSource().read(path))
    assert len(results) == 1 and isinstance(results[0], Record | Rejection)


def test_random_bytes_after_real_header_never_raise(tmp_path: Path) -> None:
    data = Path(get_testdata_file("MR_small_implicit.dcm")).read_bytes()
    for cut in range(0, 1600, 3):
        path = tmp_path / f"cut{cut}.dcm"
        path.write_bytes(data[:cut] + bytes(reversed(data[cut:cut + 40])))
        assert len(list(DicomSource().read(path))) == 1


def shared_index() -> list[dict[str, str]]:
    if not INDEX.is_file():
        return []
    with INDEX.open(newline="", encoding="utf-8") as stream:
        return list(csv.DictReader(stream))


@pytest.mark.shared
@pytest.mark.parametrize("row", shared_index() or [pytest.param(None, marks=pytest.mark.skip(
    reason=f"needs the shared DICOM files and {INDEX} (../shared/data, absent here)"))],
    ids=lambda row: row["file"] if row else "absent")
def test_shared_dicom_files(row: dict[str, str]) -> None:
    path = SHARED_DICOM / row["file"]
    if not path.is_file():
        pytest.skip(f"{path} is absent")
    assert DicomSource().accepts(path)
    result = read_one(path)
    if row["read_error"] or not row["modality"]:
        # the index has no modality only for files without any instance identifiers
        assert isinstance(result, Rejection), result
    else:
        assert isinstance(result, Record), result
        assert result.fields["Modality"] == row["modality"]
        assert result.fields.get("TransferSyntaxUID", "") == row["transfer_syntax_uid"]
        if row["frames"]:
            assert result.fields["NumberOfFrames"] == int(row["frames"])


def test_shared_index_is_complete() -> None:
    rows = shared_index()
    if not rows:
        pytest.skip(f"needs {INDEX} (../shared/data, absent here)")
    on_disk = {path.relative_to(SHARED_DICOM).as_posix() for path in SHARED_DICOM.rglob("*")
               if path.is_file() and path.name != "SOURCE.md"}
    assert on_disk == {row["file"] for row in rows}


def test_contrast_not_administered_is_not_taken() -> None:
    per_frame = Dataset()
    per_frame.ContrastBolusUsageSequence = item(ContrastBolusAgentNumber=1, ContrastBolusAgentAdministered="NO")
    ds = enhanced({}, None, per_frame)
    ds.ContrastBolusAgentSequence = item(CodeMeaning="Gadolinium", ContrastBolusAgentNumber=1)
    assert "ContrastBolusAgent" not in header_fields(ds)[0]
