"""Where the hyperontology's module files are, and which files a release directory holds.

A release directory holds ``hyperontology.ttl`` (the root, whose ``owl:imports`` name the modules),
``catalog-v001.xml`` (import IRI -> local file, the Protégé convention) and the module files. Imports
are only ever resolved through the catalog: loading never touches the network.
"""

from __future__ import annotations

import os
import xml.etree.ElementTree as ET  # noqa: S405 - our own catalog file, parsed without entities
from importlib import resources
from pathlib import Path

from hyperontology.errors import OntologyLoadError

ROOT_FILE = "hyperontology.ttl"
CATALOG = "catalog-v001.xml"
_CATALOG_NS = "{urn:oasis:names:tc:entity:xmlns:xml:catalog}"


def bundled_dir() -> Path:
    """The release shipped with the package (in a wheel) or the repository's ``ontologies/`` (in a checkout)."""
    packaged = Path(str(resources.files("hyperontology"))) / "_data" / "ontologies"
    if (packaged / ROOT_FILE).is_file():
        return packaged
    return Path(__file__).resolve().parents[2] / "ontologies"


def catalog(directory: Path) -> dict[str, Path]:
    """Import IRI -> local file of a release directory."""
    path = directory / CATALOG
    try:
        root = ET.parse(path).getroot()  # noqa: S314 - local catalog, no DTD processing
    except (OSError, ET.ParseError) as exc:
        raise OntologyLoadError(f"cannot read the import catalog: {exc}", path=str(path)) from exc
    return {e.attrib["name"]: directory / e.attrib["uri"] for e in root.iter(f"{_CATALOG_NS}uri")}


def module_files(directory: Path) -> list[Path]:
    """The root file and every module file it imports, resolved through the catalog, in a stable order."""
    directory = Path(directory)
    root = directory / ROOT_FILE
    if not root.is_file():
        raise OntologyLoadError(f"no {ROOT_FILE} here; not a hyperontology release directory", path=str(directory))
    files = sorted(set(catalog(directory).values()))
    missing = [str(f) for f in files if not f.is_file()]
    if missing:
        raise OntologyLoadError(f"modules named by {CATALOG} are missing: {', '.join(missing)}", path=str(directory))
    return [root, *files]


def signature(files: list[Path]) -> str:
    """A cheap fingerprint (name, size, mtime) of the files, for the load cache key."""
    parts = []
    for path in files:
        stat = path.stat()
        parts.append(f"{path.resolve()}:{stat.st_size}:{stat.st_mtime_ns}")
    return "|".join(parts)


def default_cache_dir() -> Path:
    """``$HYPERONTOLOGY_CACHE_DIR``, else ``$XDG_CACHE_HOME/hyperontology``, else ``~/.cache/hyperontology``."""
    explicit = os.environ.get("HYPERONTOLOGY_CACHE_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "hyperontology"
