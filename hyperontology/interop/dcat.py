"""Dataset descriptions for the EUCAIM catalogue: a ``dcat:Dataset`` and its ``dcat:Distribution`` as the EUCAIM
DCAT Application Profile v2.0 describes them (EUCAIM/eucaim_dcat_ap ``releases/v2.0/``; DCAT-AP 3, HealthDCAT-AP
release 7).

What the store knows is computed with SPARQL over the data graph (:func:`read_facts`): the numbers of individuals
and of imaging studies (``healthdcatap:numberOfUniqueIndividuals``, ``healthdcatap:numberOfRecords``), the image
modalities, body parts, manufacturers, birth sexes and cancer condition as EUCAIM codes (``eucaim:has...``), the
typical ages and the image acquisition period. Counts pass through the node's
:class:`~hyperontology.federation.disclosure.Disclosure`; with k > 1 a value held by fewer than k individuals is left
out, ages are widened to multiples of 5 and dates to years. A stored concept becomes the EUCAIM code of the
profile's branch that it is, is exactly equivalent to, or (failing that) the nearest is-a ancestor of it is; a value
with none is left out and listed in :attr:`Description.omitted`, never invented. The rest comes from the data
holder's metadata YAML (:data:`TEMPLATE`, printed by ``hyperontology catalog template``). Every description is
validated against the profile's shapes (``eucaim-dcat-shapes.ttl``) before it is returned: a missing mandatory
property raises :class:`DescriptionError` naming it.

Examples
--------
>>> sorted(BRANCHES)[:2]
['hasBirthSex', 'hasCondition']
>>> year_or_date("2019-05-04", exact=False)
('2019', 'gYear')
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from rdflib import BNode, Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCTERMS, FOAF, RDF, XSD

from hyperontology.errors import HyperontologyError
from hyperontology.federation.criteria import EUCAIM, GENDER_GROUPS
from hyperontology.federation.disclosure import Disclosure
from hyperontology.ontology import Hyperontology
from hyperontology.prefixes import curie_to_iri
from hyperontology.search.cohort import CDM, YEARS_BETWEEN
from hyperontology.store.oxigraph import GRAPHS

DCAT = Namespace("http://www.w3.org/ns/dcat#")  # open: rdflib's own lacks DCAT 3 terms (dcat:version)
HEALTH = Namespace("http://healthdataportal.eu/ns/health#")
EUC = Namespace(EUCAIM)
DCATAP = Namespace("http://data.europa.eu/r5r/")
CV = Namespace("http://data.europa.eu/m8g/")
VCARD = Namespace("http://www.w3.org/2006/vcard/ns#")
HEAL = URIRef("http://publications.europa.eu/resource/authority/data-theme/HEAL")
ACCESS_RIGHTS = "http://publications.europa.eu/resource/authority/access-right/"
#: eucaim property -> (the CDM property holding the value, the root of the profile's EUCAIM branch)
BRANCHES = {
    "hasImageModality": ("modality", "EUCAIM:IMG1000009"),
    "hasImageBodyPart": ("bodySite", "EUCAIM:BP1000024"),
    "hasEquipmentManufacturer": ("manufacturer", "EUCAIM:IMG1000010"),
    "hasCondition": ("diagnosisCode", "EUCAIM:CLIN1007977"),
    "hasBirthSex": ("gender", "EUCAIM:COM1001396"),
}
_SERIES = "{ ?s cdm:patient ?p } UNION { ?st cdm:patient ?p . ?s cdm:study ?st } ?s a cdm:ImagingSeries ; "
_VALUES = {"gender": "?p cdm:gender ?v .",
           "diagnosisCode": "?dx a cdm:Diagnosis ; cdm:patient ?p ; cdm:diagnosisCode ?v .",
           **{prop: _SERIES + f"cdm:{prop} ?v ." for prop in ("modality", "bodySite", "manufacturer")}}
SHAPES = "eucaim-dcat-shapes.ttl"
TEMPLATE = "dcat-template.yaml"
METADATA_KEYS = frozenset({
    "title", "description", "version", "interoperability_tier", "dataset_type", "collection_method", "keywords",
    "health_category", "health_theme", "access_rights", "applicable_legislation", "provenance", "structured_data",
    "publisher", "contact_point", "hdab", "condition", "landing_page", "language", "distribution", "datasets",
    "catalog"})
#: keys of the metadata's ``catalog:`` entry (the Catalogue of HealthDCAT-AP release 7, as EUCAIM v2.0 inherits it)
CATALOG_KEYS = frozenset({"title", "description", "publisher", "applicable_legislation", "homepage", "language",
                          "licence"})
Select = Callable[[str], Awaitable[list[dict[str, str]]]]


class DescriptionError(HyperontologyError):
    """A dataset description cannot be made: an unknown dataset, bad metadata, or a mandatory property missing."""


@dataclass
class Facts:
    """What the store says of one dataset (true counts; disclosure is applied when the description is built)."""

    iri: str
    identifier: str
    title: str = ""
    description: str = ""
    individuals: int = 0
    studies: int = 0
    values: dict[str, dict[str, int]] = field(default_factory=dict)  # eucaim property -> EUCAIM IRI -> individuals
    ages: tuple[float, float] | None = None
    period: tuple[str, str] | None = None
    omitted: list[tuple[str, str]] = field(default_factory=list)  # (eucaim property, stored IRI) without a code


@dataclass
class Description:
    """A validated description: the graph, the dataset's IRI, what was left out, the shapes' warnings."""

    graph: Graph
    dataset: URIRef
    omitted: list[tuple[str, str]]
    warnings: list[str]


# ---------------------------------------------------------------------------------------------- EUCAIM codes
class EucaimCodes:
    """Stored concept IRIs to the EUCAIM code of a branch (cached per IRI)."""

    def __init__(self, ontology: Hyperontology) -> None:
        self.ontology = ontology
        self._branch: dict[str, frozenset[str]] = {}
        self._cache: dict[tuple[str, str], str | None] = {}
        self._groups = {curie_to_iri(a): curie_to_iri(b) for a, b in GENDER_GROUPS}

    def branch(self, root: str) -> frozenset[str]:
        if root not in self._branch:
            self._branch[root] = frozenset(c.iri for c in self.ontology.descendants(root))
        return self._branch[root]

    def code(self, iri: str, root: str) -> str | None:
        """The EUCAIM code of ``root``'s branch that ``iri`` means (itself, an exact equivalent, the sex answer of
        a sex finding), else that its nearest is-a ancestor means; None when there is none."""
        key = (iri, root)
        if key not in self._cache:
            self._cache[key] = self._code(iri, root)
        return self._cache[key]

    def _code(self, iri: str, root: str) -> str | None:
        if iri not in self.ontology:
            return None
        found = self._own(iri, root)
        if found is None and not root.endswith("COM1001396"):  # a sex is not generalised
            found = next((c for c in (self._own(a.iri, root) for a in self.ontology.ancestors(iri)) if c), None)
        return found

    def _own(self, iri: str, root: str) -> str | None:
        members = self.branch(root)
        same = [iri, *(c.iri for c in self.ontology.equivalents(iri))]
        same += [self._groups[i] for i in same if i in self._groups]
        inside = sorted({i for i in same if i in members}, key=lambda i: (not _same_module(i, root), i))
        return inside[0] if inside else None


def _same_module(iri: str, root: str) -> bool:
    """Whether a EUCAIM code is of the root's module (``BP...`` under ``BP1000024``): preferred."""
    prefix = root.split(":")[-1].rstrip("0123456789")
    return iri.removeprefix(EUCAIM).startswith(prefix)


