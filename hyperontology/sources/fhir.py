"""FHIR JSON, Bundles and NDJSON bulk exports as records, plus small helpers to read resources.

:class:`FhirSource` yields one :class:`~hyperontology.sources.base.Record` per resource: a single resource
file, every ``entry[].resource`` of a Bundle (locator ``entry N``, nested Bundles as ``entry 2 > entry 1``),
every line of an NDJSON bulk export (locator ``line N``). Gzipped files (``.json.gz``, ``.ndjson.gz``) are read
too, when they inflate to at most ``max_inflated_bytes`` (default
:data:`~hyperontology.sources.base.MAX_INFLATED_BYTES`); a larger one is one Rejection naming the file, checked
before anything of it is parsed. ``fields`` is the resource exactly as sent (plain JSON), never a re-serialised
model.

Validation policy (what serves a curator)
-----------------------------------------
Holders send FHIR R4 (4.0.1); fhir.resources defaults to R5, whose models reject most R4 resources
(``Procedure.performedDateTime``, ``Encounter.class`` as one Coding, ... are not R5). So every resource is
validated with the R4B models (identical to R4 for the resource types of the shared data), and with the R5
models when R4B does not know the resourceType or rejects it. Checked on the shared data (25 mCODE examples,
15 R4 core examples, 1,299 Synthea NDJSON lines): R4B accepts every resource; R5 rejects 1,251 of the 1,339.

When a resource validates in neither, the errors are sorted in two kinds:

- conformance errors (a required element missing, an unknown element, a value not matching its format,
  a repeating element sent as a single object): the data is still there and readable by path, so the
  resource stays a Record and each error is a note (``R4B: birthDate: ...``); SHACL validation downstream
  decides whether it can be mapped. Rejecting here would lose real data over e.g. one R5-only element.
- JSON type errors (a number where a string is expected, a string where an object or a list is expected):
  the data does not have the shape FHIR gives it, any mapping would misread it, so it is a Rejection.

A resource that only validates as R5 gets the note ``fhirVersion guess: R5``; no note is added for R4.
Bundle entries without a resource (transaction ``DELETE``/``GET`` requests) are Rejections saying so.
"""

from __future__ import annotations

import gzip
import json
import re
import zlib
from collections.abc import Iterable, Iterator
from functools import partial
from pathlib import Path
from typing import IO, Any

import fhir.resources as r5
import fhir.resources.R4B as r4b
from pydantic import ValidationError

from hyperontology.sources.base import (
    MAX_INFLATED_BYTES,
    Provenance,
    Record,
    Rejection,
    inflates_past,
    inflation_reason,
)

__all__ = ["FhirSource", "codings", "extension_values", "get_path", "reference_id"]

_SNIFF_BYTES = 256 * 1024
_MAX_BUNDLE_DEPTH = 32
_MAX_NOTED_ERRORS = 5
_MINOR_ERRORS = frozenset({"missing", "extra_forbidden", "value_error", "string_pattern_mismatch", "enum"})
_TYPE_NAME = re.compile(r"[A-Z][A-Za-z]{1,63}")
_STEP = re.compile(r"(?P<name>[A-Za-z_$][\w$-]*)(?:\[(?P<key>[\w-]+)=(?P<value>[^\]]*)\])?(?:\.|$)")

Item = Record | Rejection


class FhirSource:
    """FHIR R4/R4B/R5 JSON resources, Bundles and NDJSON bulk exports (optionally gzipped).

    Examples
    --------
    >>> FhirSource().name
    'fhir'
    >>> FhirSource().accepts(Path("does-not-exist.csv"))
    False
    """

    name = "fhir"

    def __init__(self, *, max_inflated_bytes: int = MAX_INFLATED_BYTES) -> None:
        self.max_inflated_bytes = max_inflated_bytes

    def accepts(self, path: Path) -> bool:
        """Whether ``path`` is a .json/.ndjson file (optionally .gz) whose first object has a resourceType."""
        if _kind(path) is None:
            return False
        try:
            with _open(path) as stream:
                head = stream.read(_SNIFF_BYTES)
        except (OSError, EOFError, zlib.error):
            return False
        text = head.decode("utf-8", errors="replace").lstrip("\ufeff \t\r\n")
        return text.startswith("{") and '"resourceType"' in text

    def read(self, path: Path) -> Iterator[Item]:
        """Every resource of the file as a Record, every unusable unit as a Rejection; never raises."""
        kind = _kind(path) or "json"
        try:
            if _compressed(path) and _inflates_past(path, self.max_inflated_bytes):
                yield Rejection(Provenance(str(path)), inflation_reason(path, self.max_inflated_bytes))
                return
            yield from (_read_ndjson(path) if kind == "ndjson" else _read_json(path))
        except (OSError, EOFError, zlib.error) as exc:
            yield Rejection(Provenance(str(path)), f"cannot read file: {exc}")


