"""Build a release of the hyperontology into a directory, from the EUCAIM records and the source tables.

Used by ``ontologies/build/build.py`` (the bundled release) and by ``hyperontology ontology import``
(a user's newer EUCAIM release merged into a copy of the bundled one).
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from rdflib import Graph
from rdflib.namespace import OWL

from hyperontology.errors import ReleaseImportError
from hyperontology.ontology import eucaim, writer
from hyperontology.ontology.build import BuildResult, assemble
from hyperontology.ontology.eucaim import labels
from hyperontology.ontology.schemes import SCHEMES


def build_release(
    classes: Path | list[dict[str, Any]],
    out: Path,
    *,
    object_props: Path | list[dict[str, Any]],
    datatype_props: Path | list[dict[str, Any]],
    sources_dir: Path,
    release_note: str = "EUCAIM Hyper-Ontology v2.0 transcription",
) -> BuildResult:
    """Write every module of the hyperontology into ``out`` and return what was assembled."""
    records = list(eucaim.read_jsonl(classes)) if isinstance(classes, Path) else classes
    objs = list(eucaim.read_jsonl(object_props)) if isinstance(object_props, Path) else object_props
    dts = list(eucaim.read_jsonl(datatype_props)) if isinstance(datatype_props, Path) else datatype_props
    out.mkdir(parents=True, exist_ok=True)
    graph = eucaim.module_graph(records, objs, dts)
    writer.write_graph(graph, out / "eucaim.ttl", "eucaim", "EUCAIM Hyper-Ontology (hub module)",
                       f"{release_note}; {SCHEMES['EUCAIM']['source']}; CC BY 4.0")
    result = assemble(records, sources_dir)
    modules = ["eucaim", "mappings", "neoplasm", *writer.write_terminologies(result, out)]
    writer.write_facets(result.facets, out, result.morphologies)
    eucaim_labels = {f"EUCAIM:{r['c']}": (labels(r) or [""])[0].strip() for r in records}
    writer.write_mappings(result.mappings, result.concepts, eucaim_labels, out)
    all_labels = {**eucaim_labels, **{c: t.label for c, t in result.concepts.items()}}
    writer.write_errata(result.errata, all_labels, len(result.demoted), out, result.duplicates)
    if (out / "cdm.ttl").exists():
        modules.append("cdm")
    writer.write_root(modules, out)
    writer.write_catalog(modules, out)
    writer.write_manifest(out, modules, {"release": release_note, "eucaim_classes": len(records),
                                         "build_warnings": result.warnings,
                                         "demoted_exact_matches": len(result.demoted),
                                         "errata_applied": len(result.errata)})
    return result


def import_release(owl_file: Path, out: Path, *, bundled: Path, drop_missing: bool = False) -> BuildResult:
    """Merge a newer EUCAIM release (OWL) into a copy of the bundled hyperontology at ``out``.

    Classes of the file replace the bundled ones with the same code; bundled classes the file lacks are
    kept (codes already in data stay resolvable) unless ``drop_missing``. The result's warnings say how many.
    """
    if out.resolve() == bundled.resolve():
        raise ReleaseImportError("refusing to overwrite the bundled release; choose another --out", path=str(out))
    if not owl_file.is_file():
        raise ReleaseImportError("no such file", path=str(owl_file))
    records = eucaim.records_from_owl(owl_file)
    new_codes = {r["c"] for r in records}
    kept = [] if drop_missing else [r for r in eucaim.records_from_owl(bundled / "eucaim.ttl")
                                    if r["c"] not in new_codes]
    graph = Graph()
    graph.parse(owl_file, format={".ttl": "turtle", ".nt": "nt"}.get(owl_file.suffix.lower(), "xml"))
    out.mkdir(parents=True, exist_ok=True)
    for name in ("cdm.ttl",):
        if (bundled / name).exists():
            shutil.copyfile(bundled / name, out / name)
    version = next(graph.objects(None, OWL.versionInfo), None)
    old = Graph().parse(bundled / "eucaim.ttl", format="turtle")
    result = build_release(
        records + kept, out,
        object_props=_merge_props(eucaim.properties_from_owl(graph, OWL.ObjectProperty),
                                  eucaim.properties_from_owl(old, OWL.ObjectProperty)),
        datatype_props=_merge_props(eucaim.properties_from_owl(graph, OWL.DatatypeProperty),
                                    eucaim.properties_from_owl(old, OWL.DatatypeProperty)),
        sources_dir=bundled / "sources",
        release_note=f"EUCAIM Hyper-Ontology release {version or '(no version)'} imported from {owl_file.name}",
    )
    result.warnings.insert(0, f"{len(records)} classes read from {owl_file.name}; "
                              f"{len(kept)} classes of the bundled release not in it were kept")
    return result


def _merge_props(new: list[dict[str, Any]], old: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Properties of the new release merged over the bundled ones."""
    by_name = {p["c"]: dict(p) for p in old}
    for prop in new:  # a field the new release states wins; one it leaves out keeps the bundled value
        by_name[prop["c"]] = {**by_name.get(prop["c"], {}), **prop}
    return [by_name[name] for name in sorted(by_name)]
