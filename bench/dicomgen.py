"""Small realistic synthetic DICOM files, fast: patients -> studies -> series -> instances.

Run: python bench/dicomgen.py --files N --out DIR [--seed 1]

Each patient has one or two studies of one to three series (CT, MR, PET or mammography, following the
patient's cancer site), each series several instances (CT 8-24 slices, MR 6-20, PET 8-16, MG 2-4 views) with
the attributes a node ingests (patient, study, series, equipment, geometry, acquisition) and tiny 8x8 pixel
data. Files are valid Part 10 (file meta, explicit VR little endian), laid out DIR/patient/study/series/N.dcm;
the same seed gives the same files (UIDs derived from the seed). Identifiers and names are synthetic.
Several hundred files per second on one core: 100,000 files in a few minutes, about 450 MB on disk.
"""

from __future__ import annotations

import argparse
import hashlib
import random
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pydicom
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import PYDICOM_IMPLEMENTATION_UID, ExplicitVRLittleEndian

SOP_CLASS = {"CT": "1.2.840.10008.5.1.4.1.1.2", "MR": "1.2.840.10008.5.1.4.1.1.4",
             "PT": "1.2.840.10008.5.1.4.1.1.128", "MG": "1.2.840.10008.5.1.4.1.1.1.2"}
INSTANCES = {"CT": (8, 24), "MR": (6, 20), "PT": (8, 16), "MG": (2, 4)}
# cancer site: (weight, sex, body parts examined, modalities with weights, study descriptions)
SITES = {
    "lung": (0.30, None, ("CHEST",), (("CT", 0.6), ("PT", 0.25), ("MR", 0.15)), "CT THORAX"),
    "breast": (0.30, "F", ("BREAST",), (("MG", 0.5), ("MR", 0.35), ("CT", 0.15)), "MAMMOGRAPHY BILATERAL"),
    "prostate": (0.22, "M", ("PROSTATE", "PELVIS"), (("MR", 0.7), ("CT", 0.15), ("PT", 0.15)), "MRI PROSTATE"),
    "colorectal": (0.18, None, ("ABDOMEN", "PELVIS"), (("CT", 0.6), ("MR", 0.3), ("PT", 0.1)), "CT ABDOMEN"),
}
MAKERS = {"CT": (("SIEMENS", "SOMATOM Force"), ("GE MEDICAL SYSTEMS", "Revolution CT"),
                 ("Philips", "IQon Spectral CT"), ("CANON_MEC", "Aquilion ONE")),
          "MR": (("SIEMENS", "MAGNETOM Vida"), ("GE MEDICAL SYSTEMS", "SIGNA Premier"), ("Philips", "Ingenia")),
          "PT": (("SIEMENS", "Biograph Vision"), ("GE MEDICAL SYSTEMS", "Discovery MI")),
          "MG": (("HOLOGIC, Inc.", "Selenia Dimensions"), ("FUJIFILM Corporation", "AMULET Innovality"),
                 ("SIEMENS", "MAMMOMAT Revelation"))}
SERIES_DESCRIPTION = {"CT": ("AXIAL 1.25mm", "AXIAL 5mm", "LUNG 1mm"), "MR": ("T2 TSE AX", "DWI b800", "T1 VIBE"),
                      "PT": ("PET AC", "PET NAC"), "MG": ("L CC", "R MLO")}
PIXELS = b"".join((60 * v).to_bytes(2, "little") for v in range(64))  # 8 x 8, 12 bits stored


@dataclass(frozen=True)
class Layout:
    """The counts the generator wrote: files, series, studies, patients."""

    files: int
    series: int
    studies: int
    patients: int


def uid(seed: int, *parts: object) -> str:
    """A deterministic UID of the seed and the parts: 2.25 and a 128-bit number (PS3.5 B.2)."""
    digest = hashlib.sha256("/".join(map(str, (seed, *parts))).encode()).digest()
    return f"2.25.{int.from_bytes(digest[:16], 'big')}"


def patient_dataset(rng: random.Random, seed: int, index: int) -> tuple[Dataset, str]:
    """The patient module (synthetic identity) and the patient's cancer site."""
    site = rng.choices(list(SITES), [v[0] for v in SITES.values()])[0]
    ds = Dataset()
    ds.PatientID = f"SYN{seed:02d}{index:07d}"
    ds.PatientName = f"SYNTHETIC^PATIENT{index:07d}"
    ds.PatientSex = SITES[site][1] or rng.choice("FM")
    ds.PatientBirthDate = f"{rng.randint(1935, 1985)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}"
    return ds, site


def study_dataset(patient: Dataset, rng: random.Random, seed: int, key: tuple[int, int], site: str) -> Dataset:
    ds = Dataset()
    ds.update(patient)
    ds.StudyInstanceUID = uid(seed, "study", *key)
    year = rng.randint(2012, 2024)
    ds.StudyDate = f"{year}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}"
    ds.StudyTime = f"{rng.randint(7, 19):02d}{rng.randint(0, 59):02d}00"
    ds.PatientAge = f"{year - int(patient.PatientBirthDate[:4]):03d}Y"
    ds.AccessionNumber = f"ACC{seed:02d}{key[0]:07d}{key[1]}"
    ds.StudyID = str(key[1] + 1)
    ds.StudyDescription = SITES[site][4]
    ds.ReferringPhysicianName = ""
    ds.InstitutionName = rng.choice(("SYNTHETIC HOSPITAL A", "SYNTHETIC HOSPITAL B", "SYNTHETIC CLINIC C"))
    return ds


