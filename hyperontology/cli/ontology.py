"""``hyperontology ontology ...``: stats, check, search, expand, concept, prefixes, import."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from hyperontology.ontology import files as ofiles
from hyperontology.ontology.api import Hyperontology, load_ontology
from hyperontology.ontology.check import run_check
from hyperontology.ontology.release import import_release
from hyperontology.ontology.stats import stats
from hyperontology.prefixes import PREFIXES
from hyperontology.progress import Progress


def register(commands: Any) -> None:
    parser = commands.add_parser("ontology", help="load, query and check the hyperontology")
    parser.add_argument("--ontology", metavar="DIR", type=Path,
                        help="a release directory (default: the bundled release)")
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    sub = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    sub.add_parser("stats", help="counts of concepts and mappings").set_defaults(run=cmd_stats)
    check = sub.add_parser("check", help="syntax, codes, mappings, cycles, release defects, HermiT consistency")
    check.add_argument("--no-reasoner", action="store_true", help="skip HermiT (no Java needed)")
    check.add_argument("--all", action="store_true", help="list every warning, not the first 20")
    check.set_defaults(run=cmd_check)
    search = sub.add_parser("search", help="find concepts by code, label or synonym")
    search.add_argument("text")
    search.add_argument("--limit", type=int, default=10)
    search.add_argument("--scheme", action="append", help="restrict to a terminology (repeatable), e.g. SCT")
    search.set_defaults(run=cmd_search)
    expand = sub.add_parser("expand", help="every concept a query for CURIE must match, across terminologies")
    expand.add_argument("curie")
    expand.add_argument("--scheme", action="append", help="only show these terminologies")
    expand.set_defaults(run=cmd_expand)
    concept = sub.add_parser("concept", help="one concept: labels, parents, children, mappings")
    concept.add_argument("curie")
    concept.set_defaults(run=cmd_concept)
    sub.add_parser("prefixes", help="CURIE prefixes and their namespaces").set_defaults(run=cmd_prefixes)
    imp = sub.add_parser("import", help="merge a newer EUCAIM Hyper-Ontology release (OWL) into a new release dir")
    imp.add_argument("file", type=Path)
    imp.add_argument("--out", type=Path, required=True, help="directory to write the merged release to")
    imp.add_argument("--drop-missing", action="store_true",
                     help="drop bundled EUCAIM classes the file lacks (default: keep them)")
    imp.set_defaults(run=cmd_import)


def _onto(args: argparse.Namespace) -> Hyperontology:
    return load_ontology(args.ontology)


def _emit(args: argparse.Namespace, data: Any, text: str) -> None:
    print(json.dumps(data, indent=2, ensure_ascii=False) if args.json else text)


def cmd_stats(args: argparse.Namespace) -> int:
    onto = _onto(args)
    figures = stats(onto)
    lines = [f"triples: {figures['triples']}", "concepts by terminology:"]
    lines += [f"  {s:8} {n:6}" for s, n in figures["concepts"].items()]
    lines.append(f"standard concepts (10 terminologies): {figures['standard_concepts']}")
    cancer = figures["cancer_diagnoses_histologies"]
    lines.append("cancer diagnoses/histologies: " + ", ".join(f"{k} {v}" for k, v in cancer.items()))
    maps = figures["mappings"]
    lines.append("mappings: " + ", ".join(f"{k} {v}" for k, v in maps.items()))
    lines.append("EUCAIM classes linked to: " + ", ".join(
        f"{k} {v}" for k, v in figures["eucaim_classes_linked_to"].items()))
    lines.append(f"cancer concepts with neoplasm facets (behaviour, site, form): {figures['neoplasm_facets']}")
    lines.append("coverage by organ system (malignant concepts at the organ's ICD-O-3 sites reached / all; "
                 "ICD-10 codes reached / all):")
    for organ, report in figures["coverage_by_organ_system"].items():
        lines.append(f"  {organ}: {report['members']} concepts, {report['icd10_codes']} ICD-10 codes")
        lines += [f"    {top:20} {r['members']:4}/{report['members']:<4} "
                  f"ICD-10 {r['icd10']:3}/{report['icd10_codes']:<3} {r['label']}" for top, r in report["tops"].items()]
    lines.append(f"loaded in {onto.load_seconds:.2f} s ({'cache' if onto.from_cache else 'parsed'})")
    _emit(args, figures, "\n".join(lines))
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    directory = args.ontology or ofiles.bundled_dir()
    parts = 8 if not args.no_reasoner else 7  # parsing, five structural checks, semantics, HermiT
    with Progress(enabled=True) as progress, progress.stages("checking the release", parts) as announce:
        report = run_check(ofiles.module_files(directory), reasoner=not args.no_reasoner, step=announce)
    if args.json:
        _emit(args, {"ok": report.ok, "summary": report.summary(),
                     "findings": [f.__dict__ for f in report.findings]}, "")
        return 0 if report.ok else 1
    for finding in report.errors:
        print(finding)
    shown = report.warnings if args.all else report.warnings[:20]
    for finding in shown:
        print(finding)
    if len(shown) < len(report.warnings):
        print(f"... {len(report.warnings) - len(shown)} more warnings (--all lists them)")
    for key, count in sorted(report.summary().items()):
        print(f"  {key}: {count}")
    if report.reasoner:
        r = report.reasoner
        print(f"HermiT: {'consistent' if r.consistent else 'INCONSISTENT'}, {len(r.unsatisfiable)} unsatisfiable "
              f"classes, {r.axioms} logical triples, {r.seconds:.1f} s")
    print(f"{report.triples} triples; {len(report.errors)} errors, {len(report.warnings)} warnings: "
          f"{'PASS' if report.ok else 'FAIL'}")
    return 0 if report.ok else 1


def cmd_search(args: argparse.Namespace) -> int:
    hits = _onto(args).search(args.text, limit=args.limit, schemes=args.scheme)
    data = [{"curie": h.concept.curie, "label": h.concept.label, "scheme": h.concept.scheme,
             "score": round(h.score, 1), "match": h.match} for h in hits]
    _emit(args, data, "\n".join(f"{d['score']:5.1f}  {d['curie']:24} {d['label']}  ({d['match']})" for d in data)
          or "no match")
    return 0 if hits else 1


def cmd_expand(args: argparse.Namespace) -> int:
    concepts = _onto(args).expand(args.curie)
    if args.scheme:
        concepts = [c for c in concepts if c.scheme in set(args.scheme)]
    data = [{"curie": c.curie, "label": c.label} for c in concepts]
    _emit(args, data, "\n".join(f"{d['curie']:24} {d['label']}" for d in data) + f"\n{len(data)} concepts")
    return 0


def cmd_concept(args: argparse.Namespace) -> int:
    onto = _onto(args)
    c = onto.concept(args.curie)
    data = {"curie": c.curie, "iri": c.iri, "code": c.code, "scheme": c.scheme, "label": c.label,
            "synonyms": list(c.synonyms), "kind": c.kind,
            "parents": [p.curie for p in onto.parents(c)], "children": [p.curie for p in onto.children(c)],
            "mappings": [f"{rel} {o.curie}" for rel, o in onto.mappings_of(c)]}
    text = "\n".join(f"{k}: {', '.join(v) if isinstance(v, list) else v}" for k, v in data.items())
    _emit(args, data, text)
    return 0


def cmd_prefixes(args: argparse.Namespace) -> int:
    _emit(args, dict(PREFIXES), "\n".join(f"{p:8} {ns}" for p, ns in PREFIXES.items()))
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    result = import_release(args.file, args.out, bundled=ofiles.bundled_dir(), drop_missing=args.drop_missing)
    for note in result.warnings:
        print("warning:", note, file=sys.stderr)
    onto = load_ontology(args.out, cache=False)
    eucaim = onto.schemes().get("EUCAIM", 0)
    print(f"wrote {args.out}: {eucaim} EUCAIM classes, {len(onto)} concepts, {len(onto.mappings)} mappings; "
          f"use it with --ontology {args.out} or load_ontology({str(args.out)!r})")
    return 0
