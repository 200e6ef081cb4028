"""Mutations of FHIR JSON: values of the wrong JSON type, odd dates, codes and references, deleted and extra
keys, duplicated keys, deep nesting (values, extensions, Bundles), odd Bundle entries, NDJSON with bad lines, other
encodings, and gzip (valid, multi-member, truncated, trailing garbage, a bomb).

A seed is a resource, a Bundle or NDJSON; it is first reshaped (kept, one entry as a resource of its own, all
entries as NDJSON, a Bundle of them), then mutated as JSON, then as text, then maybe compressed.

Examples
--------
>>> import json, random
>>> bundle = {"resourceType": "Bundle", "entry": [{"resource": {"resourceType": "Patient", "id": "p"}}]}
>>> seed = Seed("fhir", "b.json", "test", json.dumps(bundle).encode())
>>> data, suffix, names = mutate_fhir(seed, random.Random(3))
>>> suffix in (".json", ".ndjson", ".json.gz", ".ndjson.gz", ".JSON", ".txt") and isinstance(data, bytes)
True
"""

from __future__ import annotations

import gzip
import json
import random
import re
import zlib
from collections import deque
from collections.abc import Callable
from functools import cache
from typing import Any

from tests.fuzz.seeds import Seed

__all__ = ["mutate_fhir"]

_LARGEST = 8_000_000  # bytes a mutation that repeats things grows a file to, at most
_DEEP = "\x00deep\x00"  # a placeholder string replaced by deeply nested JSON text once serialised
_ODD: tuple[Any, ...] = (None, True, False, 0, -1, 1.5, 1e308, 10**30, "", " ", "\u0000", "\ud800", "\udfff\ud800",
                         "x" * 70_000, [], {}, [[]], [None], {"a": 1}, [1, "a", None], "\u202eevil", "🙂" * 10,
                         float("nan"), float("inf"), "null", "true", "<div>", "a\nb")
_DATES = ("0001-01-01", "0001-06-30", "0001", "0001-01", "0000-01-01", "9999-12-31", "9999-12-31T23:59:59Z", "10000",
          "2020-02-30", "2020-13", "2020-01-01T25:00:00Z", "2020-01-01T10:00:00+25:00", "-0001-01-01", "2020/01/02",
          "01-01-2020", "20200101", "2020-01-01T", "  2020-01-01  ", "１９９０-01-01", 20200101, None)
_CODES = ("", " ", "C50.9 ", "C50 9", "<C50.9>", "C50.9\n", "363346000>", '"x"', "{x}", "a\\b", "👍", "\u0000",
          "x" * 5000, "363346000", "254637007", "C34.1", "^", "8140/3", "T2a", "cT2", "IIIA", "%00", "#frag", 363346000)
_SYSTEMS = ("http://snomed.info/sct", "http://hl7.org/fhir/sid/icd-10-cm", "http://loinc.org", "", "urn:oid:",
            "http://snomed.info/sct ", "snomed", "http://ncicb.nci.nih.gov/xml/owl/EVS/Thesaurus.owl", 5, None,
            "http://hl7.org/fhir/sid/icd-o-3", "http://terminology.hl7.org/CodeSystem/v3-NullFlavor")
_REFERENCES = ("", "Patient/", "Patient", "#", "urn:uuid:", "Patient/a b", "Patient/<x>", "Patient/../../etc",
               "Patient/" + "9" * 3000, "Patient?identifier=x", "http://x/Patient/1/_history/2", "Patient/\u0000",
               "Patient/\ud800", "Patient/1/_history", 42, {"reference": "Patient/1"}, ["Patient/1"])
_TYPES = ("", "patient", "Patient ", "X" * 100, 5, None, "Bundle", "Basic", "DomainResource", "Resource", "Parameters",
          "OperationOutcome", "Binary", "ÄÖ", "Patient\u0000", "__proto__")
