"""Value maps on a search path: the shipped maps always there, a curator's folders layered on top, with a note."""

from __future__ import annotations

from pathlib import Path

from hyperontology.mapping.loader import MappingSet, default_mappings_dir, valuemap_search_path

MAPPING = """\
mapping: mine
version: "1"
source: csv
entities:
  - name: patient
    select: {entity: patients}
    class: cdm:Patient
    id: {value: id, domain: patient}
    fields:
      - {property: cdm:patientIdentifier, value: id, pseudonym: patient}
      - {property: cdm:gender, value: gender, valuemap: fhir-gender}
      - {property: cdm:birthSex, value: sex, valuemap: local-sex}
"""
HEADER = "subject_id\tpredicate_id\tobject_id\n"
FEMALE = "SCT:248152002"


def curator_dir(tmp_path: Path, *, override: bool = False) -> Path:
    directory = tmp_path / "mine"
    (directory / "valuemaps").mkdir(parents=True)
    (directory / "mine.yaml").write_text(MAPPING)
    (directory / "valuemaps" / "local-sex.sssom.tsv").write_text(HEADER + f"W\tskos:exactMatch\t{FEMALE}\n")
    if override:
        (directory / "valuemaps" / "fhir-gender.sssom.tsv").write_text(HEADER + f"femme\tskos:exactMatch\t{FEMALE}\n")
    return directory


def test_the_shipped_value_maps_are_there_without_copying(tmp_path: Path) -> None:
    # before: --mappings DIR hid the shipped maps and a mapping naming fhir-gender did not load
    mappings = MappingSet.load(curator_dir(tmp_path))
    assert mappings.valuemaps["fhir-gender"].lookup("female") == FEMALE
    assert mappings.valuemaps["local-sex"].lookup("W") == FEMALE
    assert mappings.notes == ()


def test_a_curators_map_of_the_same_name_replaces_the_shipped_one_with_a_note(tmp_path: Path) -> None:
    directory = curator_dir(tmp_path, override=True)
    mappings = MappingSet.load(directory)
    assert mappings.valuemaps["fhir-gender"].lookup("femme") == FEMALE
    assert mappings.valuemaps["fhir-gender"].lookup("female") is None  # the whole map is the curator's
    (note,) = mappings.notes
    shipped = default_mappings_dir() / "valuemaps" / "fhir-gender.sssom.tsv"
    assert note == f"value map 'fhir-gender': {directory / 'valuemaps' / 'fhir-gender.sssom.tsv'} replaces {shipped}"


def test_valuemaps_dir_is_layered_last(tmp_path: Path) -> None:
    directory = curator_dir(tmp_path)
    extra = tmp_path / "extra"
    extra.mkdir()
    (extra / "local-sex.sssom.tsv").write_text(HEADER + "W\tskos:exactMatch\tSCT:248153007\n")
    mappings = MappingSet.load(directory, valuemaps_dir=extra)
    assert mappings.valuemaps["local-sex"].lookup("W") == "SCT:248153007"
    assert len(mappings.notes) == 1 and "local-sex" in mappings.notes[0]


def test_the_search_path_lists_each_folder_once(tmp_path: Path) -> None:
    shipped = default_mappings_dir() / "valuemaps"
    assert valuemap_search_path([shipped, None, tmp_path / "absent"]) == [shipped]
    assert MappingSet.load(default_mappings_dir()).notes == ()  # the shipped folder is not layered over itself
