"""The ingestion pipeline end to end, with a real on-disk Oxigraph store."""

from __future__ import annotations

import json
from pathlib import Path

import pyoxigraph as ox
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hyperontology import Hyperontology
from hyperontology.mapping.loader import MappingSet, default_mappings_dir
from hyperontology.ontology.schemes import VERSION
from hyperontology.pipeline import IngestOptions, discover, ingest
from hyperontology.pseudonymize.keys import PseudonymKey, normalise_patient_id
from hyperontology.sources.base import MAX_INFLATED_BYTES
from hyperontology.store.oxigraph import GRAPHS, NodeStore
from tests.sources.test_compressed import gz_bomb

KEY = PseudonymKey(bytes(range(32)))
SAMPLES = default_mappings_dir().parent / "samples"
SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "data"


def run(paths: list[Path], onto: Hyperontology, store: Path, **kw) -> dict:  # type: ignore[no-untyped-def, type-arg]
    options = IngestOptions(key=KEY, mappings=MappingSet.load(default_mappings_dir()), store_path=store, **kw)
    return ingest(paths, options, ontology=onto)


def exported(store: Path, graphs: list[str]) -> str:
    with NodeStore(store) as node:
        return (node.export(None, "nq", graphs=graphs) or b"").decode()


def test_samples_meet_on_one_patient(onto: Hyperontology, tmp_path: Path) -> None:
    import pydicom

    ct = Path(pydicom.__file__).parent / "data" / "test_files" / "CT_small.dcm"
    report = run([ct, SAMPLES], onto, tmp_path / "store")
    assert report["totals"]["quarantined"] == 0
    patient = "https://w3id.org/hyperontology/data/patient/" + KEY.pseudonym("patient", normalise_patient_id("1CT1"))
    with NodeStore(tmp_path / "store") as node:
        rows = list(node.query(f"""PREFIX cdm: <https://w3id.org/hyperontology/cdm#>
            SELECT ?what WHERE {{ ?x cdm:patient <{patient}> ; a ?what }}""", default_graph=["data"]))
    kinds = {r["what"].value.rsplit("#", 1)[-1] for r in rows}
    assert {"ImagingSeries", "ImagingStudy", "Diagnosis", "CancerStage"} <= kinds


def test_every_input_is_accounted_for(onto: Hyperontology, tmp_path: Path) -> None:
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "notes.txt").write_text("just some words, not a table\n")
    (tmp_path / "in" / "broken.json").write_text("{not json")
    gz_bomb(tmp_path / "in" / "bomb.json.gz", MAX_INFLATED_BYTES + 1)
    report = run([SAMPLES, tmp_path / "in", tmp_path / "missing.csv"], onto, tmp_path / "store")
    files = {str(p) for p in discover([SAMPLES, tmp_path / "in", tmp_path / "missing.csv"])}
    assert {a["path"] for a in report["inputs"]} == files
    for account in report["inputs"]:
        done = account["loaded"] + account["quarantined"] + account["not_mapped"]
        assert done == account["records"], account
        assert account["records"] or account["rejected"], account
    reasons = {a["path"].rsplit("/", 1)[-1]: a["rejected"] for a in report["inputs"]}
    assert reasons["missing.csv"][0]["reason"] == "no such file"
    assert reasons["broken.json"]
    assert "bomb.json.gz: compressed input inflates to more than" in reasons["bomb.json.gz"][0]["reason"]


def test_rerun_is_idempotent_and_jobs_give_the_same_graph(onto: Hyperontology, tmp_path: Path) -> None:
    import pydicom

    files = Path(pydicom.__file__).parent / "data" / "test_files"
    run([files, SAMPLES], onto, tmp_path / "one")
    again = run([files, SAMPLES], onto, tmp_path / "one", rescan=True)
    assert again["totals"]["triples_added"] == 0
    run([files, SAMPLES], onto, tmp_path / "two", jobs=2)
    assert sorted(exported(tmp_path / "one", ["data"]).splitlines()) == sorted(
        exported(tmp_path / "two", ["data"]).splitlines())


