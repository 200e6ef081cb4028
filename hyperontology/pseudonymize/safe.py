"""The safe list: public attributes that PS3.15 Table E.1-1 does not list and that de-identification keeps.

PS3.15 Annex E gives an action for the attributes of its table; an attribute the table does not list is removed
(``X``) unless it is on this list (``safe_attributes.json``, package data, grouped by what the attributes
describe: pixel and plane, acquisition technique, functional groups, codes, references...). The list holds codes,
numbers, class UIDs, pixel/LUT/waveform data and sequences (walked with the same rules, item by item), and a few
short technical texts (device make and model, technique names); never names, dates, free-text descriptions or
instance UIDs. A test checks that no safe attribute is in the table and that text VRs occur only where allowed.

Code Meaning (0008,0104) is kept cleaned: :func:`standard_meaning` gives the meaning the standard's code
dictionary (pydicom's copy of PS3.16) holds for the code, else the code value itself, so that a local code's
free-text meaning never leaves.

Examples
--------
>>> from pydicom.datadict import tag_for_keyword
>>> tag_for_keyword("Rows") in load_safe_attributes(), tag_for_keyword("PatientName") in load_safe_attributes()
(True, False)
>>> standard_meaning("DCM", "113100"), standard_meaning("99LOCAL", "P-77")
('Basic Application Confidentiality Profile', None)
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, cast

from pydicom.datadict import tag_for_keyword
from pydicom.sr._concepts_dict import concepts
from pydicom.sr._snomed_dict import mapping as snomed_mapping

from hyperontology.pseudonymize.profile import ProfileError

SAFE_RESOURCE = "safe_attributes.json"


def load_safe_groups(path: Path | None = None) -> dict[str, list[str]]:
    """The safe list as written: group name -> attribute keywords (package data unless ``path`` is given)."""
    try:
        if path is None:
            text = resources.files("hyperontology.pseudonymize").joinpath(SAFE_RESOURCE).read_text("utf-8")
        else:
            text = path.read_text(encoding="utf-8")
        groups = json.loads(text).get("groups")
    except (OSError, ValueError, AttributeError) as exc:
        raise ProfileError(f"cannot read the safe list ({exc.__class__.__name__})",
                           path=str(path or SAFE_RESOURCE)) from exc
    if not isinstance(groups, dict) or not all(isinstance(v, list) for v in groups.values()):
        raise ProfileError("the safe list has no 'groups' of keyword lists", path=str(path or SAFE_RESOURCE))
    return {str(name): [str(k) for k in keywords] for name, keywords in groups.items()}


def load_safe_attributes(path: Path | None = None) -> frozenset[int]:
    """The tags of the safe list; an unknown keyword raises :class:`ProfileError` naming it."""
    tags = set()
    for group, keywords in load_safe_groups(path).items():
        for keyword in keywords:
            tag = tag_for_keyword(keyword)
            if tag is None:
                raise ProfileError(f"unknown keyword {keyword!r} in group {group!r}", path=str(path or SAFE_RESOURCE))
            tags.add(int(tag))
    return frozenset(tags)


@cache
def _meanings() -> dict[tuple[str, str], str]:
    """(coding scheme designator, code value) -> meaning, from pydicom's PS3.16 code dictionary (read once)."""
    table = cast(dict[str, dict[str, dict[str, tuple[str, Any]]]], concepts)
    return {(scheme, code): meaning for scheme, entries in table.items() for entry in entries.values()
            for code, (meaning, _cids) in entry.items()}


def standard_meaning(scheme: str, code: str) -> str | None:
    """The standard's meaning of a code (PS3.16 and the schemes it draws on), None when the code is not there.

    A legacy SNOMED RT code (``SRT``) is looked up as its SNOMED CT code.

    Examples
    --------
    >>> standard_meaning("SRT", "R-408C3")
    'Diagnostic Intent'
    """
    scheme, code = scheme.strip(), code.strip()
    if scheme == "SRT":
        scheme, code = "SCT", snomed_mapping["SRT"].get(code, "")
    return _meanings().get((scheme, code))
