"""The safe list (attributes not in Table E.1-1 that are kept) and the cleaning of Code Meaning."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydicom.datadict import dictionary_VR, tag_for_keyword

from hyperontology.pseudonymize.dicom import Deidentifier
from hyperontology.pseudonymize.keys import PseudonymKey
from hyperontology.pseudonymize.profile import Profile, ProfileError, load_table
from hyperontology.pseudonymize.safe import load_safe_attributes, load_safe_groups, standard_meaning

#: VRs that hold codes, numbers, tags, binary data or sequences: allowed in every group.
CODED = {"CS", "US", "SS", "UL", "SL", "UV", "SV", "FL", "FD", "DS", "IS", "AT", "SQ",
         "OB", "OW", "OD", "OF", "OL", "OV", "OB or OW", "US or SS", "US or OW", "US or SS or OW"}
#: Short text VRs, allowed only in these groups (codes; device make and technique names).
TEXT_GROUPS = {"codes": {"SH", "LO"}, "short_technical_text": {"SH", "LO"}}
CLASS_UIDS = {"SOPClassUID", "ReferencedSOPClassUID", "ContextUID", "CodingSchemeUID"}


def test_safe_list_is_disjoint_from_the_table() -> None:
    table = {int(entry["id"], 16) for entry in load_table()["attributes"] if len(entry["id"]) == 8
             and all(c in "0123456789abcdef" for c in entry["id"])}
    assert not load_safe_attributes() & table


def test_safe_list_holds_no_free_text_names_dates_or_instance_uids() -> None:
    for group, keywords in load_safe_groups().items():
        for keyword in keywords:
            vr = dictionary_VR(tag_for_keyword(keyword))
            allowed = CODED | TEXT_GROUPS.get(group, set())
            assert vr in allowed or (vr == "UI" and keyword in CLASS_UIDS), (group, keyword, vr)


def test_unknown_keyword_is_named(tmp_path: Path) -> None:
    path = tmp_path / "safe.json"
    path.write_text('{"groups": {"pixel": ["Rows", "NoSuchKeyword"]}}', encoding="utf-8")
    with pytest.raises(ProfileError, match="NoSuchKeyword"):
        load_safe_attributes(path)
    path.write_text('{"groups": ["Rows"]}', encoding="utf-8")
    with pytest.raises(ProfileError, match="groups"):
        load_safe_groups(path)


def test_rule_table_then_safe_then_remove() -> None:
    engine = Deidentifier(PseudonymKey(bytes(32)), Profile())
    assert engine.rule_for(tag_for_keyword("PatientName")) == "Z"  # the table
    assert engine.rule_for(tag_for_keyword("PixelSpacing")) == "K"  # safe
    assert engine.rule_for(tag_for_keyword("TextValue")) == "X"  # neither
    assert engine.rule_for(0x60020022) == "X" and engine.rule_for(0x50000010) == "X"  # repeating groups
    assert engine.rule_for(tag_for_keyword("ContentSequence")) == "D"
    structured = Deidentifier(PseudonymKey(bytes(32)), Profile(clean_structured_content=True))
    assert structured.rule_for(tag_for_keyword("ContentSequence")) == "C"


@pytest.mark.parametrize(("scheme", "code", "meaning"), [
    ("DCM", "113100", "Basic Application Confidentiality Profile"),
    ("SCT", "77477000", "Computerized axial tomography (procedure)"),
    ("SRT", "P5-08000", "Computerized axial tomography (procedure)"),
    ("99LOCAL", "P-77", None),
])
def test_standard_meaning(scheme: str, code: str, meaning: str | None) -> None:
    assert standard_meaning(scheme, code) == meaning
