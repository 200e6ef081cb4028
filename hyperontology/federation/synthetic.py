"""A deterministic synthetic node: CDM data touching every criterion of the federated search explorer.

For demonstrations, tests and benchmarks of the explorer's contracts and the federation: patients in datasets,
with genders, diagnoses (coded in SNOMED CT, ICD-10, NCIt and EUCAIM, plus in situ and benign neoplasms that a
cancer criterion must not count), ages and dates of diagnosis, imaging studies and series (modalities,
body sites and manufacturers in RadLex, DICOM, SNOMED CT, EUCAIM and BIRNLEX), tumour marker tests (ER, PR,
HER2, Ki-67, PSA), histologic grades (Gleason, ISUP), TNM categories (as the relational CDM holds them: code and
value; and as FHIR holds them: ``cdm:tnmT``), and BI-RADS / PI-RADS assessments. The codes are real concepts of
the bundled hyperontology (the explorer's own keys and values are those of its catalogue, samply/eucaim-frontend
``catalogue-eucaim.json``); every run with the same arguments writes the same triples. No value is identifying:
the data are invented.

Examples
--------
>>> from hyperontology import load_ontology
>>> triples = list(cohort_triples(3, load_ontology(), datasets=[("a", "A")]))
>>> any(p.endswith("#dataset") for _, p, _ in triples)
True
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Iterator, Sequence
from datetime import date
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from hyperontology.mapping.engine import DATA
from hyperontology.ontology import Hyperontology
from hyperontology.prefixes import curie_to_iri
from hyperontology.search.cohort import CDM

RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
XSD = "http://www.w3.org/2001/XMLSchema#"

GENDERS = ("SCT:248153007", "SCT:248152002", "EUCAIM:COM1001366", "EUCAIM:COM1001370", "SCT:74964007",
           "SCT:261665006")
#: cancers of the explorer's catalogue (colon, breast, lung, pelvis, prostate) and what a cancer must not count
CANCERS = ("SCT:363406005", "SCT:254837009", "SCT:363358000", "SCT:363484005", "SCT:399068003")
NOT_CANCERS = ("SCT:109888004", "SCT:92546004", "SCT:126713003")  # in situ / benign / neoplasm of lung (uncertain)
MODALITIES = ("RADLEX:RID10312", "RADLEX:RID10337", "RADLEX:RID10334", "RADLEX:RID10321", "DCM:MG", "DCM:US")
BODY_SITES = ("SCT:76752008", "SCT:71854001", "SCT:39607008", "SCT:12921003", "SCT:41216001", "SCT:12738006")
MANUFACTURERS = ("BIRNLEX:birnlex_3066", "BIRNLEX:birnlex_12833", "BIRNLEX:birnlex_3065", "BIRNLEX:birnlex_3067",
                 "EUCAIM:IMG1000057")
POS_NEG = ("EUCAIM:COM1001310", "EUCAIM:COM1001332", "LOINC:LA6576-8")
HER2 = ("EUCAIM:COM1002257", "EUCAIM:COM1001877", "EUCAIM:COM1001879", "EUCAIM:COM1001882")
GLEASON = tuple(f"EUCAIM:{c}" for c in ("CLIN1025818", "CLIN1025912", "CLIN1026007", "CLIN1026103", "CLIN1026200",
                                        "CLIN1026298", "CLIN1026397", "CLIN1026497", "CLIN1025725"))
ISUP = tuple(f"EUCAIM:COM{c}" for c in ("1001362", "1001365", "1001367", "1001368", "1001369"))
#: TNM category (code) -> values, from the catalogue
TNM = {
    "EUCAIM:CLIN1033379": ("cdm:tnmT", ("COM1000316", "COM1000333", "COM1000351", "COM1000370", "COM1000433",
                                        "COM1000505")),
    "EUCAIM:CLIN1033391": ("cdm:tnmT", ("COM1000708", "COM1000741", "COM1000775", "COM1000921", "COM1001041")),
    "EUCAIM:CLIN1033358": ("cdm:tnmN", ("COM1000285", "COM1000300")),
    "EUCAIM:CLIN1033368": ("cdm:tnmN", ("COM1000645", "COM1000676")),
    "EUCAIM:CLIN1033341": ("cdm:tnmM", ("COM1000246", "COM1000258", "COM1000271")),
    "EUCAIM:CLIN1033349": ("cdm:tnmM", ("COM1000531", "COM1000558", "COM1000586", "COM1000615")),
}
BIRADS = tuple(f"EUCAIM:IMG{c}" for c in ("1005470", "1005469", "1005468", "1005466", "1005465", "1005464",
                                          "1005463"))
PIRADS = tuple(f"EUCAIM:IMG{c}" for c in ("1005479", "1005478", "1005477", "1005476", "1005475"))


def dataset_node(identifier: str) -> str:
    """The IRI of a dataset (as ``hyperontology ingest --dataset`` mints it)."""
    from hyperontology.pipeline import dataset_iri

    return dataset_iri(identifier)


class _Pools:
    """Each coded choice as the IRIs of the concepts it expands to (so data is coded in every terminology)."""

    def __init__(self, ontology: Hyperontology) -> None:
        self.ontology = ontology
        self._cache: dict[str, list[str]] = {}

    def any_of(self, rng: random.Random, ref: str) -> str:
        if ref not in self._cache:
            self._cache[ref] = sorted({c.iri for c in self.ontology.expand(ref)}) or [curie_to_iri(ref)]
        return rng.choice(self._cache[ref])


def cohort_triples(patients: int, ontology: Hyperontology, *, datasets: Sequence[tuple[str, str]] = (("demo", "Demo"),),
                   seed: int = 7, prefix: str = "") -> Iterator[tuple[str, str, Any]]:
    """The triples of the synthetic node: ``(subject, predicate, object)`` with IRIs as strings and literals as
    ``pyoxigraph.Literal``. ``prefix`` keeps the instances of several nodes apart."""
    rng = random.Random(seed)  # noqa: S311 - synthetic data, not secrets
    pools = _Pools(ontology)
    for ident, title in datasets:
        node = dataset_node(ident)
        yield node, RDF_TYPE, CDM + "Dataset"
        yield node, CDM + "datasetIdentifier", ox.Literal(ident)
        yield node, CDM + "title", ox.Literal(title)
    serial = [0]

    def new(kind: str) -> str:
        serial[0] += 1
        return f"{DATA}{kind}/{prefix}{seed}-{serial[0]}"

    for _ in range(patients):
        yield from _patient(rng, pools, new, dataset_node(rng.choice(datasets)[0]) if datasets else None)


def _lit(value: Any, datatype: str) -> ox.Literal:
    return ox.Literal(str(value), datatype=ox.NamedNode(XSD + datatype))


def _patient(rng: random.Random, pools: _Pools, new: Any, dataset: str | None) -> Iterator[tuple[str, str, Any]]:
    patient = new("patient")
    yield patient, RDF_TYPE, CDM + "Patient"
    if dataset:
        yield patient, CDM + "dataset", dataset
    if rng.random() < 0.95:
        yield patient, CDM + "gender", pools.any_of(rng, rng.choice(GENDERS))
    born = date(rng.randint(1935, 1990), rng.randint(1, 12), rng.randint(1, 28))
    yield patient, CDM + "birthDate", _lit(born.isoformat(), "date")
    for _ in range(rng.choice((1, 1, 1, 2))):
        dx = new("diagnosis")
        yield dx, RDF_TYPE, CDM + "Diagnosis"
        yield dx, CDM + "patient", patient
        pool = CANCERS if rng.random() < 0.85 else NOT_CANCERS
        yield dx, CDM + "diagnosisCode", pools.any_of(rng, rng.choice(pool))
        asserted = date(rng.randint(max(born.year + 20, 2005), 2024), rng.randint(1, 12), rng.randint(1, 28))
        yield dx, CDM + "assertedDate", _lit(asserted.isoformat(), "date")
        if rng.random() < 0.5:
            yield dx, CDM + "ageAtDiagnosis", _lit(asserted.year - born.year - 1 + rng.randint(0, 1), "decimal")
        yield from _clinical(rng, pools, new, patient, dx)
    for _ in range(rng.choice((0, 1, 1, 2, 3))):
        study = new("study")
        yield study, RDF_TYPE, CDM + "ImagingStudy"
        yield study, CDM + "patient", patient
        for _ in range(rng.choice((1, 1, 2, 3))):
            series = new("series")
            yield series, RDF_TYPE, CDM + "ImagingSeries"
            yield series, CDM + "study", study
            if rng.random() < 0.5:
                yield series, CDM + "patient", patient
            yield series, CDM + "modality", pools.any_of(rng, rng.choice(MODALITIES))
            if rng.random() < 0.9:
                yield series, CDM + "bodySite", pools.any_of(rng, rng.choice(BODY_SITES))
            if rng.random() < 0.9:
                yield series, CDM + "manufacturer", pools.any_of(rng, rng.choice(MANUFACTURERS))


def _record(rng: random.Random, new: Any, kind: str, cls: str, link: tuple[str, str], code: str,
            ) -> tuple[str, list[tuple[str, str, Any]]]:
    node = new(kind)
    return node, [(node, RDF_TYPE, CDM + cls), (node, CDM + link[0], link[1]), (node, CDM + "code", code)]


def _clinical(rng: random.Random, pools: _Pools, new: Any, patient: str, dx: str,
              ) -> Iterator[tuple[str, str, Any]]:
    yield from _markers(rng, pools, new, patient)
    yield from _grades_and_stages(rng, pools, new, patient, dx)


def _markers(rng: random.Random, pools: _Pools, new: Any, patient: str) -> Iterator[tuple[str, str, Any]]:
    if rng.random() < 0.5:  # tumour markers, on the patient
        for key, values in (("EUCAIM:CLIN1045815", POS_NEG), ("EUCAIM:CLIN1046085", POS_NEG),
                            ("EUCAIM:CLIN1045851", HER2)):
            if rng.random() < 0.6:
                node, triples = _record(rng, new, "marker", "TumorMarkerTest", ("patient", patient),
                                        pools.any_of(rng, key))
                yield from triples
                yield node, CDM + "valueConcept", pools.any_of(rng, rng.choice(values))
        for key, high in (("EUCAIM:CLIN1033410", 40.0), ("EUCAIM:CLIN1045913", 100.0)):
            if rng.random() < 0.5:
                node, triples = _record(rng, new, "marker", "TumorMarkerTest", ("patient", patient),
                                        pools.any_of(rng, key))
                yield from triples
                yield node, CDM + "value", _lit(round(rng.uniform(0, high), 1), "decimal")


def _grades_and_stages(rng: random.Random, pools: _Pools, new: Any, patient: str, dx: str,
                       ) -> Iterator[tuple[str, str, Any]]:
    if rng.random() < 0.4:  # histologic grades, on the diagnosis
        key, values = rng.choice((("EUCAIM:CLIN1037294", GLEASON), ("EUCAIM:CLIN1037300", ISUP)))
        node, triples = _record(rng, new, "grade", "HistologicGrade", ("diagnosis", dx), pools.any_of(rng, key))
        yield from triples
        yield node, CDM + "grade", pools.any_of(rng, rng.choice(values))
    for key, (prop, values) in TNM.items():  # TNM: as the relational CDM holds it, or as FHIR does
        if rng.random() < 0.3:
            value = pools.any_of(rng, f"EUCAIM:{rng.choice(values)}")
            if rng.random() < 0.7:
                node, triples = _record(rng, new, "stage", "CancerStage", ("diagnosis", dx), pools.any_of(rng, key))
                yield from triples
                yield node, CDM + "stage", value
            else:
                node = new("stage")
                yield node, RDF_TYPE, CDM + "CancerStage"
                yield node, CDM + "patient", patient
                yield node, CDM + prop.split(":")[1], value
    if rng.random() < 0.3:  # BI-RADS or PI-RADS on a tumour
        tumor = new("tumor")
        yield tumor, RDF_TYPE, CDM + "Tumor"
        yield tumor, CDM + "diagnosis", dx
        key, values = rng.choice((("EUCAIM:IMG1005459", BIRADS), ("EUCAIM:IMG1005457", PIRADS)))
        node, triples = _record(rng, new, "observation", "TumorObservation", ("tumor", tumor), pools.any_of(rng, key))
        yield from triples
        yield node, CDM + "valueConcept", pools.any_of(rng, rng.choice(values))


def _term(value: Any) -> Any:
    return value if isinstance(value, ox.Literal) else ox.NamedNode(value)


def build_node_store(path: Path, *, patients: int, ontology: Hyperontology | None = None, seed: int = 7,
                     datasets: Sequence[tuple[str, str]] = (("demo", "Demo"),), prefix: str = "") -> int:
    """Write a synthetic node into a new on-disk store at ``path`` (the hyperontology graph too, so the store
    serves as a node); the number of data triples written."""
    from hyperontology.ontology import load_ontology

    onto = ontology if ontology is not None else load_ontology()
    return write_node_store(path, cohort_triples(patients, onto, datasets=datasets, seed=seed, prefix=prefix), onto)


def write_node_store(path: Path, triples: Iterable[tuple[str, str, Any]], ontology: Hyperontology) -> int:
    """A new on-disk store at ``path`` holding the hyperontology graph and ``triples`` (IRIs as strings, literals
    as ``pyoxigraph.Literal``) in the data graph, bulk-loaded and optimised; the number of data triples."""
    from hyperontology.ontology.closure import subsumption_triples
    from hyperontology.ontology.files import bundled_dir, module_files
    from hyperontology.ontology.schemes import VERSION
    from hyperontology.store.oxigraph import GRAPHS, NodeStore

    graph = GRAPHS["data"]
    count = 0
    with NodeStore(path) as store:
        store.ensure_ontology(module_files(bundled_dir()), VERSION, subsumption_triples(ontology))
        batch: list[ox.Quad] = []
        for s, p, o in triples:
            batch.append(ox.Quad(ox.NamedNode(s), ox.NamedNode(p), _term(o), graph))
            if len(batch) >= 100_000:
                store.store.bulk_extend(batch)
                count += len(batch)
                batch = []
        store.store.bulk_extend(batch)
        count += len(batch)
        store.store.optimize()
    return count


__all__ = ["build_node_store", "cohort_triples", "dataset_node", "write_node_store"]
