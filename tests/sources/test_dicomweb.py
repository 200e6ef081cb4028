"""Ingest from a PACS over DICOMweb, against a real Orthanc with its DICOMweb plugin (tests.orthanc).

The shared DICOM files go to Orthanc (``POST /instances``); a DICOMweb ingest must then leave the same data graph
as a file ingest of exactly the files Orthanc stored, read only what is new on a re-run, and account for every
failure (a server stopped mid-way, a bogus port, answers that are not DICOM JSON) in the report, never crashing.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pyoxigraph as ox
import pytest

from hyperontology import Hyperontology
from hyperontology.cli.main import main
from hyperontology.mapping.loader import MappingSet, default_mappings_dir
from hyperontology.pipeline import IngestOptions, ingest
from hyperontology.pseudonymize.keys import PseudonymKey
from hyperontology.sources.base import Record, Rejection
from hyperontology.sources.dicomweb import DicomWebService, read_series, redacted, walk
from hyperontology.store.base import open_store
from tests.orthanc import Orthanc, orthanc, orthanc_missing
from tests.processes import free_port

SHARED_DICOM = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "dicom"
KEY = PseudonymKey(bytes(range(32)))
#: held back from the first upload: the third instance of a three-instance CT series
HELD_BACK = "ge-ct/03.dcm"

pytestmark = pytest.mark.shared


def shared_files() -> list[Path]:
    if not SHARED_DICOM.is_dir():
        pytest.skip(f"needs the shared DICOM files in {SHARED_DICOM} (../shared/data, absent here)")
    return sorted(p for p in SHARED_DICOM.rglob("*") if p.is_file() and p.suffix != ".md")


def needs_orthanc() -> None:
    reason = orthanc_missing()
    if reason:
        pytest.skip(reason)


def options(store: Path, **extra: Any) -> IngestOptions:
    return IngestOptions(key=KEY, mappings=MappingSet.load(default_mappings_dir()), store_path=store, **extra)


def data_quads(store: Path) -> set[ox.Quad]:
    with open_store(store, read_only=True) as opened:
        body = opened.export(None, "nq", graphs=["data"])
    assert body is not None
    return set(ox.parse(body, format=ox.RdfFormat.N_QUADS))


@dataclass
class FirstRun:
    pacs: Orthanc
    web_store: Path
    file_store: Path
    report: dict[str, Any]
    web_quads: set[ox.Quad]
    file_quads: set[ox.Quad]


@pytest.fixture(scope="module")
def pacs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Orthanc]:
    """Orthanc holding every shared file it accepts, but :data:`HELD_BACK`."""
    files = shared_files()
    needs_orthanc()
    with orthanc(tmp_path_factory.mktemp("orthanc")) as server:
        for path in files:
            if path != SHARED_DICOM / HELD_BACK:
                server.upload(path)
        yield server


@pytest.fixture(scope="module")
def first(pacs: Orthanc, onto: Hyperontology, tmp_path_factory: pytest.TempPathFactory) -> FirstRun:
    """A DICOMweb ingest and a file ingest of the files Orthanc stored, each into a new store."""
    folder = tmp_path_factory.mktemp("stores")
    report = ingest([pacs.dicomweb], options(folder / "web"), ontology=onto)
    ingest(list(pacs.stored), options(folder / "files"), ontology=onto)
    return FirstRun(pacs, folder / "web", folder / "files", report, data_quads(folder / "web"),
                    data_quads(folder / "files"))


def test_orthanc_stored_the_shared_files(pacs: Orthanc) -> None:
    """Every upload is accounted for: stored, or refused (a duplicate SOP instance, a file it cannot parse)."""
    assert len(pacs.stored) + len(pacs.refused) == len(shared_files()) - 1
    assert len(pacs.stored) > 50
    assert pacs.refused[SHARED_DICOM / "pydicom" / "MR_small_bigendian.dcm"] == "HTTP 200, AlreadyStored"


def test_same_data_graph_as_the_files(first: FirstRun) -> None:
    assert first.web_quads == first.file_quads
    assert len(first.web_quads) > 500
    web = first.report["dicomweb"][0]
    assert web["url"] == first.pacs.dicomweb
    instances = len(first.pacs.stored)
    assert web["instances"] == {"found": instances, "read": instances, "skipped": 0, "failed": 0, "rejected": 0}
    series = first.report["totals"]["instances"]["cdm:ImagingSeries"]
    assert web["series"] == {"found": series, "read": series, "skipped": 0, "failed": 0}
    assert web["studies"]["found"] == web["studies"]["read"] == first.report["totals"]["instances"]["cdm:ImagingStudy"]
    assert web["failed_requests"] == 0
    # every series is an input of the report, named by its URL, with its instances as records
    inputs = first.report["inputs"]
    assert len(inputs) == series and sum(i["records"] for i in inputs) == instances
    assert all(i["path"].startswith(first.pacs.dicomweb + "/studies/") and i["source"] == "dicomweb"
               for i in inputs)


def test_a_rerun_reads_nothing_new(first: FirstRun, onto: Hyperontology) -> None:
    report = ingest([first.pacs.dicomweb], options(first.web_store), ontology=onto)
    web = report["dicomweb"][0]
    found = web["series"]["found"]
    assert web["series"] == {"found": found, "read": 0, "skipped": found, "failed": 0}
    assert web["instances"]["read"] == 0 and web["instances"]["skipped"] == web["instances"]["found"]
    assert web["studies"]["skipped"] == web["studies"]["found"]
    assert report["totals"]["batches"] == 0 and report["totals"]["skipped"] == found
    assert data_quads(first.web_store) == first.web_quads


def test_a_new_instance_rereads_its_series_only(first: FirstRun, onto: Hyperontology) -> None:
    pacs = first.pacs
    assert pacs.upload(SHARED_DICOM / HELD_BACK)
    report = ingest([pacs.dicomweb], options(first.web_store), ontology=onto)
    web = report["dicomweb"][0]
    assert web["series"]["read"] == 1 and web["series"]["skipped"] == web["series"]["found"] - 1
    assert web["instances"]["read"] == 3  # the series' three instances
    assert web["studies"]["read"] == 1
    [series] = [i for i in report["inputs"] if not i.get("skipped")]
    assert series["records"] == 3 and series["loaded"] == 3
    # the store is what a file ingest of every file Orthanc now holds makes (the new file added to the first)
    ingest(list(pacs.stored), options(first.file_store), ontology=onto)
    assert data_quads(first.web_store) == data_quads(first.file_store) != first.web_quads


def test_a_bogus_port_is_a_reported_failure(first: FirstRun, tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    """The command line: a clear error naming the URL (never the password), the report, exit status 1."""
    url = f"dicomweb+http://someone:s3cret@127.0.0.1:{free_port()}/dicom-web"
    key_file = tmp_path / "key"
    key_file.write_text(bytes(range(32)).hex(), encoding="ascii")
    status = main(["ingest", url, "--store", str(first.web_store), "--key-file", str(key_file), "--quiet",
                   "--report", str(tmp_path / "report.json"), "--dicomweb-timeout", "5"])
    out, err = capsys.readouterr()
    assert status == 1
    assert "s3cret" not in out + err + (tmp_path / "report.json").read_text(encoding="utf-8")
    shown = url.replace("someone:s3cret@", "")
    assert f"error: the studies cannot be searched: {shown}/studies: cannot be reached (ConnectError" in err
    report = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))
    [web] = report["dicomweb"]
    assert web["url"] == shown and web["failed_requests"] == 1 and web["series"]["found"] == 0
    [account] = report["inputs"]
    assert account["path"] == shown and "cannot be reached" in account["rejected"][0]["reason"]
    assert report["totals"]["rejected"] == 1


def test_credentials_are_redacted() -> None:
    assert redacted("dicomweb+http://u:p@h:1/x") == "dicomweb+http://u:***@h:1/x"
    service = DicomWebService.from_url("dicomweb+https://u:p%40ss@pacs.example/dicom-web", secret=None)
    assert service.name == "dicomweb+https://pacs.example/dicom-web" and "p@ss" not in repr(service)
    assert DicomWebService.from_url("dicomweb+http://h/x", secret="tok").authorization == "Bearer tok"
    with pytest.raises(ValueError, match="without a query"):
        DicomWebService.from_url("dicomweb+http://u:p@h/x?q=1")
    with pytest.raises(ValueError) as caught:
        DicomWebService.from_url("dicomweb+http://u:p@h/x?q=1")
    assert "u:p" not in str(caught.value)


# ------------------------------------------------------------------------------------------ Orthanc stopped
class StopsOrthanc(DicomWebService):
    """The service, but Orthanc is stopped just before the n-th request whose path ends as given (a real
    Orthanc going away mid-way, at a point that does not depend on timing)."""

    def __init__(self, root: str, server: Orthanc, suffix: str, n: int) -> None:
        super().__init__(root)
        object.__setattr__(self, "hook", (server, suffix, [n]))

    def get(self, client: httpx.Client, path: str, params: dict[str, str | int] | None = None) -> list[Any]:
        server, suffix, left = self.hook  # type: ignore[attr-defined]
        if path.endswith(suffix):
            left[0] -= 1
            if left[0] == 0:
                server.stop()
        return super().get(client, path, params)


@pytest.fixture
def small_pacs(tmp_path: Path) -> Iterator[Orthanc]:
    """Another Orthanc, holding two GE MR series and a GE CT series (two studies) of the first one's files."""
    files = shared_files()
    needs_orthanc()
    with orthanc(tmp_path / "orthanc") as server:
        for path in files:
            if path.parent.name in ("ge", "ge-ct") and path != SHARED_DICOM / HELD_BACK:
                assert server.upload(path)
        yield server


