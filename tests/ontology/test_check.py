"""`ontology check`: passes on the bundled release, and catches each kind of fault it promises to."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from hyperontology.ontology.check import run_check
from hyperontology.ontology.files import bundled_dir, module_files
from hyperontology.prefixes import iri_to_curie


@pytest.fixture(scope="module")
def report_without_reasoner():  # type: ignore[no-untyped-def]
    return run_check(module_files(bundled_dir()), reasoner=False)


def test_bundled_release_passes(report_without_reasoner) -> None:  # type: ignore[no-untyped-def]
    assert report_without_reasoner.errors == []
    assert report_without_reasoner.triples > 200_000


def test_release_defects_are_reported_not_carried(report_without_reasoner) -> None:  # type: ignore[no-untyped-def]
    found = {(f.rule, f.subject) for f in report_without_reasoner.warnings}
    assert ("release-code", "EUCAIM:CLIN1041663") in found  # the corrupted SNOMED CT id 1.0826E+15
    assert any(rule == "release-loinc-part" for rule, _ in found)
    assert any(rule == "release-empty" for rule, _ in found)


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("java") is None, reason="HermiT needs Java, which is not on PATH")
def test_bundled_release_is_consistent_under_hermit() -> None:
    report = run_check(module_files(bundled_dir()), reasoner=True)
    assert report.reasoner is not None and report.reasoner.consistent
    assert report.reasoner.unsatisfiable == []
    assert report.ok


@pytest.fixture()
def broken_copy(tmp_path: Path) -> Path:
    """A copy of the release with one small module of faults added to it."""
    copy = tmp_path / "release"
    shutil.copytree(bundled_dir(), copy, ignore=shutil.ignore_patterns("build", "sources"))
    faults = copy / "terminologies" / "zz-faults.ttl"
    faults.write_text("""
@prefix skos: <http://www.w3.org/2004/02/skos/core#> . @prefix owl: <http://www.w3.org/2002/07/owl#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
<http://snomed.info/id/900000000000207008> skos:inScheme <https://w3id.org/hyperontology/scheme/SCT> ;
    skos:notation "900000000000207008" .
<http://snomed.info/id/254637008> a owl:Class ; skos:inScheme <https://w3id.org/hyperontology/scheme/SCT> ;
    skos:notation "254637008" ; skos:prefLabel "bad check digit" .
<http://snomed.info/id/254637007> skos:exactMatch <http://purl.obolibrary.org/obo/NCIT_C0> .
<http://purl.obolibrary.org/obo/NCIT_C2926> rdfs:subClassOf <http://purl.obolibrary.org/obo/NCIT_C3512> .
""", encoding="utf-8")
    catalog = copy / "catalog-v001.xml"
    catalog.write_text(catalog.read_text().replace(
        "</catalog>",
        '  <uri name="https://w3id.org/hyperontology/zz" uri="terminologies/zz-faults.ttl"/>\n</catalog>'))
    return copy


def test_faults_are_errors(broken_copy: Path) -> None:
    report = run_check(module_files(broken_copy), reasoner=False)
    rules = {f.rule for f in report.errors}
    assert {"label", "code", "dangling-mapping", "is-a-cycle"} <= rules
    assert not report.ok


def test_syntax_error_names_the_module(broken_copy: Path) -> None:
    (broken_copy / "terminologies" / "zz-faults.ttl").write_text("this is not turtle", encoding="utf-8")
    report = run_check(module_files(broken_copy), reasoner=False)
    assert [f.rule for f in report.errors] == ["syntax"]
    assert "zz-faults.ttl" in report.errors[0].subject


SEMANTIC_FAULTS = {
    # a concept made equivalent to its own parent (Carcinoma of breast = Malignant neoplasm of breast)
    "two-codes": ("<http://snomed.info/id/254838004> skos:exactMatch <http://snomed.info/id/254837009> .",
                  "two SCT codes"),
    # in situ made equivalent to malignant (DCIS = malignant neoplasm of breast)
    "behaviour": ("<http://purl.bioontology.org/ontology/ICD10/D05.1> skos:exactMatch "
                  "<http://snomed.info/id/254837009> .", "different behaviour"),
    # a site-agnostic morphology made equivalent to a breast-specific disease (duct carcinoma = breast ductal)
    "site-agnostic": ("<http://purl.bioontology.org/ontology/ICDO3/8500/3> skos:exactMatch "
                      "<http://purl.obolibrary.org/obo/NCIT_C4017> .", "at any site"),
    # another organ (ICD-10 ill-defined thorax = malignant thoracic neoplasm, which holds lung and mediastinum)
    "site": ("<http://purl.bioontology.org/ontology/ICD10/C76.1> skos:exactMatch "
             "<http://purl.obolibrary.org/obo/NCIT_C3576> .", "different sites"),
}


@pytest.mark.parametrize("fault", sorted(SEMANTIC_FAULTS))
def test_semantic_faults_are_errors(broken_copy: Path, fault: str) -> None:
    triple, reason = SEMANTIC_FAULTS[fault]
    (broken_copy / "terminologies" / "zz-faults.ttl").write_text(
        "@prefix skos: <http://www.w3.org/2004/02/skos/core#> .\n" + triple + "\n", encoding="utf-8")
    report = run_check(module_files(broken_copy), reasoner=False)
    found = [f.message for f in report.errors if f.rule == "equivalence"]
    subject, _, obj = triple.rstrip(" .").split(" ")
    assert found, (fault, reason)
    assert any(iri_to_curie(subject[1:-1]) in m and iri_to_curie(obj[1:-1]) in m for m in found), found


def test_facets_contradicting_a_preferred_term_are_errors(broken_copy: Path) -> None:
    (broken_copy / "terminologies" / "zz-faults.ttl").write_text(
        "@prefix ho: <https://w3id.org/hyperontology/> .\n"
        '<http://snomed.info/id/254838004> ho:behaviour "in situ" .\n', encoding="utf-8")
    report = run_check(module_files(broken_copy), reasoner=False)
    assert any(f.rule == "facets" and f.subject == "SCT:254838004" for f in report.errors)
