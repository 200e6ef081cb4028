"""The allow-list decision on the parse tree: the reported bypass, where parsers differ, what cannot be checked."""

from __future__ import annotations

import pytest

from hyperontology.server.allowlist import AllowList, Refusal, refusal
from hyperontology.sparql_parse import UnreadableError, names_a_keyword, read
from hyperontology.sparql_text import remote_uses

DATA = "https://w3id.org/hyperontology/graph/data"
EVIL = "http://127.0.0.1:8099/x"
ALLOWED = AllowList(["http://a.org/sparql"])


def _status(text: str, allowed: AllowList = ALLOWED) -> int | None:
    reason = refusal(text, allowed)
    return None if reason is None else reason.status


# ------------------------------------------------------------------------------------------ the report
@pytest.mark.parametrize("char", ["\u00b7", "\u0301", "\u203f", "\u2040"])
def test_the_name_characters_outside_word_characters(char: str) -> None:
    """U+00B7, U+0300-U+036F and U+203F-U+2040 are name characters: the quote after ``\\'`` opens no string."""
    text = f"PREFIX b: <http://x/> SELECT * WHERE {{ BIND(b:c{char}\\' AS ?z) SERVICE <{EVIL}> {{ ?s ?p ?o }} }} # '"
    assert refusal(text, ALLOWED) == f"SERVICE <{EVIL}> is not on this endpoint's allow-list"
    assert [use.written for use in remote_uses(text)] == [f"<{EVIL}>"]
    update = f"PREFIX b: <http://x/> INSERT DATA {{ <http://x/s> <http://x/p> b:c{char}\\' }} ; LOAD <{EVIL}> # '"
    assert refusal(update, ALLOWED) == f"LOAD <{EVIL}> is not on this endpoint's allow-list"


# ------------------------------------------------------------------------------------------ where parsers differ
@pytest.mark.parametrize(("text", "status"), [
    # rdflib reads a comment to the line feed; SPARQL and the store end it at a carriage return too
    (f"SELECT * WHERE {{ # x\r SERVICE <{EVIL}> {{ ?s ?p ?o }} \n }}", 403),
    # the store ends ex:a.b at its second dot and reads ".service:x {...}" as "." SERVICE :x
    (f"PREFIX : <{EVIL}/> PREFIX ex: <http://x/> SELECT * WHERE {{ ?s ?p ex:a.b.service:x {{ }} }}", 403),
    # \u005C: a backslash in the store's string; SPARQL 1.1 section 19.2 decodes it first, escaping the quote
    (f'SELECT * WHERE {{ BIND("a\\u005C" AS ?z) SERVICE <{EVIL}> {{ ?s ?p ?o }} }} #" AS ?z) }}', 403),
    # \u0022: a quote that ends the string only when decoded first; the store's own reading does not parse
    (f'SELECT * WHERE {{ BIND("a\\u0022 AS ?z) SERVICE <{EVIL}> {{ ?s ?p ?o }} BIND("" AS ?y) }}', 400),
    # keywords glued to what follows: the store reads them, rdflib does not
    (f"SELECT * WHERE {{ SERVICESILENT<{EVIL}>{{ ?s ?p ?o }} }}", 403),
    (f"PREFIX e: <{EVIL}/> SELECT * WHERE {{ SERVICEe:s {{ }} }}", 403),
    (f"LOADSILENT<{EVIL}>", 403),
    (f"ASKFROM<{EVIL}>{{}}", 403),
    # an escaped keyword: no parser reads it as one here, but the text is not checked either
    (f"SELECT * WHERE {{ \\u0053ERVICE <{EVIL}> {{ ?s ?p ?o }} }}", 400),
])
def test_readings_that_differ_are_refused(text: str, status: int) -> None:
    assert _status(text) == status


@pytest.mark.parametrize(("text", "message"), [
    ("SELECT * FROM <http://x/g> WHERE { ?s <rel> ?o }", "<rel> is a relative IRI and the text declares no BASE"),
    ("SELECT * FROM <http://x/g> WHERE { ?s nope:p ?o }", "the prefix nope: is not declared"),
    ("PREFIX e: <http://x/> SELECT * FROM <http://x/g> WHERE { ?s e:a.b.c ?o }", "the store reads e:a.b.c differently"),
    ("PREFIX e: <http://x/#> SELECT * FROM <http://x/g> WHERE { ?s e:a\\#b ?o }", "which is not a valid IRI"),
    ("BASE <http://x/a/> PREFIX e: <../b/> SELECT * FROM <http://x/g> { ?s e:p ?o }", "has dot segments"),
])
def test_what_the_store_would_read_another_way_is_400(text: str, message: str) -> None:
    reason = refusal(text, AllowList(["http://x/g"]))
    assert reason is not None and reason.status == 400 and message in reason, reason


def test_an_escape_ending_a_string_under_the_specification_is_refused() -> None:
    """pyoxigraph reads ``\\u0022`` in a string as a character; SPARQL 1.1 (section 19.2) decodes it before
    parsing, which ends the string: a store that follows the specification reads LOAD as a keyword."""
    text = 'SELECT ?s WHERE { ?s <http://x/p> "escaped \\" SERVICE <http://evil/> \\u0022 LOAD" }'
    assert remote_uses(text) == []
    reason = refusal(text, AllowList([]))
    assert reason is not None and reason.status == 400 and "\\u escapes decoded first" in reason


