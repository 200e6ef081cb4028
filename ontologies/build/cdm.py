"""Generate the CDM core ontology (``ontologies/cdm.ttl``) from the EUCAIM relational CDM.

Inputs (the directory ``--eucaim-dir``, see its ``SOURCE.md``):

- ``3_init_eucaim_cdm_output.sql``: the relational CDM of EUCAIM nodes (EUCAIM/etl-toolset, Apache-2.0);
  its CREATE TABLE statements give tables, columns, SQL types, primary and foreign keys and comments;
- ``eucaim_hyperontology-v2.0-{object,datatype}-properties.jsonl``: the properties of the EUCAIM
  Hyper-Ontology v2.0 (CC BY 4.0), reused through ``owl:equivalentProperty``;
- ``eucaim_hyperontology-v2.0-classes.jsonl``: its classes, to check the labels of the concept ties.

The hand-written tables below (``CLASSES``, ``PROPERTIES``, ``COLUMNS``) name the classes and properties;
everything else (columns, ranges, domains, foreign-key targets) comes from the DDL. The script fails when
a DDL column is not mapped, so a newer DDL is one re-run (plus table rows) away. Output is deterministic.

Run from the repository root::

    python ontologies/build/cdm.py --out ontologies/cdm.ttl --doc docs/cdm.md
"""

from __future__ import annotations

import argparse
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from rdflib import BNode, Graph, Literal, Namespace, URIRef
from rdflib.collection import Collection
from rdflib.namespace import DCTERMS, OWL, RDF, RDFS, SKOS, XSD

CDM: Final = Namespace("https://w3id.org/hyperontology/cdm#")
EUCAIM: Final = Namespace("https://cancerimage.eu/ontology/EUCAIM#")
SCHEMA_ORG: Final = Namespace("https://schema.org/")
ONTOLOGY_IRI: Final = URIRef("https://w3id.org/hyperontology/cdm")
VERSION: Final = "1.0.0"
SCHEMA: Final = "eucaim_cdm_output"
DDL_FILE: Final = "3_init_eucaim_cdm_output.sql"
DDL_SOURCE: Final = (
    "EUCAIM/etl-toolset @ 7a69a4b9d8e247c9390759a039cf1fa1405d32ea "
    "Database/3_init_eucaim_cdm_output.sql (Apache-2.0)"
)
EUCAIM_CITATION: Final = (
    "LIMICS (2025). EUCAIM's Hyper-Ontology_V2.0. Zenodo. https://doi.org/10.5281/zenodo.10777925 (CC BY 4.0)"
)
LICENSE: Final = URIRef("https://www.apache.org/licenses/LICENSE-2.0")

# SQL base type -> XSD datatype. SQL DATE becomes xsd:dateTime (midnight, no time zone): xsd:date is not in
# the OWL 2 datatype map, and the EUCAIM release types its dates as xsd:dateTime too.
SQL_TYPES: Final[Mapping[str, URIRef]] = {
    "VARCHAR": XSD.string,
    "TEXT": XSD.string,
    "INTEGER": XSD.integer,
    "DECIMAL": XSD.decimal,
    "BOOLEAN": XSD.boolean,
    "DATE": XSD.dateTime,
}

KINDS: Final = ("data", "concept", "link")


@dataclass(frozen=True)
class ClassSpec:
    """One CDM class: the table it mirrors (None: no table), its parent and its EUCAIM ties."""

    name: str
    table: str | None
    label: str
    definition: str
    parent: str | None = None
    exact: str | None = None
    close: str | None = None


@dataclass(frozen=True)
class PropSpec:
    """One CDM property; kind: data (literal), concept (hyperontology concept), link (foreign key)."""

    name: str
    kind: str
    definition: str
    label: str | None = None
    eucaim: str | None = None
    target: str | None = None
    datatype: URIRef | None = None
    domains: tuple[str, ...] = ()
    dicom: str | None = None
    row_codes: tuple[str, ...] = ()
    value_roots: tuple[str, ...] = ()


@dataclass(frozen=True)
class Column:
    """One column of a CREATE TABLE statement, as PostgreSQL names it (unquoted names fold to lower case)."""

    table: str
    name: str
    sql_type: str
    primary_key: bool = False
    references: tuple[str, str] | None = None
    not_null: bool = False


@dataclass(frozen=True)
class Table:
    """One CREATE TABLE statement of the DDL, with its section comment and commented-out columns."""

    name: str
    section: str
    columns: tuple[Column, ...]
    commented: tuple[str, ...] = field(default=())


# ---------------------------------------------------------------------------------------------------------
# Hand-written table: classes
# ---------------------------------------------------------------------------------------------------------
CLASSES: Final[tuple[ClassSpec, ...]] = (
    ClassSpec("Dataset", "dataset", "Dataset",
              "A collection of imaging and clinical data that a data holder publishes to the federation."),
    ClassSpec("Patient", "patient", "Patient",
              "A person with cancer whose imaging and clinical data are held in a dataset.",
              exact="COM1001051"),
    ClassSpec("Measurement", None, "Measurement",
              "A record of something observed or measured, with a code naming what and a value (number and "
              "unit, or concept).", close="CLIN1000003"),
    ClassSpec("HealthStatusAssessment", "health_status_assessment", "Health status assessment",
              "An assessment of the patient's health or performance status (e.g. ECOG, Karnofsky).",
              parent="Measurement", exact="CLIN1037292"),
    ClassSpec("TumorMarkerTest", "tumor_marker_test", "Tumor marker test",
              "The result of a tumour marker test (e.g. PSA, HER2, ER).", parent="Measurement",
              close="CLIN1000224"),
    ClassSpec("FamilyMemberHistory", "family_member_history", "Family member history",
              "A condition of a relative of the patient."),
    ClassSpec("LabTestResult", "lab_test_result", "Lab test result",
              "The result of a laboratory test of the patient.", parent="Measurement"),
    ClassSpec("MedicalHistory", "medical_history", "Medical history",
              "An item of the patient's medical history (comorbidity, prior condition, risk factor)."),
    ClassSpec("Treatment", "treatment", "Treatment",
              "A cancer treatment of the patient; its kind-specific details are in a subclass.",
              exact="GEN1000015"),
    ClassSpec("Radiotherapy", "radiotherapy", "Radiotherapy",
              "A course of radiation therapy.", parent="Treatment", exact="CLIN1014933"),
    ClassSpec("Surgery", "surgical_procedure", "Surgery",
              "A surgical procedure performed as cancer treatment.", parent="Treatment", exact="CLIN1004413"),
    ClassSpec("SystemicTherapy", "medication_administration", "Systemic therapy",
              "Administration of a cancer-related medication (chemotherapy, hormone, targeted or "
              "immunotherapy).", parent="Treatment", exact="CLIN1034187"),
    ClassSpec("AdverseEvent", "adverse_event", "Adverse event",
              "An unwanted effect that a treatment caused.", exact="GEN1000013"),
    ClassSpec("Diagnosis", "cancer_condition", "Diagnosis",
              "The primary cancer condition of the patient: the diagnosed cancer, its histology, site and "
              "stage.", exact="CLIN1007988"),
    ClassSpec("HistologicGrade", "histologic_grade", "Histologic grade",
              "The histologic grade of a cancer, with the grading system used.", close="CLIN1049681"),
    ClassSpec("CancerStage", "cancer_stage", "Cancer stage",
              "One staging observation of a cancer (e.g. TNM clinical T category, stage group).",
              close="CLIN1044182"),
    ClassSpec("Procedure", "procedure", "Procedure",
              "A procedure related to the cancer condition; the infrastructure's ETL fills it with imaging "
              "procedures.", exact="CLIN1000005"),
    ClassSpec("Tumor", "tumor", "Tumor",
              "A tumour (lesion) of a cancer condition, with its site, morphology and size.",
              close="IMG1016402"),
    ClassSpec("RiskAssessment", "risk_assessment", "Risk assessment",
              "A risk assessment of a tumour (e.g. PI-RADS, BI-RADS).", parent="Measurement",
              exact="CLIN1051859"),
    ClassSpec("TumorObservation", "tumor_observation", "Tumor observation",
              "An observation made on a tumour.", parent="Measurement", exact="GEN1000026"),
    ClassSpec("Episode", "episode", "Episode",
              "A phase of the patient's disease course (diagnosis, treatment, progression, relapse, "
              "remission, active surveillance).", exact="GEN1000002"),
    ClassSpec("EpisodeEvent", "episode_event", "Episode event",
              "A link from an episode to a row of another table that belongs to it."),
    ClassSpec("ImagingStudy", "image_study", "Imaging study",
              "A DICOM study: the images of one imaging examination of the patient.", exact="IMG1016308"),
    ClassSpec("ImagingSeries", "image_series", "Imaging series",
              "A DICOM series of an imaging study: images of one acquisition.", exact="IMG1016309"),
    ClassSpec("AcquisitionParameter", "image_modality", "Acquisition parameter",
              "One acquisition parameter of an imaging series as a code/value row (the table is named "
              "image_modality in the relational CDM).", parent="Measurement", close="IMG1016619"),
    ClassSpec("Outcome", None, "Outcome",
              "An observed result of the disease course or of a treatment: response, disease status, "
              "progression, recurrence or death. No table of its own in the relational CDM, which records "
              "outcomes as treatment response, episode types and the patient's vital status."),
)