@pytest.mark.parametrize(("suffix", "read"), [("/metadata", 1), ("/instances", 0)])
def test_orthanc_stopped_midway(small_pacs: Orthanc, first: FirstRun, onto: Hyperontology, suffix: str,
                                read: int) -> None:
    """Stopped before the second series is read (or listed): what was read before is loaded, every request after
    is a failure of the report naming its URL; the run ends normally. (Into the store of the first run, which
    holds these instances already: loading the ontology into a new store would take seconds.)"""
    service = StopsOrthanc(small_pacs.url + "/dicom-web", small_pacs, suffix, 2)
    report = ingest([service], options(first.web_store, batch_files=1), ontology=onto)
    web = report["dicomweb"][0]
    assert web["series"]["read"] == read and web["failed_requests"] == len(web["failures"]) >= 2
    assert web["studies"]["found"] == 2 and web["studies"]["read"] + web["studies"]["failed"] == 2
    for failure in web["failures"]:
        assert failure["url"].startswith(service.name + "/studies/")
        assert "cannot be reached (ConnectError" in failure["reason"]
    rejected = [i for i in report["inputs"] if i["rejected"]]
    assert {i["path"] for i in rejected} <= {f["url"] for f in web["failures"]} and rejected
    assert report["totals"]["records"] == web["instances"]["read"]
    assert web["instances"]["read"] in ({3, 6} if read else {0})  # the CT series (3 files) or an MR one (6)


