"""DICOMweb source: the headers of a PACS's DICOM instances, read as study and series metadata, never pixel data.

A service is named by its root URL with the scheme ``dicomweb+http://`` or ``dicomweb+https://``
(``dicomweb+http://pacs:8042/dicom-web``). :func:`walk` lists it with QIDO-RS searches (the studies, the series of
each study, the instances of each series: their SOP Instance UIDs, which say whether a series changed); each series
is a :class:`SeriesRef`, named by its URL (``.../studies/{study}/series/{series}``). :func:`read_series` reads one
series with WADO-RS (``/studies/{s}/series/{r}/metadata``, DICOM JSON): every instance is turned into a pydicom
``Dataset`` (``Dataset.from_json``; bulk data URIs are never followed, their values left empty) and then into a
record exactly as :class:`~hyperontology.sources.dicom.DicomSource` turns a file into one
(:func:`~hyperontology.sources.dicom.header_fields`), so a series read over DICOMweb and from files is the same
series in the store. DICOM JSON has no file meta: ``TransferSyntaxUID`` is taken from Transfer Syntax UID
(0002,0010) or Available Transfer Syntax UID (0008,3002) when the service gives one (Orthanc gives neither); the
mapping does not use it.

Nothing here raises on a bad service or bad content: a request that fails (the service unreachable, a timeout, an
HTTP error, an answer that is not DICOM JSON) is a :class:`Failure` of :func:`walk` or a
:class:`~hyperontology.sources.base.Rejection` of :func:`read_series`, naming the URL. Credentials never appear
in a URL this module gives out: the ``user:password@`` of a URL, or the ``authorization`` given, goes in the
``Authorization`` header only.
"""

from __future__ import annotations

import base64
import hashlib
import warnings
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, unquote, urlsplit, urlunsplit

import httpx
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import UID

from hyperontology.errors import HyperontologyError
from hyperontology.sources.base import Provenance, Record, Rejection
from hyperontology.sources.dicom import header_fields

__all__ = ["DicomWebError", "DicomWebService", "DicomWebTally", "Failure", "SeriesRef", "is_dicomweb",
           "read_series", "redacted", "series_url", "split_series_url", "walk"]

SCHEMES = ("dicomweb+http://", "dicomweb+https://")
#: results asked for per QIDO-RS request (``limit``/``offset`` paging)
PAGE = 1000
_STUDY_UID, _SERIES_UID, _SOP_UID = "0020000D", "0020000E", "00080018"
#: failures a tally lists (the report's inputs hold every one)
FAILURES_SHOWN = 100
_SYNTAX_TAGS = ("00020010", "00083002")
_LABELS = {_SOP_UID: "SOP Instance UID", _STUDY_UID: "Study Instance UID", _SERIES_UID: "Series Instance UID"}


class DicomWebError(HyperontologyError):
    """A DICOMweb request failed (the message names the URL and why)."""


def is_dicomweb(text: str) -> bool:
    """Whether ``text`` names a DICOMweb service (``dicomweb+http://`` or ``dicomweb+https://``).

    Examples
    --------
    >>> is_dicomweb("dicomweb+https://pacs.example/dicom-web"), is_dicomweb("https://pacs.example")
    (True, False)
    """
    return text.lower().startswith(SCHEMES)


def redacted(url: str) -> str:
    """``url`` without the password of its ``user:password@`` (shown as ``***``).

    Examples
    --------
    >>> redacted("dicomweb+https://me:secret@pacs/dicom-web"), redacted("postgresql://db/x")
    ('dicomweb+https://me:***@pacs/dicom-web', 'postgresql://db/x')
    """
    scheme, sep, rest = url.partition("://")
    authority, slash, path = rest.partition("/")
    user, at, host = authority.rpartition("@")
    if not sep or not at:
        return url
    return f"{scheme}://{user.partition(':')[0]}:***@{host}{slash}{path}"


def _authorization(secret: str) -> str:
    """The ``Authorization`` header for ``user:password`` (HTTP basic) or a bearer token."""
    if ":" in secret:
        return "Basic " + base64.b64encode(secret.encode()).decode("ascii")
    return f"Bearer {secret}"