# ---------------------------------------------------------------------------------------------- the store
def _graph() -> str:
    return f"GRAPH <{GRAPHS['data'].value}>"


async def find_dataset(select: Select, identifier: str) -> tuple[str, str, str]:
    """(IRI, title, description) of the dataset with ``cdm:datasetIdentifier`` ``identifier``."""
    rows = await select(
        f"PREFIX cdm: <{CDM}> SELECT ?d ?title ?description WHERE {{ {_graph()} {{ ?d a cdm:Dataset ; "
        f"cdm:datasetIdentifier {json.dumps(identifier)} . OPTIONAL {{ ?d cdm:title ?title }} "
        "OPTIONAL { ?d cdm:description ?description } } } ORDER BY ?d LIMIT 1")
    if not rows:
        raise DescriptionError(f"no dataset {identifier!r} in the store (cdm:datasetIdentifier)")
    return rows[0]["d"], rows[0].get("title", ""), rows[0].get("description", "")


async def list_datasets(select: Select) -> list[tuple[str, str]]:
    """Every dataset of the store: (identifier, title), by identifier."""
    rows = await select(
        f"PREFIX cdm: <{CDM}> SELECT ?id ?title WHERE {{ {_graph()} {{ ?d a cdm:Dataset ; cdm:datasetIdentifier ?id "
        "OPTIONAL { ?d cdm:title ?title } } } ORDER BY ?id")
    return [(row["id"], row.get("title", row["id"])) for row in rows]


