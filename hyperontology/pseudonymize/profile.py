"""De-identification profiles (DICOM PS3.15 Annex E) and the effective action of each attribute.

A :class:`Profile` says which options of the Basic Application Level Confidentiality Profile are on; the
attribute table (``ps315_annex_e.json``, built from the standard by :mod:`build_profile_table`) gives the
basic action and the action of each option column. :func:`effective_action` combines them:

1. Enabled option columns override the basic action. When two enabled options disagree on one attribute
   (e.g. Retain Device Identity says ``K`` and Retain Longitudinal Modified Dates says ``C`` for a
   calibration date) the cleaning one wins: ``C`` over ``K``.
2. A compound basic action (``X/Z``, ``X/D``, ``Z/D``, ``X/Z/D``, ``X/Z/U*``) is resolved by the attribute's
   type in the IOD when the caller knows it (PS3.15 E.3.1: ``D`` for Type 1, ``Z`` for Type 2, ``X`` for
   Type 3; ``U*`` for a Type 1 sequence of references). IOD types are not modelled here, so without a type the
   reading that keeps the dataset valid for any type is chosen, which never leaks the original value:
   ``X/Z -> Z``, ``Z/D -> D``, ``X/D -> D``, ``X/Z/D -> D`` (a dummy value), ``X/Z/U* -> U`` (for a
   sequence: keep the items and remap every UID inside them).

Every option is an explicit opt-in: a :class:`Profile` has all of them off (Retain Device Identity, Retain Safe
Private and Clean Structured Content among them), so ``Profile()`` is the Basic Profile alone. Options of the
standard not offered by :class:`Profile` (Retain UIDs, Retain Full Dates, Clean Graphics) are always off; the basic
action then applies.

Attributes the table does not list are removed unless they are on the safe list (:mod:`safe`); sequences are
handled by their own action first (see :mod:`dicom`).

Examples
--------
>>> profile = Profile(retain_patient_characteristics=True)
>>> effective_action({"basic": "X", "options": {"retain_patient_characteristics": "K"}}, profile)
'K'
>>> effective_action({"basic": "X/Z/D", "options": {}}, Profile())
'D'
>>> effective_action({"basic": "X/Z/D", "options": {}}, Profile(), iod_type="3")
'X'
"""

from __future__ import annotations

import json
from dataclasses import dataclass, fields
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import yaml

from hyperontology.errors import HyperontologyError

BurnedInPolicy = Literal["exclude", "flag"]
ACTIONS = ("X", "Z", "D", "K", "C", "U")
TABLE_RESOURCE = "ps315_annex_e.json"
_UNKNOWN_TYPE = {"X/Z": "Z", "Z/D": "D", "X/D": "D", "X/Z/D": "D", "X/Z/U*": "U"}
_BY_TYPE = {"1": "D", "1C": "D", "2": "Z", "2C": "Z", "3": "X"}


class ProfileError(HyperontologyError):
    """A profile file is unreadable or invalid; the message names the file and line."""

    def __init__(self, message: str, *, path: str | None = None, line: int | None = None) -> None:
        where = f"{path}:{line}" if path and line else (path or "")
        super().__init__(f"{where}: {message}" if where else message)
        self.path = path
        self.line = line


@dataclass(frozen=True)
class Profile:
    """The options of the PS3.15 Basic Profile that are on, and what to do with burned-in annotations.

    Every option is off unless set: each is an explicit opt-in (the profile file names it ``true``).
    ``burned_in`` is ``"exclude"`` (a file with BurnedInAnnotation YES is not written) or ``"flag"``
    (written, and flagged in the audit): pixel data are never cleaned here.

    Examples
    --------
    >>> Profile(clean_descriptors=True).enabled_options()
    ('clean_descriptors',)
    """

    retain_longitudinal_modified_dates: bool = False
    retain_patient_characteristics: bool = False
    retain_device_identity: bool = False
    retain_institution_identity: bool = False
    clean_descriptors: bool = False
    clean_structured_content: bool = False
    retain_safe_private: bool = False
    burned_in: BurnedInPolicy = "exclude"

    def __post_init__(self) -> None:
        if self.burned_in not in ("exclude", "flag"):
            raise ProfileError(f"burned_in must be 'exclude' or 'flag', not {self.burned_in!r}")

    def enabled_options(self) -> tuple[str, ...]:
        """The names of the options that are on, in field order."""
        return tuple(f.name for f in fields(self) if f.type in (bool, "bool") and getattr(self, f.name) is True)