@dataclass(frozen=True)
class DicomWebService:
    """A DICOMweb service: its root (an ``http(s)://`` URL without credentials), the ``Authorization`` header to
    send (never shown), and the timeout of each request in seconds."""

    root: str
    authorization: str | None = field(default=None, repr=False)
    timeout: float = 30.0

    @classmethod
    def from_url(cls, url: str, *, secret: str | None = None, timeout: float = 30.0) -> DicomWebService:
        """The service ``dicomweb+http(s)://[user:password@]host[:port]/path``; ``secret`` (``user:password`` or a
        bearer token) wins over credentials in the URL. ValueError (without the credentials) if it is not one.

        Examples
        --------
        >>> service = DicomWebService.from_url("dicomweb+http://me:pw@pacs:8042/dicom-web/")
        >>> service.name, service.authorization
        ('dicomweb+http://pacs:8042/dicom-web', 'Basic bWU6cHc=')
        """
        if not is_dicomweb(url):
            raise ValueError("a DICOMweb service is a dicomweb+http:// or dicomweb+https:// URL")
        parts = urlsplit(url[len("dicomweb+"):])
        host = parts.hostname or ""
        host = f"[{host}]" if ":" in host else host  # an IPv6 address
        where = f"{parts.scheme}://{host}{':' + str(parts.port) if parts.port else ''}{parts.path}"
        if not host or parts.query or parts.fragment:
            raise ValueError(f"dicomweb+{where}: a DICOMweb root is dicomweb+http(s)://host[:port]/path, "
                             "without a query or fragment")
        if secret is None and parts.username is not None:
            secret = f"{unquote(parts.username)}:{unquote(parts.password or '')}"
        root = urlunsplit((parts.scheme, host + (f":{parts.port}" if parts.port else ""), parts.path.rstrip("/"),
                           "", ""))
        return cls(root, _authorization(secret) if secret else None, timeout)

    @property
    def name(self) -> str:
        """The service as the report names it (no credentials)."""
        return "dicomweb+" + self.root

    def client(self) -> httpx.Client:
        headers = {"Accept": "application/dicom+json"}
        if self.authorization:
            headers["Authorization"] = self.authorization
        return httpx.Client(headers=headers, timeout=self.timeout, follow_redirects=False)

    def get(self, client: httpx.Client, path: str, params: dict[str, str | int] | None = None) -> list[Any]:
        """A DICOM JSON array from ``root + path`` (an empty answer is an empty array); DicomWebError if the
        request fails or the answer is not a JSON array."""
        url = self.root + path
        shown = "dicomweb+" + url
        try:
            answer = client.get(url, params=params)
        except httpx.TimeoutException as exc:
            raise DicomWebError(f"{shown}: no answer within {self.timeout:g} s ({type(exc).__name__})") from exc
        except httpx.HTTPError as exc:
            raise DicomWebError(f"{shown}: cannot be reached ({type(exc).__name__}: {exc})") from exc
        if answer.status_code == 204 or (answer.status_code == 200 and not answer.content.strip()):
            return []
        if answer.status_code != 200:
            raise DicomWebError(f"{shown}: HTTP {answer.status_code} {answer.reason_phrase}")
        kind = answer.headers.get("content-type", "")
        if "json" not in kind:
            raise DicomWebError(f"{shown}: the answer is {kind or 'untyped'}, not DICOM JSON")
        try:
            body = answer.json()
        except ValueError as exc:
            raise DicomWebError(f"{shown}: the answer is not valid JSON ({exc})") from exc
        if not isinstance(body, list):
            raise DicomWebError(f"{shown}: the answer is a JSON {type(body).__name__}, not a DICOM JSON array")
        return body

    def search(self, client: httpx.Client, path: str, include: str) -> Iterator[Any]:
        """The results of a QIDO-RS search, page by page (``limit`` and ``offset``)."""
        offset, first = 0, None
        while True:
            page = self.get(client, path, {"limit": PAGE, "offset": offset, "includefield": include})
            if not page or page[0] == first:  # a service that ignores offset gives the same page again
                return
            yield from page
            if len(page) < PAGE:
                return
            first, offset = page[0], offset + len(page)


def _uid(item: Any, tag: str) -> str | None:
    """The first value of ``tag`` in a DICOM JSON object, if it is a non-empty string."""
    values = item.get(tag, {}).get("Value") if isinstance(item, dict) and isinstance(item.get(tag), dict) else None
    value = values[0] if isinstance(values, list) and values else None
    return value.strip() if isinstance(value, str) and value.strip() else None


