"""What an analyst does with two real public clinical tables: map them with curator files, ingest each into a
fresh embedded store, and count every patient under a concept asked in SNOMED CT, NCIt, ICD-10 or EUCAIM.

The tables are read from ../shared/data/clinical (see its SOURCE.md) and never copied; the mapping files and value
maps are in tests/cohort_tables/. Every expected count is computed here from the CSV rows, never written down.
"""

from __future__ import annotations

import csv
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import pytest

from hyperontology import Hyperontology
from hyperontology.mapping.engine import Mapper
from hyperontology.mapping.loader import MappingSet
from hyperontology.pipeline import IngestOptions, ingest
from hyperontology.pseudonymize.keys import PseudonymKey, normalise_patient_id
from hyperontology.search.cohort import CohortCriteria, run_cohort
from hyperontology.sources.tabular import CsvSource

KEY = PseudonymKey(bytes(range(32)))
CLINICAL = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "clinical"
MAPPINGS = Path(__file__).resolve().parents[1] / "cohort_tables"
LUNG_FILE, HN_FILE = "lung-scc-samsung.csv", "head-neck-radiomics-hn1-clinical.csv"
#: the curation of tests/cohort_tables/valuemaps/hn1-tumour-location.sssom.tsv; any other location is unmapped
HN_LOCATIONS = {"oropharynx": "ICD10:C10.9", "larynx": "ICD10:C32.9"}
MALE, FEMALE = "SCT:248153007", "SCT:248152002"

# Every lung patient is coded SCT 254634000 (squamous cell carcinoma of lung): each of these must find them all.
LUNG_CONCEPTS = {
    "SCT:363358000": "Malignant tumor of lung",
    "NCIT:C7377": "Malignant Lung Neoplasm",
    "ICD10:C34": "Malignant neoplasm of bronchus and lung",
    "EUCAIM:CLIN1000065": "Malignant tumor of lung (EUCAIM)",
    "SCT:254637007": "Non-small cell lung cancer (a squamous cell carcinoma is one)",
    "ICD10:C30-C39": "Malignant neoplasms of respiratory and intrathoracic organs (the block holding C34)",
}
# Every head and neck patient is coded ICD-10 C10.9 or C32.9: each of these must find them all.
HEAD_NECK_CONCEPTS = {
    "SCT:255056009": "Malignant tumor of head and neck",
    "NCIT:C4013": "Malignant Head and Neck Neoplasm",
    "EUCAIM:CLIN1059399": "Malignant tumor of head and neck (EUCAIM)",
}
HN_ICD10_BLOCKS = {"ICD10:C00-C14": "oropharynx", "ICD10:C30-C39": "larynx"}  # block -> the location it holds
# Concepts no patient of either table has: small cell lung carcinoma, carcinoma in situ of the respiratory system.
# (SNOMED CT 254632001, small cell carcinoma of lung, is not in the hyperontology: it cannot be asked.)
NEITHER = {"NCIT:C4917": "Lung Small Cell Carcinoma", "ICD10:D02": "Carcinoma in situ of middle ear and respiratory"}


# ------------------------------------------------------------------------------------------ the tables
def table_rows(name: str) -> list[dict[str, str]]:
    with (CLINICAL / name).open(encoding="utf-8-sig", newline="") as stream:
        return [row for row in csv.DictReader(stream) if any((cell or "").strip() for cell in row.values())]


def hn_location(row: dict[str, str]) -> str | None:
    """The curated location of a head and neck row (value maps ignore case and spaces), None when unmapped."""
    text = " ".join(row["index_tumour_location"].split()).casefold()
    return text if text in HN_LOCATIONS else None


@dataclass(frozen=True)
class Ingested:
    """One table ingested into its own store: its rows, the run's report, the store's directory."""

    name: str
    rows: list[dict[str, str]] = field(repr=False)
    id_column: str
    report: dict[str, Any] = field(repr=False)
    store: Path

    def ids(self, rows: list[dict[str, str]] | None = None) -> set[str]:
        """Distinct usable patient ids (as pseudonymized: case and spaces folded) of these rows."""
        return {normalise_patient_id(r[self.id_column]) for r in (self.rows if rows is None else rows)
                if r[self.id_column].strip()}

    def account(self) -> dict[str, Any]:
        (found,) = [a for a in self.report["inputs"] if Path(a["path"]).name == self.name]
        return found


@pytest.fixture(scope="module")
def clinical() -> Path:
    if not all((CLINICAL / name).is_file() for name in (LUNG_FILE, HN_FILE)):
        pytest.skip(f"needs the public clinical tables {LUNG_FILE} and {HN_FILE} in {CLINICAL} "
                    "(../shared/data, absent here)")
    return CLINICAL


