"""Cohort criteria as a tree, read from every form the infrastructure's federated search sends, and counted
per dataset in ONE SPARQL query.

The forms (see ``docs/federation.md``):

- the explorer's query tree (Samply Focus ``ENDPOINT_TYPE=omop``): ``{"operand": "AND"|"OR", "children": [...]}``
  with conditions ``{"key", "type", "value"}`` (:func:`from_ast`);
- the eucaim-api query string (``ENDPOINT_TYPE=eucaim-api``): ``gender=male&diagnosis=SNOMEDCT363358000&
  modality=MR&bodyPart=lung&manufacturer=Philips``, words and codes ANDed (:func:`from_params`);
- Beacon v2 filters (``ENDPOINT_TYPE=eucaim-beacon``): EUCAIM codes, ANDed (:func:`from_beacon`);
- the project's own structured criteria (``hyperontology.search.cohort.CohortCriteria``; :func:`from_criteria`).

Every key and value is a concept of the hyperontology, and is expanded with
:meth:`hyperontology.Hyperontology.expand`: a diagnosis matches data coded in any terminology, narrower concepts
included. A key or value the hyperontology does not know becomes a condition that matches nothing and is
listed in :attr:`Resolver.unknown` (the explorer's paths answer anyway, naming it; the project's API refuses it).

What each key matches (the CDM of ``ontologies/cdm.ttl``):

- Gender (``SNOMEDCT263495000``): the patient's ``cdm:gender``, a value standing for its group of
  :data:`GENDER_GROUPS` (SNOMED CT's male finding and EUCAIM's male answer are one value, and so on); Age at
  diagnosis (``SNOMEDCT423493009``): a
  diagnosis' ``cdm:ageAtDiagnosis``, else the years between ``cdm:birthDate`` and its ``cdm:assertedDate``;
  Diagnosis (``SNOMEDCT439401001``): ``cdm:diagnosisCode``; Year of diagnosis (``SNOMEDCT432213005``): the year of
  ``cdm:assertedDate`` (the stored date: shifted when the ingest shifts dates).
- Modality (``RID10311``), Body part (``SNOMEDCT123037004``), Manufacturer (``C25392``): ``cdm:modality``,
  ``cdm:bodySite``, ``cdm:manufacturer`` of an imaging series (series-level: ANDed imaging conditions hold for one
  series; only matching series and their studies are counted).
- Any other key (the Hyper-Ontology criteria: tumour markers, grades, TNM categories, BI-RADS, PI-RADS): a record of
  the patient (directly, or through its diagnosis or tumour) whose ``cdm:code`` is the key and whose value
  (``cdm:valueConcept``, ``cdm:grade`` or ``cdm:stage``) is the value; a number range on ``cdm:value``. A value
  that names its question matches without the code: a kind of the key (``BI-RADS 4`` of ``BI-RADS assessment``),
  or any value outside EUCAIM's Common Module (``Gleason grade score 6``, ``PI-RADS 3``); the Common Module's
  qualifier values shared by many questions (``Positive``, ``0``, ``1+``, ``cT1``) need the record's code. TNM
  values also match in ``cdm:tnmT``/``cdm:tnmN``/``cdm:tnmM``/``cdm:stageGroup`` (the property names the
  category).

``NOT_EQUALS`` matches a record holding a value outside the expansion (as SQL's ``<>`` over joined rows does).

Examples
--------
>>> from hyperontology import load_ontology
>>> resolver = Resolver(load_ontology())
>>> tree = from_ast({"operand": "OR", "children": [{"key": "SNOMEDCT439401001", "type": "EQUALS",
...                                                   "value": "SNOMEDCT363358000"}]}, resolver)
>>> tree.children[0].field, "http://snomed.info/id/363358000" in tree.children[0].iris
('diagnosis', True)
>>> resolver.unknown
[]
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from hyperontology.errors import HyperontologyError, UnknownConceptError
from hyperontology.mapping.valuemaps import ValueMap, read_valuemaps
from hyperontology.ontology import Hyperontology
from hyperontology.search.cohort import CDM, SERIES_PATIENT, YEARS_BETWEEN
from hyperontology.store.oxigraph import GRAPHS

EUCAIM = "https://cancerimage.eu/ontology/EUCAIM#"

#: explorer category keys (as concepts) -> the field they ask about
CATEGORY_KEYS = {
    "SCT:263495000": "gender",
    "SCT:423493009": "age",
    "SCT:439401001": "diagnosis",
    "SCT:432213005": "year",
    "RADLEX:RID10311": "modality",
    "SCT:123037004": "body_part",
    "NCIT:C25392": "manufacturer",
}
IMAGING = frozenset({"modality", "body_part", "manufacturer"})
NUMERIC = frozenset({"age", "year"})
#: the eucaim-api query parameters -> fields, and the value maps that read their words (first match wins)
PARAMS = {"gender": "gender", "diagnosis": "diagnosis", "modality": "modality", "bodyPart": "body_part",
          "manufacturer": "manufacturer"}
#: the words of the explorer (its catalogue's values, and what Focus's eucaim-api sends) as the catalogue's codes:
#: a word means exactly what the catalogue value means; other words go through the value maps below
CATALOGUE_WORDS = {
    "gender": (("male", "SCT:248153007"), ("female", "SCT:248152002"), ("other", "SCT:74964007"),
               ("unknown", "SCT:261665006")),
    "modality": (("MR", "RADLEX:RID10312"), ("PT", "RADLEX:RID10337"), ("CT", "RADLEX:RID10321")),
    "body_part": (("breast", "SCT:76752008"), ("colon", "SCT:71854001"), ("lung", "SCT:39607008"),
                  ("pelvis", "SCT:12921003"), ("prostate", "SCT:41216001")),
}
WORD_MAPS = {"gender": ("fhir-gender", "dicom-sex"), "modality": ("dicom-modality",),
             "body_part": ("dicom-bodypart",), "manufacturer": ("dicom-manufacturer",), "diagnosis": ()}
#: the sex codes Focus's Beacon mode sends (Hyper-Ontology v2.0: Male, Female, Unspecified, Unknown)
BEACON_SEX = frozenset(f"{EUCAIM}{code}" for code in ("COM1001366", "COM1001370", "COM1001288", "COM1002760"))
#: roots whose descendants are diagnoses (neoplastic disease, malignant neoplastic disease, NCIt neoplasm, ICD-10
#: chapter II, EUCAIM's neoplasm branch), as the FHIR mapping selects them
DIAGNOSIS_ROOTS = ("SCT:55342001", "SCT:108369006", "NCIT:C3262", "ICD10:II", "EUCAIM:CLIN1010238")
#: for the gender criterion, SNOMED CT's sex findings (what DICOM and FHIR data are mapped to, and the catalogue's
#: values) and EUCAIM's sex answers (what the infrastructure's relational CDM holds, and Focus's Beacon filters) are
#: one value each; the hyperontology keeps them apart (a finding is not an answer), the criterion must not
GENDER_GROUPS = (("SCT:248153007", "EUCAIM:COM1001366"), ("SCT:248152002", "EUCAIM:COM1001370"),
                 ("SCT:261665006", "EUCAIM:COM1002760"))
CONDITION_TYPES = ("EQUALS", "NOT_EQUALS", "IN", "BETWEEN", "LOWER_THAN", "GREATER_THAN", "CONTAINS")
MAX_NODES = 2_000
MAX_DEPTH = 32

_OBSERVATION_PATIENT = ("{ ?obs cdm:patient ?patient } UNION { ?obs cdm:diagnosis ?odx . ?odx cdm:patient ?patient }"
                        " UNION { ?obs cdm:tumor ?otu . ?otu cdm:patient ?patient }"
                        " UNION { ?obs cdm:tumor ?otu . ?otu cdm:diagnosis ?odx . ?odx cdm:patient ?patient }")
_VALUE_PROPERTIES = "cdm:valueConcept|cdm:grade|cdm:stage"
_TNM_PROPERTIES = "cdm:tnmT|cdm:tnmN|cdm:tnmM|cdm:stageGroup"


class CriteriaError(HyperontologyError, ValueError):
    """The criteria are malformed (not a tree of conditions); the message says where."""


@dataclass(frozen=True)
class Range:
    """Number bounds (either may be None); ``*_open`` excludes the bound itself."""

    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False

    def tests(self, var: str) -> list[str]:
        out = []
        if self.low is not None:
            out.append(f"{var} {'>' if self.low_open else '>='} {self.low!r}")
        if self.high is not None:
            out.append(f"{var} {'<' if self.high_open else '<='} {self.high!r}")
        return out


@dataclass(frozen=True)
class Leaf:
    """One condition: a field, the IRIs its value expands to (or a number range), negated or not. An observation
    also holds the IRIs its key expands to, and whether its value alone identifies it."""

    field: str
    iris: tuple[str, ...] = ()
    range: Range | None = None
    negate: bool = False
    key_iris: tuple[str, ...] = ()
    value_alone: bool = False

    @property
    def imaging(self) -> bool:
        return self.field in IMAGING


@dataclass(frozen=True)
class Group:
    """AND or OR of children. ``Group("OR", ())`` matches nothing, ``Group("AND", ())`` everyone."""

    op: Literal["AND", "OR"]
    children: tuple[Node, ...] = ()


Node = Leaf | Group
NOTHING = Group("OR", ())
EVERYONE = Group("AND", ())


@dataclass
class Resolver:
    """Turns explorer keys, values and words into expanded conditions; remembers what it could not resolve."""

    ontology: Hyperontology
    valuemaps: Mapping[str, ValueMap] | None = None
    unknown: list[str] = field(default_factory=list)
    _expansions: dict[str, frozenset[str]] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        if self.valuemaps is None:
            from hyperontology.mapping.loader import default_mappings_dir

            self.valuemaps = read_valuemaps(default_mappings_dir() / "valuemaps")

    # ------------------------------------------------------------------ concepts
    def _iri(self, ref: str) -> str | None:
        try:
            return self.ontology.concept(ref).iri
        except (UnknownConceptError, ValueError, TypeError):
            return None

    def expansion(self, ref: str) -> tuple[str, ...] | None:
        try:
            return tuple(sorted({c.iri for c in self.ontology.expand(ref)}))
        except (UnknownConceptError, ValueError, TypeError):
            return None

    def _miss(self, what: str) -> Group:
        if what not in self.unknown:
            self.unknown.append(what)
        return NOTHING

    def widen(self, name: str, iris: tuple[str, ...]) -> tuple[str, ...]:
        """The IRIs a value of field ``name`` stands for: for gender, its whole group of :data:`GENDER_GROUPS`."""
        if name != "gender":
            return iris
        found = set(iris)
        for group in GENDER_GROUPS:
            members = {iri for ref in group for iri in _expanded(self, ref)}
            if members & found:
                found |= members
        return tuple(sorted(found))

    def key_field(self, key: str) -> tuple[str, str] | None:
        """``(field, key IRI)`` of an explorer key; None when the hyperontology does not know it."""
        iri = self._iri(key)
        if iri is None:
            return None
        for ref, name in CATEGORY_KEYS.items():
            if self._iri(ref) == iri:
                return name, iri
        return "observation", iri

    def word(self, name: str, text: str) -> tuple[str, ...] | None:
        """The expansion of a word of the eucaim-api (``male``, ``MR``, ``lung``, ``Philips``) or of a code."""
        assert self.valuemaps is not None
        for word, ref in CATALOGUE_WORDS.get(name, ()):
            if word.lower() == text.strip().lower():
                return self.expansion(ref)
        for map_name in WORD_MAPS.get(name, ()):
            vm = self.valuemaps.get(map_name)
            found = vm.lookup(text) if vm is not None else None
            if found is not None:
                return self.expansion(found)
        coded = self.expansion(text)
        if coded is not None:
            return coded
        hits = [h for h in self.ontology.search(text, limit=5) if h.concept.label.strip().lower() == text.lower()]
        return self.expansion(hits[0].concept.iri) if hits else None

    def category(self, iri: str) -> str | None:
        """The field a bare value concept (a Beacon filter) belongs to; None when it is none of them."""
        if iri in BEACON_SEX:
            return "gender"
        for ref, name in (("RADLEX:RID10311", "modality"), ("NCIT:C25392", "manufacturer"),
                          ("SCT:263495000", "gender"), ("SCT:123037004", "body_part")):
            if iri in _expanded(self, ref):
                return name
        if any(iri in _expanded(self, root) for root in DIAGNOSIS_ROOTS):
            return "diagnosis"
        return None

    # ------------------------------------------------------------------ conditions
    def condition(self, key: str, kind: str, value: Any) -> Node:
        """One explorer condition as a node (NOTHING, remembered as unknown, when it cannot be resolved)."""
        kind = str(kind).upper()
        if kind not in CONDITION_TYPES:
            return self._miss(f"condition type {kind!r} of key {key!r}")
        found = self.key_field(str(key))
        if found is None:
            return self._miss(f"key {key!r}")
        name, key_iri = found
        if kind == "CONTAINS":
            return self._miss(f"condition type CONTAINS of key {key!r} (coded keys take EQUALS or IN)")
        bounds = _range(kind, value)
        if bounds is not None:
            if name in NUMERIC or name == "observation":
                return Leaf(name, range=bounds, key_iris=self._key_iris(key_iri))
            return self._miss(f"a number range for key {key!r}, which takes codes")
        values = value if isinstance(value, list) else [value]
        if not values or not all(isinstance(v, str) and v for v in values):
            return self._miss(f"value {_shown(value)} of key {key!r}")
        if name in NUMERIC:
            return self._miss(f"value {_shown(value)} of key {key!r}, which takes numbers")
        return self._coded_condition(name, key, key_iri, values, negate=kind == "NOT_EQUALS")

    def _coded_condition(self, name: str, key: str, key_iri: str, values: list[str], *, negate: bool) -> Node:
        leaves: list[Node] = []
        for text in values:
            iris = self.expansion(text)
            if iris is None:
                leaves.append(self._miss(f"value {text!r} of key {key!r}"))
                continue
            leaves.append(self._coded(name, key_iri, text, iris, negate=negate))
        if negate:  # a value outside every one of them
            merged = tuple(sorted({i for leaf in leaves if isinstance(leaf, Leaf) for i in leaf.iris}))
            first = next((leaf for leaf in leaves if isinstance(leaf, Leaf)), None)
            return NOTHING if first is None else Leaf(first.field, merged, negate=True, key_iris=first.key_iris,
                                                      value_alone=first.value_alone)
        return leaves[0] if len(leaves) == 1 else Group("OR", tuple(leaves))

    def _key_iris(self, key_iri: str) -> tuple[str, ...]:
        return self.expansion(key_iri) or (key_iri,)

    def _coded(self, name: str, key_iri: str, text: str, iris: tuple[str, ...], *, negate: bool) -> Leaf:
        if name != "observation":
            return Leaf(name, self.widen(name, iris), negate=negate)
        key_iris = self._key_iris(key_iri)
        value_iri = self._iri(text)
        generic = any(iri.startswith(f"{EUCAIM}COM") for iri in iris)
        return Leaf(name, iris, negate=negate, key_iris=key_iris, value_alone=value_iri in key_iris or not generic)


def _expanded(resolver: Resolver, ref: str) -> frozenset[str]:
    if ref not in resolver._expansions:
        resolver._expansions[ref] = frozenset(resolver.expansion(ref) or ())
    return resolver._expansions[ref]


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def _range(kind: str, value: Any) -> Range | None:
    """The number range of a condition; None when the value is not numeric."""
    if isinstance(value, Mapping) and set(value) <= {"min", "max"} and value:
        low, high = _number(value.get("min")), _number(value.get("max"))
        if (value.get("min") is not None and low is None) or (value.get("max") is not None and high is None):
            return None
        return Range(low, high)
    if isinstance(value, str):
        return None
    number = _number(value)
    if number is None:
        return None
    if kind == "LOWER_THAN":
        return Range(high=number, high_open=True)
    if kind == "GREATER_THAN":
        return Range(low=number, low_open=True)
    return Range(number, number)


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


# ---------------------------------------------------------------------------------------------- readers
def from_ast(ast: Any, resolver: Resolver) -> Node:
    """The tree of an explorer query (``{"ast": {...}}`` or the tree itself). CriteriaError when malformed."""
    if isinstance(ast, Mapping) and "ast" in ast and "operand" not in ast and "key" not in ast:
        ast = ast["ast"]
    return _node(ast, resolver, 0, [0], "ast")


def check_tree(ast: Any) -> None:
    """Check the shape of an explorer tree without resolving it (a federator, before asking its nodes):
    groups of ``operand`` and ``children``, conditions of a ``key``, a known ``type`` and a ``value``.
    CriteriaError naming where it is malformed."""
    _node(ast, None, 0, [0], "ast")


def _node(item: Any, resolver: Resolver | None, depth: int, count: list[int], where: str) -> Node:
    """One node of the tree; with no resolver the conditions are checked, not resolved (NOTHING stands in)."""
    count[0] += 1
    if count[0] > MAX_NODES or depth > MAX_DEPTH:
        raise CriteriaError(f"the query tree is larger than {MAX_NODES} nodes or deeper than {MAX_DEPTH}")
    if not isinstance(item, Mapping):
        raise CriteriaError(f"{where}: a node must be an object, not {type(item).__name__}")
    if "operand" in item:
        op = str(item["operand"]).upper()
        if op not in ("AND", "OR"):
            raise CriteriaError(f"{where}.operand: {_shown(item['operand'])} is neither AND nor OR")
        children = item.get("children", [])
        if not isinstance(children, list):
            raise CriteriaError(f"{where}.children: must be a list")
        return Group("AND" if op == "AND" else "OR",
                     tuple(_node(c, resolver, depth + 1, count, f"{where}.children[{i}]")
                           for i, c in enumerate(children)))
    if "key" in item:
        return _condition(item, resolver, where)
    raise CriteriaError(f"{where}: a node has either operand and children, or key, type and value")


def _condition(item: Mapping[str, Any], resolver: Resolver | None, where: str) -> Node:
    if not isinstance(item["key"], str) or not item["key"]:
        raise CriteriaError(f"{where}.key: must be a string")
    if resolver is not None:
        return resolver.condition(item["key"], item.get("type", "EQUALS"), item.get("value"))
    if str(item.get("type", "EQUALS")).upper() not in CONDITION_TYPES:
        raise CriteriaError(f"{where}.type: must be one of {', '.join(CONDITION_TYPES)}")
    if "value" not in item:
        raise CriteriaError(f"{where}.value: is required")
    return NOTHING


def from_params(params: Sequence[tuple[str, str]], resolver: Resolver) -> Node:
    """The eucaim-api query string: each known parameter is a condition (its values ORed when repeated), ANDed.
    An unknown parameter or value matches nothing."""
    by_name: dict[str, list[str]] = {}
    for name, value in params:
        by_name.setdefault(name, []).append(value)
    parts: list[Node] = []
    for name, values in by_name.items():
        field_name = PARAMS.get(name)
        if field_name is None:
            parts.append(resolver._miss(f"parameter {name!r}"))
            continue
        leaves: list[Node] = []
        for text in (v.strip() for value in values for v in value.split(",")):
            if not text:
                continue
            iris = resolver.word(field_name, text)
            leaves.append(Leaf(field_name, resolver.widen(field_name, iris)) if iris
                          else resolver._miss(f"value {text!r} of parameter {name!r}"))
        if leaves:
            parts.append(leaves[0] if len(leaves) == 1 else Group("OR", tuple(leaves)))
    return Group("AND", tuple(parts))


def from_beacon(body: Any, resolver: Resolver) -> Node:
    """Beacon v2 request filters (EUCAIM codes, ANDed). CriteriaError when the request is malformed."""
    if not isinstance(body, Mapping):
        raise CriteriaError("the Beacon request must be a JSON object")
    query = body.get("query", {})
    if not isinstance(query, Mapping):
        raise CriteriaError("query: must be an object")
    filters = query.get("filters", [])
    if not isinstance(filters, list):
        raise CriteriaError("query.filters: must be a list")
    parts: list[Node] = []
    for index, item in enumerate(filters):
        ident = item.get("id") if isinstance(item, Mapping) else item
        if not isinstance(ident, str) or not ident:
            raise CriteriaError(f"query.filters[{index}]: a filter has an id")
        code = ident.split(":", 1)[1] if ident.upper().startswith("EUCAIM:") else ident
        iri = resolver._iri(code) or resolver._iri(ident)
        name = resolver.category(iri) if iri else None
        if iri is None or name is None:
            parts.append(resolver._miss(f"filter {ident!r}"))
            continue
        parts.append(Leaf(name, resolver.widen(name, resolver.expansion(iri) or (iri,))))
    return Group("AND", tuple(parts))


def from_criteria(criteria: Any, resolver: Resolver) -> Node:
    """The project's own :class:`~hyperontology.search.cohort.CohortCriteria` (OR within a list, AND across)."""
    parts: list[Node] = []
    for name, field_name in (("diagnosis", "diagnosis"), ("modality", "modality"), ("body_site", "body_part"),
                             ("sex", "gender")):
        refs = getattr(criteria, name)
        leaves: list[Node] = []
        for ref in refs:
            iris = resolver.expansion(ref)
            leaves.append(Leaf(field_name, resolver.widen(field_name, iris)) if iris
                          else resolver._miss(f"{name} {ref!r}"))
        if leaves:
            parts.append(leaves[0] if len(leaves) == 1 else Group("OR", tuple(leaves)))
    if criteria.stage:
        leaves = []
        for ref in criteria.stage:
            iris = resolver.expansion(ref)
            leaves.append(Leaf("observation", iris, value_alone=True) if iris
                          else resolver._miss(f"stage {ref!r}"))
        parts.append(leaves[0] if len(leaves) == 1 else Group("OR", tuple(leaves)))
    if criteria.age_min is not None or criteria.age_max is not None:
        parts.append(Leaf("age", range=Range(criteria.age_min, criteria.age_max)))
    return Group("AND", tuple(parts))


