"""Realistic synthetic CDM cohorts as a stream of data-graph quads, scalable to 10M triples and more.

Run: python bench/cohortgen.py --patients N (--out FILE.nq | --store DIR) [--seed 1] [--invalid 0.0]

Every patient has a primary cancer (lung, breast, prostate or colorectal, in realistic proportions) whose
diagnosis is coded in turn with SNOMED CT, ICD-10 or NCIt, with ICD-O-3 morphology and topography, an age at
diagnosis, follow-up (overall survival with its UCUM unit), most often a TNM stage record; one or two imaging
studies of one or two series (modality, body site, manufacturer, instance count, slice thickness) whose
modalities follow the cancer (mammography for breast, MR for prostate, ...); often a treatment (surgery,
radiotherapy with its dose in Gy, or a systemic therapy coded in ATC) and a tumour-marker measurement (PSA, CEA,
CA 15-3, LOINC-coded with a UCUM unit). About 35-40 triples per patient. Every code is looked up in the bundled
hyperontology when the generator starts (an unknown code stops it): none is invented.

The stream is deterministic per seed and holds one patient at a time, whatever the size. With
``invalid=0.0`` the data conforms to ``ontologies/cdm-shapes.ttl``; with ``invalid=f`` a fraction f of the
patients carries one realistic error (see :data:`ERRORS`). Identifiers and UIDs are synthetic.
"""

from __future__ import annotations

import argparse
import itertools
import random
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from hyperontology.prefixes import HO
from hyperontology.store.base import GRAPHS

CDM = HO + "cdm#"
DATA = HO + "data/synthetic/"
XSD = "http://www.w3.org/2001/XMLSchema#"
RDF_TYPE = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
UID_ROOT = "2.25."  # UUID-derived UIDs (PS3.5 B.2): synthetic, yet valid DICOM UIDs
Triple = tuple[ox.NamedNode, ox.NamedNode, ox.NamedNode | ox.Literal]


@dataclass(frozen=True)
class Site:
    """A primary cancer: its codes in each terminology, imaging and treatment habits, tumour marker."""

    name: str
    weight: float
    sex: str | None  # "F", "M" or None (either)
    diagnosis: tuple[str, ...]  # one code per terminology: SNOMED CT, ICD-10, NCIt
    morphology: tuple[str, ...]  # ICD-O-3 morphology
    topography: tuple[str, ...]  # ICD-O-3 topography
    body_site: str  # SNOMED CT body structure (series and surgery)
    modalities: tuple[tuple[str, float], ...]
    drugs: tuple[str, ...]  # ATC
    marker: tuple[str, str, float, float] | None  # LOINC test, UCUM unit, log-normal mu and sigma


