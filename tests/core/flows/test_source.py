"""Reading flow files: the line of every path, and the refusals of what a flow file never needs."""

from __future__ import annotations

import json

import pytest

from core.errors import Invalid
from core.flows.definition import flow_errors
from core.flows.source import MAX_SOURCE_BYTES, LineMap, load_source, with_lines

FLOW = """\
# 测试流程
key: demo
name: 演示
signals: [risk_grade]
stages:
  - id: auto
    name: 自动审批
    kind: automatic
    rules:
      - when: "signals.risk_grade == 'low'"
        outcome: approve
    refer_to: review
    next: approved
  - id: review
    name: 人工审核
    kind: single
    assignees:
      role: reviewer
      pick: queue
    next:
      - when: amount > 10000
        to: approved
      - to: approved
"""


def refused(text: str, fmt: str | None = None) -> list[dict]:
    with pytest.raises(Invalid) as caught:
        load_source(text, fmt)
    assert caught.value.code == "flows.invalid"
    assert caught.value.params == {"count": len(caught.value.errors)}
    return caught.value.errors


def test_every_key_and_item_keeps_its_line():
    document, lines = load_source(FLOW)
    assert document["stages"][1]["next"][0] == {"when": "amount > 10000", "to": "approved"}
    assert lines.line("key") == 2
    assert lines.line("signals[0]") == 4
    assert lines.line("stages") == 5
    assert lines.line("stages[0]") == 6
    assert lines.line("stages[0].rules[0].when") == 10
    assert lines.line("stages[0].rules[0].outcome") == 11
    assert lines.line("stages[1].assignees.pick") == 19
    assert lines.line("stages[1].next[0].when") == 21
    assert lines.line("stages[1].next[1].to") == 23


def test_a_path_without_a_line_takes_its_nearest_parents():
    _, lines = load_source(FLOW)
    assert lines.line("stages[1].assignees.users") == 17  # not written: its mapping's line
    assert lines.line("stages[1].sla.hours") == 14  # neither: the stage's
    assert lines.line("stages[7].next") == 5
    assert lines.line("start") is None
    assert lines.line("") is None


def test_with_lines_adds_the_line_to_the_checks_errors():
    document, lines = load_source(FLOW.replace("pick: queue", "pick: random").replace("10000", "1 +"))
    assert with_lines(flow_errors(document), lines) == [
        {
            "field": "stages[1].assignees.pick",
            "code": "flows.pick_unknown",
            "params": {"known": "queue, round_robin, least_loaded", "line": 19},
        },
        {
            "field": "stages[1].next[0].when",
            "code": "expressions.syntax",
            # the condition's own position, moved into the file: column 26 is the "+" left hanging
            "params": {"line": 21, "column": 26, "detail": "unexpected input: amount > 1 +"},
        },
    ]


def test_with_lines_leaves_the_errors_it_is_given_unchanged():
    errors = [{"field": "key", "code": "flows.key_format", "params": {}}]
    assert with_lines(errors, LineMap(lines={"key": 3})) == [
        {"field": "key", "code": "flows.key_format", "params": {"line": 3}}
    ]
    assert errors == [{"field": "key", "code": "flows.key_format", "params": {}}]


@pytest.mark.parametrize(
    ("written", "line", "column"),
    [
        ('      - when: "amount >> 3"', 21, 24),  # double quotes: one column for the quote
        ("      - when: 'amount >> 3'", 21, 24),
        ("      - when: amount >> 3", 21, 23),  # plain
    ],
)
def test_a_condition_error_points_into_the_file(written, line, column):
    document, lines = load_source(FLOW.replace("      - when: amount > 10000", written))
    (error,) = with_lines(flow_errors(document), lines)
    assert error["code"] == "expressions.syntax"
    assert (error["params"]["line"], error["params"]["column"]) == (line, column)
    assert written[column - 1] == ">"  # the second ">", where CEL gives up


def test_a_condition_in_a_literal_block_points_at_its_own_line():
    block = "      - when: |\n          amount > 1 &&\n            amount >> 3"
    document, lines = load_source(FLOW.replace("      - when: amount > 10000", block))
    (error,) = with_lines(flow_errors(document), lines)
    assert (error["params"]["line"], error["params"]["column"]) == (23, 21)
    assert FLOW.replace("      - when: amount > 10000", block).splitlines()[22][19:21] == ">>"


def test_a_syntax_error_gives_line_and_column():
    errors = refused("key: demo\nstages:\n  - id: a\n   name: x\n")
    assert errors == [
        {
            "field": "",
            "code": "flows.source_syntax",
            "params": {
                "line": 4,
                "column": 4,
                "detail": "expected <block end>, but found '<block mapping start>'",
            },
        }
    ]


def test_an_unclosed_flow_sequence_is_a_syntax_error_at_the_end():
    (error,) = refused("key: demo\nsignals: [a, b\n")
    assert error["code"] == "flows.source_syntax"
    assert error["params"]["line"] == 3


