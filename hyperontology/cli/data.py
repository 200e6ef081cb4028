"""``hyperontology ingest | validate | export | scan | quickstart``: the data pipeline from the command line
(``mapping check``: :mod:`hyperontology.cli.mapping`)."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections import Counter
from pathlib import Path
from typing import Any

from hyperontology.cli import mapping as mapping_cli
from hyperontology.mapping.loader import MappingSet, default_mappings_dir
from hyperontology.ontology.api import Hyperontology, load_ontology
from hyperontology.pipeline import IngestOptions, check_dataset_id, ingest, read_records
from hyperontology.prefixes import iri_to_curie
from hyperontology.progress import on_terminal, step
from hyperontology.pseudonymize.keys import PseudonymKey, load_key, new_key_file
from hyperontology.sources.dicomweb import DicomWebService, is_dicomweb, redacted
from hyperontology.store.base import FORMATS, GRAPHS, is_remote, open_store
from hyperontology.validation.shacl import DATA_NS, Violation
from hyperontology.validation.store import validate_store

DEFAULT_STORE = Path("hyperontology-store")
#: ``export --format`` of the relational CDM, and of the ETL's staging schema (docs/interop.md)
EUCAIM_CDM = "eucaim-cdm"
EUCAIM_CDM_INGESTION = "eucaim-cdm-ingestion"


def register(commands: Any) -> None:
    ing = commands.add_parser("ingest", help="map DICOM, FHIR and CSV inputs to the CDM and load them into the store")
    ing.add_argument("paths", nargs="+", type=_input, metavar="PATH",
                     help="files and directories, or the root of a DICOMweb service (the node's PACS), such as "
                          "dicomweb+http://127.0.0.1:8042/dicom-web (also dicomweb+https://)")
    ing.add_argument("--source", choices=("files", "eucaim-cdm"), default="files",
                     help="what PATH is: input files (default), or the URL of a relational EUCAIM CDM "
                          "(sqlite:///FILE or postgresql://user@host:port/db) read back as CDM RDF")
    _store_args(ing)
    _mapping_args(ing)
    ing.add_argument("--report", type=Path, help="write the JSON report accounting for every input")
    ing.add_argument("--jobs", type=int, default=1,
                     help="local processes that read, pseudonymize and map (default 1: in this process)")
    ing.add_argument("--executor", choices=("local", "dask"), default="local",
                     help="where batches are read and mapped: local processes (--jobs) or a Dask cluster")
    ing.add_argument("--scheduler", metavar="ADDRESS",
                     help="the Dask scheduler, such as tcp://10.0.0.5:8786 (with --executor dask)")
    ing.add_argument("--batch-files", type=_positive, default=500, metavar="N",
                     help="files per batch, each batch committed on its own (default 500)")
    ing.add_argument("--batch-mb", type=_positive, default=256, metavar="MB",
                     help="megabytes of input files per batch (default 256; a larger file is a batch alone)")
    ing.add_argument("--rescan", action="store_true",
                     help="read again the files the store already has unchanged (default: skip them)")
    ing.add_argument("--dataset", type=_dataset_id, metavar="ID",
                     help="the dataset (collection) every patient of the run belongs to, created if new")
    ing.add_argument("--dataset-title", metavar="TITLE", help="the dataset's title (with --dataset)")
    ing.add_argument("--key-file", type=Path, help="pseudonymization key (else $HYPERONTOLOGY_KEY)")
    ing.add_argument("--new-key", type=Path, metavar="FILE", help="create a new key in FILE and use it")
    ing.add_argument("--dicomweb-auth-env", metavar="VAR",
                     help="the environment variable holding the DICOMweb credentials: user:password (HTTP basic) "
                          "or a bearer token (never printed)")
    ing.add_argument("--dicomweb-timeout", type=_seconds, default=30.0, metavar="S",
                     help="seconds to wait for each DICOMweb answer (default 30)")
    ing.add_argument("--no-validate", action="store_true", help="skip SHACL validation (not recommended)")
    ing.add_argument("--no-date-shift", action="store_true",
                     help="store true dates (default: every date moves by the patient's keyed offset)")
    ing.add_argument("--quiet", action="store_true", help="no progress bar")
    ing.set_defaults(run=cmd_ingest, inputs=("paths",))
    val = commands.add_parser("validate", help="validate the store's CDM data against the SHACL shapes")
    _store_args(val)
    val.add_argument("--report", type=Path, help="write the violations as JSON")
    val.set_defaults(run=cmd_validate)
    exp = commands.add_parser("export", help="serialise graphs of the store, or write its CDM data into the "
                              "relational EUCAIM CDM (--format eucaim-cdm --to URL) or the ETL's staging "
                              "schema (--format eucaim-cdm-ingestion --to URL)")
    _store_args(exp)
    exp.add_argument("--format", choices=[*sorted(FORMATS), EUCAIM_CDM, EUCAIM_CDM_INGESTION], default="nq")
    exp.add_argument("--to", metavar="URL", help=f"with --format {EUCAIM_CDM} (or {EUCAIM_CDM_INGESTION}): "
                     "sqlite:///FILE or postgresql://user@host:port/db (schema eucaim_cdm_output, or "
                     "eucaim_cdm_ingestion)")
    exp.add_argument("--replace", action="store_true",
                     help=f"with --format {EUCAIM_CDM}[-ingestion]: replace the rows the target's CDM tables hold")
    exp.add_argument("--report", type=Path,
                     help=f"with --format {EUCAIM_CDM}[-ingestion]: write the JSON export report")
    exp.add_argument("--graph", choices=[*GRAPHS, "all"], action="append",
                     help="graphs to export (repeatable; default: data)")
    exp.add_argument("-o", "--output", type=Path, help="file to write (default: standard output)")
    exp.set_defaults(run=cmd_export)
    scan = commands.add_parser("scan", help="search the store for every raw identifier of the given inputs")
    scan.add_argument("paths", nargs="+", type=Path, metavar="PATH")
    _store_args(scan)
    scan.set_defaults(run=cmd_scan, inputs=("paths",))
    quick = commands.add_parser("quickstart", help="ingest the sample data (pydicom's test files and the shipped "
                                "clinical samples) into an embedded store and query it")
    _store_args(quick)
    quick.add_argument("--serve", action="store_true", help="then serve the store on localhost (SPARQL + search)")
    quick.add_argument("--port", type=int, default=8000, help="port for --serve (default 8000)")
    quick.set_defaults(run=cmd_quickstart)
    mapping_cli.register(commands)


def store_location(text: str) -> Path | str:
    """``--store``: an http(s) URL of a remote store (kept as text) or a directory; other URLs are refused."""
    if is_remote(text):
        return text
    if "://" in text:
        raise argparse.ArgumentTypeError(f"{text!r}: a remote store is an http:// or https:// URL")
    return Path(text)


def _store_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--store", type=store_location, default=DEFAULT_STORE, metavar="DIR|URL",
                        help=f"store directory (default ./{DEFAULT_STORE}), or the URL of a SPARQL 1.1 + Graph "
                             "Store Protocol server, e.g. http://127.0.0.1:7878 (an Oxigraph server)")


def _mapping_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--mappings", type=Path, help="mapping directory (default: the shipped mappings)")
    parser.add_argument("--valuemaps", type=Path,
                        help="value-map directory layered over the shipped value maps and MAPPINGS/valuemaps")


def _mappings(args: argparse.Namespace) -> MappingSet:
    mappings = MappingSet.load(args.mappings or default_mappings_dir(), valuemaps_dir=args.valuemaps)
    for note in mappings.notes:
        print(f"note: {note}", file=sys.stderr)
    return mappings


def _key(args: argparse.Namespace) -> PseudonymKey:
    if args.new_key:
        key = new_key_file(args.new_key)
        print(f"new pseudonymization key written to {args.new_key} (id {key.key_id}); keep it secret and keep it",
              file=sys.stderr)
        return key
    return load_key(args.key_file)


def loaded_ontology(progress: bool) -> Hyperontology:
    """The bundled hyperontology, with progress on a terminal (the first load builds its cache: about 10 s)."""
    with step("loading the hyperontology (the first run builds its cache)", enabled=progress):
        return load_ontology()


def _input(text: str) -> Path | str:
    """An input of ``ingest``: a path, or (kept as text) a URL: of a DICOMweb service, or of a relational CDM
    (``--source eucaim-cdm``)."""
    return text if "://" in text else Path(text)


def _seconds(text: str) -> float:
    value = float(text)
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"{text}: must be a positive number of seconds")
    return value


def _dicomweb_inputs(args: argparse.Namespace) -> list[Path | DicomWebService] | str:
    """The inputs of ``ingest`` with each DICOMweb URL as a service (credentials from ``--dicomweb-auth-env``);
    the error message if one is not usable."""
    secret = None
    if args.dicomweb_auth_env:
        secret = os.environ.get(args.dicomweb_auth_env)
        if not secret:
            return f"--dicomweb-auth-env {args.dicomweb_auth_env}: that environment variable is not set"
    inputs: list[Path | DicomWebService] = []
    for item in args.paths:
        if isinstance(item, Path):
            inputs.append(item)
        elif not is_dicomweb(item):
            return (f"{redacted(item)!r} is a URL; read a DICOMweb service as dicomweb+http(s)://HOST/ROOT, a "
                    f"relational CDM with --source {EUCAIM_CDM}")
        else:
            try:
                inputs.append(DicomWebService.from_url(item, secret=secret, timeout=args.dicomweb_timeout))
            except ValueError as exc:
                return str(exc)
    return inputs


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text}: must be 1 or more")
    return value


def _dataset_id(text: str) -> str:
    """``--dataset``: 1 to 200 printable characters."""
    try:
        return check_dataset_id(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc


def cmd_ingest(args: argparse.Namespace) -> int:
    if args.dataset_title is not None and args.dataset is None:
        print("error: --dataset-title needs --dataset ID (the dataset it is the title of)", file=sys.stderr)
        return 2
    if args.executor == "dask" and not args.scheduler:
        print("error: --executor dask needs --scheduler ADDRESS (the Dask scheduler)", file=sys.stderr)
        return 2
    if args.source == EUCAIM_CDM:
        return _ingest_cdm(args)
    inputs = _dicomweb_inputs(args)
    if isinstance(inputs, str):
        print(f"error: {inputs}", file=sys.stderr)
        return 2
    key = _key(args)
    options = IngestOptions(key=key, mappings=_mappings(args), store_path=args.store, jobs=max(1, args.jobs),
                            validate=not args.no_validate, progress=not args.quiet and on_terminal(),
                            shift_dates=not args.no_date_shift, executor=args.executor, scheduler=args.scheduler,
                            batch_files=args.batch_files, batch_bytes=args.batch_mb * 2**20, rescan=args.rescan,
                            dataset=args.dataset, dataset_title=args.dataset_title)
    report = ingest(inputs, options, ontology=loaded_ontology(options.progress), report_path=args.report)
    t = report["totals"]
    print(f"{t['files']} files, {t['records']} records: {t['loaded']} loaded, {t['quarantined']} quarantined, "
          f"{t['not_mapped']} not mapped, {t['rejected']} rejected; {t['triples_added']} triples added to {args.store}")
    if args.dataset is not None:
        print(f"patients of this run belong to the dataset {args.dataset!r}")
    if t["skipped"]:
        print(f"{t['skipped']} files skipped: the store has them unchanged (--rescan reads them again)")
    if t.get("triples_removed") or t.get("instances_reconsidered"):
        print(f"{t['instances_reconsidered']} instances of earlier runs decided again; {t['triples_removed']} "
              "superseded triples removed (counts, values now withheld)")
    print("instances: " + ", ".join(f"{k} {v}" for k, v in t["instances"].items()))
    unmapped = sum(sum(v.values()) for v in report["unmapped_values"].values())
    if unmapped:
        print(f"{unmapped} values not in a value map (see the report, or `hyperontology mapping check PATH`)")
    print_field_problems(report)
    return _print_dicomweb(report)


def _print_dicomweb(report: dict[str, Any]) -> int:
    """What the run did with each DICOMweb service; 1 if a request failed (what it missed, a re-run reads)."""
    status = 0
    for web in report.get("dicomweb", []):
        studies, series, instances = web["studies"], web["series"], web["instances"]
        print(f"{web['url']}: {studies['found']} studies, {series['found']} series, {instances['found']} instances "
              f"found; {series['read']} series ({instances['read']} instances) read, {series['skipped']} series "
              f"({instances['skipped']} instances) skipped as already ingested, {series['failed']} series failed")
        for failure in web["failures"]:
            print(f"error: {failure['reason']}", file=sys.stderr)
        if web["failed_requests"]:
            status = 1
            print(f"error: {web['failed_requests']} DICOMweb requests failed (listed in the report); a re-run reads "
                  "what they missed", file=sys.stderr)
    return status


def print_field_problems(report: dict[str, Any]) -> None:
    """The values each field left out or flagged, counted by kind, and the columns tables lack."""
    for note in (n["note"] for n in report.get("notes", []) if not n["instance"]):
        print(f"note: {note}")
    problems = report.get("field_problems", {})
    if problems:
        print("values left out or flagged, by field (`hyperontology mapping check MAPPING DATA` shows examples):")
    for label, kinds in problems.items():
        print(f"  {label}: " + ", ".join(f"{n} {kind}" for kind, n in kinds.items()))
    more = {k.removesuffix("_more"): n for k, n in report.items() if k.endswith("_more") and n}
    if report.get("violations", {}).get("items_more"):
        more["violations"] = report["violations"]["items_more"]
    if more:
        print("the report lists the first 500 of: " + ", ".join(f"{k} ({n} more)" for k, n in more.items()))


#: results ``validate`` prints (then how many more, and counts by shape)
SHOWN = 50


def violation_line(v: Violation) -> str:
    """One result as ``validate`` prints it: severity, instance, property, message and the offending value.

    Examples
    --------
    >>> print(violation_line(Violation("https://w3id.org/hyperontology/data/condition/1",
    ...     "https://w3id.org/hyperontology/cdm#diagnosisCode", "http://snomed.info/id/9", "not a concept",
    ...     "Warning", "cdm:diagnosisCode: diagnosis code is a known concept")))
    Warning: data:condition/1 cdm:diagnosisCode: not a concept (value: SCT:9)
    """
    def short(iri: str) -> str:
        if iri.startswith(DATA_NS):
            return "data:" + iri.removeprefix(DATA_NS)
        return iri_to_curie(iri) or iri

    value = f" (value: {short(v.value)})" if v.value else ""
    return f"{v.severity}: {short(v.focus)} {short(v.path)}: {v.message}{value}"


def cmd_validate(args: argparse.Namespace) -> int:
    onto = loaded_ontology(on_terminal())
    with open_store(args.store, read_only=True) as store:
        triples = store.count("data")
        with step(f"validating {triples} triples (SHACL)", enabled=True):
            violations = validate_store(store, onto)
    if args.report:
        args.report.write_text(json.dumps([v.as_dict() for v in violations], indent=2) + "\n", encoding="utf-8")
    for v in violations[:SHOWN]:
        print(violation_line(v))
    if len(violations) > SHOWN:
        print(f"... {len(violations) - SHOWN} more" + (f" (all in {args.report})" if args.report else
                                                       " (--report FILE lists them all)"))
    for shape, n in Counter(v.shape for v in violations).most_common():
        print(f"  {n:6}  {shape}")
    errors = [v for v in violations if v.severity == "Violation"]
    print(f"{triples} triples; {len(errors)} violations, {len(violations) - len(errors)} warnings: "
          f"{'conforms' if not errors else 'does not conform'}")
    return 0 if not errors else 1


def _ingest_cdm(args: argparse.Namespace) -> int:
    """``ingest --source eucaim-cdm URL...``: each relational CDM read as CDM RDF into the store's data graph."""
    from hyperontology.interop.cdm_import import import_cdm
    from hyperontology.ontology.closure import subsumption_triples
    from hyperontology.ontology.files import bundled_dir, module_files
    from hyperontology.ontology.schemes import VERSION

    reads = [import_cdm(str(url)) for url in args.paths]  # all readable before the store is touched
    onto = loaded_ontology(not args.quiet and on_terminal())
    with open_store(args.store) as store:
        if store.ontology_release() != VERSION:
            store.ensure_ontology(module_files(bundled_dir()), VERSION, subsumption_triples(onto))
        for read in reads:
            added = store.load(read.quads).get("data", 0)
            store.flush()
            rows = ", ".join(f"{t} {n}" for t, n in read.rows.items() if n)
            print(f"{sum(read.rows.values())} rows read ({rows or 'none'}); {added} triples added to {args.store}")
            for reason, n in sorted(read.skipped.items()):
                print(f"  left out: {n} {reason}")
        if not args.no_validate:
            _summarise_violations(validate_store(store, onto), args.store)
    return 0