async def read_facts(select: Select, identifier: str, codes: EucaimCodes) -> Facts:
    """Count and collect what the store holds of one dataset (one SPARQL query per fact, over the data graph)."""
    iri, title, text = await find_dataset(select, identifier)
    facts = Facts(iri, identifier, title, text)
    head = f"PREFIX cdm: <{CDM}> PREFIX xsd: <{XSD}> "
    patients = f"?p a cdm:Patient ; cdm:dataset <{iri}> ."
    row = (await select(f"{head}SELECT (COUNT(DISTINCT ?p) AS ?n) WHERE {{ {_graph()} {{ {patients} }} }}"))[0]
    facts.individuals = int(row["n"])
    row = (await select(f"{head}SELECT (COUNT(DISTINCT ?st) AS ?n) WHERE {{ {_graph()} {{ {patients} "
                        "?st a cdm:ImagingStudy ; cdm:patient ?p } }"))[0]
    facts.studies = int(row["n"])
    for prop, (cdm_prop, root) in BRANCHES.items():
        facts.values[prop] = await _coded(select, head, patients, prop, _VALUES[cdm_prop], root, codes, facts)
    row = (await select(
        f"{head}SELECT (MIN(?age) AS ?low) (MAX(?age) AS ?high) WHERE {{ {_graph()} {{ {patients} "
        "?dx a cdm:Diagnosis ; cdm:patient ?p . OPTIONAL { ?dx cdm:ageAtDiagnosis ?a } "
        "OPTIONAL { ?dx cdm:assertedDate ?ad } OPTIONAL { ?p cdm:birthDate ?bd } } "
        f"BIND(COALESCE(xsd:decimal(?a), {YEARS_BETWEEN}) AS ?age) }}"))[0]
    if "low" in row:
        facts.ages = (float(row["low"]), float(row["high"]))
    days = []  # each way to a date its own query: one UNION of them ran for minutes on 1M triples
    for dated in ("?st a cdm:ImagingStudy ; cdm:patient ?p ; cdm:date ?dt .",
                  "?st cdm:patient ?p . ?s cdm:study ?st ; a cdm:ImagingSeries ; cdm:acquisitionDate ?dt .",
                  "?s cdm:patient ?p ; a cdm:ImagingSeries ; cdm:acquisitionDate ?dt ."):
        row = (await select(
            f"{head}SELECT (MIN(?day) AS ?start) (MAX(?day) AS ?end) WHERE {{ {_graph()} {{ {patients} {dated} }} "
            "BIND(SUBSTR(STR(?dt), 1, 10) AS ?day) }"))[0]
        if "start" in row:
            days += [row["start"], row["end"]]
    if days:
        facts.period = (min(days), max(days))
    return facts


async def _coded(select: Select, head: str, patients: str, prop: str, pattern: str, root: str, codes: EucaimCodes,
                 facts: Facts) -> dict[str, int]:
    """Individuals per EUCAIM code of one branch: the stored values, mapped here, counted again by code."""
    rows = await select(f"{head}SELECT DISTINCT ?v WHERE {{ {_graph()} {{ {patients} {pattern} }} FILTER(isIRI(?v)) }}")
    pairs = []
    for value in sorted(row["v"] for row in rows):
        code = await asyncio.to_thread(codes.code, value, root)
        if code is None:
            facts.omitted.append((prop, value))
        else:
            pairs.append((value, code))
    if not pairs:
        return {}
    table = " ".join(f"(<{v}> <{c}>)" for v, c in pairs)
    pairs_of_patients = f"{{ SELECT DISTINCT ?p ?v WHERE {{ {_graph()} {{ {patients} {pattern} }} }} }}"
    rows = await select(f"{head}SELECT ?code (COUNT(DISTINCT ?p) AS ?n) WHERE {{ {pairs_of_patients} "
                        f"VALUES (?v ?code) {{ {table} }} }} GROUP BY ?code")
    return {row["code"]: int(row["n"]) for row in rows}


