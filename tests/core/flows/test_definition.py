"""The checks of a flow document: each refusal names the exact path and code, and nothing else fires.

Documents here are hostile on purpose: wrong types in every place, references to stages that do
not exist, loops, conditions that do not compile or name values no flow has. Every message the
checks produce must render in both languages with all of its values.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from core.flows.definition import MAX_STAGES, Stage, compile_flow, flow_errors
from core.flows.source import load_source
from core.i18n import LANGUAGES, translate

ROOT = Path(__file__).resolve().parents[3]
EXAMPLES = ROOT / "docs" / "examples" / "flows"


def base() -> dict[str, Any]:
    """Two single-person stages, a → b → approved: valid as it stands."""
    return {
        "key": "test.flow",
        "name": "测试流程",
        "signals": ["risk_grade"],
        "start": "a",
        "stages": [
            {"id": "a", "name": "初审", "kind": "single", "assignees": {"role": "reviewer"}, "next": "b"},
            {
                "id": "b",
                "name": "复审",
                "kind": "single",
                "assignees": {"role": "approver"},
                "next": "approved",
            },
        ],
    }


def automatic(**changes: Any) -> dict[str, Any]:
    """An automatic first stage referring to ``b``; ``changes`` replace its keys."""
    document = base()
    stage: dict[str, Any] = {
        "id": "a",
        "name": "自动审批",
        "kind": "automatic",
        "rules": [{"when": "amount <= 50000", "outcome": "approve"}],
        "otherwise": "refer",
        "refer_to": "b",
        "next": "approved",
    }
    stage.update(changes)
    document["stages"][0] = {k: v for k, v in stage.items() if v is not None}
    return document


def committee(**changes: Any) -> dict[str, Any]:
    """A committee of three as stage ``b``; ``changes`` replace its keys."""
    document = base()
    stage: dict[str, Any] = {
        "id": "b",
        "name": "贷审会",
        "kind": "committee",
        "assignees": {"users": ["ca", "cb", "cc"]},
        "approvals": 2,
        "quorum": 3,
        "chair": "ca",
        "chair_veto": True,
        "next": "approved",
    }
    stage.update(changes)
    document["stages"][1] = {k: v for k, v in stage.items() if v is not None}
    return document


def edit(change: Callable[[dict[str, Any]], Any]) -> dict[str, Any]:
    document = base()
    change(document)
    return document


def stage(index: int, **changes: Any) -> dict[str, Any]:
    """``base()`` with stage ``index``'s keys replaced (``None`` deletes one)."""
    document = base()
    raw = document["stages"][index]
    for key, value in changes.items():
        if value is None:
            raw.pop(key, None)
        else:
            raw[key] = value
    return document


