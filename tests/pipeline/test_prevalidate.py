"""Workers validate the forms of a batch's instances as mapped (``prevalidate``): the ingest process takes their
results and runs pyshacl only for what they did not cover, with the same results as validating everything
itself."""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

import pytest
from pydicom.data import get_testdata_file

from hyperontology import Hyperontology
from hyperontology.batch import BatchSpec, prepare_batch
from hyperontology.mapping.loader import MappingSet, default_mappings_dir
from hyperontology.pipeline import discover
from hyperontology.pseudonymize.keys import PseudonymKey
from hyperontology.validation import fast
from hyperontology.validation.fast import FormResults
from hyperontology.validation.reconcile import canonical_quads
from hyperontology.validation.shacl import validate_quads

KEY = PseudonymKey(bytes(range(32)))
CLINICAL = default_mappings_dir().parent / "samples" / "clinical"
FILES = [*(str(p) for p in discover([CLINICAL])),
         *(get_testdata_file(n) for n in ("CT_small.dcm", "MR_small.dcm", "rtplan.dcm"))]


def spec(onto: Hyperontology, prevalidate: bool) -> BatchSpec:
    return BatchSpec(KEY, MappingSet.load(default_mappings_dir()), True, onto, prevalidate=prevalidate)


def test_forms_come_back_once_and_give_the_same_results(onto: Hyperontology,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    worker = spec(onto, True)
    prepared = prepare_batch(worker, [(f, None) for f in FILES])
    assert prepared.forms, "the worker validated the batch's forms"
    assert prepare_batch(worker, [(f, None) for f in FILES]).forms == {}  # sent already: not again
    assert prepare_batch(spec(onto, False), [(f, None) for f in FILES]).forms == {}
    back = pickle.loads(pickle.dumps(prepared))  # as a process pool or Dask returns it
    quads = canonical_quads(q for e in back.outcome.entities if e.iri and not e.problems for q in e.quads)
    alone = validate_quads(quads, onto)

    runs: list[int] = []
    real = fast._validate_forms

    def counting(forms: list[Any], *args: Any) -> Any:
        runs.append(len(forms))
        return real(forms, *args)

    monkeypatch.setattr(fast, "_validate_forms", counting)
    cache = FormResults()
    cache.update(back.forms)
    assert validate_quads(quads, onto, cache=cache) == alone
    assert runs == []  # every form's results came from the worker


def test_a_failing_head_start_loses_nothing(onto: Hyperontology, monkeypatch: pytest.MonkeyPatch,
                                            tmp_path: Path) -> None:
    import hyperontology.validation.shacl as shacl

    def broken(*_args: Any, **_kw: Any) -> Any:
        raise RuntimeError("boom")

    monkeypatch.setattr(shacl, "validate_quads", broken)
    prepared = prepare_batch(spec(onto, True), [(f, None) for f in FILES])
    assert prepared.forms == {}
    assert sum(r.records for r in prepared.files) > 0 and prepared.outcome.entities
