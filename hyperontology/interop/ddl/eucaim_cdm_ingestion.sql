-- The staging schema of the EUCAIM nodes' ETL (schema eucaim_cdm_ingestion), as
-- `hyperontology export --format eucaim-cdm-ingestion` writes it: the tables the infrastructure's ETL loads before
-- its procedure eucaim_etl_aux.transform_dataset_v001 moves them into eucaim_cdm_output, and that the federated
-- search agent's SQL mode queries directly.
--
-- Written from: EUCAIM/etl-toolset @ 7a69a4b9d8e247c9390759a039cf1fa1405d32ea,
--   Database/2_init_eucaim_cdm_ingestion.sql (Apache-2.0),
--   https://github.com/EUCAIM/etl-toolset/blob/7a69a4b9d8e247c9390759a039cf1fa1405d32ea/Database/2_init_eucaim_cdm_ingestion.sql
-- Same tables, columns, types, keys and defaults, in the same order. Identifiers are written as PostgreSQL stores
-- them (the source's mixed-case names are unquoted, so CancerPatient.BirthSexEUCAIM is cancerpatient.birthsexeucaim
-- there too); types in upper case; CREATE SCHEMA IF NOT EXISTS so that a second export into the same database runs.
-- For SQLite the export drops the schema prefix and the identity clauses (hyperontology/interop/ddl.py);
-- statements are separated by semicolons at the end of a line.

CREATE SCHEMA IF NOT EXISTS eucaim_cdm_ingestion;

CREATE TABLE IF NOT EXISTS eucaim_cdm_ingestion.processlog (
    id INTEGER GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    filename VARCHAR(255),
    datasetid VARCHAR(100),
    datasettype VARCHAR(100),
    pipelinestage VARCHAR(50),
    stepnumber INTEGER,
    stepname VARCHAR(100),
    level VARCHAR(50),
    status VARCHAR(50),
    message TEXT,
    timestamp TIMESTAMP,
    processed BOOLEAN DEFAULT FALSE
);

CREATE TABLE IF NOT EXISTS eucaim_cdm_ingestion.mappedcodeableconceptsresults (
    id INTEGER GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    datasetid VARCHAR(50),
    propertynameoriginal VARCHAR(200),
    propertynameeucaim VARCHAR(100),
    originalvalue VARCHAR(150),
    parsedvalue VARCHAR(150),
    codeineucaim VARCHAR(50),
    codecandidatesineucaim VARCHAR(50),
    mappingtimestamp VARCHAR(50),
    processed BOOLEAN DEFAULT FALSE
);

CREATE TABLE IF NOT EXISTS eucaim_cdm_ingestion.datasetingestioncontrol (
    datasetidentifier TEXT,
    expectedrows INTEGER,
    processedrows INTEGER DEFAULT 0,
    status VARCHAR(15)
);

CREATE TABLE IF NOT EXISTS eucaim_cdm_ingestion.dataset (
    id INTEGER GENERATED ALWAYS AS IDENTITY,
    identifier VARCHAR(150) PRIMARY KEY,
    title VARCHAR(150) NOT NULL,
    description VARCHAR(500),
    processed BOOLEAN DEFAULT FALSE
);

CREATE TABLE IF NOT EXISTS eucaim_cdm_ingestion.cancerpatient (
    id INTEGER GENERATED ALWAYS AS IDENTITY,
    identifier VARCHAR(150) PRIMARY KEY,
    datasetidentifier VARCHAR(150) NOT NULL,
    birthdate VARCHAR(15),
    birthsexeucaim VARCHAR(50),
    birthsexoriginal VARCHAR(50),
    ethnicity VARCHAR(50),
    managingorganization VARCHAR(150),
    diagnosticcategoryeucaim VARCHAR(50),
    diagnosticcategoryoriginal VARCHAR(50),
    deceased BOOLEAN DEFAULT FALSE,
    lastcontactdate VARCHAR(15),
    causeofdeatheucaim VARCHAR(100),
    causeofdeathoriginal VARCHAR(100),
    processed BOOLEAN DEFAULT FALSE
);

CREATE TABLE IF NOT EXISTS eucaim_cdm_ingestion.healthstatus (
    id INTEGER GENERATED ALWAYS AS IDENTITY,
    identifier VARCHAR(150) PRIMARY KEY,
    patientidentifier VARCHAR(150) NOT NULL,
    healthstatuseucaim VARCHAR(50),
    healthstatusoriginal VARCHAR(50),
    valueasnumber DECIMAL(5,2),
    valueasconcept INTEGER,
    valueasconcepteucaim VARCHAR(50),
    valueasconceptoriginal VARCHAR(50),
    valueasconceptuniteucaim VARCHAR(50),
    valueasconceptunitoriginal VARCHAR(50),
    episode INTEGER,
    episodestartdate VARCHAR(15),
    processed BOOLEAN DEFAULT FALSE
);