def test_ontology_is_in_its_own_graph(onto: Hyperontology, tmp_path: Path) -> None:
    run([SAMPLES], onto, tmp_path / "store")
    with NodeStore(tmp_path / "store") as node:
        assert node.count("ontology") > 250_000
        assert node.ontology_release() == VERSION
        query = """PREFIX cdm: <https://w3id.org/hyperontology/cdm#> PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
            PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
            SELECT (COUNT(DISTINCT ?d) AS ?n) WHERE { ?d cdm:diagnosisCode ?c .
              ?c (rdfs:subClassOf|skos:exactMatch|^skos:exactMatch)* <http://snomed.info/id/363358000> }"""
        rows = list(node.query(query))
    assert int(rows[0]["n"].value) >= 1  # the sample lung adenocarcinoma, found through the hierarchy


def test_load_is_transactional(tmp_path: Path) -> None:
    quad = ox.Quad(ox.NamedNode("http://x/s"), ox.NamedNode("http://x/p"), ox.Literal("o"), GRAPHS["data"])

    def batch():  # type: ignore[no-untyped-def]
        yield quad
        raise RuntimeError("interrupted")

    with NodeStore(tmp_path / "store") as node:
        with pytest.raises(RuntimeError):
            node.load(batch())
        assert node.count("data") == 0


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.from_regex(r"[A-Za-z0-9]{6,12}", fullmatch=True), min_size=1, max_size=4, unique=True))
def test_no_identifier_survives(onto: Hyperontology, tmp_path_factory: pytest.TempPathFactory, ids: list[str]) -> None:
    folder = tmp_path_factory.mktemp("ids")
    rows = "\n".join(f"{i},Doe,Jane,female,F,1980-01-01,,,en,1 Road,Town,,00000" for i in ids)
    (folder / "patient-information.csv").write_text(
        "mrn,familyName,givenName,gender,birthsex,dateOfBirth,race,ethnicity,language,addressLine,city,state,zip\n"
        + rows + "\n")
    run([folder], onto, folder / "store")
    text = exported(folder / "store", ["data", "provenance", "quarantine"])
    for identifier in [*ids, "Doe", "Jane", "1 Road"]:
        assert identifier not in text


@pytest.mark.skipif(not (SHARED / "dicom").is_dir(), reason=f"needs the shared test data in {SHARED} (absent here)")
def test_shared_data_every_input_accounted_and_series_loaded(onto: Hyperontology, tmp_path: Path) -> None:
    paths = [SHARED / "dicom", SHARED / "fhir", SHARED / "clinical"]
    report = run(paths, onto, tmp_path / "store")
    assert {a["path"] for a in report["inputs"]} == {str(p) for p in discover(paths)}
    index = (SHARED / "dicom-index.csv").read_text().splitlines()[1:]
    readable = sum(1 for line in index if not line.rstrip().endswith(",") or ",," not in line)
    dicom = [a for a in report["inputs"] if a["source"] == "dicom"]
    assert sum(a["records"] for a in dicom) >= 77 and readable
    series = report["totals"]["instances"]["cdm:ImagingSeries"]
    quarantined_series = [q for q in report["quarantined"] if q["rule"] == "dicom/series"]
    assert series - len({q["instance"] for q in quarantined_series}) >= 40
    for entry in quarantined_series:
        # no concept for ANN (annotations); highdicom's SR document reuses the Series Instance UID of CT_small.dcm,
        # and the two instances disagree on the modality: none is loaded, the series is quarantined
        assert "ANN" in " ".join(entry["reasons"]) or "disagree" in " ".join(entry["reasons"]), entry
    fhir_patients = report["totals"]["instances"]["cdm:Patient"]
    assert fhir_patients >= 40
    json.dumps(report)  # the report is JSON-ready