def store_select(store: Any) -> Select:
    """A :data:`Select` over an open :class:`~hyperontology.store.base.Store` (rows as ``{name: value}``)."""
    async def select(sparql: str) -> list[dict[str, str]]:
        solutions = store.query(sparql)
        names = [v.value for v in solutions.variables]
        return [{n: s[n].value for n in names if s[n] is not None} for s in solutions]

    return select


# ---------------------------------------------------------------------------------------------- metadata
def template_text() -> str:
    """The metadata template the data holder fills (``hyperontology catalog template``)."""
    return resources.files("hyperontology.interop").joinpath(TEMPLATE).read_text(encoding="utf-8")


def read_metadata(path: Path | None) -> dict[str, Any]:
    """The metadata YAML (empty without a path); :class:`DescriptionError` naming the file and an unknown key."""
    if path is None:
        return {}
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise DescriptionError(f"{path}: {exc}") from exc
    if not isinstance(data, dict):
        raise DescriptionError(f"{path}: the metadata is a mapping of keys to values")
    unknown = sorted(set(data) - METADATA_KEYS)
    if unknown:
        raise DescriptionError(f"{path}: unknown key {unknown[0]!r} (known: {', '.join(sorted(METADATA_KEYS))})")
    try:
        catalog_metadata(data)
    except DescriptionError as exc:
        raise DescriptionError(f"{path}: {exc}") from exc
    return data


def for_dataset(metadata: Mapping[str, Any], identifier: str) -> dict[str, Any]:
    """The metadata of one dataset: the file's top level, overridden by its ``datasets: {ID: {...}}`` entry."""
    merged = {k: v for k, v in metadata.items() if k not in ("datasets", "catalog")}
    merged.update((metadata.get("datasets") or {}).get(identifier) or {})
    return merged


def year_or_date(day: str, *, exact: bool) -> tuple[str, str]:
    """A date as published: the day when counts are exact, else only its year."""
    return (day, "date") if exact else (day[:4], "gYear")


def _iri(value: Any, what: str) -> URIRef:
    text = str(value).strip()
    if text.startswith(("http://", "https://", "mailto:", "urn:")):
        return URIRef(text)
    try:
        return URIRef(curie_to_iri(text))
    except HyperontologyError as exc:
        raise DescriptionError(f"{what}: {text!r} is neither an IRI nor a known CURIE") from exc


def _listed(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list | tuple) else [value]


def _texts(value: Any) -> list[Literal]:
    """Literals of a text, a list of texts, or a mapping of language -> text (English when untagged)."""
    if isinstance(value, Mapping):
        return [Literal(str(text), lang=str(lang)) for lang, text in value.items() if text]
    return [Literal(str(text), lang="en") for text in _listed(value) if str(text).strip()]


def _agent(graph: Graph, entry: Any, what: str) -> BNode | None:
    """A ``foaf:Agent`` with ``foaf:name`` and a ``cv:contactPoint`` (``cv:email``, ``cv:contactPage``)."""
    if not entry:
        return None
    if not isinstance(entry, Mapping):
        raise DescriptionError(f"{what}: a mapping with name, email and/or page")
    agent, contact = BNode(), BNode()
    graph.add((agent, RDF.type, FOAF.Agent))
    for name in _texts(entry.get("name")):
        graph.add((agent, FOAF.name, name))
    if entry.get("type"):
        graph.add((agent, DCTERMS.type, _iri(entry["type"], f"{what}.type")))
    if entry.get("email") or entry.get("page"):
        graph.add((agent, CV.contactPoint, contact))
        graph.add((contact, RDF.type, CV.ContactPoint))
        for email in _listed(entry.get("email")):
            graph.add((contact, CV.email, Literal(str(email))))
        for page in _listed(entry.get("page")):
            graph.add((contact, CV.contactPage, _iri(page, f"{what}.page")))
    return agent