CREATE TABLE IF NOT EXISTS eucaim_cdm_ingestion.tumormarkertest (
    id INTEGER GENERATED ALWAYS AS IDENTITY,
    identifier VARCHAR(150) PRIMARY KEY,
    patientidentifier VARCHAR(150) NOT NULL,
    categoryeucaim VARCHAR(50),
    categoryoriginal VARCHAR(50),
    tumormarkereucaim VARCHAR(50),
    tumormarkeroriginal VARCHAR(50),
    valueasnumber DECIMAL(5,2),
    valueasconcepteucaim VARCHAR(50),
    valueasconceptoriginal VARCHAR(50),
    valueasconceptuniteucaim VARCHAR(50),
    valueasconceptunitoriginal VARCHAR(50),
    dateofmarker VARCHAR(15),
    episode INTEGER,
    episodestartdate VARCHAR(15),
    processed BOOLEAN DEFAULT FALSE
);

CREATE TABLE IF NOT EXISTS eucaim_cdm_ingestion.familymemberhistory (
    id INTEGER GENERATED ALWAYS AS IDENTITY,
    identifier VARCHAR(150) PRIMARY KEY,
    patientidentifier VARCHAR(150) NOT NULL,
    subjecteucaim VARCHAR(50),
    subjectoriginal VARCHAR(50),
    relationshipeucaim VARCHAR(50),
    relationshiporiginal VARCHAR(50),
    conditioncodeeucaim VARCHAR(50),
    conditioncodeoriginal VARCHAR(50),
    onsetage INTEGER,
    onsetageuniteucaim VARCHAR(50),
    onsetageunitoriginal VARCHAR(50),
    processed BOOLEAN DEFAULT FALSE
);

CREATE TABLE IF NOT EXISTS eucaim_cdm_ingestion.radiotherapycoursesummary (
    id INTEGER GENERATED ALWAYS AS IDENTITY,
    treatmentidentifier VARCHAR(150) PRIMARY KEY,
    patientidentifier VARCHAR(150) NOT NULL,
    offsetfromdiagnosis DECIMAL(5,2),
    offsetuniteucaim VARCHAR(50),
    offsetunitoriginal VARCHAR(50),
    performeddate VARCHAR(15),
    episode INTEGER,
    episodestartdate VARCHAR(15),
    radiotherapyeucaim VARCHAR(50),
    radiotherapyoriginal VARCHAR(150),
    processed BOOLEAN DEFAULT FALSE
);

CREATE TABLE IF NOT EXISTS eucaim_cdm_ingestion.surgicalprocedure (
    id INTEGER GENERATED ALWAYS AS IDENTITY,
    treatmentidentifier VARCHAR(150) PRIMARY KEY,
    patientidentifier VARCHAR(150) NOT NULL,
    offsetfromdiagnosis DECIMAL(5,2),
    offsetuniteucaim VARCHAR(50),
    offsetunitoriginal VARCHAR(50),
    performeddate VARCHAR(15),
    procedureeucaim VARCHAR(50),
    procedureoriginal VARCHAR(150),
    episode INTEGER,
    episodestartdate VARCHAR(15),
    processed BOOLEAN DEFAULT FALSE
);

CREATE TABLE IF NOT EXISTS eucaim_cdm_ingestion.cancerrelatedmedication (
    id INTEGER GENERATED ALWAYS AS IDENTITY,
    treatmentidentifier VARCHAR(150) PRIMARY KEY,
    patientidentifier VARCHAR(150) NOT NULL,
    dateofmedication DATE,
    offsetfromdiagnosis DECIMAL(5,2),
    offsetuniteucaim VARCHAR(50),
    offsetunitoriginal VARCHAR(50),
    medicationcodeeucaim VARCHAR(50),
    medicationcodeoriginal VARCHAR(50),
    meditationid INTEGER,
    episode INTEGER,
    episodestartdate VARCHAR(15),
    processed BOOLEAN DEFAULT FALSE
);

CREATE TABLE IF NOT EXISTS eucaim_cdm_ingestion.primarycancercondition (
    id INTEGER GENERATED ALWAYS AS IDENTITY,
    identifier VARCHAR(150) PRIMARY KEY,
    patientidentifier VARCHAR(150) NOT NULL,
    ageofdiagnosis DECIMAL(5,2),
    ageuniteucaim VARCHAR(50),
    ageunitoriginal VARCHAR(50),
    asserteddate DATE,
    primarycancerconditioneucaim VARCHAR(50),
    primarycancerconditionoriginal VARCHAR(50),
    histologymorphologybehavioureucaim VARCHAR(50),
    histologymorphologybehaviouroriginal VARCHAR(50),
    episodenumber INTEGER,
    episodestartdate VARCHAR(15),
    confirmedbyprocedure VARCHAR(150),
    processed BOOLEAN DEFAULT FALSE
);