# Pairwise disjoint classes (one row of the relational CDM belongs to one table; subtype tables aside).
DISJOINT: Final[tuple[tuple[str, ...], ...]] = (
    ("AdverseEvent", "CancerStage", "Dataset", "Diagnosis", "Episode", "EpisodeEvent", "FamilyMemberHistory",
     "HistologicGrade", "ImagingSeries", "ImagingStudy", "Measurement", "MedicalHistory", "Patient",
     "Procedure", "Treatment", "Tumor"),
    ("Radiotherapy", "Surgery", "SystemicTherapy"),
)

# ---------------------------------------------------------------------------------------------------------
# Hand-written table: properties (definitions; EUCAIM ties by local name; extra domains and DICOM tags)
# ---------------------------------------------------------------------------------------------------------
_SERIES = ("ImagingSeries",)
PROPERTIES: Final[tuple[PropSpec, ...]] = (
    # identity and foreign keys
    PropSpec("rowId", "data", "Surrogate key of the row in the relational CDM (INTEGER identity). The "
             "subtype "
             "tables radiotherapy, surgical_procedure and medication_administration share the key of their "
             "treatment row: both rows are one individual.", label="row identifier"),
    PropSpec("identifier", "data", "Identifier of the record in the holder's source data.",
             eucaim="Identifier"),
    PropSpec("datasetIdentifier", "data", "Identifier of the dataset in the catalogue."),
    PropSpec("patientIdentifier", "data", "Pseudonymised identifier of the patient.",
             eucaim="PatientIdentifier",
             dicom="(0010,0020)"),
    PropSpec("title", "data", "Title of the dataset."),
    PropSpec("description", "data", "Description of the dataset."),
    PropSpec("dataset", "link", "The dataset the patient belongs to."),
    PropSpec("patient", "link", "The patient a clinical or imaging record is about.", eucaim="hasSubject",
             domains=("CancerStage", "ImagingSeries", "Outcome", "Procedure")),
    PropSpec("diagnosis", "link", "The primary cancer condition a record relates to.",
             eucaim="hasRelatedPrimaryCancerCondition", domains=("Outcome",)),
    PropSpec("treatment", "link", "The treatment a record relates to (for an adverse event, its cause).",
             target="Treatment", domains=("Outcome",)),
    PropSpec("tumor", "link", "The tumour a record relates to.", eucaim="hasRelatedTumor"),
    PropSpec("procedure", "link", "The procedure an imaging study was acquired for.",
             eucaim="hasRelatedProcedure"),
    PropSpec("episode", "link", "The episode of the disease course a record belongs to.", target="Episode"),
    PropSpec("parentEpisode", "link", "The episode this episode is part of.", label="parent episode"),
    PropSpec("study", "link", "The imaging study a series belongs to."),
    PropSpec("series", "link", "The imaging series an acquisition parameter belongs to."),
    PropSpec("eventRowId", "data", "Key of the row (in the table named by eventTable) that the episode "
             "event links to.", label="event row identifier"),
    PropSpec("eventTable", "data", "Name of the table holding the row that the episode event links to."),
    # patient
    PropSpec("birthDate", "data", "Date of birth of the patient.", eucaim="BirthDate", dicom="(0010,0030)"),
    PropSpec("birthSex", "concept", "Sex assigned at birth.", eucaim="hasBirthSex"),
    PropSpec("gender", "concept", "Gender identity of the patient.", eucaim="hasGender"),
    PropSpec("race", "concept", "Race of the patient.", eucaim="hasRace"),
    PropSpec("ethnicity", "concept", "Ethnicity of the patient.", eucaim="hasEthnicity"),
    PropSpec("managingOrganization", "data", "Identifier of the organisation managing the patient's care.",
             eucaim="ManagingOrganizationIdentifier"),
    PropSpec("diagnosticCategory", "concept", "Diagnostic category (population) of the patient.",
             eucaim="hasDiagnosticCategory"),
    PropSpec("deceased", "data", "Whether the patient has died.", eucaim="Deceased"),
    PropSpec("dateOfLastContact", "data", "Date of the last contact with the patient (follow-up end).",
             eucaim="DateOfLastContact"),
    PropSpec("causeOfDeath", "concept", "Cause of death of the patient.", eucaim="hasCauseOfDeath"),
    PropSpec("vitalStatus", "concept", "Vital status of the patient at the date of last contact (alive, "
             "dead, unknown).", datatype=None, domains=("Outcome", "Patient"),
             value_roots=("CLIN1024297", "CLIN1024687", "COM1001289")),
    PropSpec("dateOfDeath", "data", "Date of death of the patient.", label="date of death",
             datatype=XSD.dateTime, domains=("Patient",)),
    PropSpec("smokingStatus", "concept", "Tobacco smoking status of the patient (non-smoker, ex-smoker, "
             "smoker, ...).", label="smoking status", domains=("Patient",), row_codes=("CLIN1004528",),
             value_roots=("CLIN1056330",)),
    # survival and follow-up (of a cancer: counted from its diagnosis)
    PropSpec("overallSurvival", "data", "Overall survival time: the interval from the diagnosis (or the "
             "start of follow-up the table counts from) to death, or to the last follow-up when the patient "
             "is alive (censored: see cdm:vitalStatus), in the unit given by cdm:overallSurvivalUnit.",
             label="overall survival time", datatype=XSD.decimal, domains=("Diagnosis",),
             row_codes=("CLIN1049082",)),
    PropSpec("overallSurvivalUnit", "concept", "Unit of the overall survival time (a time unit concept: "
             "UCUM d, wk, mo or a).", label="overall survival unit", domains=("Diagnosis",)),
    PropSpec("followUpTime", "data", "Follow-up time: the interval from the diagnosis to the last "
             "follow-up, in the unit given by cdm:followUpUnit.", label="follow-up time",
             datatype=XSD.decimal, domains=("Diagnosis",)),
    PropSpec("followUpUnit", "concept", "Unit of the follow-up time (a time unit concept: UCUM d, wk, mo or "
             "a).", label="follow-up unit", domains=("Diagnosis",)),
    PropSpec("hpvStatus", "concept", "Human papillomavirus (HPV) status of the tumour, by HPV testing or its "
             "p16 immunohistochemistry surrogate: a result qualifier (positive, negative, unknown).",
             label="HPV / p16 status", domains=("Diagnosis",),
             value_roots=("COM1001310", "COM1001332", "COM1001289")),
    PropSpec("ecogPerformanceStatus", "concept", "ECOG (WHO) performance status of the patient at "
             "diagnosis: an ECOG grade 0-5 finding.", label="ECOG performance status",
             domains=("Diagnosis",), row_codes=("CLIN1004580",), value_roots=("CLIN1015980",)),
    PropSpec("karnofskyPerformanceStatus", "concept", "Karnofsky performance status of the patient at "
             "diagnosis: a KPS 0-100 value.", label="Karnofsky performance status",
             domains=("Diagnosis",), row_codes=("CLIN1047415",), value_roots=("COM1000025",)),
    # measurements and observations
    PropSpec("code", "concept", "Concept naming what the row records: the assessment, test, marker, "
             "history item, risk score or observable."),
    PropSpec("category", "concept", "Category of the record.", eucaim="hasCategory"),
    PropSpec("value", "data", "Numeric value of a measurement, in the unit given by cdm:unit.",
             eucaim="ValueAsNumber"),
    PropSpec("valueConcept", "concept", "Value of an observation that is a concept (a coded answer).",
             label="value concept", eucaim="hasValue"),
    PropSpec("unit", "concept", "Unit of cdm:value: a hyperontology unit concept (carrying its UCUM code).",
             eucaim="hasUnitofMeasure"),
    PropSpec("interpretation", "data", "Interpretation of the assessment, as text."),
    PropSpec("date", "data", "Date of the record (test, marker, event, staging, history item, study).",
             eucaim="Date", domains=("CancerStage", "ImagingStudy", "MedicalHistory", "Outcome")),
    PropSpec("offsetFromDiagnosis", "data", "Interval from the date of diagnosis to the event, in days "
             "(negative before diagnosis); the relational CDM keeps the unit beside it (cdm:offsetUnit).",
             label="offset from diagnosis (days)", eucaim="OffsetFromDiagnosis", domains=("Outcome",)),
    PropSpec("offsetUnit", "concept", "Unit of the offset of the same row (a time unit concept)."),
    PropSpec("offsetFromPrimary", "data", "Interval from the primary diagnosis to this condition.",
             label="offset from primary"),
    PropSpec("onsetAge", "data", "Age at onset of the condition, in the unit given by cdm:onsetAgeUnit.",
             eucaim="OnsetAge"),
    PropSpec("onsetAgeUnit", "concept", "Unit of the onset age (a time unit concept)."),
    PropSpec("relationship", "concept", "Relationship of the family member to the patient.",
             eucaim="hasRelationship"),
    PropSpec("conditionCode", "concept", "The condition of the family member, or of the patient's medical "
             "history item.", eucaim="Has_condition", domains=("MedicalHistory",)),
    PropSpec("conditionPresent", "data", "Whether the condition is present.", eucaim="ConditionPresent"),
    # treatments
    PropSpec("treatmentType", "concept", "Kind of treatment (radiotherapy, surgery, medication).",
             eucaim="hasTreatmentType"),
    PropSpec("treatmentResponse", "concept", "Response of the cancer to the treatment (an outcome).",
             eucaim="hasTreatmentResponse"),
    PropSpec("treatmentIntent", "concept", "Intent of the treatment (curative, palliative, ...).",
             eucaim="hasTreatmentIntent", domains=("Procedure",)),
    PropSpec("radiotherapyModality", "concept", "Radiation modality (photons, protons, ...).",
             eucaim="hasRadiationModality"),
    PropSpec("radiotherapyTechnique", "concept", "Radiotherapy technique (IMRT, SBRT, ...).",
             eucaim="hasRadiationTechnique"),
    PropSpec("startDate", "data", "Date the treatment or episode started.", eucaim="StartDate"),
    PropSpec("endDate", "data", "Date the treatment or episode ended.", eucaim="EndDate"),
    PropSpec("numberOfSessions", "data", "Number of treatment sessions.", eucaim="NumberOfSessions"),
    PropSpec("totalDose", "data", "Total dose delivered, in the unit given by cdm:doseUnit.",
             eucaim="TotalDoseDelivered"),
    PropSpec("doseToVolume", "data", "Radiation dose delivered to the target volume.",
             label="dose to volume"),
    PropSpec("fractionsDelivered", "data", "Number of radiotherapy fractions delivered.",
             eucaim="FractionsDelivered"),
    PropSpec("doseUnit", "concept", "Unit of the dose (a unit concept)."),
    PropSpec("procedureCode", "concept", "The procedure performed.", domains=("Radiotherapy",)),
    PropSpec("bodySite", "concept", "Anatomical site (body structure concept) of the record: the site "
             "treated, the tumour site or the body part examined.", eucaim="hasBodySite",
             dicom="(0018,0015)", domains=("Diagnosis", "Procedure", "Radiotherapy")),
    PropSpec("bodySiteLocation", "concept", "Location qualifier of the body site.",
             label="body site location"),
    PropSpec("laterality", "concept", "Laterality of the body site (left, right, bilateral).",
             eucaim="hasLaterality", dicom="(0020,0060)", domains=("Diagnosis", "Procedure")),
    PropSpec("performedDate", "data", "Date the procedure was performed.", eucaim="PerformedDate"),
    PropSpec("medicationCode", "concept", "The medication administered.", eucaim="hasAdministeredMedication"),
    PropSpec("medicationId", "data", "Identifier of the medication in the source data.",
             label="medication identifier"),
    PropSpec("effectivePeriod", "data", "Duration of the administration, in cdm:effectivePeriodUnit.",
             eucaim="EffectiveTimeInterval"),
    PropSpec("effectivePeriodUnit", "concept", "Unit of the effective period (a time unit concept)."),
    PropSpec("resultingEffect", "concept", "The effect (condition) the adverse event resulted in.",
             eucaim="hasResultingEffect"),
    # diagnosis, staging, grade, tumour
    PropSpec("diagnosisCode", "concept", "The diagnosed cancer (condition concept, e.g. SNOMED CT or ICD-10 "
             "coded)."),
    PropSpec("ageAtDiagnosis", "data", "Age of the patient at diagnosis, in years; the relational CDM keeps "
             "the unit beside it (cdm:ageUnit).", label="age at diagnosis (years)", eucaim="AgeAtDiagnosis"),
    PropSpec("ageUnit", "concept", "Unit of the age at diagnosis (a time unit concept)."),
    PropSpec("assertedDate", "data", "Date the diagnosis was asserted.", eucaim="AssertedDate"),
    PropSpec("conditionType", "concept", "Type of the cancer condition (primary, secondary, ...).",
             eucaim="hasCancerConditionType"),
    PropSpec("histology", "concept", "Histology / morphology and behaviour of the cancer (ICD-O-3 "
             "morphology concept).", eucaim="hasHistologyMorphologyBehavior"),
    PropSpec("topography", "concept", "Topography of the cancer (ICD-O-3 topography concept).",
             eucaim="hasTopography"),
    PropSpec("tnmT", "concept", "TNM T category (clinical or pathological).", label="TNM T category",
             domains=("CancerStage",), row_codes=("CLIN1031297", "CLIN1033007")),
    PropSpec("tnmN", "concept", "TNM N category (clinical or pathological).", label="TNM N category",
             domains=("CancerStage",), row_codes=("CLIN1031528", "CLIN1033068")),
    PropSpec("tnmM", "concept", "TNM M category (clinical or pathological).", label="TNM M category",
             domains=("CancerStage",), row_codes=("CLIN1031282", "CLIN1033404")),
    PropSpec("stageGroup", "concept", "TNM stage group (clinical or pathological).", label="stage group",
             domains=("CancerStage",), row_codes=("CLIN1031313", "CLIN1031268")),
    PropSpec("gradingSystem", "concept", "Histological grading system used.",
             eucaim="hasHistologicalGradingSystem"),
    PropSpec("grade", "concept", "Histologic grade value.", eucaim="hasHistologicGradeValue"),
    PropSpec("stagingSystem", "concept", "Staging system used.", eucaim="hasStageMethod"),
    PropSpec("stage", "concept", "Stage value (e.g. T2, N0, stage IIA).", eucaim="hasStageValue"),
    PropSpec("evaluationFinding", "concept", "Finding of the procedure's evaluation.",
             eucaim="hasEvaluationFinding"),
    PropSpec("imagingTimepoint", "data", "Ordinal time point of the imaging in the patient's course.",
             label="imaging time point"),
    PropSpec("isIndex", "data", "Whether the tumour is the index lesion.", eucaim="IsIndex"),
    PropSpec("volume", "data", "Tumour volume, in cdm:volumeUnit.", eucaim="TumorVolumeValue"),
    PropSpec("volumeUnit", "concept", "Unit of the volume.", eucaim="hasUnitofVolume"),
    PropSpec("sizeMethod", "concept", "Method used to measure the tumour size.", eucaim="hasTumorSizeMethod"),
    PropSpec("maximumDimension", "data", "Largest dimension of the tumour, in cdm:dimensionUnit.",
             eucaim="MaximumDimensionValue"),
    PropSpec("otherDimension", "data", "Another dimension of the tumour, in cdm:dimensionUnit.",
             eucaim="OtherDimensionValue"),
    PropSpec("dimensionUnit", "concept", "Unit of the tumour dimensions.", eucaim="hasUnitofDiameter"),
    PropSpec("diseaseStatus", "concept", "Cancer disease status (e.g. stable, progressing, in remission).",
             eucaim="hasCancerDiseaseStatus", domains=("Outcome",)),
    # episodes
    PropSpec("episodeType", "concept", "Type of the episode (diagnosis, treatment, progression, ...).",
             eucaim="hasEpisodeType"),
    PropSpec("episodeNumber", "data", "Sequence number of the episode.", eucaim="SequenceNumber"),
    # imaging
    PropSpec("studyInstanceUID", "data", "DICOM Study Instance UID (pseudonymised).",
             label="study instance UID",
             eucaim="ImageStudyUID", dicom="(0020,000D)"),
    PropSpec("seriesInstanceUID", "data", "DICOM Series Instance UID (pseudonymised).",
             label="series instance UID", eucaim="ImageSeriesUID", dicom="(0020,000E)"),
    PropSpec("seriesNumber", "data", "DICOM Series Number.", eucaim="ImageSeriesNumber", dicom="(0020,0011)"),
    PropSpec("seriesDescription", "data", "DICOM Series Description.", eucaim="ImageSeriesDescription",
             dicom="(0008,103E)"),
    PropSpec("studyDescription", "data", "DICOM Study Description.", datatype=XSD.string,
             domains=("ImagingStudy",), dicom="(0008,1030)"),
    PropSpec("numberOfSeries", "data", "Number of series in the study.", datatype=XSD.integer,
             eucaim="NumberOfSeries", domains=("ImagingStudy",)),
    PropSpec("numberOfStudies", "data", "Number of imaging studies in the dataset.", datatype=XSD.integer,
             eucaim="nbrOfStudies", domains=("Dataset",)),
    PropSpec("numberOfInstances", "data", "Number of images (instances) in the series.", datatype=XSD.integer,
             eucaim="NumberOfInstances", domains=_SERIES, dicom="(0020,1209)"),
    PropSpec("modality", "concept", "Imaging modality (CT, MR, PT, MG, ...) as a hyperontology concept.",
             eucaim="hasImageModality", dicom="(0008,0060)"),
    PropSpec("manufacturer", "concept", "Manufacturer of the equipment as a hyperontology concept.",
             eucaim="hasEquipmentManufacturer", dicom="(0008,0070)"),
    PropSpec("acquisitionDate", "data", "Date the series was acquired.", eucaim="AcquisitionDate",
             dicom="(0008,0022)"),
    PropSpec("acquisitionParameter", "concept", "The acquisition parameter a row records (e.g. slice "
             "thickness).", eucaim="hasAcquisitionParameter"),
    PropSpec("manufacturerModelName", "data", "Model name of the equipment.", datatype=XSD.string,
             domains=_SERIES, dicom="(0008,1090)"),
    PropSpec("magneticFieldStrength", "data", "MR magnetic field strength, in tesla.", datatype=XSD.decimal,
             domains=_SERIES, dicom="(0018,0087)"),
    PropSpec("sliceThickness", "data", "Nominal slice thickness, in mm.", datatype=XSD.decimal,
             domains=_SERIES, dicom="(0018,0050)", row_codes=("IMG1016306",)),
    PropSpec("pixelSpacing", "data", "In-plane pixel spacing (row spacing), in mm.", datatype=XSD.decimal,
             domains=_SERIES, dicom="(0028,0030)"),
    PropSpec("kvp", "data", "Peak kilovoltage of the X-ray generator, in kV.", label="kVp",
             datatype=XSD.decimal, domains=_SERIES, dicom="(0018,0060)"),
    PropSpec("xRayTubeCurrent", "data", "X-ray tube current, in mA.", label="X-ray tube current",
             datatype=XSD.decimal, domains=_SERIES, dicom="(0018,1151)"),
    PropSpec("exposure", "data", "Exposure, in mAs.", datatype=XSD.decimal, domains=_SERIES,
             dicom="(0018,1152)"),
    PropSpec("exposureTime", "data", "Exposure time, in ms.", datatype=XSD.decimal, domains=_SERIES,
             dicom="(0018,1150)"),
    PropSpec("filterType", "data", "Type of X-ray filter.", datatype=XSD.string, domains=_SERIES,
             dicom="(0018,1160)"),
    PropSpec("convolutionKernel", "data", "CT reconstruction (convolution) kernel.", datatype=XSD.string,
             domains=_SERIES, dicom="(0018,1210)"),
    PropSpec("spiralPitchFactor", "data", "CT spiral pitch factor.", datatype=XSD.decimal, domains=_SERIES,
             dicom="(0018,9311)"),
    PropSpec("rows", "data", "Number of rows of the images.", datatype=XSD.integer, domains=_SERIES,
             dicom="(0028,0010)"),
    PropSpec("columns", "data", "Number of columns of the images.", datatype=XSD.integer, domains=_SERIES,
             dicom="(0028,0011)"),
    PropSpec("sequenceName", "data", "MR sequence name.", datatype=XSD.string, domains=_SERIES,
             dicom="(0018,0024)"),
    PropSpec("protocolName", "data", "Acquisition protocol name.", datatype=XSD.string, domains=_SERIES,
             dicom="(0018,1030)"),
    PropSpec("imageType", "data", "DICOM Image Type values, backslash-separated.", datatype=XSD.string,
             domains=_SERIES, dicom="(0008,0008)"),
    PropSpec("contrastAgent", "concept", "Contrast or bolus agent administered.", domains=_SERIES,
             dicom="(0018,0010)"),
    PropSpec("contrastUsed", "data", "Whether a contrast agent was administered.", datatype=XSD.boolean,
             domains=_SERIES),
)