def _summarise_violations(violations: list[Violation], store: object) -> None:
    """What the CDM shapes say of a store after an import: counts per shape (the rows are loaded as they are)."""
    errors = sum(1 for v in violations if v.severity == "Violation")
    print(f"the store after the import: {errors} violations, {len(violations) - errors} warnings of the CDM shapes"
          + (f" (`hyperontology validate --store {store}` lists them)" if violations else ""))
    for shape, n in Counter(v.shape for v in violations).most_common(10):
        print(f"  {n:6}  {shape}")


def cmd_export(args: argparse.Namespace) -> int:
    if args.format in (EUCAIM_CDM, EUCAIM_CDM_INGESTION):
        return _export_cdm(args)
    if args.to or args.replace or args.report:
        print(f"error: --to, --replace and --report go with --format {EUCAIM_CDM} or {EUCAIM_CDM_INGESTION}",
              file=sys.stderr)
        return 2
    graphs = list(GRAPHS) if args.graph and "all" in args.graph else (args.graph or ["data"])
    with open_store(args.store, read_only=True) as store:
        data = store.export(args.output, args.format, graphs=graphs)
    if data is not None:
        sys.stdout.buffer.write(data)
    return 0


def _export_cdm(args: argparse.Namespace) -> int:
    """``export --format eucaim-cdm[-ingestion] --to URL``: the store's CDM data into the relational CDM (or the
    ETL's staging schema), one transaction."""
    from hyperontology.interop.cdm_export import export_cdm
    from hyperontology.interop.cdm_ingestion import export_staging

    if not args.to:
        print(f"error: --format {args.format} needs --to URL (sqlite:///FILE or postgresql://...)", file=sys.stderr)
        return 2
    export = export_staging if args.format == EUCAIM_CDM_INGESTION else export_cdm
    onto = loaded_ontology(on_terminal())
    with open_store(args.store, read_only=True) as store:
        report = export(store, args.to, ontology=onto, replace=args.replace, report_path=args.report)
    t = report["totals"]
    print(f"{t['rows']} rows written to {report['target']} from {t['instances']} instances; "
          f"{t.get('instances_not_expressed', 0)} instance rows and {t.get('values_not_expressed', 0)} values "
          f"not expressible, {t['instances_without_table']} instances without a table")
    for table, entry in report["tables"].items():
        lost = {**entry["instances_not_expressed"], **entry["values_not_expressed"]}
        if entry["rows"] or lost:
            print(f"  {table}: {entry['rows']} rows" + "".join(f"; {n} {why}" for why, n in lost.items()))
    for why, n in report["instances_without_table"].items():
        print(f"  (no table): {n} instances, {why}")
    if args.report:
        print(f"report: {args.report}")
    return 0


