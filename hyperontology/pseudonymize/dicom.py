"""DICOM de-identification per PS3.15 Annex E (Basic Application Level Confidentiality Profile + options).

:class:`Deidentifier` decides every public attribute by one rule, at the top level and in every sequence item
it walks: the effective action of the attribute in Table E.1-1 (see :mod:`profile`); for an attribute the table
does not list, ``K`` when it is on the safe list (:mod:`safe`), else ``X``. Repeating groups follow the table's
group rules (``(50xx,xxxx)`` and ``(60xx,3000)``, ``(60xx,4000)`` are X; any other overlay element is not listed,
so it is removed too). The actions:

- ``X`` removes the element (a sequence with all its items), ``Z`` empties it (a sequence: no items);
- ``K`` keeps it; ``C`` cleans it; ``U`` remaps a UID. A sequence whose action is K, C or U is kept and walked
  item by item with the same rule: only there is anything inside a sequence kept;
- ``D`` puts a dummy value valid for the VR (a UID is remapped; a sequence becomes one empty item: nothing of the
  original items is kept, as for Content Sequence unless Clean Structured Content is on);
- ``U`` remaps a UID to ``key.uid("uid", original)``: the same UID maps to the same new UID in every file, so
  references between files (Study/Series/SOP Instance UIDs, ReferencedSOPInstanceUID, FrameOfReferenceUID)
  still match;
- ``C`` shifts a date (DA, DT) by the patient's keyed offset under Retain Longitudinal Temporal Information
  with Modified Dates (a time, TM, stays); otherwise it *cleans*: a text becomes zero-length (no language
  processing is tried, so nothing of the text is kept), another VR gets the dummy value.

PatientID and PatientName (table actions Z/D and Z) become the keyed pseudonym of the normalised PatientID
(with its issuer). With the modified-dates option every surviving DA and DT is shifted. Code Meaning is replaced
by the standard's meaning of its code (:func:`safe.standard_meaning`), else by the code value. Private elements
are removed unless Retain Safe Private is on and the element is in :data:`SAFE_PRIVATE`. Pixel data are not
touched. Files are read and written by :mod:`part10` (zeroed preamble, rebuilt File Meta Information). The audit
(:class:`AuditEntry`) holds tag numbers, counts and keyed digests only, never a value, a path or the key.

Examples
--------
>>> from hyperontology.pseudonymize.keys import PseudonymKey
>>> key = PseudonymKey(bytes(32))
>>> -1825 <= offset_days(key, normalise_patient_id(" Pat  01 ")) <= -30
True
>>> normalise_patient_id(" Pat  01 ", issuer="HOSP") == normalise_patient_id("pat 01")
True
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePosixPath
from typing import Any, cast

import pydicom
from pydicom.dataelem import DataElement, empty_value_for_VR
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence
from pydicom.sr._concepts_dict import concepts
from pydicom.tag import BaseTag, Tag

from hyperontology.dates import dicom_date
from hyperontology.pseudonymize import keys
from hyperontology.pseudonymize.keys import PseudonymKey
from hyperontology.pseudonymize.part10 import (
    DeidentificationError,
    file_meta_for,
    output_name,
    read_dataset,
    transfer_syntax,
    write_part10,
)
from hyperontology.pseudonymize.profile import Profile, effective_action, load_table
from hyperontology.pseudonymize.safe import load_safe_attributes, standard_meaning

__all__ = ["METHOD_CODES", "SAFE_PRIVATE", "AuditEntry", "DeidentificationError", "Deidentifier", "derive_age",
           "normalise_patient_id", "offset_days", "shift_date"]

#: Private elements kept by Retain Safe Private: (private creator, group, element low byte). From the
#: examples of PS3.15 Table E.3.10-1 (diffusion b-values and directions, no identifying content).
SAFE_PRIVATE: frozenset[tuple[str, int, int]] = frozenset({
    ("SIEMENS MR HEADER", 0x0019, 0x0C),  # B_value
    ("SIEMENS MR HEADER", 0x0019, 0x0D),  # DiffusionDirectionality
    ("SIEMENS MR HEADER", 0x0019, 0x0E),  # DiffusionGradientDirection
    ("GEMS_PARM_01", 0x0043, 0x39),  # slop_int_6..9 (b-value)
    ("PHILIPS IMAGING DD 001", 0x2001, 0x03),  # Diffusion B-Factor
})
#: PS3.16 CID 7050 codes (DCM) written in DeidentificationMethodCodeSequence, per option.
METHOD_CODES: dict[str, str] = {
    "basic": "113100",
    "clean_structured_content": "113104",
    "clean_descriptors": "113105",
    "retain_longitudinal_modified_dates": "113107",
    "retain_patient_characteristics": "113108",
    "retain_device_identity": "113109",
    "retain_safe_private": "113111",
    "retain_institution_identity": "113112",
}
_TEXT_VRS = frozenset({"LO", "LT", "SH", "ST", "UT", "UC", "PN"})
_DUMMY: dict[str, Any] = {
    "AE": "ANON", "AS": "000Y", "CS": "ANON", "DA": "19000101", "DS": "0", "DT": "19000101000000", "IS": "0",
    "LO": "ANONYMIZED", "LT": "ANONYMIZED", "PN": "ANONYMIZED", "SH": "ANONYMIZED", "ST": "ANONYMIZED",
    "TM": "000000", "UC": "ANONYMIZED", "UT": "ANONYMIZED", "UR": "", "FL": 0.0, "FD": 0.0, "SL": 0, "SS": 0,
    "UL": 0, "US": 0, "SV": 0, "UV": 0,
}
_PATIENT_ID, _PATIENT_NAME, _ISSUER, _CODE_MEANING = 0x00100020, 0x00100010, 0x00100021, 0x00080104
_BINARY_VRS = frozenset({"OB", "OW", "OD", "OF", "OL", "OV", "UN"})


def normalise_patient_id(value: str | None, issuer: str | None = None) -> str:
    """A patient identifier as every source pseudonymizes it: stripped, whitespace collapsed, case folded.

    The issuer is normalised away: one key is one pseudonymization domain (one issuer of identifiers), so that the
    DICOM PatientID, the FHIR Patient and the CSV ``mrn`` of the same person give the same pseudonym.

    Examples
    --------
    >>> normalise_patient_id("  AB  12 "), normalise_patient_id("ab 12", issuer=" Hosp ")
    ('ab 12', 'ab 12')
    """
    return keys.normalise_patient_id(str(value or ""))


def offset_days(key: PseudonymKey, patient: str) -> int:
    """The patient's date shift (``PseudonymKey.date_offset_days``): keyed, in [-1825, -30], as in ingestion.

    Examples
    --------
    >>> key = PseudonymKey(bytes(32))
    >>> offset_days(key, "p1") == offset_days(key, " P1 ")
    True
    """
    return key.date_offset_days(patient)


def shift_date(text: str, days: int) -> str | None:
    """A DA or DT value moved by ``days`` (DT keeps its time part); None when it is not a date.

    Examples
    --------
    >>> shift_date("20200301", -1), shift_date("20200301120000.5+0100", -1), shift_date("junk", 3)
    ('20200229', '20200229120000.5+0100', None)
    >>> shift_date("09990301", -1)
    '09990228'
    """
    text = text.strip()
    day = dicom_date(text[:8] if len(text) >= 8 else text, partial=True)
    if day is None or not text[: min(len(text), 8)].isdigit():
        return None
    width = 8 if len(text) >= 8 else len(text)
    try:
        moved_day = day + dt.timedelta(days=days)
    except OverflowError:
        return None
    moved = f"{moved_day.year:04d}{moved_day.month:02d}{moved_day.day:02d}"  # strftime drops a year's zeros
    return moved[:width] + text[width:]


def derive_age(birth: str, reference: str) -> str | None:
    """PatientAge (``nnnY``) from a birth date and a study date (both unshifted); None when not computable.

    Examples
    --------
    >>> derive_age("19700615", "20200614"), derive_age("", "20200101")
    ('049Y', None)
    """
    born, then = dicom_date(birth, partial=True), dicom_date(reference, partial=True)
    if born is None or then is None or len(birth.strip()) < 8:
        return None
    years = then.year - born.year - ((then.month, then.day) < (born.month, born.day))
    return f"{years:03d}Y" if 0 <= years <= 999 else None


@dataclass(frozen=True)
class AuditEntry:
    """What de-identification did to one dataset: tag numbers and counts, never a value or the key.

    ``source`` is a keyed digest of the input's path (:meth:`Deidentifier.source_id`), never the path; ``output``
    is where it was written (``deidentify`` records the keyed name under OUT).
    """

    source: str | None
    output: str | None
    excluded: bool = False
    reason: str | None = None
    burned_in: bool = False
    actions: dict[str, int] = field(default_factory=dict)
    removed_tags: tuple[str, ...] = ()
    replaced_tags: tuple[str, ...] = ()
    uid_mappings: int = 0
    key_id: str = ""

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {"source": self.source, "output": self.output, "excluded": self.excluded, "reason": self.reason,
                "burned_in": self.burned_in, "actions": dict(sorted(self.actions.items())),
                "removed_tags": list(self.removed_tags), "replaced_tags": list(self.replaced_tags),
                "uid_mappings": self.uid_mappings, "key_id": self.key_id}


@dataclass
class _Run:
    """Per-call state of one de-identification (never shared between calls)."""

    offset: int | None
    pseudonym: str
    counts: Counter[str] = field(default_factory=Counter)
    removed: set[str] = field(default_factory=set)
    replaced: set[str] = field(default_factory=set)
    uids: set[str] = field(default_factory=set)

    def note(self, action: str, tag: BaseTag, *, removed: bool = False) -> None:
        self.counts[action] += 1
        (self.removed if removed else self.replaced).add(f"({tag.group:04X},{tag.element:04X})")


def _pattern(tag: str) -> tuple[int, int] | None:
    match = re.fullmatch(r"\(([0-9a-fx]{4}),([0-9a-fx]{4})\)", tag)
    if not match:
        return None
    digits = match.group(1) + match.group(2)
    mask = int("".join("0" if c == "x" else "F" for c in digits), 16)
    return mask, int(digits.replace("x", "0"), 16)


class Deidentifier:
    """De-identify pydicom datasets and files with one key and one :class:`Profile`.

    Examples
    --------
    >>> from pydicom.dataset import Dataset
    >>> from hyperontology.pseudonymize.keys import PseudonymKey
    >>> ds = Dataset()
    >>> ds.PatientID, ds.PatientName, ds.InstitutionName = "12345", "Doe^Jane", "General Hospital"
    >>> ds.add_new(0x00109999, "LO", "not in the table")  # neither in Table E.1-1 nor safe: removed
    >>> audit = Deidentifier(PseudonymKey(bytes(32)), Profile()).deidentify(ds)
    >>> ds.PatientID != "12345", ds.InstitutionName, ds.PatientIdentityRemoved, audit.actions["D"]
    (True, 'ANONYMIZED', 'YES', 3)
    >>> 0x00109999 in ds, audit.removed_tags
    (False, ('(0010,9999)',))
    """

    def __init__(self, key: PseudonymKey, profile: Profile, *, table: dict[str, Any] | None = None,
                 safe: frozenset[int] | None = None) -> None:
        self._key, self.profile = key, profile
        self._safe = load_safe_attributes() if safe is None else safe
        self._table: dict[int, str] = {}
        self._patterns: list[tuple[int, int, str]] = []
        for entry in (table or load_table())["attributes"]:
            pattern = _pattern(str(entry.get("tag", "")))
            if pattern is None:
                continue
            action = effective_action(entry, profile)
            if pattern[0] == 0xFFFFFFFF:
                self._table[pattern[1]] = action
            else:
                self._patterns.append((*pattern, action))
        self._rules = dict(self._table)  # rule_for's answers, filled as tags are met
        self._codes = self._method_codes()

    def _method_codes(self) -> list[tuple[str, str]]:
        names = ["basic", *self.profile.enabled_options()]
        dcm: dict[str, dict[str, tuple[str, list[int]]]] = cast(Any, concepts).get("DCM", {})
        meanings = {code: meaning for entry in dcm.values() for code, (meaning, _cids) in entry.items()}
        return [(METHOD_CODES[n], meanings[METHOD_CODES[n]]) for n in names
                if n in METHOD_CODES and METHOD_CODES[n] in meanings]

    def action_for(self, tag: int) -> str | None:
        """The effective table action of a public tag (exact entries, then repeating groups); None if not listed."""
        if tag in self._table:
            return self._table[tag]
        return next((action for mask, value, action in self._patterns if tag & mask == value), None)

    def rule_for(self, tag: int) -> str:
        """The action applied to a public tag: the table's; else K for a safe attribute; else X (removed).

        Examples
        --------
        >>> from hyperontology.pseudonymize.keys import PseudonymKey
        >>> engine = Deidentifier(PseudonymKey(bytes(32)), Profile())
        >>> engine.rule_for(0x00100010), engine.rule_for(0x00280010), engine.rule_for(0x60000022)
        ('Z', 'K', 'X')
        """
        action = self._rules.get(tag)
        if action is None:
            listed = self.action_for(tag)
            action = listed if listed is not None else ("K" if tag in self._safe else "X")
            self._rules[tag] = action
        return action

    def deidentify(self, ds: Dataset, *, source: str | None = None) -> AuditEntry:
        """De-identify ``ds`` in place (its File Meta Information is rebuilt) and account for what was done."""
        patient = self._patient_of(ds) or ""
        offset = offset_days(self._key, patient) if self.profile.retain_longitudinal_modified_dates else None
        run = _Run(offset=offset, pseudonym=self._key.pseudonym("patient", patient))
        burned_in = str(ds.get("BurnedInAnnotation", "") or "").strip().upper() == "YES"
        age = self._derived_age(ds)
        syntax = transfer_syntax(ds) if isinstance(getattr(ds, "file_meta", None), Dataset) else None
        self._walk(ds, run, run.pseudonym)
        if syntax is not None:
            ds.file_meta = file_meta_for(ds, syntax)
        if age is not None:
            ds.PatientAge = age
            run.counts["derived"] += 1
        self._mark(ds, run)
        excluded = burned_in and self.profile.burned_in == "exclude"
        return AuditEntry(source=source, output=None, excluded=excluded,
                          reason="BurnedInAnnotation is YES (policy: exclude)" if excluded else None,
                          burned_in=burned_in, actions=dict(run.counts), removed_tags=tuple(sorted(run.removed)),
                          replaced_tags=tuple(sorted(run.replaced)), uid_mappings=len(run.uids),
                          key_id=self._key.key_id)

    @staticmethod
    def _patient_of(ds: Dataset) -> str | None:
        try:
            pid, issuer = ds.get(_PATIENT_ID), ds.get(_ISSUER)
        except Exception:  # noqa: BLE001 - a malformed element must not stop de-identification
            return None
        value = normalise_patient_id(str(pid.value or "") if pid else "", str(issuer.value or "") if issuer else None)
        return None if value in ("", "|") or value.endswith("|") else value

    def _derived_age(self, ds: Dataset) -> str | None:
        if not self.profile.retain_patient_characteristics or str(ds.get("PatientAge", "") or "").strip():
            return None
        birth = str(ds.get("PatientBirthDate", "") or "")
        for keyword in ("StudyDate", "SeriesDate", "AcquisitionDate", "ContentDate"):
            reference = str(ds.get(keyword, "") or "")
            if reference:
                return derive_age(birth, reference)
        return None

    def _walk(self, ds: Dataset, run: _Run, pseudonym: str) -> None:
        own = self._patient_of(ds)
        level_pseudonym = self._key.pseudonym("patient", own) if own else pseudonym
        for tag in list(ds.keys()):
            if tag.is_private:
                self._private(ds, tag, run)
                continue
            action = self.rule_for(int(tag))
            elem = None if action == "X" else self._element(ds, tag)
            if elem is None:
                del ds[tag]
                run.note("X", tag, removed=True)
            else:
                self._apply(elem, action, run, level_pseudonym)
        self._clean_meaning(ds, run)

    @staticmethod
    def _element(ds: Dataset, tag: BaseTag) -> DataElement | None:
        try:
            return ds[tag]
        except Exception:  # noqa: BLE001 - an undecodable element is removed, never kept
            return None

    def _apply(self, elem: DataElement, action: str, run: _Run, pseudonym: str) -> None:
        tag, vr = elem.tag, elem.VR
        if vr == "SQ":
            self._sequence(elem, action, run, pseudonym)
        elif tag in (_PATIENT_ID, _PATIENT_NAME) and action != "K":
            elem.value = pseudonym
            run.note("D", tag)
        elif action == "Z":
            elem.value = empty_value_for_VR(vr)
            run.note("Z", tag)
        elif action in ("D", "U") or (action == "C" and vr not in ("DA", "DT", "TM")):
            self._replace(elem, action, run)
        elif vr in ("DA", "DT") and run.offset is not None:
            self._shift(elem, run)
        elif action == "C" and vr in ("DA", "DT"):  # cleaning a date without the modified-dates option
            self._replace(elem, "D", run)
        else:
            run.counts["K"] += 1

    def _sequence(self, elem: DataElement, action: str, run: _Run, pseudonym: str) -> None:
        """A sequence by its own action: Z no items, D one empty item, K/C/U walked item by item."""
        if action == "Z":
            elem.value = Sequence()
            run.note("Z", elem.tag)
        elif action == "D":
            elem.value = Sequence([Dataset()])
            run.note("D", elem.tag)
        else:
            for item in elem.value or []:
                if isinstance(item, Dataset):
                    self._walk(item, run, pseudonym)
            run.counts[action] += 1

    @staticmethod
    def _clean_meaning(item: Dataset, run: _Run) -> None:
        """Code Meaning: the standard's meaning of the item's code, else the code value (never the original text)."""
        if _CODE_MEANING not in item:
            return
        code = str(item.get("CodeValue", "") or "")
        meaning = standard_meaning(str(item.get("CodingSchemeDesignator", "") or ""), code) if code else None
        item[_CODE_MEANING].value = (meaning or code)[:64]
        run.note("C", Tag(_CODE_MEANING))

    def _replace(self, elem: DataElement, action: str, run: _Run) -> None:
        vr = elem.VR
        if vr == "UI":
            values = elem.value if isinstance(elem.value, list | pydicom.multival.MultiValue) else [elem.value]
            mapped = [self._key.uid("uid", str(v)) for v in values if str(v or "").strip()]
            run.uids.update(mapped)
            elem.value = mapped[0] if len(mapped) == 1 else (mapped or "")
            run.note("U", elem.tag)
        elif action == "C" and vr in _TEXT_VRS:
            elem.value = ""
            run.note("C", elem.tag)
        else:
            elem.value = _DUMMY.get(vr, b"" if vr in _BINARY_VRS else None)
            run.note(action, elem.tag)

    def _shift(self, elem: DataElement, run: _Run) -> None:
        raw = elem.value if isinstance(elem.value, list | pydicom.multival.MultiValue) else [elem.value]
        texts = [str(v or "") for v in raw]
        moved = [shift_date(text, run.offset or 0) if text.strip() else "" for text in texts]
        if any(value is None for value in moved):
            elem.value = ""
            run.note("Z", elem.tag)
            return
        elem.value = moved[0] if len(moved) == 1 else moved
        run.note("C", elem.tag)

    def _private(self, ds: Dataset, tag: BaseTag, run: _Run) -> None:
        if self.profile.retain_safe_private:
            elem = self._element(ds, tag)
            if elem is not None and tag.is_private_creator and self._safe_creator(str(elem.value or "")):
                run.counts["K"] += 1
                return
            creator = ds.get((tag.group, tag.element >> 8))
            name = " ".join(str(creator.value if creator else "").split()).upper()
            if elem is not None and (name, tag.group, tag.element & 0xFF) in SAFE_PRIVATE:
                run.counts["K"] += 1
                return
        del ds[tag]
        run.note("X", tag, removed=True)

    @staticmethod
    def _safe_creator(name: str) -> bool:
        return any(" ".join(name.split()).upper() == creator for creator, _g, _e in SAFE_PRIVATE)

    def _mark(self, ds: Dataset, run: _Run) -> None:
        ds.PatientIdentityRemoved = "YES"
        if run.offset is not None:
            ds.LongitudinalTemporalInformationModified = "MODIFIED"
        else:
            ds.LongitudinalTemporalInformationModified = "REMOVED"
        ds.DeidentificationMethod = [meaning[:64] for _code, meaning in self._codes]
        items = []
        for code, meaning in self._codes:
            item = Dataset()
            item.CodeValue, item.CodingSchemeDesignator, item.CodeMeaning = code, "DCM", meaning
            items.append(item)
        ds.DeidentificationMethodCodeSequence = Sequence(items)

    def source_id(self, src: Path | str) -> str:
        """A keyed digest of an input's path (what the audit records instead of the path, which can name people)."""
        return self._key.pseudonym("source", str(src))

    def output_name(self, ds: Dataset) -> PurePosixPath:
        """Where a de-identified dataset goes under an output folder: keyed names only (:func:`part10.output_name`)."""
        return output_name(ds, self._key)

    def deidentify_path(self, src: Path) -> tuple[Dataset, AuditEntry]:
        """Read the DICOM file ``src`` and de-identify it in memory: the dataset and its audit entry."""
        ds = read_dataset(src)
        return ds, self.deidentify(ds, source=self.source_id(src))

    def write(self, ds: Dataset, dst: Path) -> None:
        """Write a de-identified dataset as a DICOM Part 10 file (:func:`part10.write_part10`)."""
        write_part10(ds, dst)

    def deidentify_file(self, src: Path, dst: Path) -> AuditEntry:
        """De-identify the DICOM file ``src`` into ``dst`` (not written when excluded); the audit entry."""
        ds, entry = self.deidentify_path(src)
        if entry.excluded:
            return entry
        self.write(ds, dst)
        return replace(entry, output=str(dst))