_ENTRIES: tuple[Any, ...] = ({}, [], [None], [1], [{"resource": []}], [{"request": {"method": "DELETE", "url": "x"}}],
                             [{"resource": {"resourceType": 5}}], "entry", [{"resource": None}], [[]], [{}])
_DATE_KEY = re.compile(r"(?i).*(date|time|issued|start|end|period)$")


def _nodes(value: Any) -> list[tuple[Any, Any]]:
    """Every (container, key or index) of a JSON value, breadth first."""
    out: list[tuple[Any, Any]] = []
    todo = deque([value])
    while todo:
        node = todo.popleft()
        keys = list(node) if isinstance(node, dict) else range(len(node)) if isinstance(node, list) else []
        for key in keys:
            out.append((node, key))
            todo.append(node[key])
    return out


def _some(value: Any, rng: random.Random, keep: Callable[[Any, Any], bool] = lambda c, k: True) -> list[Any]:
    found = [(c, k) for c, k in _nodes(value) if keep(c, k)]
    return list(rng.choice(found)) if found else []


def retype(value: Any, rng: random.Random) -> Any:
    if node := _some(value, rng):
        node[0][node[1]] = rng.choice(_ODD)
    return value


def delete_key(value: Any, rng: random.Random) -> Any:
    if node := _some(value, rng, lambda c, k: isinstance(c, dict)):
        del node[0][node[1]]
    return value


def extra_key(value: Any, rng: random.Random) -> Any:
    if node := _some(value, rng, lambda c, k: isinstance(c[k], dict)):
        key = rng.choice(["_unknown", "modifierExtension", "extension", "contained", "resourceType", "id", "meta",
                          "text", "🙂", "_birthDate", "valueQuantity", ""])
        node[0][node[1]][key] = rng.choice(_ODD)
    return value


def _dated(container: Any, key: Any) -> bool:
    return isinstance(key, str) and _DATE_KEY.match(key) is not None and not isinstance(container[key], dict | list)


def odd_date(value: Any, rng: random.Random) -> Any:
    for _ in range(rng.choice([1, 1, 3])):
        if node := _some(value, rng, _dated):
            node[0][node[1]] = rng.choice(_DATES)
    return value


def odd_code(value: Any, rng: random.Random) -> Any:
    if node := _some(value, rng, lambda c, k: k in ("code", "system") and isinstance(c, dict)):
        node[0][node[1]] = rng.choice(_CODES if node[1] == "code" else _SYSTEMS)
    return value


def odd_reference(value: Any, rng: random.Random) -> Any:
    if node := _some(value, rng, lambda c, k: k == "reference"):
        node[0][node[1]] = rng.choice(_REFERENCES)
    return value


def odd_id(value: Any, rng: random.Random) -> Any:
    if node := _some(value, rng, lambda c, k: k in ("id", "resourceType")):
        node[0][node[1]] = rng.choice(_TYPES if node[1] == "resourceType" else _CODES)
    return value


def odd_entries(value: Any, rng: random.Random) -> Any:
    if node := _some(value, rng, lambda c, k: k == "entry"):
        node[0][node[1]] = rng.choice(_ENTRIES)
    return value


def deep(value: Any, rng: random.Random) -> Any:
    """A value replaced by the placeholder of deeply nested JSON (written by :func:`_serialise`)."""
    if node := _some(value, rng):
        node[0][node[1]] = _DEEP
    return value