# ---------------------------------------------------------------------------------------------- SPARQL
def _values(var: str, iris: Iterable[str]) -> str:
    return f"VALUES ?{var} {{ " + " ".join(f"<{iri}>" for iri in iris) + " }"


def _member(var: str, leaf: Leaf) -> str:
    """``?var`` among the leaf's IRIs (a VALUES block), or outside them when negated."""
    if leaf.negate:
        return f"FILTER(?{var} NOT IN (" + ", ".join(f"<{iri}>" for iri in leaf.iris) + "))"
    return _values(var, leaf.iris)


def _patients(body: str) -> str:
    return f"{{ SELECT DISTINCT ?patient WHERE {{\n      {body}\n    }} }}"


def _age(leaf: Leaf) -> str:
    assert leaf.range is not None
    return ("?dx a cdm:Diagnosis ; cdm:patient ?patient .\n"
            "      OPTIONAL { ?dx cdm:ageAtDiagnosis ?ageAt }\n"
            "      OPTIONAL { ?patient cdm:birthDate ?bd }\n      OPTIONAL { ?dx cdm:assertedDate ?ad }\n"
            f"      BIND(COALESCE(xsd:decimal(?ageAt), {YEARS_BETWEEN}) AS ?age)\n"
            f"      FILTER({' && '.join(leaf.range.tests('?age')) or 'BOUND(?age)'})")