# ---------------------------------------------------------------------------------------------------------
# Hand-written table: column -> property (every column of the DDL, names as PostgreSQL stores them)
# ---------------------------------------------------------------------------------------------------------
_OFFSET = {"offset_from_diagnosis": "offsetFromDiagnosis", "offset_unit": "offsetUnit"}
_VALUE = {"value_as_number": "value", "value_as_concept": "valueConcept", "value_unit": "unit"}
_SITE = {"body_site_code": "bodySite", "body_site_location": "bodySiteLocation",
         "body_site_laterality": "laterality"}


def _prefixed(prefix: str, names: Mapping[str, str]) -> dict[str, str]:
    return {f"{prefix}_{column}": prop for column, prop in names.items()}


COLUMNS: Final[Mapping[str, Mapping[str, str]]] = {
    "dataset": {"dataset_id": "datasetIdentifier", "dataset_title": "title",
                "dataset_description": "description"},
    "patient": {"patient_id": "patientIdentifier", "dataset_id": "dataset", "patient_birth_date": "birthDate",
                "patient_birth_sex": "birthSex", "patient_gender": "gender", "patient_race": "race",
                "patient_ethnicity": "ethnicity", "patient_managing_organization": "managingOrganization",
                "patient_diagnostic_category": "diagnosticCategory", "patient_deceased": "deceased",
                "patient_date_of_last_contact": "dateOfLastContact",
                "patient_cause_of_death": "causeOfDeath"},
    "health_status_assessment": {"assessment_id": "rowId", "patient_id": "patient", "assessment_code": "code",
                                 "assesment_value_as_number": "value",
                                 "assesment_value_as_concept": "valueConcept", "assesment_value_unit": "unit",
                                 "assesment_interpretation": "interpretation"},
    "tumor_marker_test": {"tumor_marker_test_id": "rowId", "patient_id": "patient",
                          "tumor_marker_test_category": "category", "tumor_marker_test_code": "code",
                          "tumor_marker_test_as_number": "value",
                          "tumor_marker_test_as_concept": "valueConcept",
                          "tumor_marker_test_as_unit": "unit", "tumor_marker_date": "date",
                          **_prefixed("tumor_marker", _OFFSET)},
    "family_member_history": {"family_member_history_id": "rowId", "patient_id": "patient",
                              "family_member_relationship": "relationship",
                              "family_member_condition_code": "conditionCode",
                              "family_member_condition_present": "conditionPresent",
                              "family_member_onset_age": "onsetAge",
                              "family_member_onset_age_unit": "onsetAgeUnit"},
    "lab_test_result": {"lab_test_id": "rowId", "patient_id": "patient", "lab_test_code": "code",
                        **_prefixed("lab_test", _VALUE), "lab_test_date": "date",
                        **_prefixed("lab_test", _OFFSET)},
    "medical_history": {"medical_history_id": "rowId", "patient_id": "patient",
                        "medical_history_code": "code",
                        "medical_history_category": "category", "medical_history_onset_age": "onsetAge",
                        "medical_history_onset_age_unit": "onsetAgeUnit",
                        **_prefixed("medical_history", _VALUE)},
    "treatment": {"treatment_id": "rowId", "patient_id": "patient", "treatment_type": "treatmentType",
                  "treatment_response": "treatmentResponse", "treatment_intent": "treatmentIntent",
                  "treatmentidentifier": "identifier", "episode": "episode"},
    "radiotherapy": {"treatment_id": "rowId", "radiotherapy_modality": "radiotherapyModality",
                     "radiotherapy_technique": "radiotherapyTechnique",
                     "radiotherapy_start_date": "startDate",
                     "radiotherapy_end_date": "endDate", **_prefixed("radiotherapy", _OFFSET),
                     "radiotherapy_number_of_sessions": "numberOfSessions",
                     "radiotherapy_total_dose": "totalDose", "radiotherapy_dose_to_volume": "doseToVolume",
                     "radiotherapy_fractions_delivered": "fractionsDelivered",
                     "radiotherapy_dose_unit": "doseUnit", "episode": "episode"},
    "surgical_procedure": {"treatment_id": "rowId", "surgical_procedure_code": "procedureCode",
                           **_prefixed("surgical_procedure", _SITE),
                           "surgical_procedure_offset_from_diagnosis": "offsetFromDiagnosis",
                           "surgical_procedure_offset_from_diagnosis_unit": "offsetUnit",
                           "surgical_procedure_date": "performedDate", "episode": "episode"},
    "medication_administration": {"treatment_id": "rowId", "medication_code": "medicationCode",
                                  "medication_id": "medicationId", "medication_start_date": "startDate",
                                  "medication_end_date": "endDate", **_prefixed("medication", _OFFSET),
                                  "medication_number_of_sessions": "numberOfSessions",
                                  "medication_total_dose": "totalDose", "medication_dose_unit": "doseUnit",
                                  "medication_effective_period": "effectivePeriod",
                                  "medication_effective_period_unit": "effectivePeriodUnit",
                                  "episode": "episode"},
    "adverse_event": {"adverse_event_id": "rowId", "treatment_id": "treatment",
                      "adverse_event_resulting_effect": "resultingEffect", "adverse_event_date": "date"},
    "cancer_condition": {"cancer_condition_id": "rowId", "patient_id": "patient", "identifier": "identifier",
                         "cancer_condition_age_at_diagnosis": "ageAtDiagnosis",
                         "cancer_condition_age_unit": "ageUnit",
                         "cancer_condition_asserted_date": "assertedDate",
                         "cancer_condition_offset_from_primary": "offsetFromPrimary",
                         "cancer_condition_offset_unit": "offsetUnit",
                         "cancer_condition_code": "diagnosisCode",
                         "cancer_condition_type": "conditionType",
                         "cancer_condition_histology_morphology": "histology",
                         "cancer_condition_topography": "topography", "episode": "episode"},
    "histologic_grade": {"histologic_grade_id": "rowId", "cancer_condition_id": "diagnosis",
                         "patient_id": "patient", "histologic_grade_scoring_system": "gradingSystem",
                         "histologic_grade_code": "code", "histologic_grade_value_as_concept": "grade"},
    "cancer_stage": {"cancer_stage_id": "rowId", "cancer_condition_id": "diagnosis",
                     "cancer_stage_code": "code",
                     "cancer_stage_scoring_system": "stagingSystem", "cancer_stage_as_concept": "stage"},
    "procedure": {"procedure_id": "rowId", "cancer_condition_id": "diagnosis",
                  "procedureidentifier": "identifier", "procedure_code": "procedureCode",
                  "procedure_category": "category", "procedure_evaluation_finding": "evaluationFinding",
                  **_prefixed("procedure", _OFFSET), "procedure_date": "performedDate",
                  "imagingtimepoint": "imagingTimepoint", "episode": "episode"},
    "tumor": {"tumor_id": "rowId", "cancer_condition_id": "diagnosis", "patient_id": "patient",
              "identifier": "identifier", "tumor_is_index": "isIndex",
              "tumor_histology_morphology": "histology",
              "tumor_volume": "volume", "tumor_volume_unit": "volumeUnit", "tumor_size_method": "sizeMethod",
              "tumor_size_maximum_dimension": "maximumDimension",
              "tumor_size_other_dimension": "otherDimension", "tumor_size_dimension_unit": "dimensionUnit",
              "tumor_body_site": "bodySite", "tumor_body_site_location": "bodySiteLocation",
              "tumor_body_site_laterality": "laterality"},
    "risk_assessment": {"risk_assessment_id": "rowId", "tumor_id": "tumor", "patient_id": "patient",
                        "risk_assessment_code": "code", **_prefixed("risk_assessment", _VALUE)},
    "tumor_observation": {"tumor_observation_id": "rowId", "tumor_id": "tumor", "patient_id": "patient",
                          "tumor_observation_code": "code", **_prefixed("tumor_observation", _VALUE)},
    "episode": {"episode_id": "rowId", "patient_id": "patient", "episode_type_code": "episodeType",
                "episode_number": "episodeNumber", "episode_start_date": "startDate",
                "episode_end_date": "endDate", **_prefixed("episode", _OFFSET),
                "episode_parent_id": "parentEpisode"},
    "episode_event": {"episode_id": "episode", "event_table_id": "eventRowId",
                      "event_table_name": "eventTable"},
    "image_study": {"study_id": "rowId", "procedure_id": "procedure", "patient_id": "patient",
                    "study_uid": "studyInstanceUID", "imagingtimepoint": "imagingTimepoint",
                    "study_offset_from_diagnosis": "offsetFromDiagnosis", "study_offset_unit": "offsetUnit"},
    "image_series": {"series_id": "rowId", "series_uid": "seriesInstanceUID", "study_uid": "studyInstanceUID",
                     "study_id": "study", "series_number": "seriesNumber",
                     "series_description": "seriesDescription", "series_manufacturer": "manufacturer",
                     "series_body_side_code": "bodySite", "series_body_side_location": "bodySiteLocation",
                     "series_body_side_laterality": "laterality",
                     "series_acquisition_date": "acquisitionDate",
                     "series_modality": "modality"},
    "image_modality": {"modality_id": "rowId", "series_uid": "seriesInstanceUID", "series_id": "series",
                       "acquisition_parameter_code": "acquisitionParameter",
                       "acquisition_parameter_value_as_code": "valueConcept",
                       "acquisition_parameter_value_as_number": "value",
                       "acquisition_parameter_value_unit": "unit"},
}