def series_dataset(study: Dataset, rng: random.Random, seed: int, key: tuple[int, int, int], site: str) -> Dataset:
    names, weights = zip(*SITES[site][3], strict=True)
    modality = rng.choices(names, weights)[0]
    ds = Dataset()
    ds.update(study)
    ds.Modality, ds.SOPClassUID = modality, SOP_CLASS[modality]
    ds.SeriesInstanceUID = uid(seed, "series", *key)
    ds.FrameOfReferenceUID = uid(seed, "frame", *key)
    ds.SeriesNumber, ds.SeriesDate, ds.SeriesTime = key[2] + 1, study.StudyDate, study.StudyTime
    ds.SeriesDescription = rng.choice(SERIES_DESCRIPTION[modality])
    ds.BodyPartExamined = rng.choice(SITES[site][2])
    ds.Manufacturer, ds.ManufacturerModelName = rng.choice(MAKERS[modality])
    ds.SliceThickness = {"CT": rng.choice(("1.25", "2.5", "5")), "MR": "3", "PT": "3.27", "MG": "0"}[modality]
    acquisition(ds, rng, modality)
    image_pixels(ds, modality)
    return ds


def acquisition(ds: Dataset, rng: random.Random, modality: str) -> None:
    """Modality-specific acquisition attributes."""
    if modality == "CT":
        ds.KVP, ds.XRayTubeCurrent, ds.ConvolutionKernel = rng.choice(("100", "120")), rng.randint(80, 400), "B30f"
    elif modality == "MR":
        ds.MagneticFieldStrength = rng.choice(("1.5", "3"))
        ds.RepetitionTime, ds.EchoTime = str(rng.randint(400, 5000)), str(rng.randint(10, 120))
    elif modality == "PT":
        ds.Units, ds.DecayCorrection = "BQML", "START"
    else:
        ds.ImageLaterality = ds.SeriesDescription[0]
        ds.ViewPosition = ds.SeriesDescription[2:]
        ds.KVP = "29"


def image_pixels(ds: Dataset, modality: str) -> None:
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.Rows = ds.Columns = 8
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 12, 11, 0
    ds.PixelSpacing = ["0.7", "0.7"] if modality != "MG" else ["0.1", "0.1"]
    if modality != "MG":
        ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
    if modality == "CT":
        ds.RescaleIntercept, ds.RescaleSlope = "-1024", "1"
    ds.PixelData = PIXELS


def write_instance(series: Dataset, path: Path, sop_uid: str, number: int) -> None:
    """Write one instance of the series (its template dataset, changed in place) as a Part 10 file."""
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID, meta.MediaStorageSOPInstanceUID = series.SOPClassUID, sop_uid
    meta.TransferSyntaxUID, meta.ImplementationClassUID = ExplicitVRLittleEndian, PYDICOM_IMPLEMENTATION_UID
    series.file_meta = meta
    series.SOPInstanceUID, series.InstanceNumber = sop_uid, number
    if series.Modality != "MG":
        series.ImagePositionPatient = [-28, -28, round(-number * float(series.SliceThickness), 2)]
    pydicom.dcmwrite(path, series, enforce_file_format=True)


def series_plan(files: int, seed: int) -> Iterator[tuple[Dataset, int, tuple[int, int, int]]]:
    """(series template, instance count, (patient, study, series)) until ``files`` instances are planned."""
    rng, left, patient_index = random.Random(seed), files, 0
    while left > 0:
        patient, site = patient_dataset(rng, seed, patient_index)
        for s in range(1 if rng.random() < 0.7 else 2):
            study = study_dataset(patient, rng, seed, (patient_index, s), site)
            for n in range(rng.choice((1, 1, 2, 3))):
                series = series_dataset(study, rng, seed, (patient_index, s, n), site)
                count = min(left, rng.randint(*INSTANCES[series.Modality]))
                yield series, count, (patient_index, s, n)
                left -= count
                if left == 0:
                    return
        patient_index += 1


def generate(files: int, out: Path, *, seed: int = 1) -> Layout:
    """Write ``files`` DICOM files under ``out``; returns what was written.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     generate(30, Path(tmp)).files
    30
    """
    written, series_n, studies, patients = 0, 0, set(), set()
    for series, count, (p, s, n) in series_plan(files, seed):
        folder = out / f"p{p:07d}" / f"st{s}" / f"se{n}"
        folder.mkdir(parents=True, exist_ok=True)
        for i in range(count):
            write_instance(series, folder / f"{i + 1:04d}.dcm", uid(seed, "sop", p, s, n, i), i + 1)
        written, series_n = written + count, series_n + 1
        studies.add((p, s))
        patients.add(p)
    return Layout(written, series_n, len(studies), len(patients))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--files", type=int, required=True, help="number of DICOM files to write")
    parser.add_argument("--out", type=Path, required=True, help="directory to write into")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    start = time.perf_counter()
    layout = generate(args.files, args.out, seed=args.seed)
    seconds = time.perf_counter() - start
    print(f"{args.out}: {layout.files:,} files, {layout.series:,} series, {layout.studies:,} studies, "
          f"{layout.patients:,} patients in {seconds:.1f} s ({layout.files / seconds:,.0f} files/s)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