def _ingest(clinical: Path, name: str, id_column: str, onto: Hyperontology, store: Path) -> Ingested:
    options = IngestOptions(key=KEY, mappings=MappingSet.load(MAPPINGS), store_path=store)
    report = ingest([clinical / name], options, ontology=onto)
    return Ingested(name, table_rows(name), id_column, report, store)


@pytest.fixture(scope="module")
def lung(clinical: Path, onto: Hyperontology, tmp_path_factory: pytest.TempPathFactory) -> Ingested:
    return _ingest(clinical, LUNG_FILE, "Index", onto, tmp_path_factory.mktemp("lung") / "store")


@pytest.fixture(scope="module")
def head_neck(clinical: Path, onto: Hyperontology, tmp_path_factory: pytest.TempPathFactory) -> Ingested:
    return _ingest(clinical, HN_FILE, "id", onto, tmp_path_factory.mktemp("head-neck") / "store")


@pytest.fixture(scope="module")
def lung_store(lung: Ingested) -> Iterator[ox.Store]:
    yield ox.Store.read_only(str(lung.store))


@pytest.fixture(scope="module")
def head_neck_store(head_neck: Ingested) -> Iterator[ox.Store]:
    yield ox.Store.read_only(str(head_neck.store))


def patients(store: ox.Store, onto: Hyperontology, **criteria: Any) -> int:
    count: int = run_cohort(store, CohortCriteria(**criteria), onto)["patients"]
    return count


def hn_mapped_rows(head_neck: Ingested) -> list[dict[str, str]]:
    return [r for r in head_neck.rows if hn_location(r) is not None]


# ------------------------------------------------------------------------------------------ ingest accounting
@pytest.mark.shared
def test_lung_ingest_accounts_for_every_row(lung: Ingested) -> None:
    account, usable = lung.account(), [r for r in lung.rows if r["Index"].strip()]
    assert account["source"] == "csv" and not account["rejected"]
    assert account["records"] == len(lung.rows)
    assert account["loaded"] == len(usable), lung.report["quarantined"][:5]
    assert account["loaded"] + account["quarantined"] + account["not_mapped"] == account["records"]
    assert lung.report["totals"]["instances"] == {"cdm:Diagnosis": len(usable), "cdm:Patient": len(usable)}
    assert lung.report["unmapped_values"] == {} and lung.report["unknown_codes"] == {}


@pytest.mark.shared
def test_head_neck_ingest_accounts_for_every_row(head_neck: Ingested) -> None:
    account = head_neck.account()
    with_id = [r for r in head_neck.rows if r["id"].strip()]
    mapped = [r for r in with_id if hn_location(r) is not None]
    assert account["source"] == "csv" and not account["rejected"]
    assert account["records"] == len(head_neck.rows)
    assert account["loaded"] == len(mapped), head_neck.report["quarantined"][:5]
    assert account["loaded"] + account["quarantined"] + account["not_mapped"] == account["records"]
    unmapped = Counter(r["index_tumour_location"].strip() for r in with_id if hn_location(r) is None)
    assert head_neck.report["unmapped_values"].get("hn1-tumour-location", {}) == dict(unmapped)
    assert head_neck.report["unknown_codes"] == {}


@pytest.mark.shared
def test_every_patient_is_in_the_store(lung: Ingested, lung_store: ox.Store, head_neck: Ingested,
                                       head_neck_store: ox.Store, onto: Hyperontology) -> None:
    assert patients(lung_store, onto) == len(lung.ids())
    assert patients(head_neck_store, onto) == len(head_neck.ids())


@pytest.mark.shared
def test_sex_comes_through_the_value_maps(lung: Ingested, lung_store: ox.Store, head_neck: Ingested,
                                          head_neck_store: ox.Store, onto: Hyperontology) -> None:
    for table, store, column, male, female in ((lung, lung_store, "Sex", "M", "F"),
                                               (head_neck, head_neck_store, "biological_sex", "male", "female")):
        for code, value in ((MALE, male), (FEMALE, female)):
            expected = table.ids([r for r in table.rows if r[column].strip() == value])
            assert patients(store, onto, sex=(code,)) == len(expected), (table.name, value)


@pytest.mark.shared
@pytest.mark.parametrize(("stage", "column", "value"), [("TNM:T4", "clin_t", "4"), ("TNM:N0", "clin_n", "0"),
                                                       ("TNM:M1", "clin_m", "1"), ("TNM:IVB", "ajcc_stage", "ivb")])
