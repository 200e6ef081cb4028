"""Every criterion of the explorer's catalogue, sent as Focus sends it, gives the counts of the equivalent SPARQL.

One synthetic node (``hyperontology.federation.synthetic``, two datasets) served by a real ``hyperontology serve
--min-count 1`` process (exact counts). Every criterion of ``catalogue-eucaim.json`` (all groups) is sent through
``POST /api/eucaim/ast``: each coded value alone, all values ORed (an OR of conditions, and one IN condition with
a list), number ranges (both bounds, only min, only max). Gender, diagnosis, modality, body part and manufacturer
go through the eucaim-api words (``GET /api/eucaim/search``) and the EUCAIM Beacon codes too.

The EXPECTED counts do not use :mod:`hyperontology.federation.criteria`: the matching patients (or imaging series)
of each value come from SPARQL written here from the semantics stated in that module's docstring, run on the store
before the server starts; the per-collection subjects and studies are counted from them in Python (an OR is the
union of its values' matches; imaging conditions hold per series, and count the studies of the matching series;
other conditions count every study of the matching patients).

The catalogue's ``C200140`` (NCIt "Siemens Healthineers") is not in the hyperontology: it matches nothing and is
named in ``X-Unknown-Criteria``. Any other unknown key or value of the catalogue fails the test.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Set
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest

from hyperontology import Hyperontology
from hyperontology.federation.synthetic import build_node_store
from hyperontology.store.base import open_store
from hyperontology.store.oxigraph import GRAPHS
from tests.processes import node_server

pytestmark = pytest.mark.shared

PATIENTS = 600
DATASETS = (("ds-a", "Dataset A"), ("ds-b", "Dataset B"))
CDM = "https://w3id.org/hyperontology/cdm#"
EUCAIM = "https://cancerimage.eu/ontology/EUCAIM#"
DATA_GRAPH = GRAPHS["data"].value
NOT_IN_ONTOLOGY = {"C200140"}  # NCIt "Siemens Healthineers": the hyperontology lacks it

#: catalogue keys of the explorer's fixed categories (the rest are observations)
GENDER, AGE, DIAGNOSIS, YEAR = "SNOMEDCT263495000", "SNOMEDCT423493009", "SNOMEDCT439401001", "SNOMEDCT432213005"
MODALITY, BODY_PART, MANUFACTURER = "RID10311", "SNOMEDCT123037004", "C25392"
IMAGING_PROPERTY = {MODALITY: "modality", BODY_PART: "bodySite", MANUFACTURER: "manufacturer"}
#: number ranges sent per numeric key
RANGES: dict[str, tuple[dict[str, float], ...]] = {
    AGE: ({"min": 40, "max": 60}, {"min": 60}, {"max": 40}),
    YEAR: ({"min": 2015, "max": 2019}, {"min": 2020}, {"max": 2010}),
    "EUCAIM_Hyper-Ontology_V1.0.CLIN1033410": ({"min": 0, "max": 4}, {"min": 10}, {"max": 2.5}),  # PSA
    "EUCAIM_Hyper-Ontology_V1.0.CLIN1045913": ({"min": 20}, {"min": 10, "max": 30}, {"max": 14}),  # Ki-67
}
#: eucaim-api words Focus sends -> the catalogue value they stand for
WORDS = {
    "gender": {"male": "SNOMEDCT248153007", "female": "SNOMEDCT248152002"},
    "modality": {"MR": "RID10312", "CT": "RID10321", "PT": "RID10337"},
    "bodyPart": {"breast": "SNOMEDCT76752008", "lung": "SNOMEDCT39607008", "prostate": "SNOMEDCT41216001"},
    "manufacturer": {"Philips": "birnlex_3065", "Siemens": "birnlex_3066"},
}
WORD_KEYS = {"gender": GENDER, "modality": MODALITY, "bodyPart": BODY_PART, "manufacturer": MANUFACTURER}
#: EUCAIM codes of Focus's Beacon mode -> the catalogue key whose field they fill
BEACON = {
    **dict.fromkeys(("COM1001366", "COM1001370"), GENDER),
    **dict.fromkeys(("CLIN1000057", "CLIN1000060", "CLIN1000065", "CLIN1000075", "CLIN1000087"), DIAGNOSIS),
    **dict.fromkeys(("IMG1000038", "IMG1000062"), MODALITY),
    **dict.fromkeys(("BP1000136", "BP1000257", "BP1000113", "BP1000092", "BP1000021"), BODY_PART),
    **dict.fromkeys(("IMG1000044", "IMG1000045", "IMG1000046", "IMG1000047"), MANUFACTURER),
}
#: one gender value each (criteria.py: "SNOMED CT's male finding and EUCAIM's male answer are one value")
SEX_GROUPS = (("SCT:248153007", "EUCAIM:COM1001366"), ("SCT:248152002", "EUCAIM:COM1001370"),
              ("SCT:261665006", "EUCAIM:COM1002760"))
PATIENT_OF_RECORD = ("(cdm:patient|cdm:diagnosis/cdm:patient|cdm:tumor/cdm:patient|"
                     "cdm:tumor/cdm:diagnosis/cdm:patient)")
Counts = dict[str, tuple[int, int]]


# ------------------------------------------------------------------------------------------ the catalogue
def criteria_of(catalogue: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every criterion (a category with a ``type``) of every group, however deep."""
    found: list[dict[str, Any]] = []

    def walk(item: dict[str, Any]) -> None:
        if "type" in item and "key" in item:
            found.append(item)
        for child in item.get("childCategories", []):
            walk(child)

    for group in catalogue:
        walk(group)
    return found


