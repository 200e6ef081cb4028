"""Mutations of DICOM files that know where the data elements are: wrong VRs, wrong and huge lengths, odd values,
dropped, repeated and swapped elements, other transfer syntaxes, deep sequences, deflated datasets (and bombs).

Elements are found by walking the file (:func:`elements`): the file meta (explicit VR little endian), then the
top-level dataset in the transfer syntax the meta names (walked as far as it makes sense; the mutations only need
some elements).

Examples
--------
>>> from pathlib import Path
>>> from pydicom.data import get_testdata_file
>>> data = Path(get_testdata_file("CT_small.dcm")).read_bytes()
>>> found = {e.tag for e in elements(data)}
>>> 0x00020010 in found, 0x00080018 in found, 0x7FE00010 in found
(True, True, True)
"""

from __future__ import annotations

import random
import struct
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

from tests.fuzz.seeds import Seed

__all__ = ["elements", "mutate_dicom"]

_LONG_VRS = frozenset({b"OB", b"OD", b"OF", b"OL", b"OV", b"OW", b"SQ", b"SV", b"UC", b"UN", b"UR", b"UT", b"UV"})
_VRS = (b"AE", b"AS", b"CS", b"DA", b"DS", b"DT", b"FD", b"FL", b"IS", b"LO", b"LT", b"OB", b"OW", b"PN", b"SH",
        b"SQ", b"SS", b"ST", b"TM", b"UI", b"UL", b"UN", b"US", b"UT", b"ZZ", b"\x00\x00", b"sq", b"  ")
#: transfer syntax -> (explicit VR, little endian); every other one is explicit VR little endian
_SYNTAXES = {"1.2.840.10008.1.2": (False, True), "1.2.840.10008.1.2.2": (True, False)}
_DEFLATED = "1.2.840.10008.1.2.1.99"
_OTHER_SYNTAXES = (b"1.2.840.10008.1.2", b"1.2.840.10008.1.2.2", _DEFLATED.encode(), b"1.2.840.10008.1.2.4.50",
                   b"1.2.840.10008.1.2.1", b"1.2.3", b"", b"\xff\xfe1.2", b"1.2.840.10008.1.2.1" + b"\x00" * 40)
#: tags of attributes the DICOM source reads, whose values are worth making odd
_TARGETS = (0x00080005, 0x00080016, 0x00080018, 0x0020000D, 0x0020000E, 0x00100020, 0x00100010, 0x00100030,
            0x00100040, 0x00080020, 0x00080021, 0x00080030, 0x00080060, 0x00180015, 0x00080070, 0x00180050,
            0x00180088, 0x00180060, 0x00280010, 0x00280011, 0x00280030, 0x00280008, 0x00200011, 0x00080008,
            0x00181030, 0x00200060, 0x00181150, 0x00181152)
_VALUES = (b"", b" ", b"\x00\x00\x00\x00", b"\\\\\\\\", b"1e999", b"NaN ", b"-0", b"inf ", b"99999999999999999999",
           b"-2147483649 ", b"20241399", b"00010101", b"00011231", b"99991231", b"2020.02.30", b"19000229",
           b"\xe9\xe8\xff\xfe", b"\xc3\x28", "名前^太郎".encode(), "Müller".encode("latin-1"), b"\x1b$B$3\x1b(B",
           b"1.2.3..4", b"1.2.840." + b"9" * 100, b"CT\\MR\\PT", b"ISO_IR 192", b"ISO 2022 IR 87", b"GARBAGE ",
           b"ISO_IR 100\\ISO_IR 192", b"1\\2\\3\\4", b"0.5\\abc", b"<x>\"'&", b"A" * 1024, b"\r\n\t ", b"250000 ")


@dataclass(frozen=True)
class Element:
    """Where one data element is in a file: its tag, VR (None when implicit), header, length field and value."""

    tag: int
    vr: bytes | None
    start: int
    length_at: int
    length_size: int
    value_at: int
    length: int
    little: bool

    @property
    def end(self) -> int:
        return self.value_at + (0 if self.length == 0xFFFFFFFF else self.length)


def _read_tag(data: bytes, pos: int, little: bool) -> int:
    group, number = struct.unpack("<HH" if little else ">HH", data[pos:pos + 4])
    return int(group) << 16 | int(number)


def _walk(data: bytes, pos: int, explicit: bool, little: bool, *, meta: bool) -> tuple[list[Element], int]:
    """Elements from ``pos`` on (only group 0002 when ``meta``), and where the walk stopped."""
    found: list[Element] = []
    order = "<" if little else ">"
    while pos + 8 <= len(data):
        tag = _read_tag(data, pos, little)
        if meta != (tag >> 16 == 0x0002):
            break
        vr = data[pos + 4:pos + 6] if explicit else None
        if vr is not None and not (vr.isalpha() and vr.isupper()):
            break
        long_form = vr is None or vr in _LONG_VRS
        length_at = pos + (8 if long_form and vr is not None else 4 if vr is None else 6)
        size = 4 if long_form else 2
        if length_at + size > len(data):
            break
        (length,) = struct.unpack(order + ("L" if size == 4 else "H"), data[length_at:length_at + size])
        element = Element(tag, vr, pos, length_at, size, length_at + size, int(length), little)
        found.append(element)
        if tag == 0x7FE00010:
            break
        pos = element.end if length != 0xFFFFFFFF else _after_delimiter(data, element)
        if pos < 0:
            break
    return found, pos