# ------------------------------------------------------------------------------------------ bad answers
UIDS = {"00080018": {"vr": "UI", "Value": ["1.2.5.1"]}, "0020000D": {"vr": "UI", "Value": ["1.2"]},
        "0020000E": {"vr": "UI", "Value": ["1.2.5"]}}
#: a fake DICOMweb service (a plain HTTP server): path -> (content type, body)
FAKE = {
    "/studies": ("application/dicom+json", json.dumps([{"0020000D": {"vr": "UI", "Value": ["1.2"]}}])),
    "/studies/1.2/series": ("application/dicom+json", json.dumps([{"0020000E": {"vr": "UI", "Value": [s]}}
                                                                  for s in ("1.2.3", "1.2.4", "1.2.5")])),
    **{f"/studies/1.2/series/{s}/instances": ("application/dicom+json",
                                              json.dumps([{"00080018": {"vr": "UI", "Value": [f"{s}.1"]}}]))
       for s in ("1.2.3", "1.2.4", "1.2.5")},
    "/studies/1.2/series/1.2.3/metadata": ("application/dicom+json", '[{"00080018": '),
    "/studies/1.2/series/1.2.4/metadata": ("text/html", "<html>log in</html>"),
    "/studies/1.2/series/1.2.5/metadata": ("application/dicom+json", json.dumps([
        {**UIDS, "00080060": {"vr": "CS", "Value": ["CT"]},
         "7FE00010": {"vr": "OW", "BulkDataURI": "http://127.0.0.1:9/pixels"}},
        {**UIDS, "00280010": {"vr": "US", "Value": ["many"]}},
        {"00080018": {"vr": "UI", "Value": ["1.2.5.3"]}}, "text"])),
    "/rest/studies": ("application/json", json.dumps(["0c3a3cb4-5a9e8b3f"])),  # an Orthanc REST answer
}