def values_of(criterion: dict[str, Any]) -> list[str]:
    return [c["key"] for c in criterion.get("criteria") or []]


@pytest.fixture(scope="module")
def catalogue(eucaim_dir: Path) -> list[dict[str, Any]]:
    path = eucaim_dir / "catalogue-eucaim.json"
    if not path.is_file():
        pytest.skip(f"needs the explorer's catalogue {path} (../shared/data, absent here)")
    data = json.loads(path.read_text(encoding="utf-8"))
    assert isinstance(data, list) and len(data) == 7, "the catalogue has 7 groups"
    return data


@pytest.fixture(scope="module")
def catalogue_size(catalogue: list[dict[str, Any]]) -> tuple[int, int]:
    """(coded values, numeric criteria) counted straight from the JSON, independently of :func:`criteria_of`."""
    coded = numeric = 0
    for group in catalogue:
        for category in group["childCategories"]:
            if category["type"] == "BETWEEN":
                numeric += 1
            else:
                coded += len(category["criteria"])
    return coded, numeric


# ------------------------------------------------------------------------------------------ the oracle
@dataclass(frozen=True)
class Match:
    """What a criterion matches: patients, or (imaging) series."""

    patients: frozenset[str] = frozenset()
    series: frozenset[str] | None = None

    def __or__(self, other: Match) -> Match:
        if self.series is not None or other.series is not None:
            return Match(series=(self.series or frozenset()) | (other.series or frozenset()))
        return Match(self.patients | other.patients)