# ---------------------------------------------------------------------------------------------------------
# Parsing the DDL and the EUCAIM release
# ---------------------------------------------------------------------------------------------------------
_TABLE_RE: Final = re.compile(
    rf"^--\s*(?P<comment>[^\n]*)$|CREATE TABLE IF NOT EXISTS {SCHEMA}\.(?P<name>\w+)\s*\((?P<body>.*?)\n\);",
    re.DOTALL | re.MULTILINE,
)
_COLUMN_RE: Final = re.compile(r"^(?P<name>\w+)\s+(?P<type>[A-Za-z]+)\s*(?P<size>\([\d,\s]*\))?(?P<rest>.*)$")
_REF_RE: Final = re.compile(rf"REFERENCES\s+{SCHEMA}\.(\w+)\s*\((\w+)\)", re.IGNORECASE)


def parse_column(table: str, line: str) -> Column:
    """Parse one column definition such as ``patient_id VARCHAR(150) REFERENCES s.patient(patient_id)``."""
    match = _COLUMN_RE.match(line)
    if match is None:
        raise ValueError(f"{DDL_FILE}: cannot parse column of {table}: {line!r}")
    rest = match["rest"].upper()
    ref = _REF_RE.search(match["rest"])
    size = re.sub(r"\s+", "", match["size"] or "")
    return Column(
        table=table,
        name=match["name"].lower(),
        sql_type=match["type"].upper() + size,
        primary_key="PRIMARY KEY" in rest,
        references=(ref[1].lower(), ref[2].lower()) if ref else None,
        not_null="NOT NULL" in rest or "PRIMARY KEY" in rest,
    )