def _after_delimiter(data: bytes, element: Element) -> int:
    delimiter = struct.pack("<HHL" if element.little else ">HHL", 0xFFFE, 0xE0DD, 0)
    found = data.find(delimiter, element.value_at)
    return -1 if found < 0 else found + len(delimiter)


def _syntax(meta: list[Element], data: bytes) -> str:
    element = next((e for e in meta if e.tag == 0x00020010), None)
    return "" if element is None else data[element.value_at:element.end].rstrip(b"\x00 ").decode("latin-1")


def elements(data: bytes) -> list[Element]:
    """The file meta elements and the top-level elements of the dataset (as far as a simple walk gets)."""
    start = 132 if data[128:132] == b"DICM" else 0
    meta, pos = _walk(data, start, True, True, meta=True)
    syntax = _syntax(meta, data)
    if syntax == _DEFLATED:
        return meta
    explicit, little = _SYNTAXES.get(syntax, (True, True)) if meta else (data[pos + 4:pos + 6].isalpha(), True)
    body, _ = _walk(data, pos, explicit, little, meta=False)
    return meta + body


def _header(element: Element, vr: bytes | None, length: int) -> bytes:
    """The header of ``element`` written again with a VR and a length (its encoding kept)."""
    order = "<" if element.little else ">"
    tag = struct.pack(order + "HH", element.tag >> 16, element.tag & 0xFFFF)
    if vr is None:
        return tag + struct.pack(order + "L", length)
    if vr in _LONG_VRS:
        return tag + vr + b"\x00\x00" + struct.pack(order + "L", length)
    return tag + vr + struct.pack(order + "H", min(length, 0xFFFF))


def _rewrite(data: bytes, element: Element, value: bytes, vr: bytes | None = None) -> bytes:
    """``data`` with ``element`` written again holding ``value`` (and another VR if given)."""
    vr = vr or element.vr
    if vr is not None and vr not in _LONG_VRS:
        value = value[:0xFFFE]
    return data[:element.start] + _header(element, vr, len(value)) + value + data[element.end:]


# ------------------------------------------------------------------------------------------ the mutations
def _pick(found: list[Element], rng: random.Random, *, targeted: bool = True) -> Element | None:
    wanted = [e for e in found if e.tag in _TARGETS and e.length != 0xFFFFFFFF] if targeted else []
    pool = wanted or [e for e in found if e.tag != 0x7FE00010] or found
    return rng.choice(pool) if pool else None


def odd_value(data: bytes, found: list[Element], rng: random.Random) -> bytes:
    element = _pick(found, rng)
    return data if element is None else _rewrite(data, element, rng.choice(_VALUES))


def wrong_length(data: bytes, found: list[Element], rng: random.Random) -> bytes:
    element = _pick(found, rng, targeted=rng.random() < 0.5)
    if element is None:
        return data
    top = 0xFFFFFFFF if element.length_size == 4 else 0xFFFF
    length = rng.choice([0, 1, element.length + 1, max(0, element.length - 1), element.length + 1000, top, top - 1,
                         0x7FFFFFFF & top, rng.randrange(top + 1)])
    length = min(length, top)
    packed = struct.pack(("<" if element.little else ">") + ("L" if element.length_size == 4 else "H"), length)
    return data[:element.length_at] + packed + data[element.length_at + element.length_size:]


def wrong_vr(data: bytes, found: list[Element], rng: random.Random) -> bytes:
    element = _pick(found, rng, targeted=rng.random() < 0.7)
    if element is None or element.vr is None:
        return data
    vr = rng.choice(_VRS)
    if rng.random() < 0.5:  # the VR bytes alone replaced: the rest of the header is read with the wrong layout
        return data[:element.start + 4] + vr + data[element.start + 6:]
    if not (vr.isalpha() and vr.isupper()):
        vr = b"UN"
    return _rewrite(data, element, data[element.value_at:element.end], vr)


def drop_element(data: bytes, found: list[Element], rng: random.Random) -> bytes:
    element = _pick(found, rng)
    return data if element is None else data[:element.start] + data[element.end:]


def repeat_or_swap(data: bytes, found: list[Element], rng: random.Random) -> bytes:
    defined = [e for e in found if e.length != 0xFFFFFFFF and e.tag != 0x7FE00010]
    if len(defined) < 2:
        return data
    index = rng.randrange(len(defined) - 1)
    first, second = defined[index], defined[index + 1]
    if rng.random() < 0.5 or second.start != first.end:
        return data[:first.end] + data[first.start:first.end] + data[first.end:]
    return data[:first.start] + data[second.start:second.end] + data[first.start:first.end] + data[second.end:]


def other_syntax(data: bytes, found: list[Element], rng: random.Random) -> bytes:
    element = next((e for e in found if e.tag == 0x00020010), None)
    return data if element is None else _rewrite(data, element, rng.choice(_OTHER_SYNTAXES))