class Oracle:
    """Expected matches, from SPARQL written from the docstring of ``hyperontology.federation.criteria``."""

    def __init__(self, store: Any, onto: Hyperontology) -> None:
        self.store, self.onto = store, onto
        self.dataset = {r["p"]: r["id"] for r in self.rows(
            "SELECT ?p ?id WHERE { ?p a cdm:Patient ; cdm:dataset ?d . ?d cdm:datasetIdentifier ?id }")}
        self.patients = frozenset(r["p"] for r in self.rows("SELECT ?p WHERE { ?p a cdm:Patient }"))
        self.ids = sorted(set(self.dataset.values()))
        self.studies_of: dict[str, set[str]] = {}
        for r in self.rows("SELECT ?p ?st WHERE { ?p a cdm:Patient . "
                           "{ ?st a cdm:ImagingStudy ; cdm:patient ?p } UNION "
                           "{ ?s a cdm:ImagingSeries ; cdm:patient ?p ; cdm:study ?st } }"):
            self.studies_of.setdefault(r["p"], set()).add(r["st"])
        self.series_patients: dict[str, set[str]] = {}
        for r in self.rows("SELECT ?s ?p WHERE { ?s a cdm:ImagingSeries ; (cdm:patient|cdm:study/cdm:patient) ?p . "
                           "?p a cdm:Patient }"):
            self.series_patients.setdefault(r["s"], set()).add(r["p"])
        self.series_study = {r["s"]: r["st"] for r in self.rows(
            "SELECT ?s ?st WHERE { ?s a cdm:ImagingSeries ; cdm:study ?st }")}
        self.diagnoses = self.rows(
            "SELECT ?p ?ageAt ?bd ?ad WHERE { ?dx a cdm:Diagnosis ; cdm:patient ?p . ?p a cdm:Patient "
            "OPTIONAL { ?dx cdm:ageAtDiagnosis ?ageAt } OPTIONAL { ?p cdm:birthDate ?bd } "
            "OPTIONAL { ?dx cdm:assertedDate ?ad } }")

    def rows(self, select: str) -> list[dict[str, str]]:
        """``SELECT ?a ?b WHERE { ... }`` run DISTINCT in the data graph; each row's bound variables."""
        head, body = select.split(" WHERE ", 1)
        names = [n.lstrip("?") for n in head.split()[1:]]
        query = (f"PREFIX cdm: <{CDM}> SELECT DISTINCT {' '.join('?' + n for n in names)} "
                 f"WHERE {{ GRAPH <{DATA_GRAPH}> {body} }}")
        return [{n: sol[n].value for n in names if sol[n] is not None} for sol in self.store.query(query)]

    def expansion(self, ref: str) -> str:
        iris = sorted(c.iri for c in self.onto.expand(ref))
        assert iris, ref
        return " ".join(f"<{i}>" for i in iris)

    # -------------------------------------------------------------- per field
    def gender(self, value: str) -> Match:
        """A gender value stands for its group: SNOMED CT's sex finding and EUCAIM's sex answer are one value."""
        iris = {c.iri for c in self.onto.expand(value)}
        for group in SEX_GROUPS:
            members = {c.iri for ref in group for c in self.onto.expand(ref)}
            if members & iris:
                iris |= members
        values = " ".join(f"<{i}>" for i in sorted(iris))
        return Match(frozenset(r["p"] for r in self.rows(
            f"SELECT ?p WHERE {{ VALUES ?c {{ {values} }} ?p a cdm:Patient ; cdm:gender ?c }}")))

    def diagnosis(self, value: str) -> Match:
        return Match(frozenset(r["p"] for r in self.rows(
            f"SELECT ?p WHERE {{ VALUES ?c {{ {self.expansion(value)} }} ?dx a cdm:Diagnosis ; cdm:diagnosisCode ?c ;"
            " cdm:patient ?p . ?p a cdm:Patient }")))

    def imaging(self, key: str, value: str) -> Match:
        prop = IMAGING_PROPERTY[key]
        return Match(series=frozenset(r["s"] for r in self.rows(
            f"SELECT ?s WHERE {{ VALUES ?c {{ {self.expansion(value)} }} ?s a cdm:ImagingSeries ; cdm:{prop} ?c }}")))

    def age(self, low: float | None, high: float | None) -> Match:
        hits = set()
        for r in self.diagnoses:
            if "ageAt" in r:
                age: float | None = float(r["ageAt"])
            elif "bd" in r and "ad" in r:
                born, asserted = date.fromisoformat(r["bd"]), date.fromisoformat(r["ad"])
                age = asserted.year - born.year - ((asserted.month, asserted.day) < (born.month, born.day))
            else:
                age = None
            if age is not None and _within(age, low, high):
                hits.add(r["p"])
        return Match(frozenset(hits))

    def year(self, low: float | None, high: float | None) -> Match:
        return Match(frozenset(r["p"] for r in self.diagnoses
                               if "ad" in r and _within(date.fromisoformat(r["ad"]).year, low, high)))

    def observation(self, key: str, value: str) -> Match:
        value_iri = self.onto.concept(value).iri
        key_iris = {c.iri for c in self.onto.expand(key)}
        alone = value_iri in key_iris or not value_iri.startswith(f"{EUCAIM}COM")
        values = self.expansion(value)
        branches = [f"{{ VALUES ?k {{ {self.expansion(key)} }} ?obs cdm:code ?k ; "
                    "(cdm:valueConcept|cdm:grade|cdm:stage) ?v }",
                    "{ ?obs (cdm:tnmT|cdm:tnmN|cdm:tnmM|cdm:stageGroup) ?v }"]
        if alone:
            branches.append("{ ?obs (cdm:valueConcept|cdm:grade|cdm:stage) ?v }")
        return Match(frozenset(r["p"] for r in self.rows(
            f"SELECT ?p WHERE {{ VALUES ?v {{ {values} }} {' UNION '.join(branches)} "
            f"?obs {PATIENT_OF_RECORD} ?p . ?p a cdm:Patient }}")))

    def measured(self, key: str, low: float | None, high: float | None) -> Match:
        rows = self.rows(f"SELECT ?obs ?p ?n WHERE {{ VALUES ?k {{ {self.expansion(key)} }} "
                         f"?obs cdm:code ?k ; cdm:value ?n ; {PATIENT_OF_RECORD} ?p . ?p a cdm:Patient }}")
        return Match(frozenset(r["p"] for r in rows if _within(float(r["n"]), low, high)))

    def coded(self, key: str, value: str) -> Match:
        if key == GENDER:
            return self.gender(value)
        if key == DIAGNOSIS:
            return self.diagnosis(value)
        if key in IMAGING_PROPERTY:
            return self.imaging(key, value)
        return self.observation(key, value)

    def ranged(self, key: str, low: float | None, high: float | None) -> Match:
        if key == AGE:
            return self.age(low, high)
        if key == YEAR:
            return self.year(low, high)
        return self.measured(key, low, high)

    # -------------------------------------------------------------- counting
    def counts(self, match: Match) -> Counts:
        subjects: dict[str, set[str]] = {i: set() for i in self.ids}
        studies: dict[str, set[str]] = {i: set() for i in self.ids}
        if match.series is None:
            for p in match.patients:
                subjects[self.dataset[p]].add(p)
                studies[self.dataset[p]] |= self.studies_of.get(p, set())
        else:
            for s in match.series:
                for p in self.series_patients.get(s, ()):
                    subjects[self.dataset[p]].add(p)
                    if s in self.series_study:
                        studies[self.dataset[p]].add(self.series_study[s])
        return {i: (len(subjects[i]), len(studies[i])) for i in self.ids}