def _add_metadata(graph: Graph, ds: URIRef, meta: Mapping[str, Any]) -> None:
    """The data holder's part of the description."""
    add = graph.add
    for version in _texts(meta.get("version")):
        add((ds, DCAT.version, Literal(str(version))))
    for key, prop in (("interoperability_tier", EUC.interoperabilityLevel), ("dataset_type", DCTERMS.type),
                      ("collection_method", EUC.collectionMethod), ("health_category", HEALTH.healthCategory),
                      ("health_theme", HEALTH.healthTheme), ("applicable_legislation", DCATAP.applicableLegislation),
                      ("landing_page", DCAT.landingPage), ("language", DCTERMS.language)):
        for value in _listed(meta.get(key)):
            add((ds, prop, _iri(value, key)))
    for keyword in _texts(meta.get("keywords")):
        add((ds, DCAT.keyword, keyword))
    add((ds, DCAT.theme, HEAL))
    rights = meta.get("access_rights")
    if rights:
        text = str(rights).strip()
        add((ds, DCTERMS.accessRights, URIRef(ACCESS_RIGHTS + text) if "/" not in text else _iri(text, "access")))
    for statement in _texts(meta.get("provenance")):
        node = BNode()
        add((ds, DCTERMS.provenance, node))
        add((node, RDF.type, DCTERMS.ProvenanceStatement))
        add((node, DCTERMS.description, statement))
    add((ds, HEALTH.hasStructuredData, Literal(bool(meta.get("structured_data", False)))))
    _add_parties(graph, ds, meta)


def _add_parties(graph: Graph, ds: URIRef, meta: Mapping[str, Any]) -> None:
    """The publisher, the Health Data Access Body and the contact point."""
    add = graph.add
    for key, prop in (("publisher", DCTERMS.publisher), ("hdab", HEALTH.hdab)):
        agent = _agent(graph, meta.get(key), key)
        if agent is not None:
            add((ds, prop, agent))
    contact = meta.get("contact_point")
    if isinstance(contact, Mapping):
        kind = BNode()
        add((ds, DCAT.contactPoint, kind))
        add((kind, RDF.type, VCARD.Kind))
        for email in _listed(contact.get("email")):
            add((kind, VCARD.hasEmail, URIRef(email if str(email).startswith("mailto:") else f"mailto:{email}")))
        for url in _listed(contact.get("url")):
            add((kind, VCARD.hasURL, _iri(url, "contact_point.url")))


def _add_distribution(graph: Graph, ds: URIRef, dist: URIRef, meta: Mapping[str, Any]) -> None:
    entry = meta.get("distribution") or {}
    graph.add((ds, DCAT.distribution, dist))
    graph.add((dist, RDF.type, DCAT.Distribution))
    for key, prop in (("title", DCTERMS.title), ("description", DCTERMS.description)):
        for text in _texts(entry.get(key)):
            graph.add((dist, prop, text))
    for key, prop in (("access_url", DCAT.accessURL), ("format", DCTERMS.format), ("licence", DCTERMS.license),
                      ("media_type", DCAT.mediaType)):
        for value in _listed(entry.get(key)):
            graph.add((dist, prop, _iri(value, f"distribution.{key}")))
    for value in _listed(meta.get("applicable_legislation")):
        graph.add((dist, DCATAP.applicableLegislation, _iri(value, "applicable_legislation")))
    for value in _listed(entry.get("rights")):
        if str(value).startswith(("http://", "https://")):
            graph.add((dist, DCTERMS.rights, URIRef(str(value))))
        else:
            node = BNode()
            graph.add((dist, DCTERMS.rights, node))
            graph.add((node, RDF.type, DCTERMS.RightsStatement))
            graph.add((node, DCTERMS.description, Literal(str(value), lang="en")))