CREATE TABLE IF NOT EXISTS eucaim_cdm_ingestion.histologicgrade (
    id INTEGER GENERATED ALWAYS AS IDENTITY,
    identifier VARCHAR(150) PRIMARY KEY,
    primarycancerconditionidentifier VARCHAR(150) NOT NULL,
    categoryeucaim VARCHAR(50),
    categoryoriginal VARCHAR(50),
    gradeeucaim VARCHAR(50),
    gradeoriginal VARCHAR(50),
    value INTEGER,
    processed BOOLEAN DEFAULT FALSE
);

CREATE TABLE IF NOT EXISTS eucaim_cdm_ingestion.cancerstage (
    id INTEGER GENERATED ALWAYS AS IDENTITY,
    identifier VARCHAR(150) PRIMARY KEY,
    primarycancerconditionidentifier VARCHAR(150) NOT NULL,
    cancerstagecodeeucaim VARCHAR(50),
    cancerstagecodeoriginal VARCHAR(50),
    cancerstagevalueeucaim VARCHAR(50),
    cancerstagevalueoriginal VARCHAR(50),
    processed BOOLEAN DEFAULT FALSE
);

CREATE TABLE IF NOT EXISTS eucaim_cdm_ingestion.cancerrelatedprocedure (
    id INTEGER GENERATED ALWAYS AS IDENTITY,
    procedureidentifier VARCHAR(150) PRIMARY KEY,
    primarycancerconditionidentifier VARCHAR(150) NOT NULL,
    offsetfromdiagnosis DECIMAL(5,2),
    offsetuniteucaim VARCHAR(50),
    offsetunitoriginal VARCHAR(50),
    performeddate VARCHAR(15),
    procedureeucaim VARCHAR(50),
    procedureoriginal VARCHAR(150),
    episode INTEGER,
    episodestartdate VARCHAR(15),
    procedurecategorycodeeucaim VARCHAR(50),
    procedurecategorycodeoriginal VARCHAR(50),
    processed BOOLEAN DEFAULT FALSE
);

CREATE TABLE IF NOT EXISTS eucaim_cdm_ingestion.imagingprocedure (
    id INTEGER GENERATED ALWAYS AS IDENTITY,
    procedureidentifier VARCHAR(150) PRIMARY KEY,
    primarycancerconditionidentifier VARCHAR(150) NOT NULL,
    patientidentifier VARCHAR(150) NOT NULL,
    offsetfromdiagnosis DECIMAL(5,2),
    offsetuniteucaim VARCHAR(50),
    offsetunitoriginal VARCHAR(50),
    performeddate VARCHAR(15),
    imagingprocedureeucaim VARCHAR(50),
    imagingprocedureoriginal VARCHAR(150),
    imagingtimepoint INTEGER,
    episode INTEGER,
    episodestartdate VARCHAR(15),
    imagingprocedurecategorycodeeucaim VARCHAR(50),
    imagingprocedurecategorycodeoriginal VARCHAR(50),
    processed BOOLEAN DEFAULT FALSE
);

CREATE TABLE IF NOT EXISTS eucaim_cdm_ingestion.tumor (
    id INTEGER GENERATED ALWAYS AS IDENTITY,
    identifier VARCHAR(150) PRIMARY KEY,
    primarycancerconditionidentifier VARCHAR(150) NOT NULL,
    isindex BOOLEAN,
    morphologyoriginal VARCHAR(150),
    morphologyeucaim VARCHAR(150),
    volume DECIMAL(5,2),
    sizemethodeucaim VARCHAR(50),
    sizemethodoriginal VARCHAR(50),
    sizemaximumdimension DECIMAL(5,2),
    sizeotherdimension DECIMAL(5,2),
    sizedimensionunit VARCHAR(15),
    bodysiteeucaim VARCHAR(50),
    bodysiteoriginal VARCHAR(50),
    bodysitelocationqualifiereucaim VARCHAR(50),
    bodysitelocationqualifieroriginal VARCHAR(50),
    bodysitelateralityqualifiereucaim VARCHAR(50),
    bodysitelateralityqualifieroriginal VARCHAR(50),
    histologicgradeeucaim VARCHAR(50),
    histologicgradeoriginal VARCHAR(50),
    episode INTEGER,
    episodestartdate VARCHAR(15),
    processed BOOLEAN DEFAULT FALSE
);