def _kind(path: Path) -> str | None:
    name = path.name.lower().removesuffix(".gz")
    for kind in ("ndjson", "json"):
        if name.endswith("." + kind):
            return kind
    return None


def _compressed(path: Path) -> bool:
    return path.name.lower().endswith(".gz")


def _inflates_past(path: Path, limit: int) -> bool:
    with gzip.open(path, "rb") as stream:
        return inflates_past(stream.read, limit)


def _open(path: Path) -> IO[bytes] | gzip.GzipFile:
    if _compressed(path):
        return gzip.open(path, "rb")
    return path.open("rb")


def _read_json(path: Path) -> Iterator[Item]:
    with _open(path) as stream:
        data = stream.read()
    where = Provenance(str(path))
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        yield Rejection(where, f"not UTF-8 text (byte {exc.start}): {exc.reason}")
        return
    if not text.strip():
        yield Rejection(where, "empty file")
        return
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        if exc.msg == "Extra data" and text.lstrip().startswith("{"):
            yield from _read_ndjson(path)  # several JSON objects, one a line: NDJSON under a .json name
        else:
            yield Rejection(where, f"invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}")
        return
    except (ValueError, RecursionError) as exc:
        yield Rejection(where, f"invalid JSON: {exc}")
        return
    yield from _units(value, path, "", depth=0)


def _read_ndjson(path: Path) -> Iterator[Item]:
    seen = False
    with _open(path) as stream:
        for number, raw in enumerate(stream, start=1):
            if not raw.strip():
                continue
            seen = True
            yield from _ndjson_line(raw, path, number)
    if not seen:
        yield Rejection(Provenance(str(path)), "empty file")


