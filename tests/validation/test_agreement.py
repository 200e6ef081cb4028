"""Ingest-time validation and ``validate`` agree exactly.

Ingest judges a batch with the fast path (one pyshacl run per canonical form of instance); ``validate`` judges
the store's data graph. The fast path used to replace a malformed date or number by a well-formed stand-in of its
datatype, so ingest loaded values ``validate`` then reported (``sh:datatype`` fails on an ill-typed literal).
"""

from __future__ import annotations

import json
from pathlib import Path

import pyoxigraph as ox
import pytest
import rdflib

from hyperontology import Hyperontology
from hyperontology.cli.main import main
from hyperontology.store.base import GRAPHS
from hyperontology.store.oxigraph import NodeStore
from hyperontology.validation.reconcile import Reconciler
from hyperontology.validation.shacl import DATA_NS, Violation, validate_quads, validate_store_export
from hyperontology.validation.store import validate_store

FHIR = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "fhir"
CDM = "https://w3id.org/hyperontology/cdm#"
XSD = "http://www.w3.org/2001/XMLSchema#"
RDF_TYPE = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
MALFORMED = [("birthDate", "1950-02-30", "date"), ("birthDate", "2019-04", "date"),
             ("birthDate", "2021-03-04T25:00:00", "dateTime"), ("numberOfStudies", "1.5", "integer"),
             ("ageAtDiagnosis", "1,5", "decimal"), ("deceased", "yes", "boolean")]


def key(v: Violation) -> tuple[str, ...]:
    return (v.focus, v.path, v.component, v.value, v.severity, v.message, v.shape)


def patient(prop: str, lexical: str, datatype: str) -> list[ox.Quad]:
    node, graph = ox.NamedNode(DATA_NS + "patient/p1"), GRAPHS["data"]
    return [ox.Quad(node, RDF_TYPE, ox.NamedNode(CDM + "Patient"), graph),
            ox.Quad(node, ox.NamedNode(CDM + "patientIdentifier"), ox.Literal("p1"), graph),
            ox.Quad(node, ox.NamedNode(CDM + prop), ox.Literal(lexical, datatype=ox.NamedNode(XSD + datatype)), graph)]


@pytest.mark.parametrize(("prop", "lexical", "datatype"), MALFORMED)
def test_fast_path_sees_malformed_literals(onto: Hyperontology, prop: str, lexical: str, datatype: str) -> None:
    quads = patient(prop, lexical, datatype)
    slow = sorted(map(key, validate_quads(quads, onto, fast=False)))
    assert slow  # pyshacl reports the malformed value
    assert sorted(map(key, validate_quads(quads, onto, fast=True))) == slow


@pytest.mark.parametrize(("prop", "lexical", "datatype"), MALFORMED[:3])
def test_ingest_withholds_what_validate_reports(tmp_path: Path, onto: Hyperontology, prop: str, lexical: str,
                                                datatype: str) -> None:
    with NodeStore(tmp_path / "store") as store:
        decision = Reconciler(store, onto).decide(patient(prop, lexical, datatype))
        assert [(p, v) for _, p, v in decision.withheld] == [(CDM + prop, lexical)]
        store.load(decision.add)
        assert validate_store(store, onto) == []


@pytest.mark.skipif(not FHIR.is_dir(), reason=f"needs the public FHIR examples in {FHIR} (../shared/data, absent here)")
def test_fhir_ingest_and_validate_agree(tmp_path: Path, onto: Hyperontology) -> None:
    store, report = tmp_path / "store", tmp_path / "report.json"
    assert main(["ingest", str(FHIR), "--store", str(store), "--new-key", str(tmp_path / "key"),
                 "--report", str(report), "--quiet"]) == 0
    found = json.loads(report.read_text())["violations"]
    assert not found.get("items_more")  # the report lists every result
    at_ingest = sorted((i["focus"], i["path"], i["component"], i["value"], i["severity"], i["message"], i["shape"])
                       for i in found["items"])
    with NodeStore(store, read_only=True) as node:
        now = sorted(map(key, validate_store(node, onto)))
        data = (node.export(None, "nt", graphs=["data"]) or b"").decode()
    assert now == sorted(map(key, validate_store_export(rdflib.Graph().parse(data=data, format="nt"), onto)))
    assert now == at_ingest
    assert not [r for r in now if r[4] == "Violation"]  # what ingest loaded conforms