def test_a_duplicate_key_is_refused_with_its_line():
    text = FLOW.replace("    kind: single\n", "    kind: single\n    name: 又一个名字\n")
    assert refused(text) == [
        {"field": "stages[1].name", "code": "flows.duplicate_key", "params": {"key": "name", "line": 17}}
    ]


def test_every_duplicate_key_is_reported():
    errors = refused("key: a\nkey: b\nstages:\n  - id: x\n    id: y\n")
    assert [(e["field"], e["params"]["line"]) for e in errors] == [("key", 2), ("stages[0].id", 5)]


@pytest.mark.parametrize(
    ("text", "line", "column"),
    [
        ("key: &k demo\nname: *k\n", 1, 6),
        ("stages:\n  - &s {id: a}\n  - *s\n", 2, 5),
        ("a: &a [1, 2]\nb: [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n", 1, 4),
    ],
)
def test_anchors_and_aliases_are_refused_before_anything_expands(text, line, column):
    assert refused(text) == [
        {
            "field": "",
            "code": "flows.source_aliases",
            "params": {"line": line, "column": column, "detail": "anchors and aliases are not allowed"},
        }
    ]


def test_unsafe_tags_are_refused():
    (error,) = refused("key: !!python/object/apply:os.system ['true']\n")
    assert (error["code"], error["params"]["line"]) == ("flows.source_syntax", 1)
    assert "python/object/apply:os.system" in error["params"]["detail"]


def test_a_file_over_the_limit_is_refused_unread():
    text = "key: demo\n" + "#" * MAX_SOURCE_BYTES
    assert refused(text) == [
        {"field": "", "code": "flows.source_too_large", "params": {"max_kib": 256, "size_kib": 257}}
    ]


def test_the_limit_counts_bytes_not_characters():
    text = "key: demo\n# " + "审" * (MAX_SOURCE_BYTES // 3)  # under the limit in characters, over in bytes
    (error,) = refused(text)
    assert error["code"] == "flows.source_too_large"
    load_source("key: demo\n# " + "审" * (MAX_SOURCE_BYTES // 3 - 10))


def test_nesting_too_deep_is_refused_not_a_crash():
    assert refused("[" * 20000) == [{"field": "", "code": "flows.source_too_deep", "params": {}}]
    assert refused('{"a": ' + "[" * 20000, "json") == [
        {"field": "", "code": "flows.source_too_deep", "params": {}}
    ]


@pytest.mark.parametrize("text", ["- a\n- b\n", "just text\n", "", "# only a comment\n", "42"])
def test_a_document_that_is_not_a_mapping_is_refused(text):
    assert refused(text) == [{"field": "", "code": "flows.document_not_object", "params": {}}]


def test_more_than_one_document_is_refused():
    (error,) = refused("key: a\n---\nkey: b\n")
    assert (error["code"], error["params"]["line"]) == ("flows.source_syntax", 2)


JSON_FLOW = """{
  "key": "demo",
  "name": "演示",
  "stages": [
    {"id": "a", "name": "A", "kind": "single",
     "assignees": {"role": "reviewer", "pick": "random"},
     "next": "approved"}
  ]
}"""


def test_json_is_read_with_lines():
    document, lines = load_source(JSON_FLOW)
    assert document["stages"][0]["assignees"]["pick"] == "random"
    assert with_lines(flow_errors(document), lines) == [
        {
            "field": "stages[0].assignees.pick",
            "code": "flows.pick_unknown",
            "params": {"known": "queue, round_robin, least_loaded", "line": 6},
        }
    ]


def test_json_numbers_are_json_numbers():
    # YAML 1.1 would read 1e3 as text; the document must be what JSON says it is.
    document, _ = load_source('{"key": "x", "n": 1e3, "m": 12345678901234567890}', "json")
    assert document == {"key": "x", "n": 1000.0, "m": 12345678901234567890}


def test_json_syntax_and_duplicate_keys_are_refused():
    assert refused('{"key": "x",\n "stages": [1, 2}') == [
        {
            "field": "",
            "code": "flows.source_syntax",
            "params": {"line": 2, "column": 17, "detail": "Expecting ',' delimiter"},
        }
    ]
    assert refused('{"key": "x",\n "key": "y"}') == [
        {"field": "key", "code": "flows.duplicate_key", "params": {"key": "key", "line": 2}}
    ]


def test_the_format_is_guessed_or_given():
    assert load_source('\ufeff  {"key": "x"}')[0] == {"key": "x"}
    assert load_source('{"key": "x"}', "yaml")[0] == {"key": "x"}  # JSON is YAML too
    (error,) = refused("key: x\n", "json")
    assert error["code"] == "flows.source_syntax"
    with pytest.raises(ValueError, match="toml"):
        load_source("key = 'x'", "toml")


def test_a_json_document_round_trips_through_the_yaml_reader():
    document, _ = load_source(FLOW)
    assert load_source(json.dumps(document, ensure_ascii=False))[0] == document