def _segment(uid: str) -> str:
    return quote(uid, safe="")


@dataclass(frozen=True)
class SeriesRef:
    """A series of a service as :func:`walk` found it: its UIDs, how many instances, a digest of their UIDs."""

    service: str  # the service's name (DicomWebService.name)
    study: str
    series: str
    instances: int
    digest: str

    @property
    def url(self) -> str:
        return series_url(self.service, self.study, self.series)


def series_url(service: str, study: str, series: str) -> str:
    """The URL naming a series of a service (what the report and the provenance name it by)."""
    return f"{service}/studies/{_segment(study)}/series/{_segment(series)}"


def split_series_url(url: str) -> tuple[str, str, str]:
    """``(service name, study UID, series UID)`` of a :func:`series_url`.

    Examples
    --------
    >>> split_series_url("dicomweb+http://pacs/dicom-web/studies/1.2/series/1.2.3")
    ('dicomweb+http://pacs/dicom-web', '1.2', '1.2.3')
    """
    head, _, series = url.rpartition("/series/")
    service, _, study = head.rpartition("/studies/")
    return service, unquote(study), unquote(series)


@dataclass(frozen=True)
class Failure:
    """A search that failed: what it concerned (the service, a study or a series, by URL) and why."""

    service: str  # the service's name (DicomWebService.name)
    url: str
    reason: str
    level: str  # "service", "study" or "series"
    study: str | None = None


def walk(service: DicomWebService) -> Iterator[SeriesRef | Failure]:
    """Every series of the service (study by study), or the failures of the searches that list them."""
    with service.client() as client:
        try:
            studies = _uids(service, client, "/studies", _STUDY_UID)
        except DicomWebError as exc:
            yield Failure(service.name, service.name, f"the studies cannot be searched: {exc}", "service")
            return
        for study in studies:
            yield from _study(service, client, study)


def _uids(service: DicomWebService, client: httpx.Client, path: str, tag: str) -> list[str]:
    """The distinct UIDs (``tag``) of a QIDO-RS search, in the order found; DicomWebError if the search fails or
    a result has none (not a QIDO-RS answer)."""
    found: dict[str, None] = {}
    for item in service.search(client, path, tag):
        uid = _uid(item, tag)
        if uid is None:
            raise DicomWebError(f"dicomweb+{service.root}{path}: a result without {_LABELS[tag]} (not a QIDO-RS "
                                "answer)")
        found[uid] = None
    return list(found)


def _study(service: DicomWebService, client: httpx.Client, study: str) -> Iterator[SeriesRef | Failure]:
    path = f"/studies/{_segment(study)}"
    try:
        found = _uids(service, client, path + "/series", _SERIES_UID)
    except DicomWebError as exc:
        yield Failure(service.name, service.name + path, f"the series of the study cannot be searched: {exc}",
                      "study", study)
        return
    for series in found:
        where = f"{path}/series/{_segment(series)}"
        try:
            uids = sorted(_uids(service, client, where + "/instances", _SOP_UID))
        except DicomWebError as exc:
            yield Failure(service.name, service.name + where,
                          f"the instances of the series cannot be searched: {exc}", "series", study)
            continue
        digest = hashlib.sha256("\n".join(uids).encode()).hexdigest()
        yield SeriesRef(service.name, study, series, len(uids), digest)


def read_series(service: DicomWebService, study: str, series: str) -> Iterator[Record | Rejection]:
    """One ``dicom`` instance record per instance of the series' WADO-RS metadata, or a rejection saying why an
    instance (or, when the metadata cannot be read, the whole series) cannot be used."""
    url = series_url(service.name, study, series)
    try:
        with service.client() as client:
            items = service.get(client, f"/studies/{_segment(study)}/series/{_segment(series)}/metadata")
    except DicomWebError as exc:
        yield Rejection(Provenance(url), f"the series metadata cannot be read: {exc}")
        return
    if not items:
        yield Rejection(Provenance(url), "the series metadata lists no instance")
    for number, item in enumerate(items, 1):
        yield instance_record(item, Provenance(url, f"instance {number}"))


