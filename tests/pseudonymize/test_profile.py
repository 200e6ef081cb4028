"""Profiles (YAML), action resolution, and the shipped PS3.15 table against the standard's extraction."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hyperontology.pseudonymize.build_profile_table import OPTION_COLUMNS, normalise_tag
from hyperontology.pseudonymize.profile import (
    Profile,
    ProfileError,
    effective_action,
    load_profile,
    load_table,
    resolve_compound,
)

STANDARD = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "dicom-standard"
REPO_PROFILE = Path(__file__).resolve().parents[2] / "mappings" / "deid" / "profile.yaml"


@pytest.mark.shared
def test_table_matches_standard() -> None:
    source = STANDARD / "confidentiality_profile_attributes.json"
    if not source.is_file():
        pytest.skip(f"{source} absent (../shared/data not mounted)")
    rows = json.loads(source.read_text(encoding="utf-8"))
    ours = {entry["id"]: entry for entry in load_table()["attributes"]}
    assert set(ours) == {str(row["id"]).lower() for row in rows}
    for row in rows:
        entry = ours[str(row["id"]).lower()]
        assert entry["tag"] == normalise_tag(row["tag"]) and entry["basic"] == row["basicProfile"]
        expected = {name: row[col] for col, name in OPTION_COLUMNS.items() if row.get(col)}
        assert entry["options"] == expected, row["tag"]


def test_table_metadata_cites_source() -> None:
    meta = load_table()["metadata"]
    assert "PS3.15" in meta["standard"] and meta["extraction_commit"] != "unknown"


def test_repo_profile_is_eucaim_style() -> None:
    profile = load_profile(REPO_PROFILE)
    assert profile == Profile(retain_longitudinal_modified_dates=True, retain_patient_characteristics=True,
                              retain_device_identity=True, clean_descriptors=True, burned_in="exclude")


@pytest.mark.parametrize(("text", "line", "words"), [
    ("clean_descriptors: true\nretain_everything: true\n", 2, "unknown key"),
    ("clean_descriptors: yes please\n", 1, "true or false"),
    ("burned_in: keep\n", 1, "exclude"),
    ("clean_descriptors: [\n", 2, "YAML"),
    ("- a\n- b\n", 1, "mapping"),
])
def test_profile_errors_name_file_and_line(tmp_path: Path, text: str, line: int, words: str) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ProfileError) as info:
        load_profile(path)
    assert f"{path}:{line}" in str(info.value) and words in str(info.value)


def test_empty_profile_is_basic(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text("# nothing\n", encoding="utf-8")
    assert load_profile(path) == Profile()
    with pytest.raises(ProfileError):
        load_profile(tmp_path / "missing.yaml")


@pytest.mark.parametrize(("action", "iod_type", "expected"), [
    ("X/Z", None, "Z"), ("Z/D", None, "D"), ("X/D", None, "D"), ("X/Z/D", None, "D"), ("X/Z/U*", None, "U"),
    ("X/Z", "2", "Z"), ("X/Z", "3", "X"), ("Z/D", "1", "D"), ("Z/D", "2", "Z"), ("X/D", "3", "X"),
    ("X/Z/D", "1", "D"), ("X/Z/D", "2", "Z"), ("X/Z/D", "3", "X"), ("X/Z/U*", "1", "U"), ("K", None, "K"),
])
def test_compound_resolution(action: str, iod_type: str | None, expected: str) -> None:
    assert resolve_compound(action, iod_type=iod_type) == expected


def test_options_override_basic_and_clean_wins() -> None:
    entry = {"basic": "X", "options": {"retain_device_identity": "K", "retain_longitudinal_modified_dates": "C"}}
    assert effective_action(entry, Profile()) == "X"
    assert effective_action(entry, Profile(retain_device_identity=True)) == "K"
    both = Profile(retain_device_identity=True, retain_longitudinal_modified_dates=True)
    assert effective_action(entry, both) == "C"


def test_every_option_is_an_explicit_opt_in(tmp_path: Path) -> None:
    assert Profile().enabled_options() == ()
    path = tmp_path / "p.yaml"
    path.write_text("clean_structured_content: true\nretain_safe_private: false\n", encoding="utf-8")
    assert load_profile(path).enabled_options() == ("clean_structured_content",)
    entry = {"basic": "D", "options": {"clean_structured_content": "C"}}  # Content Sequence
    assert effective_action(entry, Profile()) == "D"
    assert effective_action(entry, Profile(clean_structured_content=True)) == "C"
