"""Cohort counts over a store built from the samples and pydicom's CT/MR test files (same patients)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pyoxigraph as ox
import pytest
from pydicom.data import get_testdata_file

from hyperontology import Hyperontology, UnknownConceptError, load_ontology
from hyperontology.mapping.loader import MappingSet, default_mappings_dir
from hyperontology.pipeline import IngestOptions, ingest
from hyperontology.pseudonymize.keys import PseudonymKey
from hyperontology.search.cohort import CohortCriteria, cohort_sparql, run_cohort

LUNG_CANCER = "SCT:363358000"  # the sample patient is coded SCT 254626006 (adenocarcinoma of lung)
CT, MR = "RADLEX:RID10321", "DCM:MR"


def build_store(path: Path) -> Path:
    """The samples plus CT_small.dcm (patient 1CT1, lung adenocarcinoma) and MR_small.dcm (patient 4MR1)."""
    options = IngestOptions(key=PseudonymKey(bytes(range(32))), mappings=MappingSet.load(default_mappings_dir()),
                            store_path=path)
    dicom = [Path(get_testdata_file(name)) for name in ("CT_small.dcm", "MR_small.dcm")]
    ingest([default_mappings_dir().parent / "samples", *dicom], options, ontology=load_ontology())
    return path


@pytest.fixture(scope="module")
def onto() -> Hyperontology:
    return load_ontology()


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ox.Store]:
    yield ox.Store.read_only(str(build_store(tmp_path_factory.mktemp("cohort") / "store")))


def counts(store: ox.Store, onto: Hyperontology, **criteria: object) -> tuple[int, int, int]:
    result = run_cohort(store, CohortCriteria(**criteria), onto)  # type: ignore[arg-type]
    return result["patients"], result["studies"], result["series"]


def test_no_criteria_counts_everyone(store: ox.Store, onto: Hyperontology) -> None:
    assert counts(store, onto) == (2, 2, 2)


def test_the_query_expands_across_terminologies(onto: Hyperontology) -> None:
    query = cohort_sparql(CohortCriteria(diagnosis=(LUNG_CANCER,)), onto)
    for iri in ("http://snomed.info/id/254626006", "http://purl.obolibrary.org/obo/NCIT_C3512",
                "http://purl.bioontology.org/ontology/ICD10/C34", "https://cancerimage.eu/ontology/EUCAIM#CLIN1000065"):
        assert f"<{iri}>" in query


def test_snomed_lung_cancer_finds_the_adenocarcinoma_patient(store: ox.Store, onto: Hyperontology) -> None:
    assert counts(store, onto, diagnosis=(LUNG_CANCER,)) == (1, 1, 1)
    # the same concept named in another terminology gives the same cohort
    assert counts(store, onto, diagnosis=("EUCAIM:CLIN1000065",)) == (1, 1, 1)


def test_modality_ct_matches_the_eucaim_coded_series(store: ox.Store, onto: Hyperontology) -> None:
    assert counts(store, onto, modality=(CT,)) == (1, 1, 1)
    assert counts(store, onto, modality=(CT, MR)) == (2, 2, 2)  # OR within a criterion


def test_and_across_criteria(store: ox.Store, onto: Hyperontology) -> None:
    assert counts(store, onto, diagnosis=(LUNG_CANCER,), modality=(CT,)) == (1, 1, 1)
    assert counts(store, onto, diagnosis=(LUNG_CANCER,), modality=(MR,)) == (0, 0, 0)
    assert counts(store, onto, diagnosis=(LUNG_CANCER,), stage=("https://w3id.org/hyperontology/tnm/IIIA",)) \
        == (1, 1, 1)


def test_age_at_diagnosis_from_birth_and_asserted_dates(store: ox.Store, onto: Hyperontology) -> None:
    # the lung cancer patient was 68 at diagnosis (shifted dates keep the interval)
    assert counts(store, onto, diagnosis=(LUNG_CANCER,), age_min=60, age_max=70) == (1, 1, 1)
    assert counts(store, onto, diagnosis=(LUNG_CANCER,), age_min=68, age_max=68) == (1, 1, 1)
    assert counts(store, onto, diagnosis=(LUNG_CANCER,), age_min=69) == (0, 0, 0)
    assert counts(store, onto, diagnosis=(LUNG_CANCER,), age_max=67.5) == (0, 0, 0)


def test_age_at_diagnosis_literal_wins() -> None:
    cdm = "https://w3id.org/hyperontology/cdm#"
    data = ox.NamedNode("https://w3id.org/hyperontology/graph/data")
    p, d = ox.NamedNode("http://x/p"), ox.NamedNode("http://x/d")
    rdf_type = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
    store = ox.Store()
    store.extend([ox.Quad(p, rdf_type, ox.NamedNode(cdm + "Patient"), data),
                  ox.Quad(d, rdf_type, ox.NamedNode(cdm + "Diagnosis"), data),
                  ox.Quad(d, ox.NamedNode(cdm + "patient"), p, data),
                  ox.Quad(d, ox.NamedNode(cdm + "ageAtDiagnosis"),
                          ox.Literal("41.5", datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#decimal")), data)])
    onto = load_ontology()
    assert run_cohort(store, CohortCriteria(age_min=41, age_max=42), onto)["patients"] == 1
    assert run_cohort(store, CohortCriteria(age_min=42), onto)["patients"] == 0


def test_quarantined_values_are_not_counted(store: ox.Store, onto: Hyperontology) -> None:
    # the samples and the DICOM files disagree on both patients' sex: the values are quarantined
    assert counts(store, onto, sex=("SCT:248152002",)) == (0, 0, 0)


def test_unknown_concept_is_an_error(store: ox.Store, onto: Hyperontology) -> None:
    with pytest.raises(UnknownConceptError) as caught:
        run_cohort(store, CohortCriteria(diagnosis=(LUNG_CANCER,), modality=("SCT:999999999",)), onto)
    assert caught.value.ref == "SCT:999999999"


def test_a_query_function_works_like_a_store(store: ox.Store, onto: Hyperontology) -> None:
    def rows(query: str) -> list[dict[str, str]]:
        return [{"patients": "1", "studies": "2", "series": "3"}]

    assert run_cohort(rows, CohortCriteria(), onto)["series"] == 3


def test_criteria_are_checked() -> None:
    with pytest.raises(TypeError):
        CohortCriteria(diagnosis="SCT:363358000")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="age_min"):
        CohortCriteria(age_min=70, age_max=60)
