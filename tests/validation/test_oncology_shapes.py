"""Shapes of the oncology properties the CDM gained (survival and follow-up, date of death, HPV / p16, smoking,
ECOG / Karnofsky performance status): a record using them as a table would conforms; a survival time without its
unit, a negative survival, a date that is not a date and two ECOG grades on one diagnosis do not. Validated by
pyshacl over data + the bundled hyperontology, as ingestion validates."""

from __future__ import annotations

import xml.etree.ElementTree as ET  # noqa: S405 - our own catalogue file
from pathlib import Path

import pyshacl
import pytest
import rdflib
from rdflib.namespace import RDF, SH

ONTOLOGIES = Path(__file__).resolve().parents[2] / "ontologies"
CDM = rdflib.Namespace("https://w3id.org/hyperontology/cdm#")
EX = rdflib.Namespace("https://example.org/")
PREFIXES = """
@prefix cdm: <https://w3id.org/hyperontology/cdm#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
@prefix ex: <https://example.org/> .
@prefix eucaim: <https://cancerimage.eu/ontology/EUCAIM#> .
@prefix icd10: <http://purl.bioontology.org/ontology/ICD10/> .
@prefix ucum: <http://unitsofmeasure.org/> .
"""
# a head and neck patient as the HN1 table gives one, plus what other tables carry (smoking, death date, KPS)
BASE = """
ex:p1 a cdm:Patient ; cdm:patientIdentifier "P1" ; cdm:vitalStatus eucaim:CLIN1024687 ;
    cdm:dateOfDeath "2015-03-01T00:00:00"^^xsd:dateTime ; cdm:smokingStatus eucaim:CLIN1059047 .
ex:d1 a cdm:Diagnosis ; cdm:patient ex:p1 ; cdm:diagnosisCode icd10:C10.9 ;
    cdm:overallSurvival 3193.0 ; cdm:overallSurvivalUnit ucum:d ; cdm:followUpTime 3193.0 ; cdm:followUpUnit ucum:d ;
    cdm:hpvStatus eucaim:COM1001332 ; cdm:ecogPerformanceStatus eucaim:CLIN1024850 ;
    cdm:karnofskyPerformanceStatus eucaim:COM1000013 .
"""


@pytest.fixture(scope="module")
def ontology() -> rdflib.Graph:
    root = ET.parse(ONTOLOGIES / "catalog-v001.xml").getroot()  # noqa: S314 - our own catalogue file
    graph = rdflib.Graph()
    for element in root:
        if element.tag.endswith("uri"):
            graph.parse(ONTOLOGIES / element.attrib["uri"], format="turtle")
    return graph


@pytest.fixture(scope="module")
def shapes() -> rdflib.Graph:
    return rdflib.Graph().parse(ONTOLOGIES / "cdm-shapes.ttl", format="turtle")


def results(ontology: rdflib.Graph, shapes: rdflib.Graph, data: str) -> set[tuple[str, str, str]]:
    """(focus, path, component) of every result, data merged into the ontology for the call."""
    triples = rdflib.Graph().parse(data=PREFIXES + data, format="turtle")
    added = [t for t in triples if t not in ontology]
    for t in added:
        ontology.add(t)
    try:
        _conforms, report, _text = pyshacl.validate(ontology, shacl_graph=shapes, inference="none", inplace=True)
    finally:
        for t in added:
            ontology.remove(t)
    found = set()
    for node in report.subjects(RDF.type, SH.ValidationReport):
        for r in report.objects(node, SH.result):
            found.add((str(report.value(r, SH.focusNode)), str(report.value(r, SH.resultPath)),
                       str(report.value(r, SH.sourceConstraintComponent)).rsplit("#", 1)[-1]))
    return found


def test_oncology_record_conforms(ontology: rdflib.Graph, shapes: rdflib.Graph) -> None:
    assert results(ontology, shapes, BASE) == set()


@pytest.mark.parametrize(("data", "path", "component"), [
    ("ex:d2 a cdm:Diagnosis ; cdm:patient ex:p1 ; cdm:diagnosisCode icd10:C32.9 ; cdm:overallSurvival 16.4 .",
     "overallSurvivalUnit", "MinCountConstraintComponent"),
    ("ex:d2 a cdm:Diagnosis ; cdm:patient ex:p1 ; cdm:diagnosisCode icd10:C32.9 ; cdm:followUpTime 12.0 .",
     "followUpUnit", "MinCountConstraintComponent"),
    ("ex:d2 a cdm:Diagnosis ; cdm:patient ex:p1 ; cdm:diagnosisCode icd10:C32.9 ; cdm:overallSurvival -3.0 ; "
     "cdm:overallSurvivalUnit ucum:mo .", "overallSurvival", "MinInclusiveConstraintComponent"),
    ("ex:d2 a cdm:Diagnosis ; cdm:patient ex:p1 ; cdm:diagnosisCode icd10:C32.9 ; "
     "cdm:ecogPerformanceStatus eucaim:CLIN1024768 , eucaim:CLIN1024850 .",
     "ecogPerformanceStatus", "MaxCountConstraintComponent"),
    ("ex:d2 a cdm:Diagnosis ; cdm:patient ex:p1 ; cdm:diagnosisCode icd10:C32.9 ; cdm:overallSurvival 5.0 ; "
     "cdm:overallSurvivalUnit eucaim:CLIN1024687 .", "overallSurvivalUnit", "OrConstraintComponent"),
    ('ex:d2 a cdm:Diagnosis ; cdm:patient ex:p1 ; cdm:diagnosisCode icd10:C32.9 ; cdm:hpvStatus "positive" .',
     "hpvStatus", "NodeKindConstraintComponent"),
    ('ex:p2 a cdm:Patient ; cdm:patientIdentifier "P2" ; cdm:dateOfDeath "31/10/98" .',
     "dateOfDeath", "OrConstraintComponent"),
])
def test_oncology_mistakes_are_reported(ontology: rdflib.Graph, shapes: rdflib.Graph, data: str, path: str,
                                        component: str) -> None:
    found = results(ontology, shapes, BASE + data)
    focus = str(EX.p2 if "ex:p2" in data else EX.d2)
    assert (focus, str(CDM[path]), component) in found, found
    assert {f for f, _, _ in found} == {focus}, found  # the conforming base stays clean
