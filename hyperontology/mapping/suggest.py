"""``mapping suggest``: ranked hyperontology concepts for the values no value map covers (what Usagi does for OMOP).

The mapping runs on the data as ``mapping check`` does (nothing stored); every value a field's value map lacks is
looked up, with the field's CDM property saying which branch of the hyperontology may answer
(:mod:`hyperontology.mapping.valuesets`: a gender field only gets sex and gender concepts, a ``cdm:tnmT`` field only
TNM T categories). Evidence, best first:

1. a value map already loaded (a shipped one, or the curator's) whose targets all lie in that branch and that
   maps the same value: the earlier curation is proposed again (``M`` for sex -> the concept ``dicom-sex`` uses);
2. the value as a code or CURIE (``C34.1``, ``8070/3``, ``ICD10:C34.1``), looked up directly;
3. the term search (labels, synonyms, abbreviations, clinical shorthand; :mod:`hyperontology.ontology.search`);
   among hits of one kind of match, the terminology the shapes name for the property (ICD-O-3 for topography, TNM
   for stages) or the one the branch's other value maps use comes first.

Suggestions are written as SSSOM TSV (:func:`hyperontology.mapping.sssom.write_suggestions`) for the curator to
accept, correct or delete; :func:`hyperontology.mapping.sssom.accept` turns what is left into a value map in the
project's format (``mappings/valuemaps/``).

Examples
--------
>>> from hyperontology import load_ontology
>>> onto = load_ontology()
>>> [s.curie for s in rank("C34.1", "cdm:diagnosisCode", onto, top=1)]
['ICD10:C34.1']
>>> best = rank("iva", "cdm:stageGroup", onto, top=1)[0]
>>> best.curie, best.predicate
('TNM:IVA', 'skos:exactMatch')
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from hyperontology.mapping.engine import Mapper
from hyperontology.mapping.loader import MappingSet
from hyperontology.mapping.model import MappingSpec
from hyperontology.mapping.valuemaps import NO_TERM, ValueMap
from hyperontology.mapping.valuesets import ValueSet, value_set
from hyperontology.ontology.api import Hyperontology
from hyperontology.ontology.index import Concept
from hyperontology.ontology.search import EXPANDED_SAME_WORDS
from hyperontology.pseudonymize.keys import PseudonymKey
from hyperontology.sources.base import Record

EXACT, CLOSE = "skos:exactMatch", "skos:closeMatch"
#: search hits read from the index before the branch filter (the branch may hold few of the best hits)
SEARCH_DEPTH = 200
#: confidence of a value an existing value map of the same branch already maps
PRIOR_CONFIDENCE = 0.98


@dataclass(frozen=True)
class Suggestion:
    """One candidate concept for a local value, with its confidence (0..1) and why it was proposed."""

    concept: Concept
    confidence: float
    predicate: str
    evidence: str

    @property
    def curie(self) -> str:
        return self.concept.curie


@dataclass(frozen=True)
class Unmapped:
    """A value no value map covers, where it was seen, how often, and its ranked candidates (may be none)."""

    valuemap: str
    value: str
    count: int
    fields: tuple[str, ...]  # "cdm:gender (biological_sex)"
    suggestions: tuple[Suggestion, ...]


# ------------------------------------------------------------------------------------------ ranking
def rank(value: str, prop: str | None, ontology: Hyperontology, *, top: int = 5,
         priors: Iterable[ValueMap] = ()) -> list[Suggestion]:
    """Candidate concepts for ``value`` as a value of the CDM property ``prop``, best first (at most ``top``)."""
    values = value_set(prop, ontology) if prop else None
    found: dict[str, tuple[tuple[float, ...], Suggestion]] = {}
    prior_schemes: set[str] = set()
    earlier: list[tuple[Concept, tuple[str, str, float], str]] = []
    for vm in priors:
        row = vm.match(value)
        if row is not None and row[0] in ontology:
            concept = ontology.concept(row[0])
            earlier.append((concept, row, vm.name))
        prior_schemes |= {ontology.concept(c).scheme for c, _, _ in vm.rows.values() if c in ontology}
    preferred = set(values.preferred if values else ()) or prior_schemes
    for concept, row, name in earlier:
        liked = concept.scheme in preferred or not preferred
        _keep(found, (1.0, float(liked), 3.0, row[2]), Suggestion(
            concept, round(PRIOR_CONFIDENCE * row[2] * (1.0 if liked else 0.9), 3), row[1],
            f"value map {name} maps {value!r}"))
    for hit in ontology.search(value, limit=SEARCH_DEPTH):
        if values is not None and not values.contains(hit.concept):
            continue
        exact = hit.score >= EXPANDED_SAME_WORDS
        strength = 2.0 if hit.match == "code" else 1.0 if exact else 0.0
        liked = hit.concept.scheme in preferred
        confidence = min(hit.score / 100.0, 1.0) * (1.0 if liked or not preferred else 0.9)
        how = "code" if hit.match == "code" else f"{hit.match} match {hit.matched!r}"
        why = how + (f"; {hit.concept.scheme} preferred for {prop}" if liked and prop else "")
        _keep(found, (float(exact), float(liked), strength, hit.score),
              Suggestion(hit.concept, round(confidence, 3), EXACT if exact else CLOSE, why))
    ranked = sorted(found.values(), key=lambda item: (tuple(-k for k in item[0]), item[1].curie))
    return [s for _, s in ranked[:top]]


def _keep(found: dict[str, tuple[tuple[float, ...], Suggestion]], key: tuple[float, ...],
          suggestion: Suggestion) -> None:
    have = found.get(suggestion.curie)
    if have is None or key > have[0]:
        found[suggestion.curie] = (key, suggestion)


def priors_for(values: ValueSet | None, valuemaps: Mapping[str, ValueMap], *, skip: str) -> list[ValueMap]:
    """The loaded value maps (``skip`` aside) whose every usable target lies in the branch: earlier curations."""
    if values is None:
        return []
    found = []
    for name, vm in sorted(valuemaps.items()):
        targets = {row[0] for row in vm.rows.values() if row[0] != NO_TERM}
        concepts = [values.ontology.concept(t) for t in targets if t in values.ontology]
        if name != skip and concepts and len(concepts) == len(targets) and all(map(values.contains, concepts)):
            found.append(vm)
    return found


# ------------------------------------------------------------------------------------------ over data
def field_properties(specs: Iterable[MappingSpec]) -> dict[str, list[tuple[str, str]]]:
    """Value map name -> ``(property, column)`` of every field rule that uses it."""
    found: dict[str, list[tuple[str, str]]] = {}
    for spec in specs:
        for rule in spec.entities:
            for f in rule.fields:
                if f.valuemap:
                    column = "|".join(f.value) if isinstance(f.value, tuple) else str(f.value or f.constant)
                    found.setdefault(f.valuemap, []).append((f.property, column))
    return found


def suggest(mappings: MappingSet, records: Iterable[Record], ontology: Hyperontology, *,
            top: int = 5) -> list[Unmapped]:
    """Run the mappings on ``records`` (nothing stored) and rank candidates for every value no value map covers."""
    mapper = Mapper(mappings.specs, key=PseudonymKey(bytes(32)), valuemaps=mappings.valuemaps, ontology=ontology,
                    shift_dates=False)
    unmapped: Counter[tuple[str, str]] = mapper.apply(records).unmapped
    uses = field_properties(mappings.specs)
    out = []
    for (name, value), count in sorted(unmapped.items(), key=lambda item: (item[0][0], -item[1], item[0][1])):
        props = list(dict.fromkeys(p for p, _ in uses.get(name, [])))
        prop = props[0] if props else None
        values = value_set(prop, ontology) if prop else None
        priors = priors_for(values, mappings.valuemaps, skip=name)
        fields = tuple(f"{p} ({c})" for p, c in uses.get(name, []))
        out.append(Unmapped(name, value, count, fields, tuple(rank(value, prop, ontology, top=top, priors=priors))))
    return out
