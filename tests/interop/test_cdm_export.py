"""The relational CDM export (``export --format eucaim-cdm``) and its reverse (``ingest --source eucaim-cdm``), on
SQLite and on a real throwaway PostgreSQL cluster (skipped when its binaries are absent)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import pytest

from hyperontology import Hyperontology
from hyperontology.cli.main import main
from hyperontology.federation.synthetic import build_node_store
from hyperontology.interop.cdm_export import CdmExportError, export_cdm
from hyperontology.interop.cdm_import import read_cdm
from hyperontology.interop.cdm_model import CDM, EUCAIM, cdm_model
from hyperontology.interop.ddl import SCHEMA, cdm_tables, parse_ddl
from hyperontology.interop.sqldb import CdmDatabaseError
from hyperontology.store.base import GRAPHS, open_store
from hyperontology.store.oxigraph import NodeStore
from tests.interop.tables import (
    canonical,
    class_counts,
    ddl_tables,
    pg_tables,
    read_postgres,
    read_sqlite,
    sqlite_tables,
)
from tests.pgcluster import new_database

DATA = "https://w3id.org/hyperontology/data/"
XSD = "http://www.w3.org/2001/XMLSchema#"
TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"


def _extra_quads(store: NodeStore) -> list[ox.Quad]:
    """UIDs for some studies and series (the synthetic node has none), and what the plain node lacks: a
    radiotherapy (two tables), episodes with a parent, an instance of a class without a table, a text too long."""
    rows = store.query(f"SELECT ?s ?c WHERE {{ GRAPH <{GRAPHS['data'].value}> {{ ?s a ?c "
                       f"VALUES ?c {{ <{CDM}ImagingStudy> <{CDM}ImagingSeries> }} }} }} ORDER BY ?s")
    triples: list[tuple[str, str, ox.NamedNode | ox.Literal]] = []
    for n, row in enumerate(rows):
        if n % 2 == 0:
            prop = "studyInstanceUID" if row["c"].value.endswith("Study") else "seriesInstanceUID"
            triples.append((row["s"].value, CDM + prop, ox.Literal(f"2.25.{n}")))
    patient = next(iter(store.query(f"SELECT ?p WHERE {{ ?p a <{CDM}Patient> }} ORDER BY ?p LIMIT 1")))["p"].value
    rt, ep1, ep2 = DATA + "treatment/t1", DATA + "episode/e1", DATA + "episode/e0"
    triples += [
        (rt, TYPE, ox.NamedNode(CDM + "Radiotherapy")), (rt, CDM + "patient", ox.NamedNode(patient)),
        (rt, CDM + "numberOfSessions", ox.Literal("25", datatype=ox.NamedNode(XSD + "integer"))),
        (rt, CDM + "totalDose", ox.Literal("50.004", datatype=ox.NamedNode(XSD + "decimal"))),
        (rt, CDM + "episode", ox.NamedNode(ep1)),
        (rt, CDM + "radiotherapyModality", ox.NamedNode(EUCAIM + "CLIN1014933")),
        (ep1, TYPE, ox.NamedNode(CDM + "Episode")), (ep1, CDM + "parentEpisode", ox.NamedNode(ep2)),
        (ep1, CDM + "patient", ox.NamedNode(patient)),
        (ep2, TYPE, ox.NamedNode(CDM + "Episode")), (ep2, CDM + "patient", ox.NamedNode(patient)),
        (DATA + "outcome/o1", TYPE, ox.NamedNode(CDM + "Outcome")),
        (patient, CDM + "managingOrganization", ox.Literal("x" * 151)),
    ]
    return [ox.Quad(ox.NamedNode(s), ox.NamedNode(p), o, GRAPHS["data"]) for s, p, o in triples]


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory, onto: Hyperontology) -> Path:
    path = tmp_path_factory.mktemp("cdm") / "store"
    build_node_store(path, patients=25, ontology=onto, datasets=[("a", "Dataset A"), ("b", "Dataset B")])
    with NodeStore(path) as store:
        store.load(_extra_quads(store))
    return path


@pytest.fixture(scope="module")
def exported(node: Path, onto: Hyperontology, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    target = tmp_path_factory.mktemp("sqlite") / "cdm.db"
    report_path = target.with_suffix(".json")
    with open_store(node, read_only=True) as store:
        report = export_cdm(store, f"sqlite:///{target}", ontology=onto, report_path=report_path)
    assert json.loads(report_path.read_text(encoding="utf-8")) == json.loads(json.dumps(report))
    return target, report


@pytest.mark.shared
def test_shipped_ddl_is_the_infrastructures(eucaim_dir: Path) -> None:
    source = parse_ddl((eucaim_dir / "3_init_eucaim_cdm_output.sql").read_text(encoding="utf-8"))
    assert source == list(cdm_tables())


def test_sqlite_schema_is_the_ddl(exported: tuple[Path, dict[str, Any]]) -> None:
    assert sqlite_tables(exported[0]) == ddl_tables()


def test_rows_are_the_instances_of_each_class(node: Path, exported: tuple[Path, dict[str, Any]]) -> None:
    target, report = exported
    counts = class_counts(node)
    with sqlite3.connect(target) as conn:
        rows = {t: conn.execute(f'SELECT COUNT(*) FROM "{t}"').fetchone()[0] for t in counts}  # noqa: S608
    for table, n in counts.items():
        entry = report["tables"][table]
        assert rows[table] == entry["rows"]
        assert rows[table] + sum(entry["instances_not_expressed"].values()) == n, table
    # what the test data exercise: both tables of a radiotherapy, imaging with and without UIDs, episodes
    assert rows["radiotherapy"] == rows["treatment"] == 1
    assert rows["image_study"] > 0 and report["tables"]["image_study"]["instances_not_expressed"]
    assert rows["image_series"] > 0 and rows["episode"] == 2
    with sqlite3.connect(target) as conn:
        radio = conn.execute("SELECT treatment_id, radiotherapy_total_dose, radiotherapy_number_of_sessions, "
                             "episode FROM radiotherapy").fetchone()
        treatment_id, episode = conn.execute("SELECT treatment_id, episode FROM treatment").fetchone()
        parents = conn.execute("SELECT COUNT(*) FROM episode WHERE episode_parent_id IS NOT NULL").fetchone()[0]
    assert radio == (treatment_id, 50.0, 25, episode) and episode is not None and parents == 1
    assert report["tables"]["radiotherapy"]["adjusted"] == {"radiotherapy_total_dose: rounded to 2 decimals": 1}


def test_coded_columns_hold_known_eucaim_codes(exported: tuple[Path, dict[str, Any]], onto: Hyperontology) -> None:
    model = cdm_model()
    seen = 0
    with sqlite3.connect(exported[0]) as conn:
        for table, columns in model.columns.items():
            for column, spec in columns.items():
                if spec.kind != "code":
                    continue
                for (value,) in conn.execute(f'SELECT {column} FROM "{table}" WHERE {column} IS NOT NULL'):  # noqa: S608
                    assert "EUCAIM:" + value in onto, (table, column, value)
                    seen += 1
    assert seen > 100


def test_the_report_accounts_for_every_triple(node: Path, exported: tuple[Path, dict[str, Any]]) -> None:
    report = exported[1]
    t = report["totals"]
    with open_store(node, read_only=True) as store:
        triples = store.count("data")
    assert t["type_triples"] + t["values_written"] + t["values_not_expressed"] == triples
    assert t["rows"] == sum(e["rows"] for e in report["tables"].values())
    assert report["instances_without_table"] == {"no table for cdm:Outcome": 1}
    patient = report["tables"]["patient"]["values_not_expressed"]
    assert patient["cdm:managingOrganization: longer than VARCHAR(150)"] == 1
    stage = report["tables"]["cancer_stage"]["values_not_expressed"]
    assert any(k.startswith("cdm:tnmT: no column") for k in stage)
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
        conn.execute("CREATE TABLE patient (patient_id TEXT PRIMARY KEY, something_else INTEGER)")
        conn.execute("INSERT INTO patient VALUES ('p', 1)")
    forced = tmp_path / "forced.db"  # the schema is right; an insert late in the export fails
    image_study = next(t for t in cdm_tables() if t.name == "image_study")
    with sqlite3.connect(forced) as conn:
        conn.execute(f"CREATE TABLE image_study ({', '.join(f'{c.name} {c.type}' for c in image_study.columns)})")
        conn.execute("CREATE TRIGGER boom BEFORE INSERT ON image_study BEGIN SELECT RAISE(ABORT, 'forced'); END")
        conn.execute("CREATE TABLE log (n INTEGER)")
        conn.execute("INSERT INTO log VALUES (1)")
    before = {p: _dump(p) for p in (conflicting, forced)}
    with open_store(node, read_only=True) as store:
        with pytest.raises(CdmExportError, match="patient exists and differs"):
            export_cdm(store, f"sqlite:///{conflicting}", ontology=onto)
        with pytest.raises(CdmDatabaseError, match="forced; nothing was written"):
            export_cdm(store, f"sqlite:///{forced}", ontology=onto)
    assert {p: _dump(p) for p in before} == before


def test_relational_rdf_relational_loses_nothing(exported: tuple[Path, dict[str, Any]], onto: Hyperontology,
                                                  tmp_path: Path) -> None:
    first = exported[0]
    quads = read_cdm(f"sqlite:///{first}")
    again = tmp_path / "again.db"
    with NodeStore(None) as store:
        store.load(quads)
        report = export_cdm(store, f"sqlite:///{again}", ontology=onto)
    assert report["totals"]["values_not_expressed"] == 0 and report["totals"]["instances_not_expressed"] == 0
    assert canonical(read_sqlite(again)) == canonical(read_sqlite(first))


def test_cli_export_and_ingest(exported: tuple[Path, dict[str, Any]], node: Path, tmp_path: Path,
                               capsys: pytest.CaptureFixture[str]) -> None:
    target, report_path = tmp_path / "cli.db", tmp_path / "report.json"
    assert main(["export", "--store", str(node), "--format", "eucaim-cdm", "--to", f"sqlite:///{target}",
                 "--report", str(report_path)]) == 0
    out = capsys.readouterr().out
    assert f"{exported[1]['totals']['rows']} rows written" in out and "image_study:" in out
    assert json.loads(report_path.read_text(encoding="utf-8"))["tables"] == exported[1]["tables"]
    assert main(["export", "--store", str(node), "--format", "eucaim-cdm", "--to", f"sqlite:///{target}"]) == 2
    assert "already holds rows" in capsys.readouterr().err
    store = tmp_path / "store"
    assert main(["ingest", "--source", "eucaim-cdm", f"sqlite:///{target}", "--store", str(store), "--quiet"]) == 0
    assert f"{exported[1]['totals']['rows']} rows read" in capsys.readouterr().out
    assert main(["ingest", f"sqlite:///{target}", "--store", str(store)]) == 2
    assert "--source eucaim-cdm" in capsys.readouterr().err


# ------------------------------------------------------------------------------------------ PostgreSQL
def test_postgres_export(postgres: str, node: Path, exported: tuple[Path, dict[str, Any]],
                         onto: Hyperontology) -> None:
    import psycopg

    url = new_database(postgres, "cdm_export")
    with open_store(node, read_only=True) as store:
        report = export_cdm(store, url, ontology=onto)
        with pytest.raises(CdmExportError, match="already holds rows"):
            export_cdm(store, url, ontology=onto)
    assert report["tables"] == exported[1]["tables"]
    with psycopg.connect(url) as conn:
        schema = pg_tables(conn)
        assert schema == ddl_tables()
        for table, entry in report["tables"].items():
            assert conn.execute(f"SELECT COUNT(*) FROM {SCHEMA}.{table}").fetchone() == (entry["rows"],)  # noqa: S608
        codes = conn.execute(f"SELECT patient_gender FROM {SCHEMA}.patient WHERE patient_gender IS NOT NULL"
                             ).fetchall()
    assert codes and all("EUCAIM:" + c in onto for (c,) in codes)
    # relational (PostgreSQL) -> RDF -> relational (SQLite): the same tables
    assert canonical(read_sqlite(exported[0])) == canonical(read_postgres(url))


