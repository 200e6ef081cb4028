"""A set of mapping files with their value maps, loaded and checked together.

Value maps are found on a search path: the shipped ones (``mappings/valuemaps``) always, then the ``valuemaps/``
folder next to the mapping files, then any folder given; a map of a later folder replaces the one of the same name
from an earlier folder, and the set keeps a note saying so.

Examples
--------
>>> ms = MappingSet.load(default_mappings_dir())
>>> sorted(ms.sources())
['csv', 'dicom', 'fhir']
>>> "fhir-gender" in ms.valuemaps, ms.notes
(True, ())
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from hyperontology.mapping import transforms
from hyperontology.mapping.model import MappingError, MappingSpec, load_mapping
from hyperontology.mapping.valuemaps import ValueMap, read_valuemaps


def default_mappings_dir() -> Path:
    """The default mappings shipped with the package (in a wheel) or the repository's ``mappings/``."""
    packaged = Path(str(resources.files("hyperontology"))) / "_data" / "mappings"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[2] / "mappings"


def valuemap_search_path(folders: Iterable[Path | None]) -> list[Path]:
    """The shipped value-map folder, then ``folders`` in order (each once; absent ones left out)."""
    path: list[Path] = []
    for folder in [default_mappings_dir() / "valuemaps", *folders]:
        if folder is not None and folder.is_dir() and folder.resolve() not in {p.resolve() for p in path}:
            path.append(folder)
    return path


def layered_valuemaps(folders: Iterable[Path | None]) -> tuple[dict[str, ValueMap], list[str]]:
    """The value maps of the search path by name, later folders overriding earlier ones, and a note per override."""
    maps: dict[str, ValueMap] = {}
    notes: list[str] = []
    for folder in valuemap_search_path(folders):
        for name, valuemap in read_valuemaps(folder).items():
            if name in maps:
                notes.append(f"value map {name!r}: {valuemap.path} replaces {maps[name].path}")
            maps[name] = valuemap
    return maps, notes


@dataclass(frozen=True)
class MappingSet:
    specs: tuple[MappingSpec, ...]
    valuemaps: dict[str, ValueMap]
    directory: Path
    notes: tuple[str, ...] = ()

    @classmethod
    def load(cls, directory: Path, *, valuemaps_dir: Path | None = None) -> MappingSet:
        """Every ``*.yaml`` mapping of ``directory``, with the shipped value maps, those of ``directory/valuemaps``
        and those of ``valuemaps_dir``, in that order of precedence (the last wins)."""
        paths = sorted([*directory.glob("*.yaml"), *directory.glob("*.yml")])
        if not paths:
            raise MappingError([f"{directory}: [mappings] no *.yaml mapping file here"])
        return cls.from_files(paths, valuemaps_dirs=[directory / "valuemaps", valuemaps_dir], directory=directory)

    @classmethod
    def from_files(cls, paths: Sequence[Path], *, valuemaps_dirs: Iterable[Path | None] = (),
                   directory: Path | None = None, missing_valuemaps_empty: bool = False) -> MappingSet:
        """These mapping files, with the value maps of the search path (:func:`layered_valuemaps`).

        A value map a file names that no folder holds is an error, or with ``missing_valuemaps_empty`` an empty
        map (for a curator starting one: ``mapping suggest`` fills it)."""
        if not paths:
            raise MappingError([f"{directory or '.'}: [mappings] no mapping file given"])
        maps, notes = layered_valuemaps(valuemaps_dirs)
        known = transforms.names()
        specs, problems = [], []
        for path in paths:
            try:
                specs.append(load_mapping(path, transforms=known,
                                          valuemaps=None if missing_valuemaps_empty else set(maps)))
            except MappingError as exc:
                problems += exc.problems
        if problems:
            raise MappingError(problems)
        for name in sorted({n for spec in specs for n in spec.valuemaps} - set(maps)):
            maps[name] = ValueMap(name, {})
        return cls(tuple(specs), maps, directory or paths[0].parent, tuple(notes))

    def sources(self) -> set[str]:
        return {s.source for s in self.specs}
