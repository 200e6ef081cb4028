"""The CDM SHACL shapes (ontologies/cdm-shapes.ttl) against small hand-written data graphs, validated by pyshacl
over data + the bundled hyperontology, as ingestion validates (the data graph holds both)."""

from __future__ import annotations

import xml.etree.ElementTree as ET  # noqa: S405 - our own catalogue file
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pyshacl
import pytest
import rdflib
from rdflib.namespace import OWL, RDF, RDFS, SH

ONTOLOGIES = Path(__file__).resolve().parents[2] / "ontologies"
CDM = rdflib.Namespace("https://w3id.org/hyperontology/cdm#")
SDO = rdflib.Namespace("https://schema.org/")
SKOS_CONCEPT = rdflib.URIRef("http://www.w3.org/2004/02/skos/core#Concept")
EX = rdflib.Namespace("https://example.org/")

PREFIXES = """
@prefix cdm: <https://w3id.org/hyperontology/cdm#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
@prefix ex: <https://example.org/> .
@prefix sct: <http://snomed.info/id/> .
@prefix dcm: <http://dicom.nema.org/resources/ontology/DCM/> .
@prefix eucaim: <https://cancerimage.eu/ontology/EUCAIM#> .
@prefix tnm: <https://w3id.org/hyperontology/tnm/> .
@prefix ucum: <http://unitsofmeasure.org/> .
"""

# A conforming patient with one study, one series, a diagnosis (staged), a surgery and a tumour marker test.
BASE = """
ex:p1 a cdm:Patient ; cdm:patientIdentifier "P1" ; cdm:birthDate "1960-05-01T00:00:00"^^xsd:dateTime ;
    cdm:gender eucaim:COM1000176 ; cdm:birthSex sct:248153007 .
ex:st1 a cdm:ImagingStudy ; cdm:patient ex:p1 ; cdm:studyInstanceUID "1.2.826.0.1" ; cdm:numberOfSeries 1 .
ex:se1 a cdm:ImagingSeries ; cdm:study ex:st1 ; cdm:patient ex:p1 ; cdm:seriesInstanceUID "1.2.826.0.1.1" ;
    cdm:modality dcm:CT ; cdm:sliceThickness 1.25 ; cdm:pixelSpacing 0.7 ; cdm:kvp 120.0 ;
    cdm:numberOfInstances 240 ; cdm:bodySite sct:39607008 ; cdm:laterality sct:7771000 ;
    cdm:acquisitionDate "2021-03-04"^^xsd:date .
ex:d1 a cdm:Diagnosis ; cdm:patient ex:p1 ; cdm:diagnosisCode sct:254637007 ; cdm:histology sct:35917007 ;
    cdm:topography sct:39607008 ; cdm:ageAtDiagnosis 60.5 ; cdm:assertedDate "2021-02-01T00:00:00"^^xsd:dateTime ;
    cdm:tnmT tnm:T2a ; cdm:tnmN tnm:N1 ; cdm:tnmM tnm:M0 ; cdm:stageGroup tnm:IIB .
ex:cs1 a cdm:CancerStage ; cdm:diagnosis ex:d1 ; cdm:stage tnm:IIB .
ex:sx1 a cdm:Surgery ; cdm:patient ex:p1 ; cdm:bodySite sct:39607008 ; cdm:offsetFromDiagnosis 30.0 .
ex:tm1 a cdm:TumorMarkerTest ; cdm:patient ex:p1 ; cdm:value 4.2 ; cdm:unit <http://unitsofmeasure.org/ng%2FmL> ;
    cdm:date "2021-02-03T00:00:00"^^xsd:dateTime .
"""


@dataclass(frozen=True)
class Result:
    focus: rdflib.term.Node
    path: rdflib.term.Node | None
    severity: rdflib.term.Node
    component: rdflib.term.Node
    value: rdflib.term.Node | None


def _catalog_modules() -> list[Path]:
    root = ET.parse(ONTOLOGIES / "catalog-v001.xml").getroot()  # noqa: S314 - our own catalogue file
    return [ONTOLOGIES / el.attrib["uri"] for el in root if el.tag.endswith("uri")]


@pytest.fixture(scope="module")
def ontology() -> rdflib.Graph:
    """The hyperontology (every module of the catalogue, CDM included) in one graph, parsed once."""
    graph = rdflib.Graph()
    for module in _catalog_modules():
        graph.parse(module, format="turtle")
    return graph


@pytest.fixture(scope="module")
def shapes() -> rdflib.Graph:
    return rdflib.Graph().parse(ONTOLOGIES / "cdm-shapes.ttl", format="turtle")


