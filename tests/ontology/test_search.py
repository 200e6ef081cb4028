"""Term search: exact, prefix, token, fuzzy; case- and accent-insensitive; codes."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from hyperontology import Concept, Hyperontology
from hyperontology.ontology.search import TermIndex, normalise


def top(onto: Hyperontology, text: str, n: int = 5, **kw) -> list[str]:  # type: ignore[no-untyped-def]
    return [h.concept.curie for h in onto.search(text, limit=n, **kw)]


def test_code_and_curie_hit_first(onto: Hyperontology) -> None:
    assert top(onto, "254637007")[0] == "SCT:254637007"
    assert top(onto, "sct:254637007")[0] == "SCT:254637007"
    assert top(onto, "C34.1", schemes={"ICD10"})[0] == "ICD10:C34.1"


def test_abbreviation_synonym(onto: Hyperontology) -> None:
    assert "NCIT:C2926" in top(onto, "NSCLC", 3)


def test_exact_label_ranks_above_prefix_and_tokens(onto: Hyperontology) -> None:
    hits = onto.search("lung adenocarcinoma", limit=10)
    assert hits[0].concept.curie == "NCIT:C3512" and hits[0].match == "label"
    assert "SCT:254626006" in [h.concept.curie for h in hits]  # "Adenocarcinoma of lung", word order differs
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)


def test_case_accents_and_typos(onto: Hyperontology) -> None:
    assert top(onto, "GLIOBLASTOMA", 1) == top(onto, "glioblastoma", 1)
    assert any(onto.concept(c).label == "Melanoma" for c in top(onto, "mélanoma", 3))
    assert any(onto.concept(c).label == "Glioblastoma" for c in top(onto, "glioblastma", 5))


def test_prefix_while_typing(onto: Hyperontology) -> None:
    assert any("Prostat" in onto.concept(c).label for c in top(onto, "prostat", 5))


def test_scheme_filter_and_limit(onto: Hyperontology) -> None:
    hits = onto.search("carcinoma", limit=7, schemes=["NCIT"])
    assert len(hits) == 7 and {h.concept.scheme for h in hits} == {"NCIT"}
    assert onto.search("   ") == []
    assert onto.search("qqqqzzzzxxxx") == []


def test_normalise() -> None:
    assert normalise("Ösophagus–Karzinom") == "osophagus karzinom"


@settings(max_examples=50, deadline=None)
@given(st.text(max_size=40))
def test_any_text_is_a_safe_query(text: str) -> None:
    index = TermIndex([Concept("http://x/1", "X:1", "1", "X", "Lung adenocarcinoma", ("LUAD",))])
    hits = index.search(text, limit=3)
    assert all(0 < h.score <= 100 for h in hits)