def _within(number: float, low: float | None, high: float | None) -> bool:
    return (low is None or number >= low) and (high is None or number <= high)


# ------------------------------------------------------------------------------------------ fixtures
@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory, onto: Hyperontology, catalogue: list[dict[str, Any]]) -> Path:
    path = tmp_path_factory.mktemp("catalogue") / "node"
    build_node_store(path, patients=PATIENTS, ontology=onto, datasets=DATASETS)
    return path


@pytest.fixture(scope="module")
def oracle(store: Path, onto: Hyperontology) -> Iterator[Oracle]:
    """Computed on the store opened read-only; it stays open (read-only) while the server holds the store."""
    with open_store(store, read_only=True) as node:
        yield Oracle(node, onto)


@pytest.fixture(scope="module")
def node(store: Path, oracle: Oracle) -> Iterator[httpx.Client]:
    with node_server(store, "--min-count", "1") as client:
        yield client


def focus_ast(*conditions: dict[str, Any]) -> dict[str, Any]:
    return {"ast": {"operand": "OR", "children": [{"operand": "AND", "children": list(conditions)}]}, "id": "t"}


def answered(response: httpx.Response, *, unknown: Set[str] = frozenset()) -> Counts:
    """The per-collection (subjects, studies) of a Focus answer; checks ``X-Unknown-Criteria`` names ``unknown``."""
    assert response.status_code == 200, response.text
    body = response.json()
    collections = body["response"]["collections"] if "response" in body else body["collections"]
    header = response.headers.get("X-Unknown-Criteria", "")
    if unknown:
        assert all(u in header for u in unknown), header
    else:
        assert not header, f"unexpected unknown criteria: {header}"
    return {c["id"]: (c["subjects_count"], c["studies_count"]) for c in collections}