SITES = (
    Site("lung", 0.30, None, ("SCT:363358000", "ICD10:C34.1", "NCIT:C4878"), ("ICDO3:8140/3", "ICDO3:8070/3",
         "ICDO3:8041/3"), ("ICDO3:C34.1", "ICDO3:C34.9"), "SCT:39607008",
         (("DCM:CT", 0.6), ("DCM:PT", 0.25), ("DCM:MR", 0.15)), ("ATC:L01XA01", "ATC:L01FF02", "ATC:L01CD02"),
         ("LOINC:2039-6", "UCUM:ng/mL", 1.0, 0.8)),
    Site("breast", 0.30, "F", ("SCT:254837009", "ICD10:C50.9", "NCIT:C4872"), ("ICDO3:8500/3", "ICDO3:8140/3"),
         ("ICDO3:C50.9",), "SCT:76752008", (("DCM:MG", 0.5), ("DCM:MR", 0.35), ("DCM:CT", 0.15)),
         ("ATC:L02BA01", "ATC:L02BG04", "ATC:L01CD01"), ("LOINC:6875-9", "UCUM:U/mL", 3.2, 0.6)),
    Site("prostate", 0.22, "M", ("SCT:399068003", "ICD10:C61", "NCIT:C4863"), ("ICDO3:8140/3",),
         ("ICDO3:C61.9",), "SCT:41216001", (("DCM:MR", 0.7), ("DCM:CT", 0.15), ("DCM:PT", 0.15)),
         ("ATC:L02BB03", "ATC:L01CD02"), ("LOINC:2857-1", "UCUM:ng/mL", 2.0, 1.0)),
    Site("colorectal", 0.18, None, ("SCT:363406005", "ICD10:C18.9", "NCIT:C2955"), ("ICDO3:8140/3",),
         ("ICDO3:C18.9", "ICDO3:C20.9"), "SCT:71854001", (("DCM:CT", 0.6), ("DCM:MR", 0.3), ("DCM:PT", 0.1)),
         ("ATC:L01XA03", "ATC:L01BC06"), ("LOINC:2039-6", "UCUM:ng/mL", 1.5, 1.0)),
)
SEX = {"F": "SCT:248152002", "M": "SCT:248153007"}
SMOKING = ("EUCAIM:CLIN1056513", "EUCAIM:CLIN1059047", "EUCAIM:CLIN1059166")
VITAL = {"alive": "EUCAIM:CLIN1024297", "dead": "EUCAIM:CLIN1024687"}
ECOG = ("EUCAIM:CLIN1024768", "EUCAIM:CLIN1024850")
STAGES = ("TNM:I", "TNM:II", "TNM:III", "TNM:IV")
TNM_T, TNM_N, TNM_M = ("TNM:T1", "TNM:T2", "TNM:T3", "TNM:T4"), ("TNM:N0", "TNM:N1", "TNM:N2"), ("TNM:M0", "TNM:M1")
MANUFACTURERS = ("EUCAIM:IMG1000044", "EUCAIM:IMG1000046", "EUCAIM:IMG1000047", "EUCAIM:IMG1000050")
MG_MANUFACTURERS = ("EUCAIM:IMG1000044", "EUCAIM:IMG1000047", "EUCAIM:IMG1000060")
INTENT = ("EUCAIM:CLIN1034118", "EUCAIM:COM1002603")
UNITS = ("UCUM:mo", "UCUM:Gy", "UCUM:mm")
# (instances low, high; slice thickness choices in mm) per modality
SERIES_SHAPE = {"DCM:CT": (80, 400, ("0.625", "1.25", "2.5", "5.0")), "DCM:MR": (20, 200, ("1.0", "3.0", "4.0")),
                "DCM:PT": (100, 300, ("2.0", "3.27", "4.0")), "DCM:MG": (1, 4, ())}


class Codes:
    """Every code the generator uses, resolved to its IRI in the given hyperontology (unknown codes raise)."""

    def __init__(self, ontology: Any, curies: set[str] | None = None) -> None:
        self._iri: dict[str, ox.NamedNode] = {}
        for curie in sorted(curies or _all_curies()):
            self._iri[curie] = ox.NamedNode(ontology.concept(curie).iri)  # UnknownConceptError: a bad code

    def __getitem__(self, curie: str) -> ox.NamedNode:
        return self._iri[curie]


def _all_curies() -> set[str]:
    curies = {*SEX.values(), *SMOKING, *VITAL.values(), *ECOG, *TNM_T, *TNM_N, *TNM_M, *STAGES, *MANUFACTURERS,
              *MG_MANUFACTURERS, *INTENT, *UNITS, *SERIES_SHAPE}
    for site in SITES:
        curies |= {*site.diagnosis, *site.morphology, *site.topography, site.body_site, *site.drugs}
        curies |= {m for m, _ in site.modalities}
        if site.marker:
            curies |= {site.marker[0], site.marker[1]}
    return curies


def stage_group(t: int, n: int, m: int) -> str:
    """A plausible TNM stage group of T(t+1) N(n) M(m) (simplified; real groupings depend on the site)."""
    if m:
        return "TNM:IV"
    if n == 0:
        return STAGES[0] if t < 2 else STAGES[1]
    return STAGES[1] if n == 1 and t < 2 else STAGES[2]


def cdm(name: str) -> ox.NamedNode:
    return ox.NamedNode(CDM + name)


def dec(value: float, digits: int = 1) -> ox.Literal:
    return ox.Literal(f"{value:.{digits}f}", datatype=ox.NamedNode(XSD + "decimal"))