def _validate(ontology: rdflib.Graph, shapes: rdflib.Graph, data: str) -> list[Result]:
    """Validate data merged with the ontology. The data triples are added to the shared ontology graph for the
    call and removed afterwards (copying 270k triples per test would dominate the run time)."""
    triples = rdflib.Graph().parse(data=PREFIXES + data, format="turtle")
    added = [t for t in triples if t not in ontology]
    for t in added:
        ontology.add(t)
    try:
        _conforms, report, _text = pyshacl.validate(ontology, shacl_graph=shapes, inference="none",
                                                    advanced=True, inplace=True)
    finally:
        for t in added:
            ontology.remove(t)
    results = []
    for report_node in report.subjects(RDF.type, SH.ValidationReport):
        for r in report.objects(report_node, SH.result):
            results.append(Result(report.value(r, SH.focusNode), report.value(r, SH.resultPath),
                                  report.value(r, SH.resultSeverity), report.value(r, SH.sourceConstraintComponent),
                                  report.value(r, SH.value)))
    return results


def test_conforming_set_conforms(ontology: rdflib.Graph, shapes: rdflib.Graph) -> None:
    assert _validate(ontology, shapes, BASE) == []


@pytest.mark.parametrize("value", [
    "dcm:CT",                   # DICOM modality (ho:kind "modality")
    "eucaim:IMG1000042",        # EUCAIM 'Computed tomography' (under IMG1000009)
    "dcm:RTSTRUCT",             # DICOM RT modality, listed explicitly (kind "other")
    "sct:77477000",             # SNOMED CT Computed tomography, a modality only through its mapping to dcm:CT
    "<http://radlex.org/RID/RID10312>",  # RadLex MRI
])
def test_modality_value_set_accepts(ontology: rdflib.Graph, shapes: rdflib.Graph, value: str) -> None:
    data = BASE.replace("cdm:modality dcm:CT", f"cdm:modality {value}")
    assert _validate(ontology, shapes, data) == []


@pytest.mark.parametrize("value", [
    "sct:363358000",            # SNOMED CT malignant tumour of lung (kind "diagnosis")
    "<http://purl.bioontology.org/ontology/ICD10/C34.1>",  # ICD-10 chapter II
    "<http://purl.obolibrary.org/obo/NCIT_C4878>",         # NCIt lung carcinoma (under C3262)
    "eucaim:CLIN1000064",       # EUCAIM neoplasm of lung
    "sct:35917007",             # a neoplasm morphology
])
def test_diagnosis_value_set_accepts(ontology: rdflib.Graph, shapes: rdflib.Graph, value: str) -> None:
    data = BASE.replace("cdm:diagnosisCode sct:254637007", f"cdm:diagnosisCode {value}")
    assert _validate(ontology, shapes, data) == []


V, W = SH.Violation, SH.Warning

# Every case adds one node, ex:bad, to BASE and expects a report about it alone, with at least one result of the
# given path, severity and constraint component. Many cases start ex:bad with one of these.
SERIES = 'ex:bad a cdm:ImagingSeries ; cdm:study ex:st1 ; cdm:seriesInstanceUID "9" ; '
PATIENT = 'ex:bad a cdm:Patient ; cdm:patientIdentifier "P9" ; '
DIAGNOSIS = "ex:bad a cdm:Diagnosis ; cdm:patient ex:p1 ; cdm:diagnosisCode sct:254637007 ; "

