"""The run report in bounded memory: per-file accounts and instances go to an on-disk spool between batches, the
files are walked lazily, and ``--report`` is written streamed; what the report says is unchanged."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest
from pydicom.data import get_testdata_file

from hyperontology import Hyperontology
from hyperontology.batch import read_file
from hyperontology.mapping.loader import MappingSet, default_mappings_dir
from hyperontology.pipeline import Ingest, IngestOptions, discover, ingest
from hyperontology.pseudonymize.keys import PseudonymKey
from hyperontology.runreport import FileAccount, Inputs, Spool, write_report
from tests.pipeline.stores import copy_store

KEY = PseudonymKey(bytes(range(32)))
CLINICAL = default_mappings_dir().parent / "samples" / "clinical"
DICOM = [Path(get_testdata_file(n)) for n in ("CT_small.dcm", "MR_small.dcm", "rtplan.dcm")]


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("inputs")
    for path in DICOM:
        shutil.copy(path, root / path.name)
    (root / "sub").mkdir()
    for table in sorted(CLINICAL.glob("*.csv")):
        shutil.copy(table, root / "sub" / table.name)
    (root / "notes.txt").write_text("not a source\n", encoding="utf-8")
    return root


def options(store: Path, **kw: Any) -> IngestOptions:
    return IngestOptions(key=KEY, mappings=MappingSet.load(default_mappings_dir()), store_path=store, **kw)


def comparable(report: dict[str, Any]) -> dict[str, Any]:
    """The report without what differs between two runs of the same inputs (run IRI, times)."""
    out = {k: v for k, v in report.items() if k != "run"}
    return json.loads(json.dumps(out))


def test_streamed_report_file_equals_the_report(template: Path, inputs: Path, onto: Hyperontology,
                                                tmp_path: Path) -> None:
    listed = ingest([inputs], options(copy_store(template, tmp_path / "a")), ontology=onto)
    path = tmp_path / "report.json"
    returned = ingest([inputs], options(copy_store(template, tmp_path / "b")), ontology=onto, report_path=path)
    written = json.loads(path.read_text(encoding="utf-8"))
    assert "inputs" not in returned
    assert comparable(written) == comparable(listed)
    assert {k: v for k, v in comparable(returned).items()} == {k: v for k, v in comparable(listed).items()
                                                               if k != "inputs"}
    # every input accounted for, one entry each, by path
    assert [a["path"] for a in written["inputs"]] == sorted(str(p) for p in discover([inputs]))
    assert written["totals"]["files"] == len(written["inputs"]) == 3 + len(list(CLINICAL.glob("*.csv"))) + 1
    assert written["totals"]["rejected"] == 1  # notes.txt: no source reads it


def test_no_account_is_held_between_batches(template: Path, inputs: Path, onto: Hyperontology,
                                            tmp_path: Path) -> None:
    run = Ingest(options(copy_store(template, tmp_path / "s"), batch_files=1), onto)
    held: list[int] = []
    commit = run._commit

    def counting(*args: Any) -> None:
        commit(*args)
        held.append(len(run.tally.accounts))

    run._commit = counting  # type: ignore[method-assign]
    report = run.run([inputs])
    assert len(held) == report["totals"]["batches"] > 3
    assert set(held) == {0}  # each batch's accounts went to the spool when it was counted
    assert len(report["inputs"]) == report["totals"]["files"]


def test_a_file_named_twice_is_one_account(template: Path, onto: Hyperontology, tmp_path: Path) -> None:
    table = next(iter(sorted(CLINICAL.glob("*.csv"))))
    report = ingest([table, table], options(copy_store(template, tmp_path / "s"), rescan=True), ontology=onto)
    (account,) = report["inputs"]
    once = ingest([table], options(copy_store(template, tmp_path / "t")), ontology=onto)
    assert account["records"] == 2 * once["inputs"][0]["records"]
    assert report["totals"]["records"] == account["records"]


def test_the_walk_is_lazy_sorted_skips_hidden_and_yields_linked_folders_unfollowed(tmp_path: Path) -> None:
    root = tmp_path / "root"
    for name in ("b/2.dcm", "b/1.dcm", "a.csv", ".hidden/x.dcm", "c/.y.csv", "c/d/z.json"):
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text("x", encoding="utf-8")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "o.dcm").write_text("x", encoding="utf-8")
    os.symlink(outside, root / "link")
    os.symlink(root, root / "c" / "loop")  # a cycle: never followed
    os.symlink(outside / "o.dcm", root / "file-link.dcm")  # a link to a file is a file
    walked = discover([root])
    assert next(walked) == root / "a.csv"  # one entry at a time, not a list made first
    assert [str(p.relative_to(root)) for p in [root / "a.csv", *walked]] == [
        "a.csv", "b/1.dcm", "b/2.dcm", "c/d/z.json", "c/loop", "file-link.dcm", "link"]
    # a linked folder is not followed (a cycle stays one entry) but reported, never dropped without a word
    assert read_file(root / "link")[2][0].reason == (  # type: ignore[union-attr]
        "a link to a folder, not followed (give the folder itself to read it)")
    assert list(discover([tmp_path / "missing"])) == [tmp_path / "missing"]  # reported by the ingest, not lost


def test_inputs_sequence_and_writer(tmp_path: Path) -> None:
    spool = Spool()
    spool.put([FileAccount(f"f{i:03d}", "csv", records=i, loaded=i) for i in range(250, -1, -1)])
    inputs = Inputs(spool)
    assert len(inputs) == 251
    assert inputs[0]["path"] == "f000" and inputs[-1]["path"] == "f250" and inputs[3:5][1]["path"] == "f004"
    with pytest.raises(IndexError):
        inputs[251]
    report = {"totals": {"files": 251, "records": sum(range(251))}, "inputs": inputs, "notes": ["é"]}
    write_report(report, tmp_path / "r.json")
    back = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    assert back == {**report, "inputs": list(inputs)}
    assert spool.totals["records"] == sum(range(251))
    spool.close()