class FakeHandler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - the name http.server calls
        kind, body = FAKE.get(self.path.partition("?")[0], ("text/plain", "not found"))
        self.send_response(200 if self.path.partition("?")[0] in FAKE else 404)
        self.send_header("Content-Type", kind)
        self.end_headers()
        self.wfile.write(body.encode())

    def log_message(self, *args: Any) -> None:
        return


@pytest.fixture
def fake_service() -> Iterator[DicomWebService]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield DicomWebService.from_url(f"dicomweb+http://127.0.0.1:{server.server_address[1]}", timeout=5)
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_bad_answers_are_rejections(fake_service: DicomWebService) -> None:
    refs = list(walk(fake_service))
    assert [getattr(r, "series", None) for r in refs] == ["1.2.3", "1.2.4", "1.2.5"]
    [broken] = read_series(fake_service, "1.2", "1.2.3")
    assert isinstance(broken, Rejection) and not broken.provenance.locator
    assert broken.provenance.path == fake_service.name + "/studies/1.2/series/1.2.3"
    assert "metadata/" not in broken.reason and "not valid JSON" in broken.reason
    [html] = read_series(fake_service, "1.2", "1.2.4")
    assert isinstance(html, Rejection) and "text/html, not DICOM JSON" in html.reason
    good, bad, missing, text = read_series(fake_service, "1.2", "1.2.5")
    assert isinstance(good, Record) and good.fields["Modality"] == "CT"  # the bulk data URI never followed
    assert isinstance(bad, Rejection) and bad.reason.startswith("not readable as DICOM JSON: ValueError")
    assert isinstance(missing, Rejection) and missing.reason == "no Study Instance UID, no Series Instance UID"
    assert missing.provenance.locator == "instance 3"
    assert isinstance(text, Rejection) and "not a DICOM JSON object" in text.reason


def test_not_a_dicomweb_root(pacs: Orthanc, fake_service: DicomWebService) -> None:
    """Roots that are not DICOMweb: failures naming the URL, never an empty PACS."""
    [rest] = walk(DicomWebService.from_url(fake_service.name + "/rest"))
    assert getattr(rest, "reason", "") == (f"the studies cannot be searched: {fake_service.name}/rest/studies: a "
                                           "result without Study Instance UID (not a QIDO-RS answer)")
    [orthanc_rest] = walk(DicomWebService.from_url("dicomweb+" + pacs.url))
    assert f"{pacs.url}/studies: HTTP 400" in getattr(orthanc_rest, "reason", "")
    [missing] = walk(DicomWebService.from_url(pacs.dicomweb + "/nowhere"))
    assert "HTTP 404" in getattr(missing, "reason", "")