def sample_inputs() -> list[Path]:
    """pydicom's bundled test files (local ones only) and the clinical samples shipped with the package."""
    import pydicom

    from hyperontology.mapping.loader import default_mappings_dir

    samples = default_mappings_dir().parent / "samples"
    return [Path(pydicom.__file__).parent / "data" / "test_files", samples]


QUICK_QUERY = """PREFIX cdm: <https://w3id.org/hyperontology/cdm#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
SELECT ?modality (COUNT(DISTINCT ?series) AS ?n) WHERE {
  GRAPH <https://w3id.org/hyperontology/graph/data> { ?series a cdm:ImagingSeries ; cdm:modality ?m }
  OPTIONAL { GRAPH <https://w3id.org/hyperontology/graph/ontology> { ?m skos:prefLabel ?modality } }
} GROUP BY ?modality ORDER BY DESC(?n)"""


def cmd_quickstart(args: argparse.Namespace) -> int:
    """Ingest the samples with a demo key kept next to the store, then show what the store holds."""
    import os

    if not isinstance(args.store, Path):
        print("error: quickstart needs a store directory (--store DIR); ingest into a remote store with "
              "`hyperontology ingest --store URL`", file=sys.stderr)
        return 2
    key_path = args.store.with_name(args.store.name + ".key")
    if os.environ.get("HYPERONTOLOGY_KEY"):
        key = load_key(None)
    elif key_path.exists():
        key = load_key(key_path)
    else:
        key = new_key_file(key_path)
        print(f"demo pseudonymization key written to {key_path}", file=sys.stderr)
    options = IngestOptions(key=key, mappings=MappingSet.load(default_mappings_dir()), store_path=args.store,
                            progress=on_terminal())
    report_path = args.store.with_name(args.store.name + "-report.json")
    report = ingest(sample_inputs(), options, ontology=loaded_ontology(options.progress), report_path=report_path)
    t = report["totals"]
    print(f"ingested {t['files']} files ({t['records']} records): {t['loaded']} loaded, {t['quarantined']} "
          f"quarantined, {t['not_mapped']} not mapped, {t['rejected']} rejected; report: {report_path}")
    print("instances: " + ", ".join(f"{k} {v}" for k, v in t["instances"].items()))
    with open_store(args.store) as store:
        print("series by modality:")
        for row in store.query(QUICK_QUERY):
            label = row["modality"].value if row["modality"] is not None else "(unlabelled)"
            print(f"  {row['n'].value:>4}  {label}")
    if args.serve:
        return _serve(args.store, args.port)
    return 0


def _serve(store: Path, port: int) -> int:
    import uvicorn

    from hyperontology.server import ServerSettings, create_app

    print(f"serving {store} on http://127.0.0.1:{port}/ (SPARQL at /sparql, API at /docs); Ctrl+C to stop")
    uvicorn.run(create_app(ServerSettings(store=store)), host="127.0.0.1", port=port, log_level="warning")
    return 0


def cmd_scan(args: argparse.Namespace) -> int:
    """Exit 0 when no raw identifier of the inputs is in the store, 1 (listing counts, not values) otherwise."""
    from hyperontology.pseudonymize.scan import identifiers, scan_store

    records = read_records(args.paths)
    needles = identifiers(records)
    with open_store(args.store, read_only=True) as store:
        hits = scan_store(store, needles)
    print(f"{len(needles)} identifying values of {len(records)} input records searched in {args.store}: "
          f"{sum(hits.values())} occurrences of {len(hits)} of them")
    return 0 if not hits else 1
