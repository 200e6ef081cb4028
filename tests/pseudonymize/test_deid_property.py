"""Property: whatever is planted in an attribute the profile does not keep, none of it leaves ``deidentify``.

For every attribute of the PS3.6 data dictionary (``../shared/data/dicom-standard/attributes.json``; repeating
groups 50xx/60xx instantiated twice) that the profile does not keep (kept: a table action K, the safe list, or a
time under Retain Longitudinal Temporal Information with Modified Dates), a distinctive value for its VR is planted
into a real DICOM file: at the top level, inside an item of sequences the de-identifier walks, and, for every
sequence it does not keep, an item holding a value that would be kept if the sequence were walked. The preamble,
a private block, the input's folder and file names carry the marker too. The ``deidentify`` command then runs on
the file, and the marker must not be found in the output bytes, the output paths or the audit JSON, nor any
planted (tag, value) pair in the output dataset.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import struct
import warnings
import zlib
from dataclasses import asdict, dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import pydicom
import pytest
import yaml
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from pydicom.dataelem import DataElement
from pydicom.dataset import Dataset
from pydicom.multival import MultiValue
from pydicom.sequence import Sequence
from pydicom.tag import Tag
from pydicom.uid import DeflatedExplicitVRLittleEndian

from hyperontology.cli import deid
from hyperontology.pseudonymize.keys import PseudonymKey
from hyperontology.pseudonymize.profile import Profile, effective_action, load_table
from hyperontology.pseudonymize.safe import load_safe_attributes

pytestmark = [pytest.mark.shared, pytest.mark.slow, pytest.mark.filterwarnings("ignore::UserWarning")]

DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"
DICTIONARY = DATA / "dicom-standard" / "attributes.json"
KEY = PseudonymKey(bytes(range(32)))
EUCAIM = Profile(retain_longitudinal_modified_dates=True, retain_patient_characteristics=True,
                 retain_device_identity=True, clean_descriptors=True)
PROFILES = [Profile(), EUCAIM, Profile(clean_structured_content=True, retain_safe_private=True,
                                       retain_institution_identity=True, clean_descriptors=True, burned_in="flag")]
_CODE_MEANING, _MANUFACTURER = 0x00080104, 0x00080070
_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


@cache
def _dictionary() -> tuple[tuple[int, str], ...]:
    """(tag, VR) of the PS3.6 attributes a dataset can carry (no command, file meta, delimiters, group lengths)."""
    found = []
    for row in json.loads(DICTIONARY.read_text(encoding="utf-8")):
        vr = str(row.get("valueRepresentation", "")).split(" or ")[0].strip()
        ident = str(row.get("id", "")).lower()
        if len(vr) != 2 or len(ident) != 8:
            continue
        for text in _instances(ident):
            tag = int(text, 16)
            group, element = tag >> 16, tag & 0xFFFF
            if group in (0x0000, 0x0002, 0xFFFE) or group % 2 or element == 0:
                continue
            found.append((tag, vr))
    return tuple(sorted(set(found)))


def _instances(ident: str) -> list[str]:
    """A repeating-group tag (``60xx0022``) at two groups; other wildcard digits as 1."""
    if ident[:2] in ("50", "60") and ident[2:4] == "xx":
        return [ident[:2] + low + ident[4:].replace("x", "1") for low in ("00", "1e")]
    return [ident.replace("x", "1")]


@dataclass
class Markers:
    """What one example plants: a text marker, numbers, and every planted (tag, value) pair."""

    text: str
    number: int
    date: str
    uid_root: str
    pairs: set[tuple[int, Any]] = field(default_factory=set)

    def needles(self) -> list[bytes]:
        """Byte strings that must not occur in an output (text forms and binary numbers, both byte orders)."""
        found = [self.text.encode(), str(self.number).encode(), self.date.encode(), self.uid_root.encode()]
        for fmt in ("<I", ">I", "<d", ">d", "<Q", ">Q"):
            found.append(struct.pack(fmt, self.number))
        return found


def _distinctive(number: int) -> bool:
    """Four different bytes, none of them 0x00-0x10: a binary marker that does not occur in a header by chance."""
    raw = number.to_bytes(4, "big")
    return len(set(raw)) == 4 and min(raw) > 0x10


def _value(vr: str, index: int, m: Markers) -> Any:
    """A distinctive value valid for ``vr``; ``index`` tells the attributes apart."""
    label = f"{m.text}{index:04X}"
    texts = {"AE": label, "CS": label, "SH": label, "LO": label, "LT": label, "ST": label, "UT": label,
             "UC": label, "PN": f"{label}^GIVEN", "UR": f"http://x.example/{label}", "AS": f"{index % 100:03d}W",
             "DA": m.date, "DT": f"{m.date}101112.{index:06d}", "TM": f"1011{index % 60:02d}.{m.number % 10**6:06d}",
             "DS": f"{m.number % 10**6}.{index:04d}", "IS": str(m.number), "UI": f"{m.uid_root}.{index}"}
    numbers = {"US": 40000 + index % 20000, "SS": -20000 - index % 10000, "UL": m.number, "SL": m.number,
               "UV": m.number, "SV": m.number, "FL": 123457.5, "FD": float(m.number), "AT": Tag(0x77770000 + index)}
    if vr in texts:
        return texts[vr]
    if vr in numbers:
        return numbers[vr]
    return (label.encode() + b"#" * 8)[: (len(label) + 7) // 8 * 8]  # OB OD OF OL OV OW UN


def _norm(value: Any) -> Any:
    if isinstance(value, bytes):
        return value
    if isinstance(value, MultiValue | list):
        return tuple(_norm(v) for v in value)
    return str(value)


@cache
def _actions(profile: Profile) -> dict[int, str]:
    """What the standard says for each dictionary tag under ``profile``, read from the table and the safe list
    (not from the de-identifier): the table's effective action (exact tag, else its repeating-group row), else K
    for a safe attribute, else X."""
    exact: dict[int, str] = {}
    groups: list[tuple[int, int, str]] = []
    for entry in load_table()["attributes"]:
        digits = str(entry["tag"]).strip("()").replace(",", "")
        if len(digits) != 8 or not all(c in "0123456789abcdefx" for c in digits):
            continue  # "(gggg,eeee) where gggg is odd": private elements
        action = effective_action(entry, profile)
        if "x" in digits:
            mask = int("".join("0" if c == "x" else "F" for c in digits), 16)
            groups.append((mask, int(digits.replace("x", "0"), 16), action))
        else:
            exact[int(digits, 16)] = action
    safe = load_safe_attributes()
    found = {}
    for tag, _vr in _dictionary():
        grouped = next((action for mask, value, action in groups if tag & mask == value), None)
        found[tag] = exact.get(tag) or grouped or ("K" if tag in safe else "X")
    return found


def _kept(profile: Profile, tag: int, vr: str) -> bool:
    action = _actions(profile)[tag]
    if tag == _CODE_MEANING:  # on the safe list but cleaned: its planted value must go
        return False
    return action == "K" or (action == "C" and vr == "TM" and profile.retain_longitudinal_modified_dates)


def _fill(item: Dataset, profile: Profile, m: Markers) -> None:
    """Plant every attribute ``profile`` does not keep into ``item``; a dropped sequence gets a would-be-kept item."""
    for index, (tag, vr) in enumerate(_dictionary()):
        if _kept(profile, tag, vr) or (vr == "SQ" and tag in _walked(profile)):
            continue  # a walked sequence is planted as a container (``_plant``)
        if vr == "SQ":
            inner = Dataset()
            inner.add(DataElement(_MANUFACTURER, "LO", f"{m.text}S{index:04X}"))  # kept if the sequence were walked
            item.add(DataElement(tag, "SQ", Sequence([inner])))
            continue
        value = _value(vr, index, m)
        item.add(DataElement(tag, vr, value))
        m.pairs.add((tag, _norm(value)))


@cache
def _walked(profile: Profile) -> frozenset[int]:
    """The sequences kept and walked item by item under ``profile`` (table action K, C or U, or safe)."""
    actions = _actions(profile)
    return frozenset(tag for tag, vr in _dictionary() if vr == "SQ" and actions[tag] in ("K", "C", "U"))


def _plant(src: Path, profile: Profile, m: Markers, containers: list[int]) -> Dataset:
    ds = pydicom.dcmread(src)
    _fill(ds, profile, m)
    for tag in containers:
        item = Dataset()
        _fill(item, profile, m)
        ds.add(DataElement(tag, "SQ", Sequence([item])))
    block = ds.private_block(0x0019, "SIEMENS MR HEADER", create=True)
    block.add_new(0x10, "LO", f"{m.text}P1")  # not a safe private element
    ds.private_block(0x0029, f"CREATOR {m.text}", create=True).add_new(0x01, "LO", f"{m.text}P2")
    ds.preamble = (b"PRE" + m.text.encode() * 16)[:128]
    return ds


def _plain_bytes(path: Path) -> bytes:
    """The file's bytes, with a deflated dataset inflated (so that the byte scan sees its values)."""
    data = path.read_bytes()
    ds = pydicom.dcmread(path, stop_before_pixels=True)
    if ds.file_meta.get("TransferSyntaxUID") != DeflatedExplicitVRLittleEndian:
        return data
    end = 132 + 12 + int(ds.file_meta.get("FileMetaInformationGroupLength", 0))
    return data[:end] + zlib.decompress(data[end:], -zlib.MAX_WBITS)