# (id, result path, severity, constraint component, Turtle added to BASE)
FAILING = [
    ("series-without-study", CDM.study, V, SH.MinCountConstraintComponent,
     'ex:bad a cdm:ImagingSeries ; cdm:seriesInstanceUID "9" ; cdm:modality dcm:MR .'),
    ("series-with-two-studies", CDM.study, V, SH.MaxCountConstraintComponent,
     'ex:st2 a cdm:ImagingStudy ; cdm:patient ex:p1 ; cdm:studyInstanceUID "2" .\n'
     'ex:bad a cdm:ImagingSeries ; cdm:study ex:st1 , ex:st2 ; cdm:seriesInstanceUID "9" ; cdm:modality dcm:MR .'),
    ("series-without-modality", CDM.modality, V, SH.MinCountConstraintComponent,
     'ex:bad a cdm:ImagingSeries ; cdm:study ex:st1 ; cdm:seriesInstanceUID "9" .'),
    ("series-study-link-to-non-study", CDM.study, V, SH.ClassConstraintComponent,
     'ex:bad a cdm:ImagingSeries ; cdm:study ex:p1 ; cdm:seriesInstanceUID "9" ; cdm:modality dcm:MR .'),
    ("negative-slice-thickness", CDM.sliceThickness, V, SH.MinExclusiveConstraintComponent,
     SERIES + "cdm:modality dcm:MR ; cdm:sliceThickness -1.5 ."),
    ("zero-field-strength", CDM.magneticFieldStrength, W, SH.MinExclusiveConstraintComponent,
     SERIES + "cdm:modality dcm:MR ; cdm:magneticFieldStrength 0.0 ."),
    ("negative-count", CDM.numberOfInstances, V, SH.MinInclusiveConstraintComponent,
     SERIES + "cdm:modality dcm:MR ; cdm:numberOfInstances -3 ."),
    ("string-where-decimal", CDM.sliceThickness, V, SH.DatatypeConstraintComponent,
     SERIES + 'cdm:modality dcm:MR ; cdm:sliceThickness "thin" .'),
    ("double-where-decimal", CDM.kvp, V, SH.DatatypeConstraintComponent,
     SERIES + "cdm:modality dcm:MR ; cdm:kvp 1.2e2 ."),
    ("modality-is-an-anatomy-concept", CDM.modality, V, SH.OrConstraintComponent,
     SERIES + "cdm:modality sct:39607008 ."),
    ("modality-is-a-literal", CDM.modality, V, SH.NodeKindConstraintComponent,
     SERIES + 'cdm:modality "CT" .'),
    ("body-site-is-a-modality", CDM.bodySite, V, SH.OrConstraintComponent,
     SERIES + "cdm:modality dcm:CT ; cdm:bodySite dcm:CT ."),
    ("laterality-is-an-anatomy-concept", CDM.laterality, V, SH.OrConstraintComponent,
     SERIES + "cdm:modality dcm:CT ; cdm:laterality sct:39607008 ."),
    ("study-without-patient", CDM.patient, V, SH.MinCountConstraintComponent,
     'ex:bad a cdm:ImagingStudy ; cdm:studyInstanceUID "7" .'),
    ("patient-without-identifier", CDM.patientIdentifier, V, SH.MinCountConstraintComponent,
     "ex:bad a cdm:Patient ."),
    ("patient-two-birth-dates", CDM.birthDate, V, SH.MaxCountConstraintComponent,
     PATIENT + 'cdm:birthDate "1950-01-01"^^xsd:date , "1951-01-01"^^xsd:date .'),
    ("birth-date-as-string", CDM.birthDate, V, SH.OrConstraintComponent,
     PATIENT + 'cdm:birthDate "1950-01-01" .'),
    ("gender-is-an-anatomy-concept", CDM.gender, V, SH.OrConstraintComponent,
     PATIENT + "cdm:gender sct:39607008 ."),
    ("diagnosis-code-outside-neoplasms", CDM.diagnosisCode, V, SH.OrConstraintComponent,
     "ex:bad a cdm:Diagnosis ; cdm:patient ex:p1 ; cdm:diagnosisCode sct:39607008 ."),
    ("diagnosis-code-unknown-to-the-hyperontology", CDM.diagnosisCode, W, SH.NodeConstraintComponent,
     "ex:bad a cdm:Diagnosis ; cdm:patient ex:p1 ; cdm:diagnosisCode sct:1000000000 ."),
    ("diagnosis-without-code", CDM.diagnosisCode, W, SH.MinCountConstraintComponent,
     "ex:bad a cdm:Diagnosis ; cdm:patient ex:p1 ."),
    ("diagnosis-patient-link-to-non-patient", CDM.patient, V, SH.ClassConstraintComponent,
     "ex:bad a cdm:Diagnosis ; cdm:patient ex:st1 ; cdm:diagnosisCode sct:254637007 ."),
    ("diagnosis-two-patients", CDM.patient, V, SH.MaxCountConstraintComponent,
     'ex:p2 a cdm:Patient ; cdm:patientIdentifier "P2" .\n'
     "ex:bad a cdm:Diagnosis ; cdm:patient ex:p1 , ex:p2 ; cdm:diagnosisCode sct:254637007 ."),
    ("histology-is-an-anatomy-concept", CDM.histology, V, SH.OrConstraintComponent,
     DIAGNOSIS + "cdm:histology sct:39607008 ."),
    ("age-at-diagnosis-over-130", CDM.ageAtDiagnosis, V, SH.MaxInclusiveConstraintComponent,
     DIAGNOSIS + "cdm:ageAtDiagnosis 200.0 ."),
    ("tnm-n-is-a-t-category", CDM.tnmN, V, SH.OrConstraintComponent,
     DIAGNOSIS + "cdm:tnmN tnm:T2 ."),
    ("tnm-t-is-a-modality", CDM.tnmT, V, SH.OrConstraintComponent,
     DIAGNOSIS + "cdm:tnmT dcm:CT ."),
    ("stage-group-is-a-category", CDM.stageGroup, V, SH.OrConstraintComponent,
     DIAGNOSIS + "cdm:stageGroup tnm:M1 ."),
    ("cancer-stage-without-diagnosis", CDM.diagnosis, W, SH.MinCountConstraintComponent,
     "ex:bad a cdm:CancerStage ; cdm:stage tnm:IIB ."),
    ("surgery-without-patient", CDM.patient, V, SH.MinCountConstraintComponent,
     "ex:bad a cdm:Surgery ; cdm:bodySite sct:39607008 ."),
    ("unit-is-a-modality", CDM.unit, V, SH.OrConstraintComponent,
     "ex:bad a cdm:LabTestResult ; cdm:patient ex:p1 ; cdm:value 1.0 ; cdm:unit dcm:CT ."),
    ("string-where-decimal-value", CDM.value, V, SH.DatatypeConstraintComponent,
     'ex:bad a cdm:LabTestResult ; cdm:patient ex:p1 ; cdm:value "high" .'),
]


