"""`ontology import`: merging a newer EUCAIM release (tested on the real excerpt of v2.0)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hyperontology import ReleaseImportError, load_ontology
from hyperontology.ontology import eucaim
from hyperontology.ontology.files import bundled_dir
from hyperontology.ontology.release import import_release


@pytest.fixture(scope="module")
def imported(eucaim_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("imported")
    import_release(eucaim_dir / "eucaim_hyperontology-v2.0-excerpt.owl", out, bundled=bundled_dir())
    return out


def test_excerpt_classes_come_out_exactly_as_transcribed(imported: Path, eucaim_dir: Path) -> None:
    lines = {r["c"]: r for r in map(json.loads, (eucaim_dir / "eucaim_hyperontology-v2.0-classes.jsonl")
                                    .read_text(encoding="utf-8").splitlines())}
    excerpt = {r["c"] for r in eucaim.records_from_owl(eucaim_dir / "eucaim_hyperontology-v2.0-excerpt.owl")}
    merged = {r["c"]: r for r in eucaim.records_from_owl(imported / "eucaim.ttl")}
    assert len(excerpt) == 10
    for code in excerpt:
        assert eucaim.canonical(merged[code]) == eucaim.canonical(lines[code])


def test_merge_keeps_the_rest_and_loads(imported: Path) -> None:
    onto = load_ontology(imported, cache=False)
    assert onto.schemes()["EUCAIM"] == 3991
    assert onto.concept("EUCAIM:CLIN1049106").label == "Malignant neoplasm"
    assert {c.curie for c in onto.equivalents("EUCAIM:CLIN1049106")} >= {"SCT:1240414004"}


def test_merge_of_the_same_content_reproduces_the_bundled_modules(imported: Path) -> None:
    for name in ("mappings.ttl", "terminologies/sct.ttl", "terminologies/ncit.ttl"):
        assert (imported / name).read_bytes() == (bundled_dir() / name).read_bytes(), name


def test_bad_inputs(tmp_path: Path) -> None:
    with pytest.raises(ReleaseImportError, match="no such file"):
        import_release(tmp_path / "missing.owl", tmp_path / "out", bundled=bundled_dir())
    with pytest.raises(ReleaseImportError, match="bundled"):
        import_release(tmp_path / "missing.owl", bundled_dir(), bundled=bundled_dir())


LAUGHS = "".join(f'<!ENTITY e{n} "{("&e" + str(n - 1) + ";") * 10 if n else "lol" * 30}">\n' for n in range(9))
RDF_BODY = ('<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" '
            'xmlns:owl="http://www.w3.org/2002/07/owl#" xmlns:rdfs="http://www.w3.org/2000/01/rdf-schema#">\n'
            '<owl:Class rdf:about="https://cancerimage.eu/ontology/EUCAIM#CLIN9"><rdfs:label>{}</rdfs:label>'
            '</owl:Class>\n</rdf:RDF>\n')


def test_entity_expansion_attack_is_refused_at_once(tmp_path: Path) -> None:
    """A 1 KB "billion laughs" file used to hang the import; it is refused before any expansion."""
    bomb = tmp_path / "bomb.owl"
    bomb.write_text(f'<?xml version="1.0"?>\n<!DOCTYPE rdf:RDF [\n{LAUGHS}]>\n' + RDF_BODY.format("&e8;"))
    assert bomb.stat().st_size < 2_000
    with pytest.raises(ReleaseImportError, match="expands beyond"):
        import_release(bomb, tmp_path / "out", bundled=bundled_dir())


def test_external_entity_is_refused(tmp_path: Path) -> None:
    probe = tmp_path / "external.owl"
    probe.write_text('<?xml version="1.0"?>\n<!DOCTYPE rdf:RDF [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n'
                     + RDF_BODY.format("&x;"))
    with pytest.raises(ReleaseImportError, match="external XML entity"):
        eucaim.records_from_owl(probe)


def test_namespace_entities_as_protege_writes_them_still_read(tmp_path: Path) -> None:
    ok = tmp_path / "protege.owl"
    ok.write_text('<?xml version="1.0"?>\n<!DOCTYPE rdf:RDF [\n<!ENTITY owl "http://www.w3.org/2002/07/owl#">\n]>\n'
                  + RDF_BODY.format("Malignant thing"))
    assert [r["c"] for r in eucaim.records_from_owl(ok)] == ["CLIN9"]
