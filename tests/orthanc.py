"""A real Orthanc with its DICOMweb plugin, for tests: started on a free loopback port with its storage in a
temporary folder, DICOM port off, no authentication (Debian packages ``orthanc orthanc-dicomweb``).

:func:`orthanc_missing` says why Orthanc cannot run here (tests skip with it); :func:`orthanc` runs one.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from tests.processes import _wait, free_port

#: where Debian's orthanc-dicomweb puts the plugin (``dpkg -L orthanc-dicomweb``)
PLUGIN_PATHS = (Path("/usr/share/orthanc/plugins/libOrthancDicomWeb.so"),
                Path("/usr/lib/orthanc/libOrthancDicomWeb.so"))


def orthanc_binary() -> str | None:
    return shutil.which("Orthanc") or next((p for p in ("/usr/sbin/Orthanc",) if Path(p).is_file()), None)


def dicomweb_plugin() -> Path | None:
    return next((p for p in PLUGIN_PATHS if p.is_file()), None)


def orthanc_missing() -> str | None:
    """Why a test Orthanc cannot run here (None: it can)."""
    if orthanc_binary() is None:
        return "needs Orthanc (apt-get install orthanc orthanc-dicomweb): no Orthanc binary"
    if dicomweb_plugin() is None:
        return "needs Orthanc's DICOMweb plugin (apt-get install orthanc-dicomweb): plugin not found"
    return None


@dataclass
class Orthanc:
    """A running test Orthanc: its REST base URL and what was uploaded to it."""

    url: str
    process: subprocess.Popen[bytes]
    #: uploaded files Orthanc stored as new instances, and those it refused or already had (with why)
    stored: list[Path] = field(default_factory=list)
    refused: dict[Path, str] = field(default_factory=dict)

    @property
    def dicomweb(self) -> str:
        """The DICOMweb root as ``hyperontology ingest`` takes it."""
        return "dicomweb+" + self.url + "/dicom-web"

    def upload(self, path: Path) -> bool:
        """``POST /instances`` of one file; True if Orthanc stored it as a new instance."""
        answer = httpx.post(self.url + "/instances", content=path.read_bytes(), timeout=60)
        status = answer.json().get("Status") if answer.status_code == 200 else None
        if status == "Success":
            self.stored.append(path)
            return True
        self.refused[path] = f"HTTP {answer.status_code}" + (f", {status}" if status else "")
        return False

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def _config(folder: Path, port: int) -> Path:
    plugin = dicomweb_plugin()
    config = {
        "Name": "hyperontology-test", "HttpPort": port, "HttpServer": {"Threads": 4},
        "DicomServerEnabled": False, "DicomPort": free_port(),
        "StorageDirectory": str(folder / "storage"), "IndexDirectory": str(folder / "index"),
        "RemoteAccessAllowed": False, "AuthenticationEnabled": False, "SslEnabled": False,
        "StableAge": 1, "LogExportedResources": False, "SaveJobs": False,
        "Plugins": [str(plugin)],
        "DicomWeb": {"Enable": True, "Root": "/dicom-web/", "EnableWado": False, "Servers": {}},
    }
    path = folder / "orthanc.json"
    path.write_text(json.dumps(config, indent=2), encoding="utf-8")
    return path


@contextmanager
def orthanc(folder: Path) -> Iterator[Orthanc]:
    """An Orthanc process (storage under ``folder``) on a free loopback port, stopped on exit."""
    binary = orthanc_binary()
    assert binary is not None, orthanc_missing()
    folder.mkdir(parents=True, exist_ok=True)
    port = free_port()
    log = (folder / "orthanc.log").open("wb")
    process = subprocess.Popen([binary, str(_config(folder, port))], stdout=log, stderr=subprocess.STDOUT)
    server = Orthanc(f"http://127.0.0.1:{port}", process)
    try:
        _wait(process, lambda: httpx.get(server.url + "/dicom-web/studies", timeout=5).status_code == 200,
              "Orthanc")
        yield server
    finally:
        server.stop()
        log.close()