def test_store_and_deidentified_files_agree_and_scan_finds_no_identifier(onto: Hyperontology, tmp_path: Path) -> None:
    """Ingest and `deidentify` pseudonymize with the same code: same UIDs; and no raw identifier in the store."""
    import pydicom

    from hyperontology.pseudonymize.dicom import Deidentifier
    from hyperontology.pseudonymize.profile import Profile
    from hyperontology.pseudonymize.scan import identifiers, scan_store

    inputs = [Path(pydicom.__file__).parent / "data" / "test_files", SAMPLES]
    if (SHARED / "dicom").is_dir():
        inputs += [SHARED / "dicom", SHARED / "fhir", SHARED / "clinical"]
    run(inputs, onto, tmp_path / "store")
    from hyperontology.pipeline import read_all

    records = [i for _, _, items in read_all(list(discover(inputs)), 1, False) for i in items
               if not hasattr(i, "reason")]
    with NodeStore(tmp_path / "store") as node:
        assert scan_store(node, identifiers(records)) == {}
        uids = {r["u"].value for r in node.query(
            "SELECT ?u WHERE { ?s <https://w3id.org/hyperontology/cdm#studyInstanceUID> ?u }", default_graph=["data"])}
    ct = Path(pydicom.__file__).parent / "data" / "test_files" / "CT_small.dcm"
    Deidentifier(KEY, Profile(retain_longitudinal_modified_dates=True)).deidentify_file(ct, tmp_path / "ct.dcm")
    assert pydicom.dcmread(tmp_path / "ct.dcm").StudyInstanceUID in uids


def test_a_record_linking_to_an_absent_instance_waits_in_quarantine(onto: Hyperontology, template: Path,
                                                                    tmp_path: Path) -> None:
    """A Condition whose subject is in no input loads nothing `validate` would reject; it loads with its patient."""
    from tests.pipeline.stores import copy_store, graphs, violations

    store = copy_store(template, tmp_path / "store")
    condition = {"resourceType": "Condition", "id": "c-mrn-1", "subject": {"reference": "urn:uuid:mrn-1"},
                 "code": {"coding": [{"system": "http://snomed.info/sct", "code": "1163375002"}]}}
    (tmp_path / "condition.json").write_text(json.dumps({"resourceType": "Bundle", "type": "collection",
                                                         "entry": [{"resource": condition}]}))
    report = run([tmp_path / "condition.json"], onto, store)
    assert report["totals"]["quarantined"] == 1 and report["totals"]["loaded"] == 0
    [entry] = report["quarantined"]
    assert any("cdm:patient" in reason for reason in entry["reasons"]), entry
    assert violations(store, onto) == []
    held = graphs(store)
    assert not any("Diagnosis" in q for q in held["data"])
    assert any("Diagnosis" in q for q in held["quarantine"])
    assert any("quarantineReason" in q for q in held["quarantine"])
    (tmp_path / "patient.json").write_text(json.dumps({"resourceType": "Patient", "id": "mrn-1"}))
    report = run([tmp_path / "patient.json"], onto, store)
    assert report["totals"]["instances_reconsidered"] == 1  # the condition, linking to the patient
    assert violations(store, onto) == []
    after = graphs(store)
    assert any("Diagnosis" in q for q in after["data"]) and after["quarantine"] == set()


def test_the_key_never_appears_in_report_or_store(onto: Hyperontology, tmp_path: Path) -> None:
    import base64

    report = run([SAMPLES], onto, tmp_path / "store")
    secret = bytes(range(32))
    forms = {secret.hex(), secret.hex().upper(), base64.b64encode(secret).decode()}
    text = json.dumps(report) + exported(tmp_path / "store", ["data", "provenance", "quarantine"]) + repr(KEY)
    assert not any(form in text for form in forms)
    assert report["run"]["key_id"] == KEY.key_id