def _ndjson_line(raw: bytes, path: Path, number: int) -> Iterator[Item]:
    locator = f"line {number}"
    try:
        value = json.loads(raw.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        yield Rejection(Provenance(str(path), locator), f"not UTF-8 text (byte {exc.start}): {exc.reason}")
        return
    except json.JSONDecodeError as exc:
        yield Rejection(Provenance(str(path), locator), f"invalid JSON at column {exc.colno}: {exc.msg}")
        return
    except (ValueError, RecursionError) as exc:
        yield Rejection(Provenance(str(path), locator), f"invalid JSON: {exc}")
        return
    yield from _units(value, path, locator, depth=0)


def _units(value: Any, path: Path, locator: str, *, depth: int) -> Iterator[Item]:
    """The records of one parsed JSON value: a resource, or the entries of a Bundle."""
    where = Provenance(str(path), locator)
    if not isinstance(value, dict):
        yield Rejection(where, f"not a FHIR resource: a JSON {_json_type(value)}, not an object")
    elif not isinstance(value.get("resourceType"), str):
        yield Rejection(where, "not a FHIR resource: JSON object without a resourceType")
    elif value["resourceType"] == "Bundle" and "entry" in value:
        yield from _bundle(value, path, locator, depth=depth)
    else:
        yield _resource(value, where)


def _bundle(bundle: dict[str, Any], path: Path, locator: str, *, depth: int) -> Iterator[Item]:
    entries = bundle["entry"]
    where = Provenance(str(path), locator)
    if depth >= _MAX_BUNDLE_DEPTH:
        yield Rejection(where, f"Bundles nested more than {_MAX_BUNDLE_DEPTH} deep")
        return
    if not isinstance(entries, list) or not entries:
        yield Rejection(where, "Bundle.entry is not a non-empty list: nothing to read")
        return
    for number, entry in enumerate(entries, start=1):
        here = f"{locator} > entry {number}" if locator else f"entry {number}"
        resource = entry.get("resource") if isinstance(entry, dict) else None
        if resource is None:
            request = entry.get("request") if isinstance(entry, dict) else None
            yield Rejection(Provenance(str(path), here), f"Bundle entry without a resource{_request(request)}")
        else:
            yield from _units(resource, path, here, depth=depth + 1)


def _request(request: Any) -> str:
    if isinstance(request, dict):
        return f" (request {request.get('method', '?')} {request.get('url', '?')})"
    return ""


def _json_type(value: Any) -> str:
    names = {list: "array", str: "string", bool: "boolean", int: "number", float: "number"}
    return names.get(type(value), "null")


def _resource(resource: dict[str, Any], where: Provenance) -> Item:
    """Validate one resource (R4B first, then R5) and apply the policy of the module docstring."""
    kind = resource["resourceType"]
    classes = {"R4B": _model(r4b.get_fhir_model_class, r4b, kind), "R5": _model(r5.get_fhir_model_class, r5, kind)}
    if classes["R4B"] is None and classes["R5"] is None:
        return Rejection(where, f"not a FHIR resource: unknown resourceType {kind[:80]!r}")
    errors: dict[str, list[dict[str, Any]]] = {}
    for version, model in classes.items():
        if model is None:
            continue
        found = _validate(model, resource)
        if not found:
            notes = () if version == "R4B" else (f"fhirVersion guess: R5 ({_why_not_r4b(errors)})",)
            return Record("fhir", kind, resource, where, notes)
        errors[version] = found
    version, found = next(iter(errors.items()))
    major = [error for error in found if not _is_minor(error)]
    if major:
        return Rejection(where, f"{kind} fails {version} validation: {'; '.join(_describe(major))}")
    return Record("fhir", kind, resource, where, tuple(f"{version}: {text}" for text in _describe(found)))


def _model(lookup: Any, package: Any, kind: str) -> type[Any] | None:
    """The resource model class named ``kind`` in one fhir.resources package, or None."""
    if not _TYPE_NAME.fullmatch(kind):
        return None
    try:
        model: type[Any] = lookup(kind)
    except (ValueError, ImportError):
        return None
    base = package.get_fhir_model_class("Resource")
    return model if isinstance(model, type) and issubclass(model, base) else None


def _validate(model: type[Any], resource: dict[str, Any]) -> list[dict[str, Any]]:
    try:
        model.model_validate(resource)
    except ValidationError as exc:
        return [dict(error) for error in exc.errors()]
    except (ValueError, TypeError, KeyError, RecursionError) as exc:
        return [{"type": "model_error", "loc": (), "msg": str(exc)}]
    return []


def _why_not_r4b(errors: dict[str, list[dict[str, Any]]]) -> str:
    found = errors.get("R4B")
    return f"R4B: {_describe(found)[0]}" if found else "resourceType not in R4B"


def _is_minor(error: dict[str, Any]) -> bool:
    """Conformance errors are minor; JSON type errors (wrong shape) are not."""
    if error.get("type") == "list_type":
        return isinstance(error.get("input"), dict)
    return error.get("type") in _MINOR_ERRORS


def _describe(errors: list[dict[str, Any]]) -> list[str]:
    texts = []
    for error in errors[:_MAX_NOTED_ERRORS]:
        location = ".".join(str(part) for part in error.get("loc", ())) or "(resource)"
        texts.append(f"{location}: {error.get('msg', error.get('type'))}")
    if len(errors) > _MAX_NOTED_ERRORS:
        texts.append(f"and {len(errors) - _MAX_NOTED_ERRORS} more errors")
    return texts


def codings(value: Any) -> list[tuple[str, str, str]]:
    """``(system, code, display)`` of a Coding, a CodeableConcept, a CodeableReference or a list of them.

    Missing parts are ``""``; anything else (text only, wrong shapes) gives no tuple.

    Examples
    --------
    >>> codings({"coding": [{"system": "http://snomed.info/sct", "code": "254637007"}], "text": "NSCLC"})
    [('http://snomed.info/sct', '254637007', '')]
    >>> codings([{"code": "C34.1", "display": "Upper lobe"}, "junk", {"text": "only text"}])
    [('', 'C34.1', 'Upper lobe')]
    """
    found = []
    for item in _flatten([value]):
        concept = item.get("concept", item) if isinstance(item, dict) else None
        inner = concept.get("coding") if isinstance(concept, dict) and "coding" in concept else [concept]
        for coding in _flatten([inner]):
            if isinstance(coding, dict) and "code" in coding:
                found.append((_text(coding.get("system")), _text(coding.get("code")), _text(coding.get("display"))))
    return found


def reference_id(ref: Any) -> str | None:
    """The id a Reference points to: ``Patient/123`` -> ``123``, ``urn:uuid:x`` -> ``x``, ``#c1`` -> ``c1``.

    Conditional references (``Organization?identifier=...``) and references without a ``reference`` name no id:
    None.

    Examples
    --------
    >>> reference_id({"reference": "Patient/123"})
    '123'
    >>> reference_id("urn:uuid:129c6ac7-8d06-89de-ad63-0204a93e76c3")
    '129c6ac7-8d06-89de-ad63-0204a93e76c3'
    >>> reference_id("http://example.org/fhir/Patient/123/_history/2")
    '123'
    >>> reference_id({"reference": "Organization?identifier=http://x|1"}) is None
    True
    """
    text = ref.get("reference") if isinstance(ref, dict) else ref
    if not isinstance(text, str) or not text.strip() or "?" in text:
        return None
    text = text.strip()
    for prefix in ("urn:uuid:", "urn:oid:", "#"):
        if text.startswith(prefix):
            return text[len(prefix) :] or None
    parts = text.rstrip("/").split("/")
    if len(parts) >= 4 and parts[-2] == "_history":
        parts = parts[:-2]
    return parts[-1] if len(parts) >= 2 and parts[-1] else None


def get_path(resource: Any, path: str) -> list[Any]:
    """Values at a dotted ``path``, lists flattened; ``name[key=value]`` keeps objects whose key equals value.

    Raises ValueError for a malformed path (a mapping error, not a data error).

    Examples
    --------
    >>> cond = {"code": {"coding": [{"system": "http://snomed.info/sct", "code": "363346000"},
    ...                             {"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "C50.9"}]}}
    >>> get_path(cond, "code.coding.code")
    ['363346000', 'C50.9']
    >>> get_path(cond, "code.coding[system=http://hl7.org/fhir/sid/icd-10-cm].code")
    ['C50.9']
    >>> get_path(cond, "bodySite.coding")
    []
    """
    values: list[Any] = _flatten([resource])
    for name, key, wanted in _steps(path):
        values = _flatten(item.get(name) for item in values if isinstance(item, dict))
        if key is not None:
            values = [item for item in values if isinstance(item, dict) and _text(item.get(key)) == wanted]
    return values


def _steps(path: str) -> list[tuple[str, str | None, str | None]]:
    steps, position = [], 0
    while position < len(path):
        match = _STEP.match(path, position)
        if match is None or match.end() == position:
            raise ValueError(f"malformed path {path!r} at character {position + 1}")
        steps.append((match["name"], match["key"], match["value"]))
        position = match.end()
    if not steps or path.endswith("."):
        raise ValueError(f"malformed path {path!r}")
    return steps


def _flatten(values: Iterable[Any]) -> list[Any]:
    flat: list[Any] = []
    for value in values:
        if isinstance(value, list):
            flat.extend(item for item in value if item is not None)
        elif value is not None:
            flat.append(value)
    return flat


def extension_values(element: Any, url: str) -> list[Any]:
    """The ``value[x]`` of the extensions (and modifier extensions) of ``element`` whose url is ``url``.

    A ``url`` without ``:`` also matches the last segment of an extension's url (``mcode-laterality``), or a
    nested extension's short url (``ombCategory``). Complex extensions (no value[x]) give nothing: call again
    on the extension itself.

    Examples
    --------
    >>> condition = {"extension": [{"url": "http://hl7.org/fhir/us/mcode/StructureDefinition/mcode-laterality",
    ...     "valueCodeableConcept": {"coding": [{"system": "http://snomed.info/sct", "code": "7771000"}]}}]}
    >>> codings(extension_values(condition, "mcode-laterality"))
    [('http://snomed.info/sct', '7771000', '')]
    >>> extension_values(condition, "http://example.org/other")
    []
    """
    if not isinstance(element, dict):
        return []
    matches = partial(_url_matches, url)
    found = _flatten([element.get("extension"), element.get("modifierExtension")])
    return [
        value
        for extension in found
        if isinstance(extension, dict) and matches(extension.get("url"))
        for key, value in extension.items()
        if key.startswith("value") and value is not None
    ]


def _url_matches(wanted: str, url: Any) -> bool:
    if not isinstance(url, str):
        return False
    return url == wanted or (":" not in wanted and url.rsplit("/", 1)[-1] == wanted)


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)
