"""The export into the ETL's staging schema (``export --format eucaim-cdm-ingestion``), on SQLite and on a real
throwaway PostgreSQL cluster (skipped when its binaries are absent), where the infrastructure's own procedure then
moves the rows into its output schema."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import pytest
import rdflib
from rdflib.namespace import RDF

from hyperontology import Hyperontology
from hyperontology.cli.main import main
from hyperontology.federation.synthetic import build_node_store
from hyperontology.interop.cdm_export import CdmExportError
from hyperontology.interop.cdm_ingestion import STAGING, export_staging
from hyperontology.interop.cdm_model import CDM, cdm_model
from hyperontology.interop.ddl import INGESTION_SCHEMA, cdm_tables, parse_ddl
from hyperontology.interop.sqldb import CdmDatabaseError
from hyperontology.ontology.files import bundled_dir
from hyperontology.store.base import GRAPHS, open_store
from hyperontology.store.oxigraph import NodeStore
from tests.pgcluster import new_database

DATA = "https://w3id.org/hyperontology/data/"
XSD = "http://www.w3.org/2001/XMLSchema#"
TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "data"
PROCEDURE = DATA + "procedure/p1"


def _extra_quads(store: NodeStore) -> list[ox.Quad]:
    """What the synthetic node lacks: UIDs for some studies and series, an imaging procedure (its patient only
    through its diagnosis) that a study refers to, an instance of a class without a staging table, a text too
    long for its column."""
    rows = store.query(f"SELECT ?s ?c WHERE {{ GRAPH <{GRAPHS['data'].value}> {{ ?s a ?c "
                       f"VALUES ?c {{ <{CDM}ImagingStudy> <{CDM}ImagingSeries> }} }} }} ORDER BY ?s")
    triples: list[tuple[str, str, ox.NamedNode | ox.Literal]] = []
    studies = []
    for n, row in enumerate(rows):
        if n % 2 == 0:
            study = row["c"].value.endswith("Study")
            triples.append((row["s"].value, CDM + ("studyInstanceUID" if study else "seriesInstanceUID"),
                            ox.Literal(f"2.25.{n}")))
            studies += [row["s"].value] if study else []
    diagnosis = next(iter(store.query(f"SELECT ?d WHERE {{ ?d a <{CDM}Diagnosis> ; <{CDM}patient> ?p }} "
                                      "ORDER BY ?d LIMIT 1")))["d"].value
    patient = next(iter(store.query(f"SELECT ?p WHERE {{ ?p a <{CDM}Patient> }} ORDER BY ?p LIMIT 1")))["p"].value
    triples += [
        (PROCEDURE, TYPE, ox.NamedNode(CDM + "Procedure")), (PROCEDURE, CDM + "identifier", ox.Literal("proc-1")),
        (PROCEDURE, CDM + "diagnosis", ox.NamedNode(diagnosis)),
        (PROCEDURE, CDM + "procedureCode", ox.NamedNode("http://snomed.info/id/77477000")),
        (PROCEDURE, CDM + "performedDate", ox.Literal("2020-01-02T10:30:00", datatype=ox.NamedNode(XSD + "dateTime"))),
        (studies[0], CDM + "procedure", ox.NamedNode(PROCEDURE)),
        (DATA + "outcome/o1", TYPE, ox.NamedNode(CDM + "Outcome")),
        *_clinical(patient),
        (patient, CDM + "managingOrganization", ox.Literal("x" * 151)),
    ]
    return [ox.Quad(ox.NamedNode(s), ox.NamedNode(p), o, GRAPHS["data"]) for s, p, o in triples]


def _clinical(patient: str) -> list[tuple[str, str, ox.NamedNode | ox.Literal]]:
    """Treatments (one of each kind), a lab test and a family history of one patient: the synthetic node has
    none."""
    rt, surgery, drug, lab, family = (DATA + p for p in ("treatment/rt1", "treatment/s1", "treatment/m1",
                                                         "lab/l1", "family/f1"))
    day = ox.Literal("2021-03-04T00:00:00", datatype=ox.NamedNode(XSD + "dateTime"))
    out: list[tuple[str, str, ox.NamedNode | ox.Literal]] = []
    for iri, cls in ((rt, "Radiotherapy"), (surgery, "Surgery"), (drug, "SystemicTherapy"), (lab, "LabTestResult"),
                     (family, "FamilyMemberHistory")):
        out += [(iri, TYPE, ox.NamedNode(CDM + cls)), (iri, CDM + "patient", ox.NamedNode(patient))]
    return [*out,
            (rt, CDM + "identifier", ox.Literal("rt-1")), (rt, CDM + "startDate", day),
            (rt, CDM + "radiotherapyModality", ox.NamedNode("https://cancerimage.eu/ontology/EUCAIM#CLIN1014933")),
            (surgery, CDM + "procedureCode", ox.NamedNode("http://snomed.info/id/387713003")),
            (surgery, CDM + "performedDate", day), (drug, CDM + "startDate", day),
            (drug, CDM + "medicationId", ox.Literal("7", datatype=ox.NamedNode(XSD + "integer"))),
            (lab, CDM + "code", ox.NamedNode("http://loinc.org/rdf#2857-1")),
            (lab, CDM + "value", ox.Literal("4.2", datatype=ox.NamedNode(XSD + "decimal"))),
            (family, CDM + "relationship", ox.NamedNode("http://snomed.info/id/72705000")),
            (family, CDM + "onsetAge", ox.Literal("50", datatype=ox.NamedNode(XSD + "integer")))]


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory, onto: Hyperontology) -> Path:
    path = tmp_path_factory.mktemp("staging") / "store"
    build_node_store(path, patients=25, ontology=onto, datasets=[("a", "Dataset A"), ("b", "Dataset B")])
    with NodeStore(path) as store:
        store.load(_extra_quads(store))
    return path


@pytest.fixture(scope="module")
def exported(node: Path, onto: Hyperontology, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    target = tmp_path_factory.mktemp("sqlite") / "staging.db"
    report_path = target.with_suffix(".json")
    with open_store(node, read_only=True) as store:
        report = export_staging(store, f"sqlite:///{target}", ontology=onto, report_path=report_path)
    assert json.loads(report_path.read_text(encoding="utf-8")) == json.loads(json.dumps(report))
    return target, report


def _ddl_tables() -> dict[str, list[tuple[str, str]]]:
    return {t.name: [(c.name, c.type) for c in t.columns] for t in cdm_tables(INGESTION_SCHEMA)}


def _sqlite_tables(path: Path) -> dict[str, list[tuple[str, str]]]:
    with sqlite3.connect(path) as conn:
        names = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
        return {n: [(r[1], r[2].upper()) for r in conn.execute(f'PRAGMA table_info("{n}")')] for n in names}


def _select(path: Path, sql: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(path) as conn:
        return conn.execute(sql).fetchall()


def test_the_mapping_names_columns_of_the_ddl() -> None:
    ddl = {t.name: {c.name for c in t.columns} for t in cdm_tables(INGESTION_SCHEMA)}
    cdm = rdflib.Graph().parse(bundled_dir() / "cdm.ttl", format="turtle")
    properties = {str(p) for p in cdm.subjects(RDF.type, None) if str(p).startswith(CDM) and str(p)[len(CDM)].islower()}
    for spec in STAGING:
        for field in (spec.key, *spec.fields):
            assert set(field.columns) <= ddl[spec.table], (spec.table, field)
            assert field.kind == "row" or field.prop in properties, (spec.table, field)
        targets = [f.target for f in spec.fields if f.kind == "ref"]
        assert all(t in [s.table for s in STAGING[:STAGING.index(spec)]] for t in targets), spec.table


@pytest.mark.shared
def test_shipped_ddl_is_the_infrastructures(eucaim_dir: Path) -> None:
    source = parse_ddl((eucaim_dir / "2_init_eucaim_cdm_ingestion.sql").read_text(encoding="utf-8"))
    assert source == list(cdm_tables(INGESTION_SCHEMA)) and len(source) == 24
    assert all(c.name == c.name.lower() for t in source for c in t.columns)


def test_sqlite_schema_is_the_ddl(exported: tuple[Path, dict[str, Any]]) -> None:
    assert _sqlite_tables(exported[0]) == _ddl_tables()


def _class_counts(node: Path) -> dict[str, int]:
    ancestors, counts = cdm_model().ancestors, {}
    with open_store(node, read_only=True) as store:
        for spec in STAGING:
            classes = " ".join(f"<{c}>" for c, a in ancestors.items() if spec.cls in a)
            query = (f"SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE {{ GRAPH <{GRAPHS['data'].value}> {{ ?s a ?c }} "
                     f"VALUES ?c {{ {classes} }} }}")
            counts[spec.table] = int(next(iter(store.query(query)))["n"].value)
    return counts


def test_rows_are_the_instances_of_each_class(node: Path, exported: tuple[Path, dict[str, Any]]) -> None:
    target, report = exported
    counts = _class_counts(node)
    for table, n in counts.items():
        entry = report["tables"][table]
        rows = _select(target, f'SELECT id, processed FROM "{table}" ORDER BY id')  # noqa: S608
        assert len(rows) == entry["rows"] and rows == [(i, 0) for i in range(1, len(rows) + 1)], table
        assert entry["rows"] + sum(entry["instances_not_expressed"].values()) == n, table
    written = {t: e["rows"] for t, e in report["tables"].items()}
    assert written["cancerpatient"] == 25 and written["dataset"] == 2 and written["imagingprocedure"] == 1
    assert all(written[t] == 1 for t in ("radiotherapycoursesummary", "surgicalprocedure", "cancerrelatedmedication",
                                         "labtestresult", "familymemberhistory"))
    assert _select(target, "SELECT treatmentidentifier, performeddate, radiotherapyeucaim, radiotherapyoriginal "
                           "FROM radiotherapycoursesummary") == [("rt-1", "2021-03-04", "CLIN1014933",
                                                                  "EUCAIM:CLIN1014933")]
    assert _select(target, "SELECT treatmentidentifier, procedureeucaim, procedureoriginal FROM surgicalprocedure"
                   ) == [("s1", "CLIN1004413", "SCT:387713003")]
    assert written["imagestudy"] > 0 and written["imageseries"] > 0 and written["primarycancercondition"] > 0
    # a series' acquisition parameters, keyed by its UIDs and its study's (both in the primary key)
    with_study = _select(target, "SELECT COUNT(*) FROM imageseries WHERE imagestudyuid IS NOT NULL")[0][0]
    assert 0 < written["imagetags"] == with_study < written["imageseries"]
    assert _select(target, "SELECT COUNT(*) FROM imagetags t JOIN imageseries s ON t.imageseriesidentifier = s.id "
                           "AND t.imageseriesuid = s.imageseriesuid AND t.imagestudyuid = s.imagestudyuid"
                   ) == [(with_study,)]
    tags = report["tables"]["imagetags"]["instances_not_expressed"]
    assert tags["no value for imagetags.imagestudyuid (PRIMARY KEY)"] == written["imageseries"] - with_study
    assert not any(written[t] for t in ("processlog", "mappedcodeableconceptsresults", "datasetingestioncontrol"))
    # references hold the referenced rows' identifiers, as the infrastructure's procedure joins them
    assert _select(target, "SELECT COUNT(*) FROM cancerpatient WHERE datasetidentifier NOT IN "
                           "(SELECT identifier FROM dataset)") == [(0,)]
    assert _select(target, "SELECT COUNT(*) FROM imageseries WHERE imagestudyuid NOT IN "
                           "(SELECT imagestudyuid FROM imagestudy)") == [(0,)]
    procedure = _select(target, "SELECT p.procedureidentifier, p.patientidentifier = c.patientidentifier, "
                                "p.performeddate, p.imagingprocedureeucaim, p.imagingprocedureoriginal "
                                "FROM imagingprocedure p JOIN primarycancercondition c "
                                "ON p.primarycancerconditionidentifier = c.identifier")
    assert procedure == [("proc-1", 1, "2020-01-02", "IMG1000026", "SCT:77477000")]
    assert _select(target, "SELECT COUNT(*) FROM imagestudy WHERE imagingprocedureidentifier = 'proc-1' "
                           "AND datasetidentifier IN (SELECT identifier FROM dataset)") == [(1,)]
    assert all(len(d) == 10 for (d,) in _select(target, "SELECT birthdate FROM cancerpatient"))


def _coded_columns() -> list[tuple[str, str, str | None]]:
    """(table, EUCAIM column, its Original column or None) of every coded field the export writes."""
    out: list[tuple[str, str, str | None]] = []
    for spec in STAGING:
        for field in spec.fields:
            if field.kind == "pair":
                out.append((spec.table, field.columns[0], field.columns[1]))
            elif field.kind == "code":
                out.append((spec.table, field.column, None))
    return out


def test_coded_columns_hold_known_eucaim_codes(exported: tuple[Path, dict[str, Any]], onto: Hyperontology) -> None:
    seen = original_only = 0
    for table, eucaim, original in _coded_columns():
        other = original or "NULL"
        for code, source in _select(exported[0], f'SELECT {eucaim}, {other} FROM "{table}" '  # noqa: S608
                                                 f"WHERE {eucaim} IS NOT NULL OR {other} IS NOT NULL"):
            if code is not None:
                assert "EUCAIM:" + code in onto, (table, eucaim, code)
                seen += 1
            if original is not None:  # a pair: the Original is the concept the store holds, as a CURIE
                assert source is not None and source in onto, (table, original, source)
                original_only += code is None
    assert seen > 100
    assert original_only > 0  # concepts without an EUCAIM equivalent: only their Original is written


def test_the_report_accounts_for_every_triple(node: Path, exported: tuple[Path, dict[str, Any]]) -> None:
    report = exported[1]
    t = report["totals"]
    with open_store(node, read_only=True) as store:
        triples = store.count("data")
    assert t["type_triples"] + t["values_written"] + t["values_not_expressed"] == triples
    assert t["rows"] == sum(e["rows"] for e in report["tables"].values())
    assert report["instances_without_table"] == {"no staging table for cdm:Outcome": 1}
    patient = report["tables"]["cancerpatient"]["values_not_expressed"]
    assert patient["cdm:managingOrganization: longer than VARCHAR(150)"] == 1
    assert patient["cdm:gender: no column for it in cancerpatient"] > 0
    assert report["tables"]["imagestudy"]["instances_not_expressed"]["no value for imagestudy.imagestudyuid "
                                                                      "(PRIMARY KEY)"] > 0
    assert report["tables"]["primarycancercondition"]["eucaim_codes_missing"]
    assert report["tables"]["imagingprocedure"]["adjusted"]["performeddate: time of day dropped (DATE column)"] == 1
    assert report["examples"] and all(e["reason"] for e in report["examples"])


def _dump(path: Path) -> list[Any]:
    with sqlite3.connect(path) as conn:
        out: list[Any] = list(conn.execute("SELECT type, name, sql FROM sqlite_master ORDER BY name"))
        for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"):
            out.append((name, sorted(conn.execute(f'SELECT * FROM "{name}"'), key=repr)))  # noqa: S608
    return out


def test_a_failed_export_leaves_the_target_unchanged(node: Path, onto: Hyperontology, tmp_path: Path) -> None:
    conflicting = tmp_path / "conflict.db"
    with sqlite3.connect(conflicting) as conn:
        conn.execute("CREATE TABLE cancerpatient (identifier TEXT PRIMARY KEY, something_else INTEGER)")
        conn.execute("INSERT INTO cancerpatient VALUES ('p', 1)")
    forced = tmp_path / "forced.db"  # the schema is right; an insert late in the export fails
    series = next(t for t in cdm_tables(INGESTION_SCHEMA) if t.name == "imageseries")
    with sqlite3.connect(forced) as conn:
        conn.execute(f"CREATE TABLE imageseries ({', '.join(f'{c.name} {c.type}' for c in series.columns)})")
        conn.execute("CREATE TRIGGER boom BEFORE INSERT ON imageseries BEGIN SELECT RAISE(ABORT, 'forced'); END")
        conn.execute("CREATE TABLE log (n INTEGER)")
        conn.execute("INSERT INTO log VALUES (1)")
    before = {p: _dump(p) for p in (conflicting, forced)}
    with open_store(node, read_only=True) as store:
        with pytest.raises(CdmExportError, match="cancerpatient exists and differs"):
            export_staging(store, f"sqlite:///{conflicting}", ontology=onto)
        with pytest.raises(CdmDatabaseError, match="forced; nothing was written"):
            export_staging(store, f"sqlite:///{forced}", ontology=onto)
    assert {p: _dump(p) for p in before} == before


def test_cli_export_replace_is_deterministic(exported: tuple[Path, dict[str, Any]], node: Path, tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    target, report_path = tmp_path / "cli.db", tmp_path / "report.json"
    args = ["export", "--store", str(node), "--format", "eucaim-cdm-ingestion", "--to", f"sqlite:///{target}"]
    assert main([*args, "--report", str(report_path)]) == 0
    out = capsys.readouterr().out
    assert f"{exported[1]['totals']['rows']} rows written" in out and "cancerpatient: 25 rows" in out
    assert json.loads(report_path.read_text(encoding="utf-8"))["tables"] == exported[1]["tables"]
    first = _dump(target)
    assert main(args) == 2
    assert "already holds rows" in capsys.readouterr().err
    assert main([*args, "--replace"]) == 0
    assert _dump(target) == first == _dump(exported[0])


# ------------------------------------------------------------------------------------------ PostgreSQL
_PG_NAMES = {"character varying": "VARCHAR", "numeric": "DECIMAL", "integer": "INTEGER", "date": "DATE",
             "boolean": "BOOLEAN", "text": "TEXT", "timestamp without time zone": "TIMESTAMP"}


def _pg_schema(conn: Any, schema: str) -> dict[str, list[tuple[str, str]]]:
    rows = conn.execute("SELECT table_name, column_name, data_type, character_maximum_length, numeric_precision, "
                        "numeric_scale FROM information_schema.columns WHERE table_schema = %s "
                        "ORDER BY table_name, ordinal_position", (schema,)).fetchall()
    out: dict[str, list[tuple[str, str]]] = {}
    for table, column, kind, length, precision, scale in rows:
        size = f"({length})" if length else f"({precision},{scale})" if kind == "numeric" else ""
        out.setdefault(table, []).append((column, _PG_NAMES[kind] + size))
    return out


def test_postgres_export(postgres: str, node: Path, exported: tuple[Path, dict[str, Any]],
                         onto: Hyperontology) -> None:
    import psycopg

    url = new_database(postgres, "cdm_staging")
    with open_store(node, read_only=True) as store:
        report = export_staging(store, url, ontology=onto)
        with pytest.raises(CdmExportError, match="already holds rows"):
            export_staging(store, url, ontology=onto)
    assert report["tables"] == exported[1]["tables"]
    with psycopg.connect(url) as conn:
        assert _pg_schema(conn, INGESTION_SCHEMA) == _ddl_tables()
        for table, entry in report["tables"].items():
            count = conn.execute(f"SELECT COUNT(*) FROM {INGESTION_SCHEMA}.{table}").fetchone()  # noqa: S608
            assert count == (entry["rows"],)
        for table, eucaim, _ in _coded_columns():
            codes = conn.execute(f"SELECT {eucaim} FROM {INGESTION_SCHEMA}.{table} "  # noqa: S608
                                 f"WHERE {eucaim} IS NOT NULL").fetchall()
            assert all("EUCAIM:" + c in onto for (c,) in codes)


def test_the_infrastructures_procedure_reads_the_rows(postgres: str, node: Path, onto: Hyperontology,
                                                      eucaim_dir: Path) -> None:
    """The infrastructure's own DDLs (2_ staging, 3_ output, 4_ lookups) and procedure (6_) in a plain
    PostgreSQL: the export writes into the tables 2_ created, and ``transform_dataset_v001`` moves its rows."""
    import psycopg

    url = new_database(postgres, "cdm_etl")
    with psycopg.connect(url, autocommit=True) as conn:
        for name in ("2_init_eucaim_cdm_ingestion.sql", "3_init_eucaim_cdm_output.sql", "4_init_eucaim_etl_aux.sql",
                     "6_procedure_update_output_db_for_dataset.sql"):
            conn.execute((eucaim_dir / name).read_text(encoding="utf-8"))
    with open_store(node, read_only=True) as store:
        report = export_staging(store, url, ontology=onto)
    rows = {t: e["rows"] for t, e in report["tables"].items()}
    with psycopg.connect(url, autocommit=True) as conn:
        for (dataset,) in conn.execute("SELECT identifier FROM eucaim_cdm_ingestion.dataset").fetchall():
            conn.execute("CALL eucaim_etl_aux.transform_dataset_v001(%s)", (dataset,))

        def count(sql: str) -> int:
            return int(conn.execute(sql).fetchone()[0])  # type: ignore[index]

        assert count("SELECT COUNT(*) FROM eucaim_cdm_output.dataset") == rows["dataset"]
        assert count("SELECT COUNT(*) FROM eucaim_cdm_output.patient") == rows["cancerpatient"]
        assert count("SELECT COUNT(*) FROM eucaim_cdm_output.cancer_condition") == rows["primarycancercondition"]
        assert count("SELECT COUNT(*) FROM eucaim_cdm_output.procedure") == rows["imagingprocedure"] == 1
        assert count("SELECT COUNT(*) FROM eucaim_cdm_output.tumor_marker_test") == rows["tumormarkertest"]
        assert count("SELECT COUNT(*) FROM eucaim_cdm_output.treatment") == 3 == sum(
            rows[t] for t in ("radiotherapycoursesummary", "surgicalprocedure", "cancerrelatedmedication"))
        assert count("SELECT COUNT(*) FROM eucaim_cdm_output.radiotherapy WHERE radiotherapy_modality = "
                     "'CLIN1014933' AND radiotherapy_start_date = '2021-03-04'") == 1
        assert count("SELECT COUNT(*) FROM eucaim_cdm_output.lab_test_result") == rows["labtestresult"] == 1
        assert count("SELECT COUNT(*) FROM eucaim_cdm_output.cancer_stage") == rows["cancerstage"]
        assert count("SELECT COUNT(*) FROM eucaim_cdm_output.image_modality WHERE acquisition_parameter_code = "
                     "'IMG1016306'") == count("SELECT COUNT(*) FROM eucaim_cdm_ingestion.imagetags t JOIN "
                                              "eucaim_cdm_ingestion.imagestudy s ON t.imagestudyuid = "
                                              "s.imagestudyuid JOIN eucaim_cdm_output.image_series o ON "
                                              "t.imageseriesuid = o.series_uid")
        # the procedure takes a study only through its imaging procedure, and a series only through its study
        assert count("SELECT COUNT(*) FROM eucaim_cdm_output.image_study") == count(
            "SELECT COUNT(*) FROM eucaim_cdm_ingestion.imagestudy WHERE imagingprocedureidentifier IS NOT NULL") == 1
        assert count("SELECT COUNT(*) FROM eucaim_cdm_output.image_series") == count(
            "SELECT COUNT(*) FROM eucaim_cdm_ingestion.imageseries s JOIN eucaim_cdm_ingestion.imagestudy t "
            "ON s.imagestudyuid = t.imagestudyuid WHERE t.imagingprocedureidentifier IS NOT NULL")
        assert count("SELECT COUNT(*) FROM eucaim_cdm_output.patient WHERE patient_birth_date IS NOT NULL") == 25


# ------------------------------------------------------------------------------------------ shared DICOM files
@pytest.mark.skipif(not (SHARED / "dicom").is_dir(), reason=f"needs the shared DICOM files in {SHARED} (absent)")
def test_shared_dicom_files(tmp_path: Path, onto: Hyperontology) -> None:
    store_dir, target = tmp_path / "store", tmp_path / "dicom.db"
    assert main(["ingest", str(SHARED / "dicom"), "--store", str(store_dir), "--new-key", str(tmp_path / "key"),
                 "--dataset", "shared", "--dataset-title", "Shared DICOM files", "--quiet"]) in (0, 1)
    counts = {}
    with open_store(store_dir, read_only=True) as store:
        for cls, uid in (("ImagingStudy", "studyInstanceUID"), ("ImagingSeries", "seriesInstanceUID")):
            query = (f"SELECT (COUNT(DISTINCT ?u) AS ?n) WHERE {{ GRAPH <{GRAPHS['data'].value}> "
                     f"{{ ?s a <{CDM}{cls}> ; <{CDM}{uid}> ?u }} }}")
            counts[cls] = int(next(iter(store.query(query)))["n"].value)
        report = export_staging(store, f"sqlite:///{target}", ontology=onto)
        triples = store.count("data")
    t = report["totals"]
    assert t["type_triples"] + t["values_written"] + t["values_not_expressed"] == triples
    assert report["tables"]["imagestudy"]["rows"] == counts["ImagingStudy"] > 0
    assert report["tables"]["imageseries"]["rows"] == counts["ImagingSeries"] > 0
    modalities = _select(target, "SELECT modality FROM imageseries WHERE modality IS NOT NULL")
    assert modalities and all("EUCAIM:" + m in onto for (m,) in modalities)
    assert _select(target, "SELECT COUNT(*) FROM imagestudy WHERE datasetidentifier = 'shared'") == [
        (counts["ImagingStudy"],)]
    tags = _select(target, "SELECT COUNT(*), COUNT(slicethickness), COUNT(kvp), COUNT(imagerows) FROM imagetags")
    assert tags[0][0] == counts["ImagingSeries"] and all(n > 0 for n in tags[0])