def _add_facts(graph: Graph, ds: URIRef, facts: Facts, meta: Mapping[str, Any], disclosure: Disclosure) -> None:
    """The computed part: counts through the disclosure policy, EUCAIM codes held by at least k individuals."""
    add, k = graph.add, disclosure.min_count
    count = XSD.nonNegativeInteger
    add((ds, HEALTH.numberOfUniqueIndividuals, Literal(disclosure.number(facts.individuals), datatype=count)))
    add((ds, HEALTH.numberOfRecords, Literal(disclosure.number(facts.studies), datatype=count)))
    for prop, held in facts.values.items():
        shown = sorted((code for code, n in held.items() if n >= k), key=lambda c: (-held[c], c))
        if prop == "hasCondition":  # 1..1: the data holder's choice, else the condition most individuals have
            shown = [str(_iri(meta["condition"], "condition"))] if meta.get("condition") else shown[:1]
        for code in sorted(shown):
            add((ds, EUC[prop], URIRef(code)))
    if facts.ages is not None and facts.individuals >= k:
        low, high = facts.ages
        step = 1 if disclosure.exact else 5
        add((ds, HEALTH.minTypicalAge, Literal(max(0, int(low // step * step)), datatype=count)))
        add((ds, HEALTH.maxTypicalAge, Literal(int(-(-high // step) * step), datatype=count)))
    if facts.period is not None and facts.individuals >= k:
        period = BNode()
        add((ds, DCTERMS.temporal, period))
        add((period, RDF.type, DCTERMS.PeriodOfTime))
        for prop, day in ((DCAT.startDate, facts.period[0]), (DCAT.endDate, facts.period[1])):
            text, kind = year_or_date(day, exact=disclosure.exact)
            add((period, prop, Literal(text, datatype=XSD[kind])))


def build_description(facts: Facts, metadata: Mapping[str, Any], disclosure: Disclosure, *,
                      dataset_iri: str | None = None, distribution_iri: str | None = None) -> Description:
    """The description of one dataset (not yet validated): metadata of the dataset merged with the facts."""
    meta = for_dataset(metadata, facts.identifier)
    graph = new_graph()
    ds = URIRef(dataset_iri or facts.iri)
    graph.add((ds, RDF.type, DCAT.Dataset))
    graph.add((ds, DCTERMS.identifier, Literal(str(ds))))
    for key, fallback, prop in (("title", facts.title, DCTERMS.title),
                                ("description", facts.description, DCTERMS.description)):
        for text in _texts(meta.get(key) or fallback):
            graph.add((ds, prop, text))
    _add_metadata(graph, ds, meta)
    _add_distribution(graph, ds, URIRef(distribution_iri or f"{facts.iri}/distribution"), meta)
    _add_facts(graph, ds, facts, meta, disclosure)
    return Description(graph, ds, list(facts.omitted), [])


def catalog_metadata(metadata: Mapping[str, Any]) -> dict[str, Any]:
    """The ``catalog:`` entry, its publisher and applicable legislation defaulting to the file's top level (the
    node publishes its catalogue as it publishes its datasets); :class:`DescriptionError` naming an unknown key."""
    entry = metadata.get("catalog") or {}
    if not isinstance(entry, Mapping):
        raise DescriptionError("catalog: a mapping of keys to values")
    unknown = sorted(set(entry) - CATALOG_KEYS)
    if unknown:
        raise DescriptionError(f"catalog: unknown key {unknown[0]!r} (known: {', '.join(sorted(CATALOG_KEYS))})")
    merged = {"title": "Datasets of this node", "description": "Cancer-imaging datasets held by this node.",
              **{k: metadata[k] for k in ("publisher", "applicable_legislation") if metadata.get(k)}}
    merged.update((k, v) for k, v in entry.items() if v)
    return merged


def build_catalog(metadata: Mapping[str, Any], datasets: list[tuple[str, str]], *, catalog_iri: str,
                  dataset_iri: Callable[[str], str]) -> Description:
    """The node's ``dcat:Catalog`` of ``datasets`` ((identifier, title) pairs), not yet validated. The datasets are
    linked (``dcat:dataset``) with their titles; their own descriptions are separate resources."""
    meta = catalog_metadata(metadata)
    graph = new_graph()
    cat = URIRef(catalog_iri)
    graph.add((cat, RDF.type, DCAT.Catalog))
    for key, prop in (("title", DCTERMS.title), ("description", DCTERMS.description)):
        for text in _texts(meta.get(key)):
            graph.add((cat, prop, text))
    for key, prop in (("applicable_legislation", DCATAP.applicableLegislation), ("homepage", FOAF.homepage),
                      ("language", DCTERMS.language), ("licence", DCTERMS.license)):
        for value in _listed(meta.get(key)):
            graph.add((cat, prop, _iri(value, f"catalog.{key}")))
    agent = _agent(graph, meta.get("publisher"), "catalog.publisher")
    if agent is not None:
        graph.add((cat, DCTERMS.publisher, agent))
    for identifier, title in datasets:
        ds = URIRef(dataset_iri(identifier))
        graph.add((cat, DCAT.dataset, ds))
        graph.add((ds, DCTERMS.title, Literal(title, lang="en")))
    return Description(graph, cat, [], [])


def validate_catalog(description: Description) -> Description:
    """:func:`validate` for a catalogue (its linked datasets typed ``dcat:Dataset`` after, not checked here: each
    dataset's own description is)."""
    validate(description)
    for ds in list(description.graph.objects(description.dataset, DCAT.dataset)):
        description.graph.add((ds, RDF.type, DCAT.Dataset))
    return description


def new_graph() -> Graph:
    graph = Graph()
    for prefix, ns in (("dcat", DCAT), ("dct", DCTERMS), ("foaf", FOAF), ("healthdcatap", HEALTH), ("eucaim", EUC),
                       ("dcatap", DCATAP), ("cv", CV), ("vcard", VCARD)):
        graph.bind(prefix, ns, replace=True)
    return graph


def shapes_graph() -> Graph:
    """The profile's shapes (package data)."""
    text = resources.files("hyperontology.interop").joinpath(SHAPES).read_text(encoding="utf-8")
    return Graph().parse(data=text, format="turtle")


def validate(description: Description, shapes: Graph | None = None) -> Description:
    """Check a description against the shapes: :class:`DescriptionError` naming every missing or wrong mandatory
    property (a Violation); Warnings are kept in :attr:`Description.warnings`."""
    import pyshacl

    _conforms, report, _text = pyshacl.validate(description.graph, shacl_graph=shapes or shapes_graph(),
                                                inference="none", advanced=True)
    sh = Namespace("http://www.w3.org/ns/shacl#")
    errors: set[str] = set()
    warnings: set[str] = set()
    for result in report.subjects(RDF.type, sh.ValidationResult):
        message = str(report.value(result, sh.resultMessage) or report.value(result, sh.resultPath) or "")
        severity = report.value(result, sh.resultSeverity)
        (warnings if severity != sh.Violation else errors).add(message)
    if errors:
        raise DescriptionError(f"the description of {description.dataset} does not meet the EUCAIM DCAT-AP v2.0: "
                               + "; ".join(sorted(errors)))
    description.warnings = sorted(warnings)
    return description


async def describe(select: Select, identifier: str, ontology: Hyperontology, *, metadata: Mapping[str, Any],
                   disclosure: Disclosure, dataset_iri: str | None = None, distribution_iri: str | None = None,
                   codes: EucaimCodes | None = None) -> Description:
    """The validated description of dataset ``identifier``, its facts read through ``select``."""
    facts = await read_facts(select, identifier, codes or EucaimCodes(ontology))
    built = build_description(facts, metadata, disclosure, dataset_iri=dataset_iri, distribution_iri=distribution_iri)
    return await asyncio.to_thread(validate, built)


def describe_store(location: str | Path, identifier: str, ontology: Hyperontology, *,
                   metadata: Mapping[str, Any], disclosure: Disclosure) -> Description:
    """:func:`describe` over a store opened read-only here (a directory or a SPARQL endpoint URL)."""
    from hyperontology.store.base import open_store

    with open_store(location, read_only=True) as store:
        return asyncio.run(describe(store_select(store), identifier, ontology, metadata=metadata,
                                    disclosure=disclosure))


def describe_catalog_store(location: str | Path, *, metadata: Mapping[str, Any]) -> Description:
    """The validated catalogue of every dataset of a store (dataset IRIs as :func:`describe_store` gives them)."""
    from hyperontology.mapping.engine import DATA
    from hyperontology.pipeline import dataset_iri
    from hyperontology.store.base import open_store

    with open_store(location, read_only=True) as store:
        datasets = asyncio.run(list_datasets(store_select(store)))
    built = build_catalog(metadata, datasets, catalog_iri=DATA + "catalog", dataset_iri=dataset_iri)
    return validate_catalog(built)


#: output format names -> rdflib serialisers and media types
FORMATS = {"ttl": ("turtle", "text/turtle"), "jsonld": ("json-ld", "application/ld+json"),
           "rdfxml": ("xml", "application/rdf+xml")}


def serialize(graph: Graph, fmt: str) -> str:
    return graph.serialize(format=FORMATS[fmt][0])


__all__ = ["BRANCHES", "CATALOG_KEYS", "FORMATS", "Description", "DescriptionError", "EucaimCodes", "Facts",
           "build_catalog", "build_description", "catalog_metadata", "describe", "describe_catalog_store",
           "describe_store", "list_datasets", "read_facts", "read_metadata", "serialize", "shapes_graph",
           "store_select", "template_text", "validate", "validate_catalog"]
