"""A set of mapping files with their value maps, loaded and checked together.

Examples
--------
>>> ms = MappingSet.load(default_mappings_dir())
>>> sorted(ms.sources())
['csv', 'dicom', 'fhir']
"""

from __future__ import annotations

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


@dataclass(frozen=True)
class MappingSet:
    specs: tuple[MappingSpec, ...]
    valuemaps: dict[str, ValueMap]
    directory: Path

    @classmethod
    def load(cls, directory: Path, *, valuemaps_dir: Path | None = None) -> MappingSet:
        """Every ``*.yaml`` mapping of ``directory`` and every value map of ``valuemaps/`` (or ``valuemaps_dir``)."""
        maps = read_valuemaps(valuemaps_dir or directory / "valuemaps")
        known = transforms.names()
        specs, problems = [], []
        for path in sorted([*directory.glob("*.yaml"), *directory.glob("*.yml")]):
            try:
                specs.append(load_mapping(path, transforms=known, valuemaps=set(maps)))
            except MappingError as exc:
                problems += exc.problems
        if problems:
            raise MappingError(problems)
        if not specs:
            raise MappingError([f"{directory}: [mappings] no *.yaml mapping file here"])
        return cls(tuple(specs), maps, directory)

    def sources(self) -> set[str]:
        return {s.source for s in self.specs}
