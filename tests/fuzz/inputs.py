"""Fuzzed inputs: for each index, a seed of one kind (DICOM, FHIR, CSV in turn) mutated by the mutations of its
kind (:mod:`tests.fuzz.dicom`, :mod:`tests.fuzz.fhir`, :mod:`tests.fuzz.tables`) and sometimes by a blind byte
mutation (flips, truncation, inserted, deleted or repeated bytes, NULs, a splice with another seed, emptiness).
A few get an odd file name (a byte that is not UTF-8, a newline, spaces, combining or right-to-left marks...),
never a hidden one (``.name``: ingest skips hidden files by design).

Input ``i`` of a run depends only on the run's seed, ``i`` and the seed files, so any input can be made again
alone: ``generate(seeds, seed=s, start=i, count=1)``.

Examples
--------
>>> from tests.fuzz.seeds import bundled_seeds
>>> made = list(generate(bundled_seeds(), seed=7, count=6))
>>> [item.kind for item, _ in made]
['dicom', 'fhir', 'csv', 'dicom', 'fhir', 'csv']
>>> [item.name for item, _ in made][2]
'00002-patient-information.csv'
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from tests.fuzz.dicom import mutate_dicom
from tests.fuzz.fhir import mutate_fhir
from tests.fuzz.seeds import KINDS, Seed, by_kind
from tests.fuzz.tables import mutate_table

__all__ = ["FuzzInput", "generate"]

_BY_KIND: dict[str, Callable[[Seed, random.Random], tuple[bytes, str, list[str]]]] = {
    "dicom": mutate_dicom, "fhir": mutate_fhir, "csv": mutate_table,
}
_BLIND_RATE = 0.3
_UNCHANGED_RATE = 0.04
_ODD_NAME_RATE = 0.03
#: odd parts of file names; "\udce9" is the byte 0xE9 of a Latin-1 name as Python sees it (os.fsdecode)
_ODD_NAMES = ("\udce9", "\udcff\udcfe", " ", "\n", "\t", "é", "e\u0301", "🙂", "#", "%20", "?", "*", "'", '"', "\\",
              "x" * 150, "\u202e", ";", "$(x)", "-", "~")


@dataclass(frozen=True)
class FuzzInput:
    """One fuzzed input: its index, kind, file name, the seed it was made from and the mutations applied."""

    index: int
    kind: str
    name: str
    seed: str
    mutations: tuple[str, ...]


def flip(data: bytes, rng: random.Random) -> bytes:
    out = bytearray(data)
    for _ in range(rng.choice([1, 4, 32])):
        if out:
            out[rng.randrange(len(out))] ^= 1 << rng.randrange(8)
    return bytes(out)


def truncate(data: bytes, rng: random.Random) -> bytes:
    return data[:rng.choice([0, 1, 2, 127, 128, 131, 132, 133, rng.randrange(len(data) + 1)])]


def insert(data: bytes, rng: random.Random) -> bytes:
    at = rng.randrange(len(data) + 1)
    return data[:at] + rng.randbytes(rng.choice([1, 2, 7, 300])) + data[at:]


def delete(data: bytes, rng: random.Random) -> bytes:
    at = rng.randrange(len(data) + 1)
    return data[:at] + data[at + rng.choice([1, 2, 4, 64, 4096]):]


def repeat(data: bytes, rng: random.Random) -> bytes:
    at = rng.randrange(len(data) + 1)
    piece = data[at:at + rng.choice([4, 64, 1024])]
    return data[:at] + piece * rng.choice([2, 10]) + data[at:]


def nuls(data: bytes, rng: random.Random) -> bytes:
    at = rng.randrange(len(data) + 1)
    run = rng.choice([b"\x00", b"\x00" * 64, b"\xff" * 64])
    return data[:at] + run + data[at + (len(run) if rng.random() < 0.5 else 0):]


BLIND: dict[str, Callable[[bytes, random.Random], bytes]] = {
    "flip": flip, "truncate": truncate, "insert": insert, "delete": delete, "repeat": repeat, "nuls": nuls,
}


def _splice(data: bytes, other: bytes, rng: random.Random) -> bytes:
    return data[:rng.randrange(len(data) + 1)] + other[rng.randrange(len(other) + 1):]


def _stem(seed: Seed) -> str:
    """The seed's name without its suffix (a CSV table name, which mappings select on)."""
    name = seed.name
    for suffix in (".ndjson", ".json", ".csv", ".tsv", ".dcm"):
        if name.lower().endswith(suffix):
            return name[:-len(suffix)]
    return name


def make(index: int, kind: str, seeds: Sequence[Seed], everything: Sequence[Seed],
         rng: random.Random) -> tuple[FuzzInput, bytes]:
    """Input ``index``: a seed of ``kind`` mutated (see the module docs)."""
    seed = rng.choice(seeds)
    if rng.random() < _UNCHANGED_RATE:
        data, suffix, names = seed.data, "." + seed.name.rsplit(".", 1)[-1] if "." in seed.name else "", ["none"]
    else:
        data, suffix, names = _BY_KIND[kind](seed, rng)
    if rng.random() < _BLIND_RATE:
        if rng.random() < 0.1:
            data, names = _splice(data, rng.choice(everything).data, rng), [*names, "splice"]
        else:
            name = rng.choice(list(BLIND))
            data, names = BLIND[name](data, rng), [*names, name]
    odd = rng.choice(_ODD_NAMES) if rng.random() < _ODD_NAME_RATE else ""
    if odd:
        names.append(f"name:{odd[:8]!r}")
    return FuzzInput(index, kind, f"{index:05d}{odd}-{_stem(seed)}{suffix}", seed.origin, tuple(names)), data


def generate(seeds: Sequence[Seed], *, seed: int, count: int, start: int = 0) -> Iterator[tuple[FuzzInput, bytes]]:
    """Inputs ``start`` to ``start + count - 1`` of the run ``seed``, with their bytes; kinds in turn (DICOM, FHIR,
    CSV), skipping a kind that has no seed."""
    grouped = by_kind(seeds)
    kinds = [kind for kind in KINDS if grouped[kind]]
    for index in range(start, start + count):
        kind = kinds[index % len(kinds)]
        yield make(index, kind, grouped[kind], seeds, random.Random(f"{seed}:{index}"))
