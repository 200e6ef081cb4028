"""Write the hyperontology's modules (Turtle), its SSSOM mapping set, catalog and manifest.

Output is deterministic (sorted), so a rebuild from the same sources changes no byte.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from rdflib import Graph, Literal

from hyperontology.ontology.build import BuildResult
from hyperontology.ontology.neoplasm import Facets
from hyperontology.ontology.schemes import SCHEMES, VERSION, module_iri, scheme_iri
from hyperontology.ontology.sources import Mapping, TermConcept
from hyperontology.prefixes import HO, curie_to_iri

ROOT_IRI = HO.rstrip("/")
TTL_HEADER = """@prefix owl: <http://www.w3.org/2002/07/owl#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
@prefix dcterms: <http://purl.org/dc/terms/> .
@prefix ho: <https://w3id.org/hyperontology/> .
"""
SSSOM_HEADER = [
    "subject_id", "subject_label", "predicate_id", "object_id", "object_label",
    "mapping_justification", "mapping_provider", "comment",
]


def _lit(text: str) -> str:
    return str(Literal(text).n3())


def _ontology_header(name: str, title: str, comment: str) -> str:
    iri = module_iri(name)
    return (f"<{iri}> a owl:Ontology ;\n    owl:versionIRI <{iri}/{VERSION}> ;\n"
            f"    owl:versionInfo {_lit(VERSION)} ;\n    dcterms:title {_lit(title)} ;\n"
            f"    rdfs:comment {_lit(comment)} .\n\n")


def concept_ttl(concept: TermConcept) -> str:
    iri = curie_to_iri(concept.curie)
    lines = [f"<{iri}> a owl:Class", f"rdfs:label {_lit(concept.label)}",
             f"skos:prefLabel {_lit(concept.label)}", f"skos:notation {_lit(concept.code)}",
             f"skos:inScheme <{scheme_iri(concept.scheme, concept.code)}>", f"ho:kind {_lit(concept.kind)}"]
    lines += [f"skos:altLabel {_lit(s)}" for s in sorted(concept.synonyms)]
    if concept.semantic_tag:
        lines.append(f"ho:semanticTag {_lit(concept.semantic_tag)}")
    lines += [f"rdfs:subClassOf <{curie_to_iri(concept.scheme + ':' + p)}>" for p in sorted(concept.parents)]
    lines += [f"dcterms:source {_lit(s)}" for s in sorted(concept.sources)]
    return " ;\n    ".join(lines) + " .\n"


def write_terminologies(result: BuildResult, out: Path) -> list[str]:
    by_scheme: dict[str, list[TermConcept]] = defaultdict(list)
    for concept in result.concepts.values():
        by_scheme[concept.scheme].append(concept)
    names = []
    (out / "terminologies").mkdir(parents=True, exist_ok=True)
    for scheme, concepts in sorted(by_scheme.items()):
        meta = SCHEMES[scheme]
        name = f"terminologies/{scheme.lower()}"
        body = [TTL_HEADER, "\n", _ontology_header(name, meta["title"], meta["source"])]
        body += [concept_ttl(c) + "\n" for c in sorted(concepts, key=lambda c: c.code)]
        (out / f"{name}.ttl").write_text("".join(body), encoding="utf-8")
        names.append(name)
    return names


def write_mappings(mappings: list[Mapping], concepts: dict[str, TermConcept], labels: dict[str, str],
                   out: Path) -> None:
    """The mapping set twice: SKOS triples (a module) and SSSOM TSV (for curators)."""
    def label(curie: str) -> str:
        return concepts[curie].label if curie in concepts else labels.get(curie, "")

    body = [TTL_HEADER, "\n", _ontology_header("mappings", "hyperontology cross-terminology mappings",
                                                 "SKOS mappings; the same set as SSSOM in mappings.sssom.tsv")]
    rows = ["\t".join(SSSOM_HEADER)]
    for m in mappings:
        body.append(f"<{curie_to_iri(m.subject)}> {m.predicate} <{curie_to_iri(m.object)}> .\n")
        rows.append("\t".join([m.subject, label(m.subject), m.predicate, m.object, label(m.object),
                               m.justification, "hyperontology", m.comment]))
    (out / "mappings.ttl").write_text("".join(body), encoding="utf-8")
    meta = ["# mapping_set_id: https://w3id.org/hyperontology/mappings.sssom.tsv",
            f"# mapping_set_version: {VERSION}", "# license: https://creativecommons.org/licenses/by/4.0/",
            "# curie_map:"]
    prefixes = sorted({c.split(":")[0] for m in mappings for c in (m.subject, m.object)})
    meta += [f"#   {p}: {curie_to_iri(p + ':')}" for p in prefixes]
    meta += ["#   skos: http://www.w3.org/2004/02/skos/core#", "#   semapv: https://w3id.org/semapv/vocab/"]
    (out / "mappings.sssom.tsv").write_text("\n".join(meta + rows) + "\n", encoding="utf-8")


def write_facets(facets: dict[str, Facets], out: Path, morphologies: Iterable[str] = ()) -> None:
    """The neoplasm facets module: ``ho:behaviour``, ``ho:site`` (ICD-O-3), ``ho:form``, ``ho:siteAgnostic``."""
    body = [TTL_HEADER, "\n", _ontology_header(
        "neoplasm", "hyperontology neoplasm facets",
        "Behaviour (ICD-O-3 axis), site (ICD-O-3 topography), form (neoplasm NOS or one histology) and site-agnostic "
        "morphologies of cancer concepts; what expansions use to keep in situ, benign, metastatic, bare morphologies "
        "and other organs out of a cancer question")]
    body.append(FACET_DECLARATIONS + "\n")
    histology = set(morphologies)  # release classes standing for a morphology: ho:kind, as the terminologies have
    for curie in sorted(set(facets) | histology):
        f = facets.get(curie, Facets())
        lines = [f"<{curie_to_iri(curie)}>"]
        if curie in histology:
            lines.append(f"ho:kind {_lit('histology')}")
        if f.behaviour:
            lines.append(f"ho:behaviour {_lit(f.behaviour)}")
        prop = "ho:siteWithin" if f.bound else "ho:site"  # an inherited upper bound is not the concept's site
        lines += [f"{prop} <{curie_to_iri('ICDO3:' + s)}>" for s in sorted(f.sites or ())]
        if f.form:
            lines.append(f"ho:form {_lit(f.form)}")
        if f.agnostic:
            lines.append("ho:siteAgnostic true")
        if len(lines) > 1:
            body.append(lines[0] + " " + " ;\n    ".join(lines[1:]) + " .\n")
    (out / "neoplasm.ttl").write_text("".join(body), encoding="utf-8")


FACETS = {
    "behaviour": ("behaviour", "Neoplasm behaviour on the ICD-O-3 axis: malignant (primary), metastatic, in situ, "
                  "uncertain, benign."),
    "site": ("site", "Primary site as an ICD-O-3 topography concept (the axis ICD-10 C00-C80 is built on)."),
    "form": ("form", "generic: a neoplasm NOS at its site; specific: one histology."),
    "siteWithin": ("site within", "The concept's site lies within these ICD-O-3 topography sites (inherited from "
                   "its is-a ancestors; an upper bound, not the site itself)."),
    "siteAgnostic": ("site agnostic", "A morphology valid at any site (ICD-O-3 histology); never a member of a "
                     "site-specific question."),
}
FACET_DECLARATIONS = "".join(f"ho:{name} a owl:AnnotationProperty ;\n    rdfs:label {_lit(label)} ;\n"
                             f"    rdfs:comment {_lit(comment)} .\n" for name, (label, comment) in FACETS.items())


def write_errata(errata: list[tuple[Mapping, str]], labels: dict[str, str], demoted: int, out: Path,
                 duplicates: list[tuple[str, str]] | None = None) -> None:
    """``ERRATA.md``: the errors of the sources this release corrects, in a form their maintainers can act on."""
    lines = [
        "# Errata of the sources (generated by the build; edit `sources/release-errata.tsv`)", "",
        "Mappings published by a source that this release corrects, each with the meaning the codes have in their own",
        "terminology. The EUCAIM rows are fixes the Hyper-Ontology's maintainers (LIMICS) and the etl-toolset's",
        "maintainers can apply at the named class or lookup row.", "",
        f"Besides these, {demoted} exact matches that would have merged a concept with its parent, with another",
        "code of the same terminology, or concepts of different behaviour, site or histology were demoted",
        "automatically; each carries its reason in the `comment` column of `mappings.sssom.tsv`",
        "(search for \"demoted from exactMatch\").", "",
        "| source | subject | published | object | correction | reason |", "|---|---|---|---|---|---|",
    ]
    for mapping, fix in sorted(errata, key=lambda e: (e[0].source, e[0].subject, e[0].object)):
        correction, _, reason = fix.partition(": ")
        source = mapping.source or "EUCAIM Hyper-Ontology v2.0"
        subject = f"{mapping.subject} {labels.get(mapping.subject, '')}".strip()
        obj = f"{mapping.object} {labels.get(mapping.object, '')}".strip()
        lines.append(f"| {source} | {subject} | {mapping.predicate} | {obj} | {correction} | {reason} |")
    if duplicates:
        lines += ["", "## Duplicate classes of the EUCAIM release", "",
                  "Classes with one name and the same standard code but no `owl:equivalentClass` between them; the",
                  "hyperontology treats each pair as one concept. One class of each pair could be deprecated.", "",
                  "| class | class | name |", "|---|---|---|"]
        lines += [f"| {a} | {b} | {labels.get(a, '')} |" for a, b in sorted(duplicates)]
    (out / "ERRATA.md").write_text("\n".join(lines) + "\n", encoding="utf-8")


def write_graph(graph: Graph, path: Path, name: str, title: str, comment: str) -> None:
    text = graph.serialize(format="turtle")
    header = _ontology_header(name, title, comment)
    path.write_text(TTL_HEADER + "\n" + header + text, encoding="utf-8")


def write_root(modules: Iterable[str], out: Path) -> None:
    lines = [TTL_HEADER, "\n", f"<{ROOT_IRI}> a owl:Ontology ;\n",
             f"    owl:versionIRI <{ROOT_IRI}/{VERSION}> ;\n", f"    owl:versionInfo {_lit(VERSION)} ;\n",
             f"    dcterms:title {_lit('hyperontology: cancer imaging terminologies integrated')} ;\n",
             "    dcterms:license <https://creativecommons.org/licenses/by/4.0/> ;\n"]
    lines += [f"    owl:imports <{module_iri(m)}> ;\n" for m in sorted(modules)]
    comment = _lit("Root of the hyperontology; modules are resolved by catalog-v001.xml")
    lines.append(f"    rdfs:comment {comment} .\n\n")
    for scheme, meta in sorted(SCHEMES.items()):
        lines.append(f"<{scheme_iri(scheme)}> a skos:ConceptScheme ;\n    rdfs:label {_lit(meta['title'])} ;\n"
                     f"    skos:notation {_lit(scheme)} ;\n    dcterms:source {_lit(meta['source'])} ;\n"
                     f"    dcterms:license {_lit(meta['licence'])} .\n\n")
    for axis in ("topography", "morphology"):
        lines.append(f"<{scheme_iri('ICDO3', 'C00' if axis == 'topography' else '8000/3')}> "
                     f"a skos:ConceptScheme ;\n    rdfs:label {_lit('ICD-O-3 ' + axis)} ;\n"
                     f"    skos:notation {_lit('ICDO3')} .\n\n")
    (out / "hyperontology.ttl").write_text("".join(lines), encoding="utf-8")


def write_catalog(modules: Iterable[str], out: Path) -> None:
    uris = "".join(f'  <uri name="{module_iri(m)}" uri="{m}.ttl"/>\n' for m in sorted(modules))
    text = ('<?xml version="1.0" encoding="UTF-8" standalone="no"?>\n'
            '<catalog prefer="public" xmlns="urn:oasis:names:tc:entity:xmlns:xml:catalog">\n'
            f"{uris}</catalog>\n")
    (out / "catalog-v001.xml").write_text(text, encoding="utf-8")


def write_manifest(out: Path, modules: list[str], extra: dict[str, Any]) -> None:
    files = {}
    for name in ["hyperontology", *sorted(modules)]:
        data = (out / f"{name}.ttl").read_bytes()
        files[f"{name}.ttl"] = {"iri": module_iri(name) if name != "hyperontology" else ROOT_IRI,
                                "sha256": hashlib.sha256(data).hexdigest()}
    manifest = {"name": "hyperontology", "version": VERSION, "modules": files,
                "sources": {k: {"title": v["title"], "source": v["source"], "licence": v["licence"]}
                            for k, v in sorted(SCHEMES.items())}, **extra}
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8")