def _observation(leaf: Leaf) -> str:
    if leaf.range is not None:
        tests = " && ".join(leaf.range.tests("?n")) or "BOUND(?n)"
        return (f"{_values('k', leaf.key_iris)} ?obs cdm:code ?k ; cdm:value ?n . FILTER({tests})\n"
                f"      {_OBSERVATION_PATIENT}")
    coded = f"{_values('k', leaf.key_iris)} ?obs cdm:code ?k ; {_VALUE_PROPERTIES} ?v . {_member('v', leaf)}"
    branches = [coded, f"?obs {_TNM_PROPERTIES} ?v . {_member('v', leaf)}"]
    if leaf.value_alone:
        branches.append(f"?obs {_VALUE_PROPERTIES} ?v . {_member('v', leaf)}")
    if not leaf.key_iris:  # the project's own stage criterion: a stage value in any stage property
        branches = branches[1:]
    union = " UNION ".join(f"{{ {b} }}" for b in branches)
    return f"{union}\n      {_OBSERVATION_PATIENT}"


def _leaf(leaf: Leaf) -> str:
    if leaf.field == "gender":
        return _patients(f"?patient cdm:gender ?v . {_member('v', leaf)}")
    if leaf.field == "diagnosis":
        return _patients(f"?dx cdm:diagnosisCode ?v . {_member('v', leaf)}\n      ?dx a cdm:Diagnosis ; "
                         "cdm:patient ?patient .")
    if leaf.field == "age":
        return _patients(_age(leaf))
    if leaf.field == "year":
        assert leaf.range is not None
        tests = " && ".join(leaf.range.tests("YEAR(?ad)")) or "BOUND(?ad)"
        return _patients(f"?dx a cdm:Diagnosis ; cdm:patient ?patient ; cdm:assertedDate ?ad . FILTER({tests})")
    if leaf.field == "observation":
        return _patients(_observation(leaf))
    prop = {"modality": "cdm:modality", "body_part": "cdm:bodySite", "manufacturer": "cdm:manufacturer"}[leaf.field]
    return (f"{{ SELECT DISTINCT ?patient ?series WHERE {{\n      ?series {prop} ?v . {_member('v', leaf)}\n"
            f"      {SERIES_PATIENT}\n    }} }}")