def test_escapes_that_read_the_same_both_ways_pass() -> None:
    text = 'SELECT * FROM <\\u0068ttps://w3id.org/hyperontology/graph/data> WHERE { ?s ?p "caf\\u00E9" }'
    assert len(read(text)) == 2
    assert refusal(text, AllowList([])) is None


def test_two_readings_finding_different_keywords_are_refused() -> None:
    """The tokenizer reads ``from:data`` as FROM :data once ``:`` is declared: both targets are the node's own
    graph, but the parse tree finds one FROM and the tokenizer two."""
    text = (f"PREFIX from: <http://x/> PREFIX : <https://w3id.org/hyperontology/graph/> "
            f"SELECT * FROM <{DATA}> WHERE {{ ?s from:data ?o }}")
    reason = refusal(text, AllowList([]))
    assert reason is not None and reason.status == 400 and "it reads two ways" in reason, reason


# ------------------------------------------------------------------------------------------ what cannot be read
def test_a_text_that_does_not_parse_is_400_unless_it_names_no_keyword() -> None:
    reason = refusal("SELECT * WHERE { ?s ?p ?o . FILTER(?o = ) } # from", AllowList([]))
    assert reason is not None and reason.status == 400 and "does not parse as SPARQL 1.1" in reason
    assert refusal("SELECT * WHERE { << ?s ?p ?o >> ?q ?r }", AllowList([])) is None  # no keyword anywhere


def test_a_text_too_deep_for_the_parser_is_400() -> None:
    chain = " ".join(f"?s{i} <http://x/p> ?o{i} ." for i in range(200))
    reason = refusal(f"SELECT * FROM <{DATA}> WHERE {{ {chain} }}", AllowList([]))
    assert reason is not None and reason.status == 400 and "nested too deeply" in reason
    with pytest.raises(UnreadableError, match="nested too deeply"):
        read(f"SELECT * WHERE {{ {chain} }}")


@pytest.mark.parametrize(("text", "named"), [
    ("SELECT ?s { ?s ?p ?o }", False),
    ('SELECT ?s { ?s ?p "FrOm" }', True),
    ("SELECT ?s { ?s <http://x/download> ?o }", True),
    ("SELECT ?s { ?s ?p ?o } # \\u0055sing", True),
    ("SELECT ?s { ?s ?p ?o } # \\u005Cu0057ith", True),  # decoded twice: \\u005C is a backslash
])
def test_names_a_keyword(text: str, named: bool) -> None:
    assert names_a_keyword(text) is named


# ------------------------------------------------------------------------------------------ the readings
def test_with_using_and_load_are_read_from_the_tree() -> None:
    (reading,) = read("PREFIX g: <http://a.org/g/> WITH g:w DELETE { ?s ?p ?o } USING <http://a.org/u> "
                      "USING NAMED g:n WHERE { ?s ?p ?o } ; LOAD SILENT <http://a.org/d> INTO GRAPH g:x")
    assert reading.kind == "update"
    assert [(u.keyword, u.written, u.iris) for u in reading.uses] == [
        ("WITH", "g:w", ("http://a.org/g/w",)), ("USING", "<http://a.org/u>", ("http://a.org/u",)),
        ("USING NAMED", "g:n", ("http://a.org/g/n",)), ("LOAD SILENT", "<http://a.org/d>", ("http://a.org/d",))]


def test_prefixes_and_base_hold_from_where_they_are_declared() -> None:
    (reading,) = read("BASE <http://a.org/x/> PREFIX p: <sub/> BASE <http://b.org/> SELECT * FROM <g> "
                      "FROM NAMED p:h WHERE { SERVICE ?v { } SERVICE <../s> { } }")
    assert [(u.keyword, u.iris) for u in reading.uses] == [
        ("FROM", ("http://b.org/g",)), ("FROM NAMED", ("http://a.org/x/sub/h",)), ("SERVICE", ()),
        ("SERVICE", ("http://b.org/s", "http://b.org/../s"))]
    assert refusal("BASE <http://a.org/sparql/x/> SELECT * { SERVICE <../../s> {} }", ALLOWED) is not None


def test_with_and_the_node_graphs() -> None:
    assert refusal(f"WITH <{DATA}> DELETE {{ ?s ?p ?o }} WHERE {{ ?s ?p ?o }}", AllowList([])) is None
    assert refusal("WITH <http://b.org/g> DELETE { ?s ?p ?o } WHERE { ?s ?p ?o }", AllowList([])) == \
        "WITH <http://b.org/g> is not on this endpoint's allow-list"


def test_targets_with_characters_no_iri_has_are_refused() -> None:
    assert not ALLOWED.allows("http://a.org/sparql\t")
    assert not ALLOWED.allows("http://a.org/sp arql")
    assert not ALLOWED.allows("http://a.org/sparql/<x>")


def test_targets_the_parse_tree_cannot_resolve() -> None:
    assert refusal("SELECT * { SERVICE <sparql> {} }", ALLOWED) == \
        "SERVICE <sparql> is refused: it is relative and the text declares no BASE"
    reason = refusal("PREFIX e: <http://a.org/sparql/> SELECT * { SERVICE e:x.y.z {} }", ALLOWED)
    assert reason is not None and reason.status == 400 and "the store reads e:x.y.z differently" in reason


def test_a_refusal_is_the_message_with_a_status() -> None:
    reason = Refusal("why", 400)
    assert reason == "why" and reason.status == 400 and isinstance(reason, str)
    assert Refusal("why").status == 403