def parse_table(name: str, body: str, section: str) -> Table:
    """Parse the body of one CREATE TABLE statement; ``--`` lines are kept as commented-out columns."""
    columns: list[Column] = []
    commented: list[str] = []
    for raw in body.splitlines():
        line = raw.strip().rstrip(",").strip()
        if not line:
            continue
        if line.startswith("--"):
            commented.append(line.lstrip("-").strip())
        else:
            columns.append(parse_column(name, line))
    return Table(name=name, section=section, columns=tuple(columns), commented=tuple(commented))


def parse_ddl(text: str) -> tuple[Table, ...]:
    """All tables of the DDL in file order, each with the section comment that precedes it."""
    tables: list[Table] = []
    section = ""
    for match in _TABLE_RE.finditer(text):
        if match["comment"] is not None:
            section = match["comment"].strip()
        else:
            tables.append(parse_table(match["name"], match["body"], section))
    if not tables:
        raise ValueError(f"{DDL_FILE}: no CREATE TABLE statement in schema {SCHEMA}")
    return tuple(tables)


def load_jsonl(path: Path) -> dict[str, dict[str, object]]:
    """A JSON-lines file of the EUCAIM release, keyed by code (``c``)."""
    rows = (json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip())
    return {str(row["c"]): row for row in rows}