def date(year: int, day_of_year: int) -> ox.Literal:
    month, day = 1 + (day_of_year // 31) % 12, 1 + day_of_year % 28
    return ox.Literal(f"{year:04d}-{month:02d}-{day:02d}T00:00:00", datatype=ox.NamedNode(XSD + "dateTime"))


class _Patient:
    """One patient's records, drawn from the shared random stream."""

    def __init__(self, index: int, seed: int, rng: random.Random, codes: Codes) -> None:
        self.i, self.seed, self.rng, self.c = index, seed, rng, codes
        self.node = ox.NamedNode(f"{DATA}patient/{seed}-{index}")
        self.site = rng.choices(SITES, [s.weight for s in SITES])[0]
        self.sex = self.site.sex or rng.choice("FM")
        self.birth_year = rng.randint(1935, 1985)
        self.dx_year = rng.randint(max(2010, self.birth_year + 25), 2023)
        self.dead = rng.random() < 0.3

    def iri(self, kind: str, n: int = 0) -> ox.NamedNode:
        return ox.NamedNode(f"{DATA}{kind}/{self.seed}-{self.i}-{n}")

    def uid(self, kind: int, n: int) -> ox.Literal:
        return ox.Literal(f"{UID_ROOT}{self.seed}{kind}{self.i:09d}{n:03d}")

    def triples(self) -> list[Triple]:
        out = self.patient()
        dx = self.iri("diagnosis")
        out += self.diagnosis(dx)
        if self.rng.random() < 0.65:
            out += self.stage(dx)
        for k in range(1 if self.rng.random() < 0.85 else 2):
            out += self.study(k)
        if self.rng.random() < 0.5:
            out += self.treatment()
        if self.site.marker and self.rng.random() < 0.3:
            out += self.marker()
        return out

    def patient(self) -> list[Triple]:
        p, c, rng = self.node, self.c, self.rng
        return [(p, RDF_TYPE, cdm("Patient")),
                (p, cdm("patientIdentifier"), ox.Literal(f"SYN-{self.seed}-{self.i:08d}")),
                (p, cdm("birthDate"), date(self.birth_year, rng.randrange(365))),
                (p, cdm("gender"), c[SEX[self.sex]]),
                (p, cdm("smokingStatus"), c[rng.choice(SMOKING)]),
                (p, cdm("vitalStatus"), c[VITAL["dead" if self.dead else "alive"]])]

    def diagnosis(self, dx: ox.NamedNode) -> list[Triple]:
        c, rng, site = self.c, self.rng, self.site
        survival = rng.lognormvariate(3.0, 0.7) if self.dead else rng.uniform(6, 120)
        return [(dx, RDF_TYPE, cdm("Diagnosis")), (dx, cdm("patient"), self.node),
                (dx, cdm("diagnosisCode"), c[site.diagnosis[self.i % len(site.diagnosis)]]),
                (dx, cdm("histology"), c[rng.choice(site.morphology)]),
                (dx, cdm("topography"), c[rng.choice(site.topography)]),
                (dx, cdm("ageAtDiagnosis"), dec(self.dx_year - self.birth_year + rng.random())),
                (dx, cdm("assertedDate"), date(self.dx_year, rng.randrange(365))),
                (dx, cdm("overallSurvival"), dec(survival)), (dx, cdm("overallSurvivalUnit"), c["UCUM:mo"])]

    def stage(self, dx: ox.NamedNode) -> list[Triple]:
        c, rng, st = self.c, self.rng, self.iri("stage")
        t, n, m = rng.randrange(4), rng.randrange(3), int(rng.random() < 0.15)
        return [(st, RDF_TYPE, cdm("CancerStage")), (st, cdm("diagnosis"), dx), (st, cdm("tnmT"), c[TNM_T[t]]),
                (st, cdm("tnmN"), c[TNM_N[n]]), (st, cdm("tnmM"), c[TNM_M[m]]),
                (st, cdm("stageGroup"), c[stage_group(t, n, m)])]

    def study(self, k: int) -> list[Triple]:
        study, n_series = self.iri("study", k), 1 if self.rng.random() < 0.6 else 2
        out: list[Triple] = [(study, RDF_TYPE, cdm("ImagingStudy")), (study, cdm("patient"), self.node),
                             (study, cdm("studyInstanceUID"), self.uid(1, k)),
                             (study, cdm("numberOfSeries"), ox.Literal(n_series))]
        for s in range(n_series):
            out += self.series(study, self.iri("series", 10 * k + s), 10 * k + s)
        return out

    def series(self, study: ox.NamedNode, se: ox.NamedNode, n: int) -> list[Triple]:
        c, rng = self.c, self.rng
        names, weights = zip(*self.site.modalities, strict=True)
        modality = rng.choices(names, weights)[0]
        low, high, thickness = SERIES_SHAPE[modality]
        makers = MG_MANUFACTURERS if modality == "DCM:MG" else MANUFACTURERS
        out: list[Triple] = [(se, RDF_TYPE, cdm("ImagingSeries")), (se, cdm("study"), study),
                             (se, cdm("modality"), c[modality]), (se, cdm("seriesInstanceUID"), self.uid(2, n)),
                             (se, cdm("bodySite"), c[self.site.body_site]),
                             (se, cdm("manufacturer"), c[rng.choice(makers)]),
                             (se, cdm("numberOfInstances"), ox.Literal(rng.randint(low, high)))]
        if thickness:
            out.append((se, cdm("sliceThickness"), ox.Literal(rng.choice(thickness),
                                                              datatype=ox.NamedNode(XSD + "decimal"))))
        return out

    def treatment(self) -> list[Triple]:
        c, rng, tr = self.c, self.rng, self.iri("treatment")
        kind = rng.choice(("Surgery", "Radiotherapy", "SystemicTherapy"))
        out: list[Triple] = [(tr, RDF_TYPE, cdm(kind)), (tr, cdm("patient"), self.node),
                             (tr, cdm("treatmentIntent"), c[INTENT[int(rng.random() < 0.25)]]),
                             (tr, cdm("startDate"), date(min(self.dx_year + 1, 2024), rng.randrange(365)))]
        if kind == "Radiotherapy":
            fractions = rng.choice((5, 20, 25, 30, 33))
            out += [(tr, cdm("totalDose"), dec(fractions * rng.choice((2.0, 2.5, 1.8)))),
                    (tr, cdm("doseUnit"), c["UCUM:Gy"]), (tr, cdm("fractionsDelivered"), ox.Literal(fractions))]
        elif kind == "SystemicTherapy":
            out.append((tr, cdm("medicationCode"), c[rng.choice(self.site.drugs)]))
        else:
            out.append((tr, cdm("bodySite"), c[self.site.body_site]))
        return out

    def marker(self) -> list[Triple]:
        assert self.site.marker is not None
        test, unit, mu, sigma = self.site.marker
        m, c = self.iri("marker"), self.c
        return [(m, RDF_TYPE, cdm("TumorMarkerTest")), (m, cdm("patient"), self.node), (m, cdm("code"), c[test]),
                (m, cdm("value"), dec(self.rng.lognormvariate(mu, sigma), 2)), (m, cdm("unit"), c[unit])]


# ------------------------------------------------------------------------------------------ realistic errors
def _where(triples: list[Triple], prop: str) -> int | None:
    return next((k for k, t in enumerate(triples) if t[1].value == CDM + prop), None)


Error = Callable[[list[Triple], "_Patient"], None]


def _replace(prop: str, make: Callable[[Triple, _Patient], Triple | None]) -> Error:
    """An error that replaces (or, when ``make`` gives None, drops) the patient's first triple of ``prop``."""

    def apply(triples: list[Triple], patient: _Patient) -> None:
        k = _where(triples, prop)
        if k is not None:
            new = make(triples[k], patient)
            if new is None:
                del triples[k]
            else:
                triples[k] = new
    return apply


def _second_birth_date(triples: list[Triple], patient: _Patient) -> None:
    triples.append((patient.node, cdm("birthDate"), date(patient.birth_year + 1, 0)))


#: the errors a fraction ``invalid`` of the patients carries (one each), as seen in real source data
ERRORS: dict[str, Error] = {
    "series without modality": _replace("modality", lambda t, p: None),
    "body site coded as modality": _replace("modality", lambda t, p: (t[0], t[1], p.c[p.site.body_site])),
    "age at diagnosis in days": _replace("ageAtDiagnosis", lambda t, p: (t[0], t[1], dec(365.25 * 60))),
    "negative instance count": _replace("numberOfInstances", lambda t, p: (t[0], t[1], ox.Literal(-1))),
    "date as free text": _replace("assertedDate", lambda t, p: (t[0], t[1], ox.Literal("03/11/2019"))),
    "survival without unit": _replace("overallSurvivalUnit", lambda t, p: None),
    "two birth dates (merged sources)": _second_birth_date,
    "study without UID": _replace("studyInstanceUID", lambda t, p: None),
}


# ------------------------------------------------------------------------------------------ stream
def cohort_quads(patients: int, *, seed: int = 1, ontology: Any = None, invalid: float = 0.0) -> Iterator[ox.Quad]:
    """Data-graph quads of a synthetic cohort of ``patients`` patients, one patient in memory at a time.

    Parameters
    ----------
    patients : number of patients (about 40 triples each).
    seed : the same seed gives the same quads, in the same order.
    ontology : the hyperontology the codes are looked up in (default: the bundled one).
    invalid : fraction of the patients carrying one error of :data:`ERRORS` (0 = conforming data).

    Examples
    --------
    >>> quads = list(cohort_quads(2, seed=7))
    >>> quads == list(cohort_quads(2, seed=7)) and 40 < len(quads) < 120
    True
    """
    if ontology is None:
        from hyperontology import load_ontology

        ontology = load_ontology()
    codes, rng, graph = Codes(ontology), random.Random(seed), GRAPHS["data"]
    errors = list(ERRORS.values())
    for i in range(patients):
        patient = _Patient(i, seed, rng, codes)
        triples = patient.triples()
        if invalid and rng.random() < invalid:
            rng.choice(errors)(triples, patient)
        for s, p, o in triples:
            yield ox.Quad(s, p, o, graph)


def write_nquads(quads: Iterator[ox.Quad], out: Path) -> None:
    """Stream the quads to an N-Quads file."""
    with out.open("wb") as handle:
        ox.serialize(quads, handle, ox.RdfFormat.N_QUADS)


def load_store(quads: Iterator[ox.Quad], path: Path, *, chunk: int = 100_000) -> int:
    """Load the quads into an embedded on-disk NodeStore in chunks; returns the number of quads given."""
    from hyperontology.store.oxigraph import NodeStore

    count = 0
    with NodeStore(path) as store:
        while batch := list(itertools.islice(quads, chunk)):
            store.store.bulk_extend(batch)
            count += len(batch)
        store.store.flush()
    return count


class _Counted:
    """Counts the quads flowing through (for the CLI's summary)."""

    def __init__(self, quads: Iterator[ox.Quad]) -> None:
        self.quads, self.n = quads, 0

    def __iter__(self) -> Iterator[ox.Quad]:
        for quad in self.quads:
            self.n += 1
            yield quad


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--patients", type=int, required=True)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--invalid", type=float, default=0.0, help="fraction of patients with one error")
    parser.add_argument("--out", type=Path, help="N-Quads file to write")
    parser.add_argument("--store", type=Path, help="embedded store directory to load (NodeStore)")
    parser.add_argument("--chunk", type=int, default=100_000, help="quads per store transaction")
    args = parser.parse_args(argv)
    if not args.out and not args.store:
        parser.error("give --out FILE.nq and/or --store DIR")
    start = time.perf_counter()
    for target in (args.out, args.store):
        if target is None:
            continue
        quads = _Counted(cohort_quads(args.patients, seed=args.seed, invalid=args.invalid))
        if target is args.out:
            write_nquads(iter(quads), target)
        else:
            load_store(iter(quads), target, chunk=args.chunk)
        print(f"{target}: {args.patients:,} patients, {quads.n:,} quads "
              f"({quads.n / max(args.patients, 1):.1f} per patient)", file=sys.stderr)
    print(f"done in {time.perf_counter() - start:.1f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