def ast_counts(node: httpx.Client, *conditions: dict[str, Any], unknown: Set[str] = frozenset()) -> Counts:
    return answered(node.post("/api/eucaim/ast", json=focus_ast(*conditions)), unknown=unknown)


# ------------------------------------------------------------------------------------------ the explorer's tree
def test_every_coded_value_alone(node: httpx.Client, oracle: Oracle, catalogue: list[dict[str, Any]],
                                 catalogue_size: tuple[int, int]) -> None:
    checked = 0
    for criterion in criteria_of(catalogue):
        if criterion["type"] == "BETWEEN":
            continue
        assert criterion["type"] == "EQUALS", criterion["key"]
        nonzero = False
        for value in values_of(criterion):
            key = criterion["key"]
            condition = {"key": key, "type": "EQUALS", "value": value}
            if value in NOT_IN_ONTOLOGY:
                got = ast_counts(node, condition, unknown={value})
                assert all(n == (0, 0) for n in got.values()), (key, value, got)
            else:
                got = ast_counts(node, condition)
                want = oracle.counts(oracle.coded(key, value))
                assert got == want, f"{criterion['name']} = {value}: node {got}, SPARQL {want}"
                nonzero = nonzero or any(s for s, _ in want.values())
            checked += 1
        assert nonzero, f"{criterion['name']}: every value counts 0 (a vacuous check)"
    assert checked == catalogue_size[0]


def test_all_values_ored_as_or_and_as_in(node: httpx.Client, oracle: Oracle, catalogue: list[dict[str, Any]],
                                         catalogue_size: tuple[int, int]) -> None:
    checked = 0
    for criterion in criteria_of(catalogue):
        if criterion["type"] == "BETWEEN":
            continue
        key, values = criterion["key"], values_of(criterion)
        known = [v for v in values if v not in NOT_IN_ONTOLOGY]
        unknown = set(values) - set(known)
        want_match = Match(series=frozenset()) if key in IMAGING_PROPERTY else Match()
        for value in known:
            want_match = want_match | oracle.coded(key, value)
        want = oracle.counts(want_match)
        assert any(s for s, _ in want.values()), criterion["name"]
        ored = {"operand": "OR", "children": [{"key": key, "type": "EQUALS", "value": v} for v in values]}
        assert ast_counts(node, ored, unknown=unknown) == want, f"{criterion['name']}: OR of {values}"
        listed = {"key": key, "type": "IN", "value": values}
        assert ast_counts(node, listed, unknown=unknown) == want, f"{criterion['name']}: IN {values}"
        checked += len(values)
    assert checked == catalogue_size[0]


def test_number_ranges(node: httpx.Client, oracle: Oracle, catalogue: list[dict[str, Any]],
                       catalogue_size: tuple[int, int]) -> None:
    checked = 0
    for criterion in criteria_of(catalogue):
        if criterion["type"] != "BETWEEN":
            continue
        key = criterion["key"]
        assert key in RANGES, f"no ranges chosen for the numeric criterion {criterion['name']}"
        nonzero = False
        for bounds in RANGES[key]:
            got = ast_counts(node, {"key": key, "type": "BETWEEN", "value": bounds})
            want = oracle.counts(oracle.ranged(key, bounds.get("min"), bounds.get("max")))
            assert got == want, f"{criterion['name']} {bounds}: node {got}, SPARQL {want}"
            nonzero = nonzero or any(s for s, _ in want.values())
        assert nonzero, f"{criterion['name']}: every range counts 0 (a vacuous check)"
        checked += 1
    assert checked == catalogue_size[1] == len(RANGES)