@pytest.mark.parametrize(("path", "severity", "component", "data"),
                         [case[1:] for case in FAILING], ids=[case[0] for case in FAILING])
def test_constraint_reports(ontology: rdflib.Graph, shapes: rdflib.Graph, path: rdflib.URIRef,
                            severity: rdflib.URIRef, component: rdflib.URIRef, data: str) -> None:
    results = _validate(ontology, shapes, BASE + data)
    assert results, "expected a report"
    assert {r.focus for r in results} == {EX.bad}, results  # the conforming base stays clean
    assert any(r.path == path and r.severity == severity and r.component == component for r in results), results


def test_unknown_code_is_only_a_warning(ontology: rdflib.Graph, shapes: rdflib.Graph) -> None:
    results = _validate(ontology, shapes, BASE + SERIES + "cdm:modality dcm:NOPE .")
    assert [(r.path, r.severity) for r in results] == [(CDM.modality, SH.Warning)]


# --- the shapes file itself -----------------------------------------------------------------------------------

def _targeted_property_shapes(shapes: rdflib.Graph) -> Iterator[rdflib.term.Node]:
    targets = (SH.targetClass, SH.targetSubjectsOf, SH.targetObjectsOf, SH.targetNode)
    for node_shape in {s for t in targets for s in shapes.subjects(t, None)}:
        yield from shapes.objects(node_shape, SH.property)


def test_every_shape_is_named_and_has_a_message(shapes: rdflib.Graph) -> None:
    node_shapes = [s for s in shapes.subjects(RDF.type, SH.NodeShape)]
    assert len(node_shapes) > 20
    for shape in node_shapes:
        assert isinstance(shape, rdflib.URIRef), shape
        assert shapes.value(shape, RDFS.label) is not None, f"{shape} has no rdfs:label"
        assert shapes.value(shape, SH.message) is not None, f"{shape} has no sh:message"
    property_shapes = set(_targeted_property_shapes(shapes))
    assert len(property_shapes) > 150
    for shape in property_shapes:
        where = f"property shape on {shapes.value(shape, SH.path)}"
        assert shapes.value(shape, SH.name) is not None, f"{where} has no sh:name"
        assert shapes.value(shape, SH.message) is not None, f"{where} has no sh:message"
        assert shapes.value(shape, SH.severity) in (SH.Violation, SH.Warning), f"{where} has no sh:severity"


def test_every_cdm_property_has_a_value_shape(shapes: rdflib.Graph) -> None:
    """Datatype, link and coded-value shapes keep in step with cdm.ttl."""
    cdm = rdflib.Graph().parse(ONTOLOGIES / "cdm.ttl", format="turtle")
    checked = {}
    for shape in _targeted_property_shapes(shapes):
        for key in (SH.datatype, SH["or"], SH["class"], SH.nodeKind):
            if shapes.value(shape, key) is not None:
                checked.setdefault(shapes.value(shape, SH.path), set()).add(key)
    properties = [p for t in (OWL.DatatypeProperty, OWL.ObjectProperty) for p in cdm.subjects(RDF.type, t)
                  if str(p).startswith(str(CDM))]
    assert len(properties) > 100
    missing = []
    for prop in properties:
        ranges = set(cdm.objects(prop, RDFS.range)) | set(cdm.objects(prop, SDO.rangeIncludes))
        if SKOS_CONCEPT in ranges:
            expected = SH.nodeKind
        elif (prop, RDF.type, OWL.ObjectProperty) in cdm:
            expected = SH["class"] if prop != CDM.treatment else SH["or"]
        else:
            expected = SH["or"] if ranges == {rdflib.XSD.dateTime} else SH.datatype
        if expected not in checked.get(prop, set()):
            missing.append(prop)
    assert missing == []