OPTION_NAMES = tuple(f.name for f in fields(Profile) if f.name != "burned_in")


def resolve_compound(action: str, *, iod_type: str | None = None) -> str:
    """One of X, Z, D, K, C, U for a (possibly compound) table action; see the module docstring.

    Examples
    --------
    >>> resolve_compound("X/Z"), resolve_compound("X/Z", iod_type="3"), resolve_compound("Z/D", iod_type="2")
    ('Z', 'X', 'Z')
    """
    if "/" not in action:
        return action.rstrip("*") if action.rstrip("*") in ACTIONS else "X"
    parts = [part.rstrip("*") for part in action.split("/")]
    wanted = _BY_TYPE.get((iod_type or "").upper())
    if wanted in parts:
        return wanted
    if wanted == "D" and "U" in parts:
        return "U"
    return _UNKNOWN_TYPE.get(action, "X")


def effective_action(entry: dict[str, Any], profile: Profile, *, iod_type: str | None = None) -> str:
    """The action for one table entry (``basic`` and ``options``) under ``profile``."""
    options = entry.get("options") or {}
    chosen = {str(options[name]) for name in profile.enabled_options() if name in options}
    if "C" in chosen:
        return "C"
    if "K" in chosen:
        return "K"
    return resolve_compound(str(entry.get("basic", "X")), iod_type=iod_type)


def load_table(path: Path | None = None) -> dict[str, Any]:
    """The PS3.15 attribute table (package data unless ``path`` is given).

    Examples
    --------
    >>> len(load_table()["attributes"]) > 600
    True
    """
    try:
        if path is None:
            text = resources.files("hyperontology.pseudonymize").joinpath(TABLE_RESOURCE).read_text("utf-8")
        else:
            text = path.read_text(encoding="utf-8")
        table = json.loads(text)
    except (OSError, ValueError) as exc:
        raise ProfileError(f"cannot read the PS3.15 table ({exc.__class__.__name__})", path=str(path)) from exc
    if not isinstance(table, dict) or not isinstance(table.get("attributes"), list):
        raise ProfileError("the PS3.15 table has no 'attributes' list", path=str(path or TABLE_RESOURCE))
    return table


def _check_value(name: str, value: Any, where: str, line: int) -> None:
    if name == "burned_in":
        if value not in ("exclude", "flag"):
            raise ProfileError(f"burned_in must be 'exclude' or 'flag', not {value!r}", path=where, line=line)
    elif name == "description":
        if not isinstance(value, str):
            raise ProfileError("description must be text", path=where, line=line)
    elif not isinstance(value, bool):
        raise ProfileError(f"{name} must be true or false, not {value!r}", path=where, line=line)


def load_profile(path: Path) -> Profile:
    """Read a profile YAML file: a mapping of option names to true/false, ``burned_in`` and ``description``.

    Unknown keys, wrong types and malformed YAML raise :class:`ProfileError` naming the file and line.
    """
    try:
        text = path.read_text(encoding="utf-8")
        loader = yaml.SafeLoader(text)
        try:
            node = loader.get_single_node()
            if node is not None and not isinstance(node, yaml.MappingNode):
                raise ProfileError("a profile must be a mapping of option names", path=str(path),
                                   line=node.start_mark.line + 1)
            pairs = [(k, loader.construct_object(v, deep=True)) for k, v in (node.value if node else [])]
        finally:
            loader.dispose()
    except (OSError, UnicodeDecodeError) as exc:
        raise ProfileError(f"cannot read ({exc.__class__.__name__})", path=str(path)) from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise ProfileError(f"not valid YAML: {getattr(exc, 'problem', exc)}", path=str(path),
                           line=mark.line + 1 if mark else None) from exc
    values: dict[str, Any] = {}
    for key_node, value in pairs:
        name, line = str(key_node.value), key_node.start_mark.line + 1
        if name not in (*OPTION_NAMES, "burned_in", "description"):
            raise ProfileError(f"unknown key {name!r} (known: {', '.join(OPTION_NAMES)}, burned_in, description)",
                               path=str(path), line=line)
        if name in values:
            raise ProfileError(f"duplicate key {name!r}", path=str(path), line=line)
        _check_value(name, value, str(path), line)
        values[name] = value
    values.pop("description", None)
    return Profile(**values)
