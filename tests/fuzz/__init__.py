"""A fuzzer of ingest: real DICOM, FHIR and CSV files mutated (:mod:`tests.fuzz.inputs`), run through the
``hyperontology ingest`` command in batches and checked against its report (:mod:`tests.fuzz.runs`).

Used by ``bench/fuzz_ingest.py`` (thousands of inputs) and ``tests/pipeline/test_fuzz_bounded.py`` (a few dozen).
"""