def _readable(path: Path) -> bool:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ds = pydicom.dcmread(path)
        return "SOPClassUID" in ds and "BurnedInAnnotation" not in ds and path.stat().st_size < 400_000
    except Exception:
        return False


def _files() -> list[Path]:
    shared = DATA / "dicom"
    return sorted(p for p in shared.rglob("*") if p.is_file() and _readable(p)) if shared.is_dir() else []


FILES = _files()


def _cli(src_root: Path, out: Path, audit: Path, profile: Profile, tmp: Path) -> None:
    (tmp / "key").write_text(KEY.secret.hex(), encoding="ascii")
    (tmp / "profile.yaml").write_text(yaml.safe_dump(asdict(profile)), encoding="utf-8")
    parser = argparse.ArgumentParser()
    deid.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["deidentify", str(src_root), str(out), "--key-file", str(tmp / "key"),
                              "--profile", str(tmp / "profile.yaml"), "--audit", str(audit)])
    assert args.run(args) == 0


@pytest.mark.skipif(not DICTIONARY.is_file(), reason=f"{DICTIONARY} absent (../shared/data not mounted)")
@pytest.mark.skipif(not FILES, reason="no readable DICOM files in ../shared/data/dicom")
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.too_slow])
@given(data=st.data(), src=st.sampled_from(FILES), profile=st.sampled_from(PROFILES),
       text=st.text(_ALPHABET, min_size=8, max_size=8), number=st.integers(2**30, 2**31 - 1).filter(_distinctive),
       day=st.dates(min_value=dt.date(1910, 1, 1), max_value=dt.date(1959, 12, 28)))