def pattern(node: Node) -> str:
    """The group graph pattern binding ``?patient`` (and ``?series`` under imaging conditions) of a tree."""
    if isinstance(node, Leaf):
        return _leaf(node)
    if not node.children:
        return "{ }" if node.op == "AND" else "{ FILTER(false) }"
    parts = [pattern(child) for child in node.children]
    if len(parts) == 1:
        return parts[0]
    if node.op == "AND":
        return "{\n    " + "\n    ".join(parts) + "\n    }"
    return "{\n    " + "\n    UNION ".join(parts) + "\n    }"


def has_imaging(node: Node) -> bool:
    if isinstance(node, Leaf):
        return node.imaging
    return any(has_imaging(child) for child in node.children)


def simplify(node: Node) -> Node:
    """The same tree without nesting that changes nothing (one-child groups, AND in AND, nothing in OR)."""
    if isinstance(node, Leaf):
        return node
    children: list[Node] = []
    for child in (simplify(c) for c in node.children):
        if isinstance(child, Group) and child.op == node.op:
            children.extend(child.children)
        elif node.op == "OR" and child == NOTHING:
            continue
        elif node.op == "AND" and child == EVERYONE:
            continue
        else:
            children.append(child)
    if node.op == "AND" and any(c == NOTHING for c in children):
        return NOTHING
    if node.op == "OR" and any(c == EVERYONE for c in children):
        return EVERYONE
    if len(children) == 1:
        return children[0]
    return Group(node.op, tuple(children))