def test_conditions_anded_hold_per_series_for_imaging(node: httpx.Client, oracle: Oracle) -> None:
    patients = oracle.gender("SNOMEDCT248152002").patients
    series = (oracle.imaging(MODALITY, "RID10312").series or frozenset()) & (
        oracle.imaging(BODY_PART, "SNOMEDCT76752008").series or frozenset())
    want = oracle.counts(Match(series=frozenset(s for s in series if oracle.series_patients.get(s, set()) & patients)))
    assert any(s for s, _ in want.values())
    got = ast_counts(node, {"key": GENDER, "type": "EQUALS", "value": "SNOMEDCT248152002"},
                     {"key": MODALITY, "type": "EQUALS", "value": "RID10312"},
                     {"key": BODY_PART, "type": "EQUALS", "value": "SNOMEDCT76752008"})
    assert got == want
    words = answered(node.get("/api/eucaim/search", params={"gender": "female", "modality": "MR",
                                                             "bodyPart": "breast"}))
    assert words == want
    everyone = ast_counts(node)
    assert {i: s for i, (s, _) in everyone.items()} == {
        i: sum(1 for p in oracle.patients if oracle.dataset[p] == i) for i in oracle.ids}
    assert sum(s for s, _ in everyone.values()) == PATIENTS


# ------------------------------------------------------------------------------------------ the other forms
def test_eucaim_api_words(node: httpx.Client, oracle: Oracle, catalogue: list[dict[str, Any]]) -> None:
    for param, words in WORDS.items():
        for word, value in words.items():
            want = oracle.counts(oracle.coded(WORD_KEYS[param], value))
            assert any(s for s, _ in want.values()), (param, word)
            got = answered(node.get("/api/eucaim/search", params={param: word}))
            assert got == want, f"{param}={word}: node {got}, SPARQL {want}"
        both = oracle.coded(WORD_KEYS[param], next(iter(words.values())))
        for value in list(words.values())[1:]:
            both = both | oracle.coded(WORD_KEYS[param], value)
        got = answered(node.get("/api/eucaim/search", params={param: ",".join(words)}))
        assert got == oracle.counts(both), f"{param}={','.join(words)}"
    diagnoses = next(c for c in criteria_of(catalogue) if c["key"] == DIAGNOSIS)
    for value in values_of(diagnoses):
        got = answered(node.get("/api/eucaim/search", params={"diagnosis": value}))
        assert got == oracle.counts(oracle.diagnosis(value)), f"diagnosis={value}"


def test_beacon_codes(node: httpx.Client, oracle: Oracle) -> None:
    for code, key in BEACON.items():
        want = oracle.counts(oracle.coded(key, f"EUCAIM:{code}"))
        body = {"meta": {"apiVersion": "2.0"},
                "query": {"filters": [{"id": f"EUCAIM:{code}"}], "requestedGranularity": "record"}}
        response = node.post("/api/eucaim/beacon/collections", json=body)
        got = answered(response)
        assert got == want, f"Beacon {code}: node {got}, SPARQL {want}"
        assert response.json()["responseSummary"]["numTotalResults"] == sum(s for s, _ in want.values())
    assert any(oracle.counts(oracle.coded(k, f"EUCAIM:{c}"))[oracle.ids[0]][0] for c, k in BEACON.items())


# ------------------------------------------------------------------------------------------ unknown criteria
def test_unknown_key(node: httpx.Client) -> None:
    condition = {"key": "SNOMEDCT999999999999", "type": "EQUALS", "value": "SNOMEDCT363358000"}
    refused = node.post("/api/cohort/collections", json={"ast": focus_ast(condition)["ast"]})
    assert refused.status_code == 400 and "SNOMEDCT999999999999" in refused.text
    got = ast_counts(node, condition, unknown={"SNOMEDCT999999999999"})
    assert got and all(n == (0, 0) for n in got.values())
    got = answered(node.get("/api/eucaim/search", params={"colour": "blue"}), unknown={"colour"})
    assert got and all(n == (0, 0) for n in got.values())
    got = answered(node.post("/api/eucaim/beacon/collections", json={"query": {"filters": [{"id": "EUCAIM:XYZ1"}]}}),
                   unknown={"XYZ1"})
    assert got and all(n == (0, 0) for n in got.values())