CREATE TABLE IF NOT EXISTS eucaim_cdm_ingestion.labtestresult (
    id INTEGER GENERATED ALWAYS AS IDENTITY,
    identifier VARCHAR(150) PRIMARY KEY,
    patientidentifier VARCHAR(150) NOT NULL,
    codeoriginal VARCHAR(150),
    codeeucaim VARCHAR(150),
    valueasnumber DECIMAL(5,2),
    valueasconcepteucaim VARCHAR(50),
    valueasconceptoriginal VARCHAR(50),
    valueuniteucaim VARCHAR(50),
    valueunitoriginal VARCHAR(50),
    dateoftestresult VARCHAR(15),
    offsetfromdiagnosis DECIMAL(5,2),
    offsetuniteucaim VARCHAR(50),
    offsetunitoriginal VARCHAR(50),
    processed BOOLEAN DEFAULT FALSE
);

CREATE TABLE IF NOT EXISTS eucaim_cdm_ingestion.riskassessment (
    id INTEGER GENERATED ALWAYS AS IDENTITY,
    identifier VARCHAR(150) PRIMARY KEY,
    tumoridentifier VARCHAR(150) NOT NULL,
    codeoriginal VARCHAR(150),
    codeeucaim VARCHAR(150),
    valueunit VARCHAR(15),
    valueasconcept VARCHAR(50),
    valueasnumber INTEGER,
    processed BOOLEAN DEFAULT FALSE
);

CREATE TABLE IF NOT EXISTS eucaim_cdm_ingestion.tumorobservation (
    id INTEGER GENERATED ALWAYS AS IDENTITY,
    identifier VARCHAR(150) PRIMARY KEY,
    tumoridentifier VARCHAR(150) NOT NULL,
    codeoriginal VARCHAR(150),
    codeeucaim VARCHAR(150),
    valueunit VARCHAR(15),
    valueasconcept VARCHAR(50),
    valueasnumber INTEGER,
    processed BOOLEAN DEFAULT FALSE
);

CREATE TABLE IF NOT EXISTS eucaim_cdm_ingestion.episode (
    id INTEGER GENERATED ALWAYS AS IDENTITY,
    identifier VARCHAR(150) PRIMARY KEY,
    patientidentifier VARCHAR(150) NOT NULL,
    datasetidentifier VARCHAR(150) NOT NULL,
    typeeucaim VARCHAR(50),
    typeoriginal VARCHAR(50) NOT NULL,
    episodenumber INTEGER,
    startdate VARCHAR(15),
    enddate VARCHAR(15),
    parentepisodeid INTEGER,
    processed BOOLEAN DEFAULT FALSE
);

CREATE TABLE IF NOT EXISTS eucaim_cdm_ingestion.imagestudy (
    id INTEGER GENERATED ALWAYS AS IDENTITY,
    imagestudyuid VARCHAR(70) PRIMARY KEY,
    imagingtimepoint INTEGER,
    patientidentifier VARCHAR(150),
    datasetidentifier VARCHAR(150),
    offsetfromdiagnosis DECIMAL(5,2),
    offsetuniteucaim VARCHAR(20),
    offsetunitoriginal VARCHAR(20),
    imagingprocedureidentifier VARCHAR(250),
    imagestudycategorycode VARCHAR(70),
    processed BOOLEAN DEFAULT FALSE
);

CREATE TABLE IF NOT EXISTS eucaim_cdm_ingestion.imageseries (
    id INTEGER GENERATED ALWAYS AS IDENTITY,
    imagestudyuid VARCHAR(70),
    imageseriesuid VARCHAR(70) PRIMARY KEY,
    imageseriesnumber INTEGER,
    description VARCHAR(170),
    manufacturer VARCHAR(70),
    bodypart VARCHAR(100),
    acquisitiondate VARCHAR(50),
    modality VARCHAR(50),
    processed BOOLEAN DEFAULT FALSE
);

CREATE TABLE IF NOT EXISTS eucaim_cdm_ingestion.imagetags (
    id INTEGER GENERATED ALWAYS AS IDENTITY,
    imageseriesidentifier INTEGER,
    imagestudyuid VARCHAR(70),
    imageseriesuid VARCHAR(70),
    kvp DECIMAL(5,1),
    xraytubecurrent INTEGER,
    exposure INTEGER,
    exposuretime INTEGER,
    spiralpitchfactor DECIMAL(6,4),
    filtertype VARCHAR(30),
    convolutionkernel VARCHAR(30),
    slicethickness DECIMAL(5,2),
    imagerows INTEGER,
    imagecolumns INTEGER,
    pixelrowspacing DECIMAL(6,4),
    pixelcolspacing DECIMAL(6,4),
    processed BOOLEAN DEFAULT FALSE,
    PRIMARY KEY (imagestudyuid, imageseriesuid)
);