def test_head_neck_tnm(head_neck: Ingested, head_neck_store: ox.Store, onto: Hyperontology,
                       stage: str, column: str, value: str) -> None:
    expected = head_neck.ids([r for r in head_neck.rows if r[column].strip().casefold() == value])
    assert patients(head_neck_store, onto, stage=(stage,)) == len(expected)


# ------------------------------------------------------------------------------------------ cohort counts
@pytest.mark.shared
@pytest.mark.parametrize("concept", list(LUNG_CONCEPTS))
def test_lung_concept_counts_every_lung_patient(lung: Ingested, lung_store: ox.Store, onto: Hyperontology,
                                                concept: str) -> None:
    assert patients(lung_store, onto, diagnosis=(concept,)) == len(lung.ids()), LUNG_CONCEPTS[concept]


@pytest.mark.shared
@pytest.mark.parametrize("concept", list(HEAD_NECK_CONCEPTS))
def test_head_neck_concept_counts_every_head_neck_patient(head_neck: Ingested, head_neck_store: ox.Store,
                                                          onto: Hyperontology, concept: str) -> None:
    expected = head_neck.ids(hn_mapped_rows(head_neck))
    assert patients(head_neck_store, onto, diagnosis=(concept,)) == len(expected), HEAD_NECK_CONCEPTS[concept]


@pytest.mark.shared
def test_head_neck_icd10_blocks_ored_count_every_head_neck_patient(head_neck: Ingested, head_neck_store: ox.Store,
                                                                   onto: Hyperontology) -> None:
    expected = head_neck.ids(hn_mapped_rows(head_neck))
    assert patients(head_neck_store, onto, diagnosis=tuple(HN_ICD10_BLOCKS)) == len(expected)
    for block, location in HN_ICD10_BLOCKS.items():  # each block alone holds its own location's patients
        here = head_neck.ids([r for r in head_neck.rows if hn_location(r) == location])
        assert patients(head_neck_store, onto, diagnosis=(block,)) == len(here), block


# ------------------------------------------------------------------------------------------ negative checks
@pytest.mark.shared
@pytest.mark.parametrize("concept", [*HEAD_NECK_CONCEPTS, "ICD10:C00-C14", *NEITHER])
def test_lung_patients_are_not_under(lung_store: ox.Store, onto: Hyperontology, concept: str) -> None:
    # not ICD10:C30-C39: "respiratory and intrathoracic organs" holds both the larynx (C32) and the lung (C34)
    assert patients(lung_store, onto, diagnosis=(concept,)) == 0


@pytest.mark.shared
@pytest.mark.parametrize("concept", [*(c for c in LUNG_CONCEPTS if c != "ICD10:C30-C39"), *NEITHER])
def test_head_neck_patients_are_not_under(head_neck_store: ox.Store, onto: Hyperontology, concept: str) -> None:
    assert patients(head_neck_store, onto, diagnosis=(concept,)) == 0


# ------------------------------------------------------------------------------------------ the curation itself
def test_an_unlisted_location_is_reported_not_guessed(onto: Hyperontology, tmp_path: Path) -> None:
    """Synthetic rows in the head and neck table's layout: only the curated locations become diagnosis codes."""
    table = tmp_path / HN_FILE
    table.write_text("id,index_tumour_location,biological_sex\nX1,oropharynx,male\nX2,nasopharynx,female\n"
                     "X3, Larynx ,male\nX4,,male\n", encoding="utf-8")
    mappings = MappingSet.load(MAPPINGS)
    records = list(CsvSource().read(table))
    outcome = Mapper(mappings.specs, key=KEY, valuemaps=mappings.valuemaps, ontology=onto).apply(records)
    assert outcome.unmapped == Counter({("hn1-tumour-location", "nasopharynx"): 1})
    assert not outcome.unknown_codes and not outcome.unmatched_records
    code = "https://w3id.org/hyperontology/cdm#diagnosisCode"
    diagnoses = {e.record.fields["id"]: e for e in outcome.entities if e.cls == "cdm:Diagnosis"}
    written = {name: [q.object.value for q in e.quads if q.predicate.value == code] for name, e in diagnoses.items()}
    assert written == {"X1": ["http://purl.bioontology.org/ontology/ICD10/C10.9"], "X2": [],
                       "X3": ["http://purl.bioontology.org/ontology/ICD10/C32.9"], "X4": []}
    assert diagnoses["X2"].problems and diagnoses["X4"].problems  # required: quarantined, with the reason
    assert not diagnoses["X1"].problems and not diagnoses["X3"].problems