def deep_sequence(data: bytes, found: list[Element], rng: random.Random) -> bytes:
    """A SharedFunctionalGroupsSequence nested ``depth`` items deep, inserted where its tag belongs."""
    body = [e for e in found if e.tag >> 16 != 0x0002]
    if not body:
        return data
    little, explicit = body[0].little, body[0].vr is not None
    depth = rng.choice([2, 40, 400, 3000])
    order = "<" if little else ">"

    def seq(tag: int) -> bytes:
        head = struct.pack(order + "HH", tag >> 16, tag & 0xFFFF)
        return head + (b"SQ\x00\x00" if explicit else b"") + struct.pack(order + "L", 0xFFFFFFFF)

    item = struct.pack(order + "HHL", 0xFFFE, 0xE000, 0xFFFFFFFF)
    item_end, seq_end = struct.pack(order + "HHL", 0xFFFE, 0xE00D, 0), struct.pack(order + "HHL", 0xFFFE, 0xE0DD, 0)
    thickness = struct.pack(order + "HH", 0x0018, 0x0050) + (b"DS" + struct.pack(order + "H", 4) if explicit
                                                              else struct.pack(order + "L", 4)) + b"abc "
    blob = seq(0x52009229) + (item + seq(0x00289110)) * depth + item + thickness + (item_end + seq_end) * (depth + 1)
    at = next((e.start for e in body if e.tag > 0x52009229), body[-1].end)
    return data[:at] + blob + data[at:]


def fresh_uids(data: bytes, found: list[Element], rng: random.Random) -> bytes:
    """Study, Series and SOP Instance UIDs with new digits (same lengths), so inputs do not all share one series."""
    for element in sorted((e for e in found if e.tag in (0x0020000D, 0x0020000E, 0x00080018)),
                          key=lambda e: e.start, reverse=True):
        value = bytearray(data[element.value_at:element.end])
        for i in range(max(0, len(value) - 12), len(value)):
            if 0x31 <= value[i] <= 0x39:
                value[i] = rng.randrange(0x31, 0x3A)
        data = data[:element.value_at] + bytes(value) + data[element.end:]
    return data


def no_preamble(data: bytes, found: list[Element], rng: random.Random) -> bytes:
    meta = [e for e in found if e.tag >> 16 == 0x0002]
    if rng.random() < 0.5 or not meta:
        return data[132:] if data[128:132] == b"DICM" else data
    return data[meta[-1].end:]


@cache
def _bomb(inflated: int) -> bytes:
    """Raw deflate of ``inflated`` zero bytes (made once; about a thousandth of the size)."""
    packer = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    chunk = bytes(1 << 20)
    return b"".join(packer.compress(chunk) for _ in range(inflated >> 20)) + packer.flush()


def deflate(data: bytes, found: list[Element], rng: random.Random) -> bytes:
    """The dataset deflated (Deflated Explicit VR Little Endian), truncated, replaced by noise or by a bomb."""
    meta = [e for e in found if e.tag >> 16 == 0x0002]
    syntax = next((e for e in meta if e.tag == 0x00020010), None)
    if syntax is None:
        return data
    rest = data[meta[-1].end:]
    packer = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)
    deflated = packer.compress(rest) + packer.flush()
    choice = rng.choice(["valid", "truncated", "noise", "bomb"])
    if choice == "bomb":
        deflated = _bomb(300 << 20)
    elif choice != "valid":
        deflated = deflated[:len(deflated) // 2] if choice == "truncated" else rng.randbytes(len(deflated))
    head = _rewrite(data[:meta[-1].end], syntax, _DEFLATED.encode() + b"\x00")
    return head + deflated


Mutation = Callable[[bytes, list[Element], random.Random], bytes]
MUTATIONS: dict[str, tuple[Mutation, float]] = {
    "odd_value": (odd_value, 4), "wrong_length": (wrong_length, 3), "wrong_vr": (wrong_vr, 3),
    "drop_element": (drop_element, 2), "repeat_or_swap": (repeat_or_swap, 1.5), "other_syntax": (other_syntax, 1),
    "deep_sequence": (deep_sequence, 1), "no_preamble": (no_preamble, 0.7), "deflate": (deflate, 0.5),
}


def mutate_dicom(seed: Seed, rng: random.Random) -> tuple[bytes, str, list[str]]:
    """A mutated copy of a DICOM seed: its bytes, a file suffix and the names of the mutations applied."""
    data, names = seed.data, []
    if rng.random() < 0.6:
        data, names = fresh_uids(data, elements(data), rng), ["fresh_uids"]
    for _ in range(rng.choice([0, 1, 1, 1, 2, 2, 3])):
        name = rng.choices(list(MUTATIONS), weights=[w for _, w in MUTATIONS.values()])[0]
        data = MUTATIONS[name][0](data, elements(data), rng)
        names.append(name)
    suffix = rng.choice([".dcm", ".dcm", ".dcm", "", ".DCM", ".ima", ".dicom"])
    return data, suffix, names
