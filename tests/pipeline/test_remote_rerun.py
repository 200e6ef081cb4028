"""A no-op re-run into a remote store (a real Oxigraph server) adds nothing, and says so, as the embedded store does.

The server stores literals in their canonical form (``"65.0"^^xsd:decimal`` is kept as ``"65"``); a quad that the
pipeline sends in another form than the one stored must still count as already there, not as "added".
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from hyperontology import Hyperontology
from hyperontology.mapping.loader import MappingSet
from hyperontology.pipeline import IngestOptions, ingest
from hyperontology.pseudonymize.keys import PseudonymKey
from tests.processes import oxigraph_server

KEY = PseudonymKey(bytes(range(32)))
MAPPING = """
mapping: registry
version: "0.1.0"
source: csv
entities:
  - name: patient
    select: {entity: registry}
    class: cdm:Patient
    id: {value: patient_number, domain: patient}
    fields:
      - {property: cdm:patientIdentifier, value: patient_number, pseudonym: patient}
  - name: diagnosis
    select: {entity: registry}
    class: cdm:Diagnosis
    id: {value: tumour_id, domain: condition}
    fields:
      - {property: cdm:patient, value: patient_number, link: patient, required: true}
      - {property: cdm:diagnosisCode, value: icd10, transform: "code(ICD10)", datatype: iri, required: true}
      - {property: cdm:assertedDate, value: date_of_diagnosis, transform: date, datatype: xsd:dateTime}
      - {property: cdm:ageAtDiagnosis, value: age, datatype: xsd:decimal}
"""
# ages the mapping writes as "65.0", "70.50" -> "70.5", "1e2" -> "100.0": forms the server rewrites
TABLE = ("patient_number,tumour_id,icd10,date_of_diagnosis,age\n"
         "P1,T1,C34.1,2019-03-04,65\nP2,T2,C50.9,2018-01-02,70.50\nP3,T3,C61,2017-05-06,1e2\n")


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[Path], MappingSet]:
    root = tmp_path_factory.mktemp("registry")
    (root / "mappings").mkdir()
    (root / "mappings" / "registry.yaml").write_text(MAPPING, encoding="utf-8")
    (root / "data").mkdir()
    (root / "data" / "registry.csv").write_text(TABLE, encoding="utf-8")
    return [root / "data"], MappingSet.load(root / "mappings")


@pytest.fixture(scope="module")
def remote(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with oxigraph_server(tmp_path_factory.mktemp("oxigraph")) as url:
        yield url


def _run(location: Path | str, inputs: tuple[list[Path], MappingSet], onto: Hyperontology,
         *, validate: bool = True, rescan: bool = True) -> dict[str, Any]:
    paths, mappings = inputs
    options = IngestOptions(key=KEY, mappings=mappings, store_path=location, validate=validate, rescan=rescan)
    return dict(ingest(paths, options, ontology=onto)["totals"])


def test_a_rerun_into_a_remote_store_adds_nothing(remote: str, inputs: tuple[list[Path], MappingSet],
                                                  onto: Hyperontology, tmp_path: Path) -> None:
    first = _run(remote, inputs, onto)
    embedded = _run(tmp_path / "store", inputs, onto)
    assert first["loaded"] == 3 and first["triples_added"] > 0
    assert first["triples_added"] == embedded["triples_added"]
    again = _run(remote, inputs, onto)
    assert again["triples_added"] == 0, again
    assert again["loaded"] == first["loaded"]
    unchanged = _run(remote, inputs, onto, rescan=False)  # without rescan, the file the store has is skipped
    assert (unchanged["skipped"], unchanged["records"], unchanged["triples_added"]) == (1, 0, 0), unchanged
    assert _run(remote, inputs, onto, validate=False)["triples_added"] == 0
    assert _run(tmp_path / "store", inputs, onto)["triples_added"] == 0