def test_no_planted_marker_leaves(tmp_path_factory: pytest.TempPathFactory, data: st.DataObject, src: Path,
                                  profile: Profile, text: str, number: int, day: dt.date) -> None:
    tmp = tmp_path_factory.mktemp("planted")
    m = Markers(text=text, number=number, date=day.strftime("%Y%m%d"), uid_root=f"1.2.826.0.1.3680043.10.{number}")
    original = _plain_bytes(src)
    assume(not any(needle in original for needle in m.needles()))
    containers = data.draw(st.lists(st.sampled_from(sorted(_walked(profile))), min_size=1, max_size=2, unique=True))
    folder = tmp / "in" / f"DOE {text}"
    folder.mkdir(parents=True)
    _plant(src, profile, m, containers).save_as(folder / f"{text}.dcm", enforce_file_format=False)
    assert text.encode() in (folder / f"{text}.dcm").read_bytes()[:128]  # the preamble really carries it
    _cli(tmp / "in", tmp / "out", tmp / "audit.json", profile, tmp)

    outputs = [p for p in (tmp / "out").rglob("*") if p.is_file()]
    assert len(outputs) == 1, "the planted file was not written"
    names = [p.relative_to(tmp / "out").as_posix() for p in (tmp / "out").rglob("*")]
    assert not [n for n in names if text in n or "DOE" in n]
    audit = (tmp / "audit.json").read_text(encoding="utf-8")
    assert text not in audit and str(tmp / "in") not in audit and KEY.secret.hex() not in audit
    raw = _plain_bytes(outputs[0])
    assert raw[:128] == bytes(128)
    assert not [needle for needle in m.needles() if needle in raw]
    leaked = [f"{elem.tag}" for elem in pydicom.dcmread(outputs[0]).iterall()
              if elem.VR != "SQ" and (int(elem.tag), _norm(elem.value)) in m.pairs]
    assert not leaked