def found(errors: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """``(path, code)`` of each error, after checking every message renders whole in both languages."""
    for error in errors:
        for language in LANGUAGES:
            text = translate(error["code"], language, **error["params"])
            assert text != error["code"], f"no message for {error['code']}"
            assert "{" not in text, f"{error['code']} in {language} lacks a value: {text}"
    return [(error["field"], error["code"]) for error in errors]


def test_the_base_document_is_valid_and_compiles():
    assert flow_errors(base()) == []
    flow = compile_flow(base())
    assert flow.start == "a"
    assert [s.id for s in flow.stages.values()] == ["a", "b"]
    assert flow.stage("a").targets == ["b"]


CASES = [
    # unknown keys, at every level
    ("top-level key", edit(lambda d: d.update(colour="red")), [("colour", "flows.unknown_key")]),
    ("stage key", stage(0, approver="li"), [("stages[0].approver", "flows.unknown_key")]),
    (
        "assignees key",
        stage(0, assignees={"role": "reviewer", "team": "x"}),
        [("stages[0].assignees.team", "flows.unknown_key")],
    ),
    ("sla key", stage(0, sla={"hours": 8, "days": 1}), [("stages[0].sla.days", "flows.unknown_key")]),
    (
        "branch key",
        stage(0, next=[{"if": "amount > 1", "to": "b"}]),
        [("stages[0].next[0].if", "flows.unknown_key")],
    ),
    (
        "rule key",
        automatic(rules=[{"when": "amount > 1", "outcome": "approve", "why": "x"}]),
        [("stages[0].rules[0].why", "flows.unknown_key")],
    ),
    # references to stages that do not exist
    (
        "next names no stage",
        stage(0, next="nowhere"),
        [("stages[0].next", "flows.stage_unknown"), ("stages[1].id", "flows.stage_unreachable")],
    ),
    (
        "branch names no stage",
        stage(0, next=[{"when": "amount > 1", "to": "nowhere"}, {"to": "b"}]),
        [("stages[0].next[0].to", "flows.stage_unknown")],
    ),
    (
        "refer_to names no stage",
        automatic(refer_to="nobody"),
        [("stages[0].refer_to", "flows.stage_unknown"), ("stages[1].id", "flows.stage_unreachable")],
    ),
    (
        "escalate_to names no stage",
        stage(1, authority="borrower", escalate_to="boss"),
        [("stages[1].escalate_to", "flows.stage_unknown")],
    ),
    ("start names no stage", edit(lambda d: d.update(start="zzz")), [("start", "flows.stage_unknown")]),
    ("start is not text", edit(lambda d: d.update(start=["a"])), [("start", "flows.stage_unknown")]),
    # the graph
    (
        "unreachable stage",
        edit(
            lambda d: d["stages"].append(
                {"id": "c", "name": "孤岛", "kind": "single", "assignees": {"role": "x"}, "next": "approved"}
            )
        ),
        [("stages[2].id", "flows.stage_unreachable")],
    ),
    ("stage without next", stage(1, next=None), [("stages[1].next", "flows.no_way_out")]),
    (
        "cycle through a branch",
        stage(1, next=[{"when": "amount > 1", "to": "a"}, {"to": "approved"}]),
        [("stages[1].next", "flows.cycle")],  # the stage whose way out closes the loop
    ),
    (
        "stage leading to itself",
        stage(1, next="b"),
        [("stages[1].next", "flows.stage_loops")],
    ),
    (
        "duplicate stage id",
        edit(
            lambda d: d["stages"].insert(
                1, {"id": "a", "name": "又一个", "kind": "single", "assignees": {"role": "x"}, "next": "b"}
            )
        ),
        [("stages[1].id", "flows.stage_duplicate")],
    ),
    (
        "stage called approved",
        stage(1, id="approved"),
        [("stages[1].id", "flows.stage_id_format"), ("stages[0].next", "flows.stage_unknown")],
    ),
    (
        "stage id with capitals",
        stage(0, id="First"),
        [("stages[0].id", "flows.stage_id_format"), ("start", "flows.stage_unknown")],
    ),
    # conditions
    (
        "default branch not last",
        stage(0, next=[{"to": "b"}, {"when": "amount > 1", "to": "approved"}]),
        [("stages[0].next[0]", "flows.default_not_last"), ("stages[0].next", "flows.no_default_branch")],
    ),
    (
        "no default branch",
        stage(0, next=[{"when": "amount > 1", "to": "b"}]),
        [("stages[0].next", "flows.no_default_branch")],
    ),
    (
        "condition is not text",
        stage(0, next=[{"when": 5, "to": "b"}, {"to": "b"}]),
        [("stages[0].next[0].when", "flows.condition_not_text")],
    ),
    (
        "undeclared variable",
        stage(0, next=[{"when": "income > 3", "to": "b"}, {"to": "b"}]),
        [("stages[0].next[0].when", "expressions.undeclared")],
    ),
    (
        "unknown signal",
        stage(0, next=[{"when": "signals.score > 600", "to": "b"}, {"to": "b"}]),
        [("stages[0].next[0].when", "flows.unknown_value")],
    ),
    (
        "misspelt application member",
        stage(0, next=[{"when": "application.amont > 3", "to": "b"}, {"to": "b"}]),
        [("stages[0].next[0].when", "flows.unknown_value")],
    ),
    (
        "unknown plugin check",
        stage(0, next=[{"when": "checks.blacklist", "to": "b"}, {"to": "b"}]),
        [("stages[0].next[0].when", "flows.unknown_value")],
    ),
    (
        "unknown action",
        stage(0, on_enter=["oa.notify"]),
        [("stages[0].on_enter[0]", "flows.action_unknown")],
    ),
    (
        "actions not a list of names",
        stage(0, on_enter="oa.notify"),
        [("stages[0].on_enter", "flows.actions_shape")],
    ),
    # committees
    (
        "approvals above quorum",
        committee(approvals=3, quorum=2),
        [("stages[1].approvals", "flows.approvals_over_quorum")],
    ),
    ("approvals above members", committee(approvals=4), [("stages[1].approvals", "flows.count_invalid")]),
    ("approvals missing", committee(approvals=None), [("stages[1].approvals", "flows.count_invalid")]),
    ("chair not a member", committee(chair="outsider"), [("stages[1].chair", "flows.chair_not_member")]),
    ("veto without chair", committee(chair=None), [("stages[1].chair_veto", "flows.veto_needs_chair")]),
    ("veto not a flag", committee(chair_veto="yes"), [("stages[1].chair_veto", "flows.flag_not_boolean")]),
    (
        "veto as a number",
        committee(chair_veto=1),
        [("stages[1].chair_veto", "flows.flag_not_boolean")],
    ),
    ("quorum a boolean", committee(quorum=True), [("stages[1].quorum", "flows.count_invalid")]),
    (
        "committee picks one",
        committee(assignees={"users": ["ca", "cb", "cc"], "pick": "round_robin"}),
        [("stages[1].assignees.pick", "flows.pick_single_only")],
    ),
    ("quorum on a single stage", stage(1, quorum=2), [("stages[1].quorum", "flows.key_not_for_kind")]),
    # automatic stages
    (
        "reject rule without reason codes",
        automatic(rules=[{"when": "amount > 1", "outcome": "reject"}]),
        [("stages[0].rules[0].reason_codes", "flows.reject_needs_codes")],
    ),
    (
        "reject otherwise without reason codes",
        automatic(otherwise="reject"),
        [("stages[0].reason_codes", "flows.reject_needs_codes")],
    ),
    (
        "automatic stage without refer_to",
        automatic(otherwise="reject", reason_codes=["auto.no_rule"], refer_to=None),
        [("stages[0].refer_to", "flows.refer_needs_target"), ("stages[1].id", "flows.stage_unreachable")],
    ),
    ("unknown outcome", automatic(otherwise="maybe"), [("stages[0].otherwise", "flows.outcome_unknown")]),
    ("rules not a list", automatic(rules="approve all"), [("stages[0].rules", "flows.rules_shape")]),
    ("rule not a mapping", automatic(rules=["approve"]), [("stages[0].rules[0]", "flows.rule_shape")]),
    (
        "reason codes not a list",
        automatic(rules=[{"when": "amount > 1", "outcome": "approve", "reason_codes": "ok"}]),
        [("stages[0].rules[0].reason_codes", "flows.reason_codes_invalid")],
    ),
    (
        "reason code with spaces",
        automatic(rules=[{"when": "amount > 1", "outcome": "approve", "reason_codes": ["ok", "Not OK"]}]),
        [("stages[0].rules[0].reason_codes[1]", "flows.reason_code_format")],
    ),
    (
        "automatic stage with assignees",
        automatic(assignees={"role": "x"}),
        [("stages[0].assignees", "flows.key_not_for_kind")],
    ),
    ("single stage with rules", stage(0, rules=[]), [("stages[0].rules", "flows.key_not_for_kind")]),
    # wrong types everywhere
    ("document a list", [], [("", "flows.document_not_object")]),
    ("key a number", edit(lambda d: d.update(key=5)), [("key", "flows.key_format")]),
    ("key with capitals", edit(lambda d: d.update(key="Consumer")), [("key", "flows.key_format")]),
    ("name empty", edit(lambda d: d.update(name="  ")), [("name", "flows.text_invalid")]),
    (
        "description a list",
        edit(lambda d: d.update(description=["x"])),
        [("description", "flows.text_invalid")],
    ),
    ("signals text", edit(lambda d: d.update(signals="risk_grade")), [("signals", "flows.signals_shape")]),
    ("signal name", edit(lambda d: d.update(signals=["Risk Grade"])), [("signals[0]", "flows.signal_name")]),
    ("stages a mapping", edit(lambda d: d.update(stages={"a": {}})), [("stages", "flows.stages_shape")]),
    ("stages empty", edit(lambda d: d.update(stages=[])), [("stages", "flows.stages_shape")]),
    ("stage not a mapping", edit(lambda d: d["stages"].append("c")), [("stages[2]", "flows.stage_shape")]),
    # a stage refused whole is left out, so what leads to it is reported too
    (
        "stage name a number",
        stage(1, name=7),
        [("stages[1].name", "flows.text_invalid"), ("stages[0].next", "flows.stage_unknown")],
    ),
    (
        "unknown kind",
        stage(1, kind="boss"),
        [("stages[1].kind", "flows.kind_unknown"), ("stages[0].next", "flows.stage_unknown")],
    ),
    ("assignees text", stage(1, assignees="approver"), [("stages[1].assignees", "flows.assignees_shape")]),
    ("assignees empty", stage(1, assignees={}), [("stages[1].assignees", "flows.assignees_one_of")]),
    (
        "assignees two ways",
        stage(1, assignees={"role": "a", "branch_manager": True}),
        [("stages[1].assignees", "flows.assignees_one_of")],
    ),
    ("role a number", stage(1, assignees={"role": 5}), [("stages[1].assignees.role", "flows.role_name")]),
    ("users text", stage(1, assignees={"users": "li"}), [("stages[1].assignees.users", "flows.users_list")]),
    ("users empty", stage(1, assignees={"users": []}), [("stages[1].assignees.users", "flows.users_list")]),
    (
        "user a number",
        stage(1, assignees={"users": [1]}),
        [("stages[1].assignees.users[0]", "flows.username_format")],
    ),
    (
        "user twice",
        stage(1, assignees={"users": ["li", "li"]}),
        [("stages[1].assignees.users", "flows.users_duplicate")],
    ),
    (
        "branch manager text",
        stage(1, assignees={"branch_manager": "yes"}),
        [("stages[1].assignees.branch_manager", "flows.flag_not_boolean")],
    ),
    (
        "branch manager a number",
        stage(1, assignees={"branch_manager": 1}),
        [("stages[1].assignees.branch_manager", "flows.flag_not_boolean")],
    ),
    (
        "unknown pick",
        stage(1, assignees={"role": "a", "pick": "random"}),
        [("stages[1].assignees.pick", "flows.pick_unknown")],
    ),
    ("authority unknown", stage(1, authority="loan"), [("stages[1].authority", "flows.authority_unknown")]),
    (
        "escalation without authority",
        edit(
            lambda d: (
                d["stages"][0].update(escalate_to="c"),
                d["stages"].append(
                    {
                        "id": "c",
                        "name": "终审",
                        "kind": "single",
                        "assignees": {"branch_manager": True},
                        "next": "approved",
                    }
                ),
            )
        ),
        [("stages[0].escalate_to", "flows.escalate_needs_authority")],
    ),
    ("sla text", stage(1, sla="24h"), [("stages[1].sla", "flows.sla_shape")]),
    ("sla hours text", stage(1, sla={"hours": "a day"}), [("stages[1].sla.hours", "flows.hours_invalid")]),
    ("sla hours zero", stage(1, sla={"hours": 0}), [("stages[1].sla.hours", "flows.hours_invalid")]),
    ("sla hours a flag", stage(1, sla={"hours": True}), [("stages[1].sla.hours", "flows.hours_invalid")]),
    ("sla over a year", stage(1, sla={"hours": 8761}), [("stages[1].sla.hours", "flows.hours_invalid")]),
    (
        "reminder after the deadline",
        stage(1, sla={"hours": 4, "remind_before_hours": 4}),
        [("stages[1].sla.remind_before_hours", "flows.remind_after_due")],
    ),
    (
        "escalation nobody",
        stage(1, sla={"hours": 4, "escalate_to": {}}),
        [("stages[1].sla.escalate_to", "flows.assignees_one_of")],
    ),
    ("next a number", stage(1, next=5), [("stages[1].next", "flows.next_shape")]),
    ("next empty", stage(1, next=[]), [("stages[1].next", "flows.next_shape")]),
    ("branch text", stage(1, next=["approved"]), [("stages[1].next[0]", "flows.branch_shape")]),
    ("branch to a number", stage(1, next=[{"to": 5}]), [("stages[1].next[0]", "flows.branch_shape")]),
    ("cc text", stage(1, cc="boss"), [("stages[1].cc", "flows.cc_shape")]),
    ("cc entry", stage(1, cc=[{"role": "risk"}, "boss"]), [("stages[1].cc[1]", "flows.assignees_shape")]),
    (
        "too many stages",
        edit(
            lambda d: d.update(
                stages=[
                    {
                        "id": f"s{i}",
                        "name": "x",
                        "kind": "single",
                        "assignees": {"role": "r"},
                        "next": "approved",
                    }
                    for i in range(MAX_STAGES + 1)
                ],
                start="s0",
            )
        ),
        [("stages", "flows.stages_shape")],
    ),
]


def _params() -> list[Any]:
    """The cases, each named by its first item."""
    return [pytest.param(case[1], case[2], id=case[0]) for case in CASES]


@pytest.mark.parametrize(("document", "expected"), _params())
def test_each_check_names_the_path_and_the_code(document, expected):
    assert found(flow_errors(copy.deepcopy(document))) == expected


def test_a_refused_document_does_not_compile():
    with pytest.raises(ValueError, match="1 errors"):
        compile_flow(stage(1, next=None))


def test_a_syntax_error_says_where_in_the_condition():
    errors = flow_errors(stage(0, next=[{"when": "amount >> 3", "to": "b"}, {"to": "b"}]))
    assert [(e["field"], e["code"], e["params"]["line"], e["params"]["column"]) for e in errors] == [
        ("stages[0].next[0].when", "expressions.syntax", 1, 9)
    ]


def test_unknown_names_are_named_with_the_known_ones():
    (signal,) = flow_errors(stage(0, next=[{"when": "signals.score > 600", "to": "b"}, {"to": "b"}]))
    assert signal["params"] == {"name": "signals.score", "known": "risk_grade"}
    (member,) = flow_errors(stage(0, next=[{"when": "application.amont > 3", "to": "b"}, {"to": "b"}]))
    assert member["params"]["name"] == "application.amont"
    assert "amount" in member["params"]["known"].split(", ")
    (check,) = flow_errors(stage(0, next=[{"when": "checks.blacklist", "to": "b"}, {"to": "b"}]))
    assert check["params"] == {"name": "checks.blacklist", "known": "-"}


def test_a_name_inside_a_string_is_not_a_reference():
    document = stage(0, next=[{"when": "application.purpose == 'signals.nothing'", "to": "b"}, {"to": "b"}])
    assert flow_errors(document) == []


def test_registered_checks_and_actions_are_accepted():
    document = stage(0, next=[{"when": "checks.blacklist", "to": "b"}, {"to": "b"}], on_enter=["oa.notify"])
    assert found(flow_errors(document)) == [
        ("stages[0].on_enter[0]", "flows.action_unknown"),
        ("stages[0].next[0].when", "flows.unknown_value"),
    ]
    assert flow_errors(document, conditions=["blacklist"], actions=["oa.notify"]) == []
    flow = compile_flow(document, conditions=["blacklist"], actions=["oa.notify"])
    assert flow.stage("a").on_enter == ("oa.notify",)


def test_an_unknown_action_names_the_registered_ones():
    (error,) = flow_errors(stage(0, on_enter=["oa.notfy"]), actions=["oa.notify", "crm.tag"])
    assert error["params"] == {"action": "oa.notfy", "known": "crm.tag, oa.notify"}


def test_every_error_of_a_hostile_document_is_reported_at_once():
    document = {
        "key": "Bad Key",
        "name": "",
        "stages": [
            {"id": "a", "name": "A", "kind": "single", "assignees": {"role": "r"}, "next": "ghost"},
            {"id": "a", "name": "A2", "kind": "automatic", "rules": [], "next": "approved"},
        ],
        "extra": 1,
    }
    assert found(flow_errors(document)) == [
        ("extra", "flows.unknown_key"),
        ("key", "flows.key_format"),
        ("name", "flows.text_invalid"),
        ("stages[1].rules", "flows.rules_shape"),
        ("stages[1].refer_to", "flows.refer_needs_target"),
        ("stages[1].id", "flows.stage_duplicate"),
        ("stages[0].next", "flows.stage_unknown"),
    ]


def _example(name: str) -> dict[str, Any]:
    document, _ = load_source((EXAMPLES / name).read_text(encoding="utf-8"))
    assert flow_errors(document) == []
    return document


def test_the_consumer_example_approves_low_risk_rejects_high_and_refers_the_rest():
    flow = compile_flow(_example("consumer.yaml"))
    assert (flow.key, flow.start, flow.signals) == ("consumer", "auto", ("risk_grade",))
    auto, review = flow.stage("auto"), flow.stage("review")
    assert [(r.outcome, r.when.text, r.reason_codes) for r in auto.rules] == [
        ("approve", "signals.risk_grade == 'low' && exposure.borrower <= 50000", ("auto.low_risk",)),
        ("reject", "signals.risk_grade == 'high'", ("risk.grade_high",)),
    ]
    assert (auto.otherwise, auto.refer_to, auto.targets) == ("refer", "review", ["approved", "review"])
    assert review.assignees is not None
    assert (review.kind, review.assignees.role, review.assignees.pick) == (
        "single",
        "reviewer",
        "round_robin",
    )
    assert review.sla is not None and review.sla.escalate_to is not None
    assert (review.sla.hours, review.sla.remind_before_hours) == (Decimal(24), Decimal(4))
    assert review.sla.escalate_to.role == "branch_manager"
    assert review.targets == ["approved"]


def test_the_business_example_escalates_above_the_approvers_authority():
    flow = compile_flow(_example("business.yaml"))
    first, second, final = (flow.stage(s) for s in ("first_review", "second_review", "final_review"))
    assert first.assignees is not None and first.assignees.role == "reviewer"
    assert second.assignees is not None and second.assignees.role == "approver"
    assert (second.authority, second.escalate_to) == ("borrower", "final_review")
    assert final.assignees is not None and final.assignees.branch_manager
    assert [s.name for s in flow.stages.values()] == ["初审", "复审", "终审"]


def test_the_committee_example_is_two_of_three_with_a_chair_who_may_veto():
    flow = compile_flow(_example("committee.yaml"))
    board: Stage = flow.stage("credit_committee")
    assert board.assignees is not None
    assert board.assignees.users == ("committee_a", "committee_b", "committee_c")
    assert (board.kind, board.approvals, board.quorum, board.chair, board.chair_veto) == (
        "committee",
        2,
        3,
        "committee_a",
        True,
    )
    assert flow.stage("first_review").targets == ["credit_committee"]