def many_entries(value: Any, rng: random.Random) -> Any:
    """A Bundle's entries repeated up to 100 or 1,000 entries (and at most about :data:`_LARGEST` bytes)."""
    if isinstance(value, dict) and isinstance(value.get("entry"), list) and value["entry"]:
        size = len(json.dumps(value["entry"], default=str))
        times = min(rng.choice([100, 1000]) // len(value["entry"]), _LARGEST // max(1, size))
        value["entry"] = value["entry"] * max(1, times)
    return value


Mutation = Callable[[Any, random.Random], Any]
MUTATIONS: dict[str, tuple[Mutation, float]] = {
    "retype": (retype, 4), "delete_key": (delete_key, 2), "extra_key": (extra_key, 2), "odd_date": (odd_date, 3),
    "odd_code": (odd_code, 3), "odd_reference": (odd_reference, 2), "odd_id": (odd_id, 2),
    "odd_entries": (odd_entries, 1), "deep": (deep, 1), "many_entries": (many_entries, 0.5),
}


# ------------------------------------------------------------------------------------------ shapes and text
def _parse(seed: Seed) -> list[Any]:
    """The JSON values of a seed (one for JSON, one a line for NDJSON)."""
    text = seed.data.decode("utf-8-sig")
    if seed.name.endswith(".ndjson"):
        return [json.loads(line) for line in text.splitlines() if line.strip()]
    return [json.loads(text)]


def _resources(values: list[Any]) -> list[Any]:
    out = []
    for value in values:
        entries = value.get("entry") if isinstance(value, dict) and value.get("resourceType") == "Bundle" else None
        out += [e["resource"] for e in entries if isinstance(e, dict) and "resource" in e] if entries else [value]
    return out


def _reshape(values: list[Any], rng: random.Random) -> tuple[list[Any], str, str]:
    """The values as the file will hold them, the shape (``json`` or ``ndjson``) and a name for the reshaping."""
    resources = _resources(values)
    choice = rng.choice(["as is", "as is", "one resource", "ndjson", "bundle", "nested bundles"])
    if choice == "one resource":
        return [rng.choice(resources)], "json", choice
    if choice == "ndjson":
        return resources, "ndjson", choice
    if choice == "bundle":
        return [{"resourceType": "Bundle", "type": "collection", "entry": [{"resource": r} for r in resources]}], \
            "json", choice
    if choice == "nested bundles":
        value = {"resourceType": "Bundle", "entry": [{"resource": r} for r in resources]}
        for _ in range(rng.choice([1, 31, 32, 33, 300])):
            value = {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": value}]}
        return [value], "json", f"{choice}"
    return values, "ndjson" if len(values) > 1 else "json", choice


def _deep_text(rng: random.Random) -> str:
    depth = rng.choice([64, 500, 990, 5000, 200_000])
    if rng.random() < 0.5:
        return "[" * depth + "1" + "]" * depth
    return '{"url": "x", "extension": [' * depth + '{"url": "y", "valueString": "z"}' + "]}" * depth


def _serialise(value: Any, rng: random.Random) -> str:
    ascii_only, indent = rng.random() < 0.5, rng.choice([None, None, 2])
    text = json.dumps(value, ensure_ascii=ascii_only)
    if indent and len(text) < 1_000_000:  # indented, deep nesting grows a large file many times over
        text = json.dumps(value, ensure_ascii=ascii_only, indent=indent)
    placeholder = json.dumps(_DEEP)
    if placeholder in text:  # the first one deep, any copies (many_entries) null
        text = text.replace(placeholder, _deep_text(rng), 1).replace(placeholder, "null")
    return text


def duplicate_key(text: str, rng: random.Random) -> str:
    extra = rng.choice(['"id": "dup1", "id": "dup2", ', '"resourceType": "Observation", ', '"resourceType": 7, ',
                        '"subject": {"reference": "Patient/x"}, ', '"": "", '])
    at = text.find("{")
    return text if at < 0 else text[:at + 1] + extra + text[at + 1:]


def big_number(text: str, rng: random.Random) -> str:
    literal = rng.choice(["1" + "0" * 5000, "1e400", "NaN", "-Infinity", "0.1e-400", "-0", "1" * 400])
    match = re.search(r":\s*(\"[^\"]*\"|-?\d+(\.\d+)?)", text)
    return text if match is None else text[:match.start(1)] + literal + text[match.end(1):]


def bad_line(lines: list[str], rng: random.Random) -> list[str]:
    """NDJSON lines with one bad line inserted (garbage, blank, an array, a truncated object, a NUL...)."""
    bad = rng.choice(["", "   ", "garbage", "[]", "[{}]", "{", '{"resourceType": "Patient"', "\x00", "null", '"x"',
                      '{"a": 1}', "\ufeff{}", '{"resourceType": "Bundle", "entry": []}', "}" * 5, "x" * 100_000])
    at = rng.randrange(len(lines) + 1)
    return lines[:at] + [bad] + lines[at:]


TEXT_MUTATIONS: dict[str, Callable[[str, random.Random], str]] = {
    "duplicate_key": duplicate_key, "big_number": big_number,
}
_ENCODINGS = ("utf-8-sig", "utf-16", "utf-16-le", "utf-16-be", "utf-32", "latin-1", "cp1252")


def _encode(text: str, rng: random.Random, names: list[str]) -> bytes:
    if rng.random() < 0.12:
        encoding = rng.choice(_ENCODINGS)
        names.append(f"encoding:{encoding}")
        text = text.replace('"', '"é', 1) if encoding in ("latin-1", "cp1252") and rng.random() < 0.7 else text
        return text.encode(encoding, errors="replace")
    return text.encode("utf-8", errors="surrogatepass")


@cache
def _gzip_bomb(inflated: int) -> bytes:
    """A gzip member of ``inflated`` zero bytes (made once, in pieces; about a thousandth of the size)."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    chunk = bytes(1 << 20)
    return b"".join(packer.compress(chunk) for _ in range(inflated >> 20)) + packer.flush()


def _compress(data: bytes, rng: random.Random, names: list[str]) -> bytes:
    choice = rng.choice(["valid", "valid", "members", "truncated", "trailing", "crc", "plain", "bomb", "empty"])
    names.append(f"gzip:{choice}")
    packed = gzip.compress(data)
    if choice == "members":
        half = len(data) // 2
        return gzip.compress(data[:half]) + gzip.compress(data[half:])
    if choice == "bomb":
        return _gzip_bomb(320 << 20)
    return {"valid": packed, "truncated": packed[:max(10, len(packed) // 2)], "trailing": packed + b"garbage\n",
            "crc": packed[:-8] + bytes(8), "plain": data, "empty": b""}[choice]


def mutate_fhir(seed: Seed, rng: random.Random) -> tuple[bytes, str, list[str]]:
    """A mutated copy of a FHIR seed: its bytes, a file suffix and the names of the mutations applied."""
    values, shape, reshaping = _reshape(_parse(seed), rng)
    names = [f"shape:{reshaping}"]
    for _ in range(rng.choice([0, 1, 1, 2, 2, 3])):
        name = rng.choices(list(MUTATIONS), weights=[w for _, w in MUTATIONS.values()])[0]
        target = rng.randrange(len(values)) if values else 0
        if values:
            values[target] = MUTATIONS[name][0](values[target], rng)
        names.append(name)
    lines = [_serialise(v, rng) for v in values]
    if shape == "ndjson":
        lines = [line.replace("\n", "") for line in lines]
        if rng.random() < 0.3:
            lines, names = bad_line(lines, rng), [*names, "bad_line"]
        text = rng.choice(["\n", "\r\n"]).join(lines) + rng.choice(["\n", "", "\n\n"])
    else:
        text = lines[0]
    if rng.random() < 0.2:
        name = rng.choice(list(TEXT_MUTATIONS))
        text, names = TEXT_MUTATIONS[name](text, rng), [*names, name]
    data = _encode(text, rng, names)
    suffix = "." + shape
    if rng.random() < 0.12:
        data, suffix = _compress(data, rng, names), suffix + ".gz"
    elif rng.random() < 0.05:
        suffix = rng.choice([".JSON", ".txt", ".ndjson" if shape == "json" else ".json"])
    return data, suffix, names