@dataclass(frozen=True)
class Release:
    """What the build reads from the EUCAIM Hyper-Ontology release: classes and properties by code."""

    classes: Mapping[str, Mapping[str, object]]
    object_properties: Mapping[str, Mapping[str, object]]
    datatype_properties: Mapping[str, Mapping[str, object]]


def load_release(eucaim_dir: Path) -> Release:
    """Load the three JSON-lines transcriptions of the EUCAIM release."""
    stem = "eucaim_hyperontology-v2.0-"
    return Release(
        classes=load_jsonl(eucaim_dir / f"{stem}classes.jsonl"),
        object_properties=load_jsonl(eucaim_dir / f"{stem}object-properties.jsonl"),
        datatype_properties=load_jsonl(eucaim_dir / f"{stem}datatype-properties.jsonl"),
    )


def first_label(row: Mapping[str, object]) -> str | None:
    """The first rdfs:label of a release entry, trimmed (None when it has none)."""
    label = row.get("l")
    if isinstance(label, list):
        label = label[0] if label else None
    return str(label).strip() if label else None


# ---------------------------------------------------------------------------------------------------------
# Checking the hand-written tables against the sources
# ---------------------------------------------------------------------------------------------------------
def check_columns(tables: Sequence[Table]) -> None:
    """Every DDL column is mapped to a declared property, and nothing else is mapped."""
    declared = {spec.name for spec in PROPERTIES}
    ddl = {(table.name, column.name) for table in tables for column in table.columns}
    mapped = {(table, column) for table, columns in COLUMNS.items() for column in columns}
    problems = [f"column {t}.{c} has no property" for t, c in sorted(ddl - mapped)]
    problems += [f"mapped column {t}.{c} is not in the DDL" for t, c in sorted(mapped - ddl)]
    problems += [
        f"{t}.{c} maps to undeclared property {p}"
        for t, columns in COLUMNS.items() for c, p in columns.items() if p not in declared
    ]
    tables_of_classes = {spec.table for spec in CLASSES if spec.table}
    problems += [f"table {t.name} has no class" for t in tables if t.name not in tables_of_classes]
    if problems:
        raise ValueError("; ".join(problems))


def check_ties(release: Release) -> None:
    """EUCAIM ties name existing classes and properties of the right kind, each property tied once."""
    problems: list[str] = []
    for cls in CLASSES:
        problems += [f"{cls.name}: no EUCAIM class {c}" for c in (cls.exact, cls.close)
                     if c and c not in release.classes]
    seen: dict[str, str] = {}
    for spec in PROPERTIES:
        problems += [f"{spec.name}: no EUCAIM class {c}" for c in spec.row_codes + spec.value_roots
                     if c not in release.classes]
        if spec.eucaim is None:
            continue
        pool = release.datatype_properties if spec.kind == "data" else release.object_properties
        if spec.eucaim not in pool:
            problems.append(f"{spec.name}: {spec.eucaim} is not a release {spec.kind} property of that type")
        if spec.eucaim in seen:
            problems.append(f"{spec.eucaim} tied twice ({seen[spec.eucaim]}, {spec.name})")
        seen[spec.eucaim] = spec.name
    if problems:
        raise ValueError("; ".join(problems))


# ---------------------------------------------------------------------------------------------------------
# Facts derived from the DDL for each property
# ---------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class PropFacts:
    """A property spec with what the DDL says about it: its columns, domain classes and range."""

    spec: PropSpec
    columns: tuple[Column, ...]
    domains: tuple[str, ...]
    range: URIRef


def class_by_table() -> dict[str, ClassSpec]:
    """The CDM class of each table."""
    return {spec.table: spec for spec in CLASSES if spec.table}


def ancestors(name: str) -> set[str]:
    """The named superclasses of a CDM class (transitively)."""
    parents = {spec.name: spec.parent for spec in CLASSES}
    found: set[str] = set()
    parent = parents.get(name)
    while parent:
        found.add(parent)
        parent = parents.get(parent)
    return found


def domain_classes(spec: PropSpec, columns: Iterable[Column]) -> tuple[str, ...]:
    """Classes of the tables holding the property's columns plus its extra domains, minus subsumed ones."""
    by_table = class_by_table()
    names = {by_table[column.table].name for column in columns} | set(spec.domains)
    if not names:
        raise ValueError(f"property {spec.name} has neither a column nor a domain")
    return tuple(sorted(name for name in names if not ancestors(name) & names))


def datatype_of(spec: PropSpec, columns: Sequence[Column]) -> URIRef:
    """The XSD range of a data property: its SQL types merged (INTEGER within DECIMAL), or the spec's."""
    if not columns:
        if spec.datatype is None:
            raise ValueError(f"data property {spec.name} has no column and no datatype")
        return spec.datatype
    found = {SQL_TYPES[re.sub(r"\(.*", "", column.sql_type)] for column in columns}
    if found == {XSD.integer, XSD.decimal}:
        return XSD.decimal
    if len(found) != 1:
        raise ValueError(f"property {spec.name} spans SQL types {sorted(found)}")
    return found.pop()


def link_target(spec: PropSpec, columns: Sequence[Column]) -> URIRef:
    """The class a foreign-key property points to, from REFERENCES clauses (or the spec's target)."""
    by_table = class_by_table()
    found = {by_table[column.references[0]].name for column in columns if column.references}
    if spec.target:
        found.add(spec.target)
    if len(found) != 1:
        raise ValueError(f"link property {spec.name} points to {sorted(found) or 'nothing'}")
    return CDM[found.pop()]


def property_facts(tables: Sequence[Table]) -> tuple[PropFacts, ...]:
    """Facts of every property, in name order."""
    usage: dict[str, list[Column]] = {spec.name: [] for spec in PROPERTIES}
    for table in tables:
        for column in table.columns:
            usage[COLUMNS[table.name][column.name]].append(column)
    facts = []
    for spec in sorted(PROPERTIES, key=lambda s: s.name):
        columns = tuple(usage[spec.name])
        if spec.kind == "data":
            rng = datatype_of(spec, columns)
        elif spec.kind == "link":
            rng = link_target(spec, columns)
        else:
            rng = SKOS.Concept
        facts.append(PropFacts(spec, columns, domain_classes(spec, columns), rng))
    return tuple(facts)


# ---------------------------------------------------------------------------------------------------------
# Building the graph
# ---------------------------------------------------------------------------------------------------------
ANNOTATIONS: Final[Mapping[str, str]] = {
    "sqlTable": "Table of the relational CDM (schema-qualified) that a class mirrors.",
    "sqlColumn": "Column (table.column) of the relational CDM that a property mirrors; a property shared by "
                 "several tables carries one value per column.",
    "sqlRowCode": "EUCAIM code that the relational CDM stores in the code column of a code/value row "
                  "(image_modality, cancer_stage) for the value this property holds directly.",
    "valueRoot": "Hyperontology concept under which the values of a coded property are expected (the range "
                 "the EUCAIM release declares for the equivalent property).",
    "dicomTag": "DICOM attribute tag (group,element) the value is read from.",
}
DDL_URL: Final = URIRef(
    "https://github.com/EUCAIM/etl-toolset/blob/7a69a4b9d8e247c9390759a039cf1fa1405d32ea/"
    "Database/3_init_eucaim_cdm_output.sql"
)
EUCAIM_DOI: Final = URIRef("https://doi.org/10.5281/zenodo.10777925")


def new_graph() -> Graph:
    """An empty graph with the prefixes of the CDM."""
    graph = Graph()
    for prefix, namespace in (("cdm", CDM), ("eucaim", EUCAIM), ("owl", OWL), ("rdfs", RDFS),
                              ("skos", SKOS), ("xsd", XSD), ("dcterms", DCTERMS)):
        graph.bind(prefix, namespace, override=True)
    return graph


def add_header(graph: Graph) -> None:
    """The ontology header: IRI, version, licence and the sources it was generated from."""
    onto = ONTOLOGY_IRI
    graph.add((onto, RDF.type, OWL.Ontology))
    graph.add((onto, OWL.versionIRI, URIRef(f"{ONTOLOGY_IRI}/{VERSION}")))
    graph.add((onto, OWL.versionInfo, Literal(VERSION)))
    graph.add((onto, RDFS.label, Literal("Hyperontology CDM core ontology", lang="en")))
    graph.add((onto, DCTERMS.title, Literal("Hyperontology CDM core ontology", lang="en")))
    graph.add((onto, DCTERMS.license, LICENSE))
    graph.add((onto, DCTERMS.source, DDL_URL))
    graph.add((onto, DCTERMS.source, EUCAIM_DOI))
    comment = (
        "The common data model of the hyperontology: one class per table and one property per column of "
        "the infrastructure's relational CDM, generated by ontologies/build/cdm.py from the DDL "
        f"{DDL_SOURCE}. "
        "Coded values are hyperontology concepts. Classes and properties are tied to EUCAIM's Hyper-Ontology "
        f"v2.0: {EUCAIM_CITATION}."
    )
    graph.add((onto, RDFS.comment, Literal(comment, lang="en")))


