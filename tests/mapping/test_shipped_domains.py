"""Every property a shipped mapping writes is declared in cdm.ttl, on the class the mapping writes it on.

cdm.ttl once gave the TNM properties the domain cdm:Diagnosis while every mapping and the cohort API wrote them on
cdm:CancerStage: an OWL reasoner would have typed each stage record a Diagnosis too (two disjoint classes). The
domain of a property is its ``rdfs:domain`` (a class or an ``owl:unionOf``) or, for properties tied to the EUCAIM
release, its ``schema:domainIncludes``; an entity class matches when it is that class or a subclass of it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import rdflib
import yaml
from rdflib.collection import Collection
from rdflib.namespace import OWL, RDF, RDFS

ROOT = Path(__file__).resolve().parents[2]
CDM = rdflib.Namespace("https://w3id.org/hyperontology/cdm#")
SDO = rdflib.Namespace("https://schema.org/")
MAPPINGS = sorted((ROOT / "mappings").glob("*.yaml")) + sorted((ROOT / "mappings" / "templates").glob("*.yaml"))


@pytest.fixture(scope="module")
def cdm() -> rdflib.Graph:
    return rdflib.Graph().parse(ROOT / "ontologies" / "cdm.ttl", format="turtle")


def domains(cdm: rdflib.Graph, prop: rdflib.URIRef) -> set[rdflib.term.Node]:
    """Classes of the property's domain: rdfs:domain (unions unfolded) and schema:domainIncludes."""
    found: set[rdflib.term.Node] = set(cdm.objects(prop, SDO.domainIncludes))
    for domain in cdm.objects(prop, RDFS.domain):
        union = cdm.value(domain, OWL.unionOf)
        found |= set(Collection(cdm, union)) if union is not None else {domain}
    return found


def writes(path: Path) -> list[tuple[str, str]]:
    """(entity class, property) pairs of a mapping file, as CURIEs."""
    data: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return sorted({(entity["class"], field["property"]) for entity in data["entities"]
                   for field in entity.get("fields", [])})


def test_mappings_found() -> None:
    names = {path.name for path in MAPPINGS}
    assert {"dicom.yaml", "fhir.yaml", "mcode-csv.yaml", "clinical-csv.yaml"} <= names


@pytest.mark.parametrize("path", MAPPINGS, ids=lambda p: p.name)
def test_written_properties_are_declared_on_their_class(path: Path, cdm: rdflib.Graph) -> None:
    wrong = []
    for cls_curie, prop_curie in writes(path):
        cls, prop = CDM[cls_curie.removeprefix("cdm:")], CDM[prop_curie.removeprefix("cdm:")]
        if (prop, RDF.type, None) not in cdm:
            wrong.append(f"{prop_curie} (on {cls_curie}) is not declared in cdm.ttl")
            continue
        allowed = domains(cdm, prop)
        if not allowed & set(cdm.transitive_objects(cls, RDFS.subClassOf)):
            wrong.append(f"{prop_curie} written on {cls_curie}; cdm.ttl domain: "
                         + ", ".join(sorted(str(d).removeprefix(str(CDM)) for d in allowed)))
    assert wrong == []


@pytest.mark.parametrize("name", ["tnmT", "tnmN", "tnmM", "stageGroup"])
def test_tnm_properties_are_on_cancer_stage(name: str, cdm: rdflib.Graph) -> None:
    """What the cohort API (hyperontology/search/cohort.py) queries: ?stage a cdm:CancerStage; cdm:tnmT ..."""
    assert domains(cdm, CDM[name]) == {CDM.CancerStage}