def instance_record(item: Any, provenance: Provenance) -> Record | Rejection:
    """The record of one instance's DICOM JSON (as :class:`~hyperontology.sources.dicom.DicomSource` makes it of
    a file), or a rejection."""
    if not isinstance(item, dict):
        return Rejection(provenance, f"not a DICOM JSON object but a JSON {type(item).__name__}")
    missing = [label for tag, label in _LABELS.items() if _uid(item, tag) is None]
    if missing:
        return Rejection(provenance, f"no {', no '.join(missing)}")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            ds = Dataset.from_json(item, bulk_data_uri_handler=_no_bulk_data)
            syntax = next((value for tag in _SYNTAX_TAGS if (value := _uid(item, tag))), None)
            if syntax is not None:
                ds.file_meta = FileMetaDataset()
                ds.file_meta.TransferSyntaxUID = UID(syntax)
            fields, notes = header_fields(ds, raw=False)
        except Exception as exc:  # noqa: BLE001 - pydicom raises many kinds on bad JSON: a rejection, never fatal
            return Rejection(provenance, f"not readable as DICOM JSON: {type(exc).__name__}: {exc}")
    notes.extend(dict.fromkeys(f"pydicom: {warning.message}" for warning in caught))
    return Record("dicom", "instance", fields, provenance, tuple(notes))


def _no_bulk_data(_tag: str, _vr: str, _uri: str) -> None:
    """Bulk data (pixel data and other large values) is never fetched: its value stays empty."""
    return None


@dataclass
class DicomWebTally:
    """What a run did with one service: studies, series and instances found, read, skipped as already ingested,
    failed. A study is read when one of its series is read, skipped when all its series are."""

    service: str
    counts: dict[str, Counter[str]] = field(
        default_factory=lambda: {"studies": Counter(), "series": Counter(), "instances": Counter(),
                                 "requests": Counter()})
    #: the first failures (URL and reason), at most FAILURES_SHOWN
    failures: list[dict[str, str]] = field(default_factory=list)
    _study: str | None = None
    _study_state: set[str] = field(default_factory=set)

    def _see(self, study: str | None, state: str) -> None:
        """Close the previous study when the walk moves to another (series come study by study)."""
        if study != self._study:
            self.close_study()
            self._study = study
            if study is not None:
                self.counts["studies"]["found"] += 1
        self._study_state.add(state)

    def close_study(self) -> None:
        if self._study is not None:
            states = self._study_state
            self.counts["studies"]["read" if "read" in states else "skipped" if states == {"skipped"}
                                   else "failed"] += 1
        self._study, self._study_state = None, set()

    def found(self, ref: SeriesRef, state: str) -> None:
        """A series listed: ``read`` (sent to be read) or ``skipped`` (the store has it as it is)."""
        self._see(ref.study, state)
        self.counts["series"]["found"] += 1
        self.counts["instances"]["found"] += ref.instances
        if state == "skipped":
            self.counts["series"]["skipped"] += 1
            self.counts["instances"]["skipped"] += ref.instances

    def failed(self, failure: Failure) -> None:
        self._fail(failure.url, failure.reason)
        self._see(failure.study, "failed")
        if failure.level == "series":
            self.counts["series"]["found"] += 1
            self.counts["series"]["failed"] += 1

    def _fail(self, url: str, reason: str) -> None:
        self.counts["requests"]["failed"] += 1
        if len(self.failures) < FAILURES_SHOWN:
            self.failures.append({"url": url, "reason": reason})

    def read(self, url: str, records: int, rejected: int, whole: str | None) -> None:
        """A series read: its instance records and rejections; ``whole``: why its metadata could not be read."""
        self.counts["series"]["failed" if whole else "read"] += 1
        if whole:
            self._fail(url, whole)
            return
        self.counts["instances"]["read"] += records
        self.counts["instances"]["rejected"] += rejected

    def as_dict(self) -> dict[str, Any]:
        self.close_study()
        names = ("found", "read", "skipped", "failed")
        out: dict[str, Any] = {"url": self.service}
        for level in ("studies", "series", "instances"):
            keys = (*names, "rejected") if level == "instances" else names
            out[level] = {name: self.counts[level][name] for name in keys}
        out["failed_requests"] = self.counts["requests"]["failed"]
        out["failures"] = self.failures
        return out
