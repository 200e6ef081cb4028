"""Export the store's CDM data graph into the infrastructure's staging schema (``eucaim_cdm_ingestion``).

The staging schema is what the nodes' ETL loads before its procedure ``eucaim_etl_aux.transform_dataset_v001``
moves the rows into ``eucaim_cdm_output``, and what the federated search agent's SQL mode queries directly. Its
tables are named after mCODE (``CancerPatient``, ``PrimaryCancerCondition``, ``ImageStudy``...), rows are keyed by
text identifiers (not row ids), dates are ``VARCHAR`` (``YYYY-MM-DD``, which the procedure's ``CAST(... AS date)``
reads) and each coded field is a pair: ``...EUCAIM`` holds the EUCAIM code (:class:`~.cdm_export.Codes`: the
fragment of an EUCAIM IRI, else the EUCAIM concept equivalent to the value; never an invented one) and
``...Original`` the concept the store holds, as a CURIE (``SCT:75691003``, ``EUCAIM:IMG1000042``; its IRI when it
has no prefix). A concept without an EUCAIM equivalent is still written to ``...Original``; the empty
``...EUCAIM`` is counted in the report (``eucaim_codes_missing``).

:data:`STAGING` says which CDM class fills which table and which property each column holds. Instances and values
that cannot be expressed are counted with their reason, as by the output export; every triple of the data graph
is an ``rdf:type``, a value written, or a value reported. One transaction: a failed export leaves the target as
it was. The log and control tables (``ProcessLog``, ``MappedCodeableConceptsResults``,
``DatasetIngestionControl``) belong to the infrastructure's NiFi flows: they are created, checked and (with
``replace``) emptied, never written. An instance may have a row in more than one table: a series is a row of
``ImageSeries`` and one of ``ImageTags`` (its acquisition parameters).

Examples
--------
>>> spec = {t.table: t for t in STAGING}["cancerpatient"]
>>> spec.cls.removeprefix(CDM), spec.key.column, [f.columns for f in spec.fields][2]
('Patient', 'identifier', ('birthsexeucaim', 'birthsexoriginal'))
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pyoxigraph as ox

from hyperontology.interop.cdm_export import (
    WRITTEN,
    CdmExportError,
    Codes,
    ExampleLog,
    Instance,
    _short,
    read_instances,
)
from hyperontology.interop.cdm_model import CDM, ROW_ID, cdm_model
from hyperontology.interop.ddl import INGESTION_SCHEMA, Column, Table, cdm_tables
from hyperontology.interop.sqldb import Database, redact, transaction
from hyperontology.interop.sqlvalues import NotExpressible, to_sql
from hyperontology.ontology.api import Hyperontology
from hyperontology.store.base import Store

FORMAT = "eucaim-cdm-ingestion"


@dataclass(frozen=True)
class Field:
    """A staging column and the CDM property it holds. ``kind``: ``literal`` (by the column's type), ``day`` (a
    date as ``YYYY-MM-DD`` text), ``code`` (an EUCAIM code alone), ``pair`` (``<column>eucaim`` +
    ``<column>original``), ``ref`` (the key of the instance it refers to, in staging table ``target``), ``id``
    (the row's key: the property's value, else the last segment of the instance's IRI), ``uid`` (the row's key,
    required) or ``row`` (the ``id`` of the instance's own row in ``target``). ``via``: a property of the
    instance to follow when it lacks ``prop`` itself (denormalised)."""

    column: str
    prop: str
    kind: str = "literal"
    target: str = ""
    via: str = ""

    @property
    def columns(self) -> tuple[str, ...]:
        return (self.column + "eucaim", self.column + "original") if self.kind == "pair" else (self.column,)


@dataclass(frozen=True)
class StagingTable:
    table: str
    cls: str
    key: Field
    fields: tuple[Field, ...]


def _f(column: str, prop: str, kind: str = "literal", target: str = "", via: str = "") -> Field:
    return Field(column, CDM + prop, kind, target, CDM + via if via else "")


def _patient() -> Field:
    return _f("patientidentifier", "patient", "ref", "cancerpatient")


def _diagnosis(column: str = "primarycancerconditionidentifier") -> Field:
    return _f(column, "diagnosis", "ref", "primarycancercondition")


#: The staging tables the export writes, parents before children (a ``ref`` names an earlier table).
STAGING: tuple[StagingTable, ...] = (
    StagingTable("dataset", CDM + "Dataset", _f("identifier", "datasetIdentifier", "id"), (
        _f("title", "title"), _f("description", "description"))),
    StagingTable("cancerpatient", CDM + "Patient", _f("identifier", "patientIdentifier", "id"), (
        _f("datasetidentifier", "dataset", "ref", "dataset"), _f("birthdate", "birthDate", "day"),
        _f("birthsex", "birthSex", "pair"), _f("ethnicity", "ethnicity", "code"),
        _f("managingorganization", "managingOrganization"), _f("diagnosticcategory", "diagnosticCategory", "pair"),
        _f("deceased", "deceased"), _f("lastcontactdate", "dateOfLastContact", "day"),
        _f("causeofdeath", "causeOfDeath", "pair"))),
    StagingTable("primarycancercondition", CDM + "Diagnosis", _f("identifier", "identifier", "id"), (
        _f("patientidentifier", "patient", "ref", "cancerpatient"), _f("ageofdiagnosis", "ageAtDiagnosis"),
        _f("ageunit", "ageUnit", "pair"), _f("asserteddate", "assertedDate"),
        _f("primarycancercondition", "diagnosisCode", "pair"),
        _f("histologymorphologybehaviour", "histology", "pair"))),
    StagingTable("imagingprocedure", CDM + "Procedure", _f("procedureidentifier", "identifier", "id"), (
        _diagnosis(), _f("patientidentifier", "patient", "ref", "cancerpatient", via="diagnosis"),
        _f("offsetfromdiagnosis", "offsetFromDiagnosis"), _f("offsetunit", "offsetUnit", "pair"),
        _f("performeddate", "performedDate", "day"), _f("imagingprocedure", "procedureCode", "pair"),
        _f("imagingtimepoint", "imagingTimepoint"), _f("imagingprocedurecategorycode", "category", "pair"))),
    StagingTable("healthstatus", CDM + "HealthStatusAssessment", _f("identifier", "identifier", "id"), (
        _patient(), _f("healthstatus", "code", "pair"), _f("valueasnumber", "value"),
        _f("valueasconcept", "valueConcept", "pair"), _f("valueasconceptunit", "unit", "pair"))),
    StagingTable("familymemberhistory", CDM + "FamilyMemberHistory", _f("identifier", "identifier", "id"), (
        _patient(), _f("relationship", "relationship", "pair"), _f("conditioncode", "conditionCode", "pair"),
        _f("onsetage", "onsetAge"), _f("onsetageunit", "onsetAgeUnit", "pair"))),
    StagingTable("labtestresult", CDM + "LabTestResult", _f("identifier", "identifier", "id"), (
        _patient(), _f("code", "code", "pair"), _f("valueasnumber", "value"),
        _f("valueasconcept", "valueConcept", "pair"), _f("valueunit", "unit", "pair"),
        _f("dateoftestresult", "date", "day"), _f("offsetfromdiagnosis", "offsetFromDiagnosis"),
        _f("offsetunit", "offsetUnit", "pair"))),
    StagingTable("radiotherapycoursesummary", CDM + "Radiotherapy", _f("treatmentidentifier", "identifier", "id"), (
        _patient(), _f("offsetfromdiagnosis", "offsetFromDiagnosis"), _f("offsetunit", "offsetUnit", "pair"),
        _f("performeddate", "startDate", "day"), _f("radiotherapy", "radiotherapyModality", "pair"))),
    StagingTable("surgicalprocedure", CDM + "Surgery", _f("treatmentidentifier", "identifier", "id"), (
        _patient(), _f("offsetfromdiagnosis", "offsetFromDiagnosis"), _f("offsetunit", "offsetUnit", "pair"),
        _f("performeddate", "performedDate", "day"), _f("procedure", "procedureCode", "pair"))),
    StagingTable("cancerrelatedmedication", CDM + "SystemicTherapy", _f("treatmentidentifier", "identifier", "id"), (
        _patient(), _f("dateofmedication", "startDate"), _f("offsetfromdiagnosis", "offsetFromDiagnosis"),
        _f("offsetunit", "offsetUnit", "pair"), _f("medicationcode", "medicationCode", "pair"),
        _f("meditationid", "medicationId"))),
    StagingTable("histologicgrade", CDM + "HistologicGrade", _f("identifier", "identifier", "id"), (
        _diagnosis(), _f("category", "code", "pair"), _f("grade", "grade", "pair"))),
    StagingTable("cancerstage", CDM + "CancerStage", _f("identifier", "identifier", "id"), (
        _diagnosis(), _f("cancerstagecode", "code", "pair"), _f("cancerstagevalue", "stage", "pair"))),
    StagingTable("tumor", CDM + "Tumor", _f("identifier", "identifier", "id"), (
        _diagnosis(), _f("isindex", "isIndex"), _f("morphology", "histology", "pair"), _f("volume", "volume"),
        _f("sizemethod", "sizeMethod", "pair"), _f("sizemaximumdimension", "maximumDimension"),
        _f("sizeotherdimension", "otherDimension"), _f("sizedimensionunit", "dimensionUnit", "code"),
        _f("bodysite", "bodySite", "pair"), _f("bodysitelocationqualifier", "bodySiteLocation", "pair"),
        _f("bodysitelateralityqualifier", "laterality", "pair"))),
    StagingTable("tumormarkertest", CDM + "TumorMarkerTest", _f("identifier", "identifier", "id"), (
        _patient(), _f("category", "category", "pair"),
        _f("tumormarker", "code", "pair"), _f("valueasnumber", "value"), _f("valueasconcept", "valueConcept", "pair"),
        _f("valueasconceptunit", "unit", "pair"), _f("dateofmarker", "date", "day"))),
    StagingTable("tumorobservation", CDM + "TumorObservation", _f("identifier", "identifier", "id"), (
        _f("tumoridentifier", "tumor", "ref", "tumor"), _f("code", "code", "pair"), _f("valueunit", "unit", "code"),
        _f("valueasconcept", "valueConcept", "code"), _f("valueasnumber", "value"))),
    StagingTable("riskassessment", CDM + "RiskAssessment", _f("identifier", "identifier", "id"), (
        _f("tumoridentifier", "tumor", "ref", "tumor"), _f("code", "code", "pair"), _f("valueunit", "unit", "code"),
        _f("valueasconcept", "valueConcept", "code"), _f("valueasnumber", "value"))),
    StagingTable("imagestudy", CDM + "ImagingStudy", _f("imagestudyuid", "studyInstanceUID", "uid"), (
        _f("imagingtimepoint", "imagingTimepoint"), _f("patientidentifier", "patient", "ref", "cancerpatient"),
        _f("datasetidentifier", "dataset", "ref", "dataset", via="patient"),
        _f("offsetfromdiagnosis", "offsetFromDiagnosis"), _f("offsetunit", "offsetUnit", "pair"),
        _f("imagingprocedureidentifier", "procedure", "ref", "imagingprocedure"))),
    StagingTable("imageseries", CDM + "ImagingSeries", _f("imageseriesuid", "seriesInstanceUID", "uid"), (
        _f("imagestudyuid", "study", "ref", "imagestudy"), _f("imageseriesnumber", "seriesNumber"),
        _f("description", "seriesDescription"), _f("manufacturer", "manufacturer", "code"),
        _f("bodypart", "bodySite", "code"), _f("acquisitiondate", "acquisitionDate", "day"),
        _f("modality", "modality", "code"))),
    StagingTable("imagetags", CDM + "ImagingSeries", _f("imageseriesuid", "seriesInstanceUID", "uid"), (
        Field("imageseriesidentifier", "", "row", "imageseries"), _f("imagestudyuid", "study", "ref", "imagestudy"),
        _f("kvp", "kvp"), _f("xraytubecurrent", "xRayTubeCurrent"), _f("exposure", "exposure"),
        _f("exposuretime", "exposureTime"), _f("spiralpitchfactor", "spiralPitchFactor"),
        _f("filtertype", "filterType"), _f("convolutionkernel", "convolutionKernel"),
        _f("slicethickness", "sliceThickness"), _f("imagerows", "rows"), _f("imagecolumns", "columns"),
        _f("pixelrowspacing", "pixelSpacing"))),
)


class _Row:
    """One instance's row being built; its values' fates are kept only if the row is."""

    def __init__(self) -> None:
        self.cells: dict[str, Any] = {}
        self.fate: dict[tuple[str, str], str] = {}
        self.missing: Counter[str] = Counter()
        self.adjusted: Counter[str] = Counter()


class StagingPlanner(ExampleLog):
    """Rows of the staging tables from the instances, and the account of what could not be expressed."""

    def __init__(self, instances: dict[str, Instance], codes: Codes) -> None:
        self.instances = instances
        self.codes = codes
        self.ddl = {t.name: t for t in cdm_tables(INGESTION_SCHEMA)}
        ancestors = cdm_model().ancestors
        self.home: dict[str, list[str]] = {}
        for inst in instances.values():
            self.home[inst.iri] = [s.table for s in STAGING
                                   if any(s.cls in ancestors.get(t, {t}) for t in inst.types)]
        self.keys: dict[str, dict[str, str]] = {s.table: {} for s in STAGING}
        self.taken: dict[str, set[str]] = {s.table: set() for s in STAGING}
        self.ids: dict[str, dict[str, int]] = {s.table: {} for s in STAGING}
        self.fate: dict[tuple[str, str, str], str] = {}
        #: instance -> the tables its row is not in, with the reason
        self.dropped: dict[str, dict[str, str]] = {}
        self.props = {s.table: {s.key.prop} | {f.prop for f in s.fields} for s in STAGING}
        self.tables: dict[str, dict[str, Any]] = {name: _entry() for name in self.ddl}
        self.examples: list[dict[str, str]] = []
        self.more = 0

    def plan(self) -> dict[str, tuple[list[str], list[tuple[Any, ...]]]]:
        """table -> (columns, rows) for the tables of :data:`STAGING`."""
        return {spec.table: self._table(spec) for spec in STAGING}

    def _table(self, spec: StagingTable) -> tuple[list[str], list[tuple[Any, ...]]]:
        ddl = self.ddl[spec.table]
        rows: list[tuple[Any, ...]] = []
        members = sorted(i for i, homes in self.home.items() if spec.table in homes)
        for iri in members:
            row = self._row(spec, ddl, self.instances[iri])
            if row is None:
                continue
            row.cells["id"] = self.ids[spec.table][iri] = len(rows) + 1
            row.cells["processed"] = False
            rows.append(tuple(row.cells.get(c.name) for c in ddl.columns))
        return [c.name for c in ddl.columns], rows

    def _row(self, spec: StagingTable, ddl: Table, inst: Instance) -> _Row | None:
        row = _Row()
        key, reason = self._key(spec, ddl, inst, row)
        if key is not None and key in self.taken[spec.table]:
            reason = f"duplicate primary key of {spec.table} (shared with another instance)"
        elif key is not None:
            for field in spec.fields:
                self._cell(field, ddl, inst, row)
            reason = next((f"no value for {spec.table}.{c.name} ({'PRIMARY KEY' if c.primary_key else 'NOT NULL'})"
                           for c in ddl.columns if (c.not_null or c.primary_key) and row.cells.get(c.name) is None),
                          None)
        if reason is not None:
            self.dropped.setdefault(inst.iri, {})[spec.table] = reason
            self.tables[spec.table]["instances_not_expressed"][reason] += 1
            self._example(spec.table, inst.iri, "", "", reason)
            return None
        self.keys[spec.table][inst.iri] = key  # type: ignore[assignment]
        self.taken[spec.table].add(key)  # type: ignore[arg-type]
        for (prop, term), fate in row.fate.items():
            if fate == WRITTEN or (inst.iri, prop, term) not in self.fate:
                self.fate[(inst.iri, prop, term)] = fate
        self.tables[spec.table]["eucaim_codes_missing"].update(row.missing)
        self.tables[spec.table]["adjusted"].update(row.adjusted)
        return row

    def _key(self, spec: StagingTable, ddl: Table, inst: Instance, row: _Row) -> tuple[str | None, str | None]:
        """The row's key, or None and the reason there is none."""
        field, column = spec.key, ddl.column(spec.key.column)
        terms = [t for t in inst.values.get(field.prop, []) if isinstance(t, ox.Literal)]
        if terms:
            key = terms[0].value
            row.fate[(field.prop, str(terms[0]))] = WRITTEN
        elif field.kind == "id":
            key = unquote(inst.iri.rstrip("/").rsplit("/", 1)[-1])
            row.adjusted[f"{column.name} from the instance's IRI (no {_short(field.prop)})"] += 1
        else:
            return None, f"no value for {spec.table}.{column.name} (PRIMARY KEY)"
        if len(key) > column.size[0]:
            return None, f"{spec.table}.{column.name}: the key is longer than VARCHAR({column.size[0]})"
        row.cells[column.name] = key
        return key, None

    def _terms(self, field: Field, inst: Instance) -> tuple[list[Any], bool]:
        """The instance's own values of the property, else (``via``) those of the instance it refers to."""
        own = inst.values.get(field.prop, [])
        if own or not field.via:
            return own, True
        for ref in inst.values.get(field.via, []):
            other = self.instances.get(str(ref.value))
            if other is not None and other.values.get(field.prop):
                return other.values[field.prop][:1], False
        return [], False

    def _cell(self, field: Field, ddl: Table, inst: Instance, row: _Row) -> None:
        if field.kind == "row":
            row.cells[field.column] = self.ids[field.target].get(inst.iri)
            return
        terms, own = self._terms(field, inst)
        if not terms:
            return
        first, *extra = terms
        for term in extra:
            row.fate[(field.prop, str(term))] = f"more than one value; {ddl.name}.{field.column} holds one"
        try:
            self._convert(field, ddl, first, row)
        except NotExpressible as exc:
            if own:
                row.fate[(field.prop, str(first))] = str(exc)
            return
        if own:
            row.fate[(field.prop, str(first))] = WRITTEN

    def _convert(self, field: Field, ddl: Table, term: Any, row: _Row) -> None:
        column = ddl.column(field.columns[0])
        if field.kind in ("ref", "code", "pair"):
            if not isinstance(term, ox.NamedNode):
                raise NotExpressible("a literal where a concept or an instance is expected")
            self._concept(field, ddl, column, term.value, row)
        elif not isinstance(term, ox.Literal):
            raise NotExpressible("an IRI where a literal is expected")
        else:
            value, note = to_sql(term, "DATE" if field.kind == "day" else column.base, column.size)
            if field.kind == "day":
                value = to_sql(ox.Literal(value.isoformat()), column.base, column.size)[0]
            row.cells[column.name] = value
            if note:
                row.adjusted[f"{column.name}: {note}"] += 1

    def _concept(self, field: Field, ddl: Table, column: Column, iri: str, row: _Row) -> None:
        if field.kind == "pair":
            self._pair(field, ddl, iri, row)
            return
        if field.kind == "ref":
            code, reason = self.keys[field.target].get(iri), f"refers to an instance that has no row in {field.target}"
        else:
            code, reason = self.codes.code(iri)
        if code is None:
            raise NotExpressible(reason)
        row.cells[column.name] = to_sql(ox.Literal(code), column.base, column.size)[0]

    def _pair(self, field: Field, ddl: Table, iri: str, row: _Row) -> None:
        eucaim, original = (ddl.column(c) for c in field.columns)
        code, reason = self.codes.code(iri)
        if code is not None and len(code) > eucaim.size[0]:
            code, reason = None, f"longer than VARCHAR({eucaim.size[0]})"
        curie: str | None = _short(iri)
        if len(curie or "") > original.size[0]:
            if code is None:
                raise NotExpressible(f"{original.name}: longer than VARCHAR({original.size[0]}); {reason}")
            curie = None
            row.adjusted[f"{original.name} empty: the concept is longer than VARCHAR({original.size[0]})"] += 1
        if code is None:
            row.missing[f"{_short(field.prop)}: {reason} ({original.name} written)"] += 1
        row.cells[eucaim.name], row.cells[original.name] = code, curie

    # ------------------------------------------------------------------ report
    def report(self, rows: dict[str, tuple[list[str], list[tuple[Any, ...]]]]) -> dict[str, Any]:
        no_table: Counter[str] = Counter()
        totals: Counter[str] = Counter(dict.fromkeys(("type_triples", "values_written", "values_not_expressed",
                                                      "rows", "instances_not_expressed"), 0))
        totals["instances"] = len(self.instances)
        for name, (_, data) in rows.items():
            self.tables[name]["rows"] = len(data)
        for inst in self.instances.values():
            if not self.home[inst.iri]:
                reason = ("no CDM class" if not inst.types else
                          "no staging table for " + ", ".join(sorted(_short(t) for t in inst.types)))
                no_table[reason] += 1
                self._example("", inst.iri, "", "", reason)
            totals["type_triples"] += len(inst.types)
            self._account(inst, totals)
        for entry in self.tables.values():
            totals["rows"] += entry["rows"]
            totals["instances_not_expressed"] += sum(entry["instances_not_expressed"].values())
            for name in ("instances_not_expressed", "values_not_expressed", "eucaim_codes_missing", "adjusted"):
                entry[name] = dict(entry[name])
        return {"tables": self.tables, "instances_without_table": dict(no_table),
                "totals": dict(totals, instances_without_table=sum(no_table.values())),
                "examples": self.examples, "examples_more": self.more}

    def _account(self, inst: Instance, totals: Counter[str]) -> None:
        home = self.home[inst.iri][0] if self.home[inst.iri] else None
        for prop, terms in inst.values.items():
            for term in terms:
                fate = self.fate.get((inst.iri, prop, str(term)))
                if fate == WRITTEN:
                    totals["values_written"] += 1
                    if home:
                        self.tables[home]["values_written"] += 1
                    continue
                reason = fate or self._why(inst, prop, home)
                totals["values_not_expressed"] += 1
                if home:
                    self.tables[home]["values_not_expressed"][f"{_short(prop)}: {reason}"] += 1
                if fate is not None or (home and not reason.startswith("its ")):
                    self._example(home or "", inst.iri, prop, str(term), reason)

    def _why(self, inst: Instance, prop: str, home: str | None) -> str:
        """Why a value nothing tried to write was not written."""
        if home is None:
            return "its instance has no staging table"
        dropped = self.dropped.get(inst.iri, {})
        if len(dropped) == len(self.home[inst.iri]):
            return "its instance is not expressed"
        if prop == ROW_ID:
            return "row ids are not part of the staging schema"
        lost = [t for t in dropped if prop in self.props[t]]
        if lost:
            return f"its row in {', '.join(lost)} is not expressed"
        return "no column for it in " + ", ".join(self.home[inst.iri])


def _entry() -> dict[str, Any]:
    return {"rows": 0, "values_written": 0, "instances_not_expressed": Counter(), "values_not_expressed": Counter(),
            "eucaim_codes_missing": Counter(), "adjusted": Counter()}


def _prepare(db: Database, replace: bool) -> None:
    db.create_tables()
    for table in cdm_tables(INGESTION_SCHEMA):
        have = db.columns(table.name)
        want = [(c.name, c.type) for c in table.columns]
        if have != want:
            differ = [" ".join(d) for d in sorted(set(have) ^ set(want))] or ["column order"]
            raise CdmExportError(f"table {table.name} exists and differs from the DDL: " + ", ".join(differ))
    for table in cdm_tables(INGESTION_SCHEMA):
        if db.has_rows(table.name):
            if not replace:
                raise CdmExportError(f"table {table.name} already holds rows; export into an empty database, "
                                     "or replace its rows (--replace)")
            db.delete_rows(table.name)


def export_staging(store: Store, url: str, *, ontology: Hyperontology, replace: bool = False,
                   report_path: Path | None = None) -> dict[str, Any]:
    """Write the store's CDM data into the staging schema at ``url`` (``sqlite:///FILE`` or
    ``postgresql://user@host:port/db``, schema ``eucaim_cdm_ingestion``) in one transaction; the report (also
    written to ``report_path``).

    Tables are created from the shipped DDL when absent; existing ones must match it and be empty (``replace``:
    their rows are deleted first, in the same transaction). :class:`~.cdm_export.CdmExportError` or
    :class:`~hyperontology.interop.sqldb.CdmDatabaseError` when the export fails: nothing is written then.
    """
    planner = StagingPlanner(read_instances(store), Codes(ontology))
    rows = planner.plan()
    ddl = {t.name: t for t in cdm_tables(INGESTION_SCHEMA)}
    with transaction(url, schema=INGESTION_SCHEMA) as db:
        _prepare(db, replace)
        for name, (columns, data) in rows.items():
            if data:
                db.insert(ddl[name], columns, data)
    report = {"format": FORMAT, "target": redact(url), "store": store.location, **planner.report(rows)}
    if report_path is not None:
        report_path.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return report


__all__ = ["FORMAT", "STAGING", "Field", "StagingPlanner", "StagingTable", "export_staging"]