def always_series(node: Node) -> bool:
    """Whether every way the tree can match binds ``?series`` (each OR branch holds an imaging condition)."""
    if isinstance(node, Leaf):
        return node.imaging
    if node.op == "AND":
        return any(always_series(child) for child in node.children)
    return bool(node.children) and all(always_series(child) for child in node.children)


def _studies(tree: Node) -> str:
    """The pattern binding ``?study``: the matching series' studies, or every study of a patient matched
    without an imaging condition (its own, or its series')."""
    if always_series(tree):  # a series has exactly one study (the CDM shapes)
        return "    OPTIONAL { ?series cdm:study ?study }"
    if not has_imaging(tree):
        return ("    OPTIONAL { { ?study cdm:patient ?patient ; a cdm:ImagingStudy }\n"
                "      UNION { ?anySeries cdm:patient ?patient ; a cdm:ImagingSeries ; cdm:study ?study } }")
    return ("    OPTIONAL {\n"  # some branches bind ?series, others not: every series of the patient, or that one
            f"      {{ {SERIES_PATIENT} }}\n"
            "      OPTIONAL { ?series cdm:study ?study }\n"
            "    }")


def collections_sparql(node: Node) -> str:
    """ONE SPARQL SELECT: per dataset (``?dataset``, unbound for patients without one) the distinct patients and
    studies meeting the tree."""
    tree = simplify(node)
    body = "" if tree == EVERYONE else "    " + pattern(tree) + "\n"
    return (f"PREFIX cdm: <{CDM}>\n"
            "PREFIX xsd: <http://www.w3.org/2001/XMLSchema#>\n"
            "SELECT ?dataset (COUNT(DISTINCT ?patient) AS ?patients) (COUNT(DISTINCT ?study) AS ?studies)\n"
            "WHERE {\n"
            f"  GRAPH <{GRAPHS['data'].value}> {{\n"
            "    ?patient a cdm:Patient .\n"
            + body + _studies(tree) + "\n    OPTIONAL { ?patient cdm:dataset ?dataset }\n  }\n}\nGROUP BY ?dataset\n")


__all__ = ["CATEGORY_KEYS", "EVERYONE", "NOTHING", "CriteriaError", "Group", "Leaf", "Node", "Range", "Resolver",
           "always_series", "check_tree", "collections_sparql", "from_ast", "from_beacon", "from_criteria",
           "from_params", "has_imaging", "pattern", "simplify"]