def declare_annotations(graph: Graph) -> None:
    """Declare the annotation properties used (OWL 2 DL needs every non-built-in one declared)."""
    for name, definition in ANNOTATIONS.items():
        graph.add((CDM[name], RDF.type, OWL.AnnotationProperty))
        graph.add((CDM[name], RDFS.label, Literal(camel_words(name), lang="en")))
        graph.add((CDM[name], SKOS.definition, Literal(definition, lang="en")))
    for iri in (SKOS.definition, SKOS.exactMatch, SKOS.closeMatch, DCTERMS.license, DCTERMS.source,
                DCTERMS.title, SCHEMA_ORG.domainIncludes, SCHEMA_ORG.rangeIncludes):
        graph.add((iri, RDF.type, OWL.AnnotationProperty))
    graph.add((SKOS.Concept, RDF.type, OWL.Class))
    graph.add((SKOS.Concept, RDFS.label, Literal("Concept", lang="en")))


def camel_words(name: str) -> str:
    """``birthDate`` -> ``birth date``."""
    return re.sub(r"(?<=[a-z])(?=[A-Z])", " ", name).lower()


def add_class(graph: Graph, spec: ClassSpec, table: Table | None) -> None:
    """One CDM class with its label, definition, parent, table and EUCAIM ties."""
    iri = CDM[spec.name]
    graph.add((iri, RDF.type, OWL.Class))
    graph.add((iri, RDFS.label, Literal(spec.label, lang="en")))
    graph.add((iri, SKOS.definition, Literal(spec.definition, lang="en")))
    if spec.parent:
        graph.add((iri, RDFS.subClassOf, CDM[spec.parent]))
    if spec.exact:
        graph.add((iri, SKOS.exactMatch, EUCAIM[spec.exact]))
    if spec.close:
        graph.add((iri, SKOS.closeMatch, EUCAIM[spec.close]))
    if table is not None:
        graph.add((iri, CDM.sqlTable, Literal(f"{SCHEMA}.{table.name}")))
        for line in table.commented:
            graph.add((iri, RDFS.comment, Literal(f"Commented out in the DDL: {line}", lang="en")))


def class_expression(graph: Graph, names: Sequence[str], key: str) -> URIRef | BNode:
    """A named class, or the owl:unionOf of several (blank node ids from ``key``, for stable output)."""
    if len(names) == 1:
        return CDM[names[0]]
    node = BNode(f"{key}-union")
    members = BNode(f"{key}-members")
    Collection(graph, members, [CDM[name] for name in names])
    graph.add((node, RDF.type, OWL.Class))
    graph.add((node, OWL.unionOf, members))
    return node


def property_type(kind: str) -> URIRef:
    """owl:DatatypeProperty for literals, owl:ObjectProperty for coded values and foreign keys."""
    if kind not in KINDS:
        raise ValueError(f"unknown property kind {kind!r}")
    return OWL.DatatypeProperty if kind == "data" else OWL.ObjectProperty


def add_property(graph: Graph, facts: PropFacts, release: Release) -> None:
    """One CDM property: type, label, definition, domain, range, columns, EUCAIM tie and annotations."""
    spec = facts.spec
    iri = CDM[spec.name]
    graph.add((iri, RDF.type, property_type(spec.kind)))
    graph.add((iri, RDFS.label, Literal(spec.label or camel_words(spec.name), lang="en")))
    graph.add((iri, SKOS.definition, Literal(spec.definition, lang="en")))
    add_domain_range(graph, iri, facts)
    for column in facts.columns:
        graph.add((iri, CDM.sqlColumn, Literal(f"{column.table}.{column.name}")))
    for code in spec.row_codes:
        graph.add((iri, CDM.sqlRowCode, EUCAIM[code]))
    for code in spec.value_roots:
        graph.add((iri, CDM.valueRoot, EUCAIM[code]))
    if spec.dicom:
        graph.add((iri, CDM.dicomTag, Literal(spec.dicom)))
    if spec.eucaim:
        graph.add((iri, OWL.equivalentProperty, EUCAIM[spec.eucaim]))
        add_eucaim_property(graph, spec, release)


def add_domain_range(graph: Graph, iri: URIRef, facts: PropFacts) -> None:
    """rdfs:domain/range, except on properties tied to the release: there they are schema:domainIncludes.

    An owl:equivalentProperty tie carries domain and range over to the release's own property, whose
    restrictions describe concepts, not CDM records; asserted there, the CDM's disjoint record classes
    would make release concepts unsatisfiable (HermiT found Malignant neoplasm CLIN1049106 so).
    """
    if not facts.spec.eucaim:
        graph.add((iri, RDFS.domain, class_expression(graph, facts.domains, f"{facts.spec.name}-domain")))
        graph.add((iri, RDFS.range, facts.range))
        return
    for domain in sorted(facts.domains):
        graph.add((iri, SCHEMA_ORG.domainIncludes, CDM[domain]))
    graph.add((iri, SCHEMA_ORG.rangeIncludes, facts.range))


def add_eucaim_property(graph: Graph, spec: PropSpec, release: Release) -> None:
    """Declare a release property (its type and label) and record its range as cdm:valueRoot."""
    if spec.eucaim is None:
        return
    pool = release.datatype_properties if spec.kind == "data" else release.object_properties
    row = pool[spec.eucaim]
    iri = EUCAIM[spec.eucaim]
    graph.add((iri, RDF.type, property_type(spec.kind)))
    label = first_label(row)
    if label:
        graph.add((iri, RDFS.label, Literal(label)))
    ranges = row.get("rng", [])
    if spec.kind == "concept" and isinstance(ranges, list):
        for code in sorted(str(c) for c in ranges if str(c) in release.classes):
            graph.add((CDM[spec.name], CDM.valueRoot, EUCAIM[code]))


def add_disjointness(graph: Graph) -> None:
    """owl:AllDisjointClasses for each group of DISJOINT."""
    for index, group in enumerate(DISJOINT):
        node = BNode(f"disjoint-{index}")
        members = BNode(f"disjoint-{index}-members")
        Collection(graph, members, [CDM[name] for name in sorted(group)])
        graph.add((node, RDF.type, OWL.AllDisjointClasses))
        graph.add((node, OWL.members, members))


def build_graph(tables: Sequence[Table], release: Release) -> Graph:
    """The whole CDM ontology."""
    check_columns(tables)
    check_ties(release)
    graph = new_graph()
    add_header(graph)
    declare_annotations(graph)
    tables_by_name = {table.name: table for table in tables}
    for spec in CLASSES:
        add_class(graph, spec, tables_by_name.get(spec.table) if spec.table else None)
    for facts in property_facts(tables):
        add_property(graph, facts, release)
    add_disjointness(graph)
    return graph


# ---------------------------------------------------------------------------------------------------------
# The reference page (docs/cdm.md)
# ---------------------------------------------------------------------------------------------------------
DOC_INTRO: Final = """\
# CDM core ontology

`ontologies/cdm.ttl` (`https://w3id.org/hyperontology/cdm`, version {version}, prefix
`cdm: <https://w3id.org/hyperontology/cdm#>`) is generated by `ontologies/build/cdm.py` from:

- the relational CDM of EUCAIM nodes: {ddl};
- the properties of EUCAIM's Hyper-Ontology v2.0: {citation}.

Do not edit this page or the Turtle by hand; regenerate both from the repository root:

    python ontologies/build/cdm.py --out ontologies/cdm.ttl --doc docs/cdm.md

Counts: {classes} classes, {properties} properties ({columns} columns of {tables} tables), {ties}
`owl:equivalentProperty` ties to the EUCAIM release.

## Conventions

- One class per table (`cdm:sqlTable "eucaim_cdm_output.<table>"`) and one property per column
  (`cdm:sqlColumn "<table>.<column>"`, names as PostgreSQL stores them, lower case). A property shared by
  several tables (e.g. `cdm:patient`, `cdm:value`) has one `cdm:sqlColumn` per column and a union domain, so
  export and import walk class -> table and property -> column directly.
- Columns commented out in the DDL (`tumor_marker_test.cancer_condition_id`, `histologic_grade.procedure_id`)
  are kept as an `rdfs:comment` of their class, not as properties.
- Foreign keys are object properties to the referenced class. `radiotherapy`, `surgical_procedure` and
  `medication_administration` share the key of their `treatment` row: the two rows are one individual, typed
  with the subclass (`cdm:Radiotherapy`, `cdm:Surgery`, `cdm:SystemicTherapy` under `cdm:Treatment`).
- Coded columns hold EUCAIM codes. In RDF they are object properties whose value is the IRI of a
  hyperontology concept (range `skos:Concept`): the code `IMG1000042` is
  `<https://cancerimage.eu/ontology/EUCAIM#IMG1000042>` (CT), which the hyperontology links to SNOMED CT,
  RadLex, DICOM, NCIt, ... `cdm:valueRoot` names the concept whose descendants are expected (the range of
  the equivalent EUCAIM property). Units (`cdm:unit`, `cdm:doseUnit`, ...) are unit concepts carrying UCUM
  codes.
- SQL types: VARCHAR -> `xsd:string`, INTEGER -> `xsd:integer`, DECIMAL -> `xsd:decimal`, BOOLEAN ->
  `xsd:boolean`, DATE -> `xsd:dateTime` at midnight without time zone (`xsd:date` is not in the OWL 2
  datatype map; the EUCAIM release also types dates as `xsd:dateTime`).
- `cdm:offsetFromDiagnosis` is in days and `cdm:ageAtDiagnosis` in years; the relational CDM keeps their unit
  columns (`cdm:offsetUnit`, `cdm:ageUnit`).
- Properties without a column give direct access to what the relational CDM stores as code/value rows:
  acquisition parameters of a series (`image_modality` rows, e.g. `cdm:sliceThickness` = rows with code
  `cdm:sqlRowCode` IMG1016306), TNM categories of a cancer stage record (`cancer_stage` rows) and oncology
  facts (ECOG and Karnofsky performance status, smoking status, survival time). `cdm:dicomTag` gives the
  DICOM attribute of imaging properties.
- EUCAIM ties: classes by `skos:exactMatch` (same concept) or `skos:closeMatch` (related, labels differ);
  properties by `owl:equivalentProperty` (datatype to datatype, object to object). The ontology is OWL 2 DL
  and consistent (checked with HermiT through owlready2).
## Oncology facts (survival, follow-up, HPV, smoking, performance status)

What oncology tables carry beyond the relational CDM's columns (which keep them as code/value rows:
`cdm:sqlRowCode`). Intervals are counted from the diagnosis and carry their own unit (a UCUM time unit concept:
`UCUM:d`, `UCUM:wk`, `UCUM:mo`, `UCUM:a`); a SHACL shape refuses a survival or follow-up time without its unit.

| property | on | value | concepts of the values (EUCAIM Hyper-Ontology v2.0) |
|---|---|---|---|
| `cdm:overallSurvival`, `cdm:overallSurvivalUnit` | `cdm:Diagnosis` | decimal >= 0, unit | survival time CLIN1049082 (SNOMED CT 445320007); event: `cdm:vitalStatus` |
| `cdm:followUpTime`, `cdm:followUpUnit` | `cdm:Diagnosis` | decimal >= 0, unit | |
| `cdm:vitalStatus` | `cdm:Patient` (`cdm:Outcome`) | concept | Alive CLIN1024297 (SNOMED CT 438949009), Dead CLIN1024687 (419099009), Unknown COM1001289 |
| `cdm:dateOfDeath`, `cdm:dateOfLastContact` | `cdm:Patient` | date | |
| `cdm:hpvStatus` | `cdm:Diagnosis` | concept | Positive COM1001310 (SNOMED CT 10828004), Negative COM1001332 (260385009), Unknown COM1001289 |
| `cdm:smokingStatus` | `cdm:Patient` | concept | under Finding of tobacco use and exposure CLIN1056330: Non-smoker CLIN1056513 (8392000), Ex-smoker CLIN1059047 (8517006), Smoker CLIN1059166 (77176002), ... |
| `cdm:ecogPerformanceStatus` | `cdm:Diagnosis` | concept | ECOG performance status - grade 0..5 CLIN1024768 ... CLIN1025188 (SNOMED CT 425389002 ... 423409001), under CLIN1015980 |
| `cdm:karnofskyPerformanceStatus` | `cdm:Diagnosis` | concept | KPS 0..100 under Performance status qualifier COM1000025 |

TNM categories and stage groups (`cdm:tnmT`, `cdm:tnmN`, `cdm:tnmM`, `cdm:stageGroup`) are properties of a
`cdm:CancerStage` record, which links its `cdm:diagnosis` (and may carry its `cdm:patient`).
"""  # noqa: E501 - Markdown table rows


def eucaim_cell(code: str | None, release: Release, relation: str) -> str:
    """``exact IMG1016308 (Image Study)`` or an empty string."""
    if code is None:
        return ""
    label = first_label(release.classes[code]) or ""
    return f"{relation} `{code}` ({label})"


def class_rows(release: Release) -> list[str]:
    """The classes table of the reference page."""
    rows = ["| Class | Table | Parent | EUCAIM |", "|---|---|---|---|"]
    for spec in sorted(CLASSES, key=lambda s: s.name):
        ties = [eucaim_cell(spec.exact, release, "exact"), eucaim_cell(spec.close, release, "close")]
        table = f"`{spec.table}`" if spec.table else "(none)"
        parent = f"`cdm:{spec.parent}`" if spec.parent else ""
        rows.append(f"| `cdm:{spec.name}` | {table} | {parent} | {'; '.join(t for t in ties if t)} |")
    return rows


def column_cell(columns: Sequence[Column]) -> str:
    """Columns of a property, grouped by column name: ``patient_id`` (14 tables)."""
    by_name: dict[str, list[str]] = {}
    for column in columns:
        by_name.setdefault(column.name, []).append(column.table)
    parts = []
    for name, tables in sorted(by_name.items()):
        where = ", ".join(sorted(tables)) if len(tables) <= 2 else f"{len(tables)} tables"
        parts.append(f"`{name}` ({where})")
    return "; ".join(parts) if parts else "(no column)"


def short(iri: URIRef) -> str:
    """A prefixed name for the reference page."""
    for prefix, namespace in (("cdm", CDM), ("xsd", XSD), ("skos", SKOS)):
        if str(iri).startswith(str(namespace)):
            return f"{prefix}:{str(iri)[len(str(namespace)):]}"
    return str(iri)


def property_rows(facts: Sequence[PropFacts]) -> list[str]:
    """The properties table of the reference page."""
    rows = ["| Property | Kind | Range | Columns | EUCAIM |", "|---|---|---|---|---|"]
    for fact in facts:
        spec = fact.spec
        tie = f"`{spec.eucaim}`" if spec.eucaim else ""
        rows.append(f"| `cdm:{spec.name}` | {spec.kind} | `{short(fact.range)}` | "
                    f"{column_cell(fact.columns)} | {tie} |")
    return rows


def render_doc(tables: Sequence[Table], release: Release) -> str:
    """The whole reference page."""
    facts = property_facts(tables)
    intro = DOC_INTRO.format(
        version=VERSION, ddl=DDL_SOURCE, citation=EUCAIM_CITATION, classes=len(CLASSES),
        properties=len(facts), columns=sum(len(t.columns) for t in tables), tables=len(tables),
        ties=sum(1 for f in facts if f.spec.eucaim),
    )
    kinds = ("Kind: data = literal (`owl:DatatypeProperty`); concept = coded value, a hyperontology concept; "
             "link = foreign key to a CDM class (both `owl:ObjectProperty`).")
    lines = [intro, "## Classes", "", *class_rows(release), "", "## Properties", "", kinds, "",
             *property_rows(facts)]
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------------------------------------
# Command line
# ---------------------------------------------------------------------------------------------------------
def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """Command-line options."""
    repo = Path(__file__).resolve().parents[2]
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--eucaim-dir", type=Path, default=repo.parent / "shared" / "data" / "eucaim",
                        help="directory with the EUCAIM DDL and release files (default: %(default)s)")
    parser.add_argument("--out", type=Path, default=repo / "ontologies" / "cdm.ttl",
                        help="Turtle file to write (default: %(default)s)")
    parser.add_argument("--doc", type=Path, default=None, help="also write the reference page (Markdown)")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Generate the CDM ontology (and optionally its reference page)."""
    args = parse_args(argv)
    tables = parse_ddl((args.eucaim_dir / DDL_FILE).read_text(encoding="utf-8"))
    release = load_release(args.eucaim_dir)
    graph = build_graph(tables, release)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(graph.serialize(format="turtle"), encoding="utf-8")
    if args.doc is not None:
        args.doc.parent.mkdir(parents=True, exist_ok=True)
        args.doc.write_text(render_doc(tables, release), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
