"""The Mermaid text of a flow: exact for a small flow, every end reached, conditions escaped."""

from __future__ import annotations

from pathlib import Path

from core.flows.definition import compile_flow
from core.flows.diagram import mermaid
from core.flows.source import load_source

EXAMPLES = Path(__file__).resolve().parents[3] / "docs" / "examples" / "flows"

SMALL = """
key: small
name: 小额
signals: [risk_grade]
start: auto
stages:
  - id: auto
    name: 自动审批
    kind: automatic
    rules:
      - when: "signals.risk_grade == 'high'"
        outcome: reject
        reason_codes: [risk.high]
    otherwise: refer
    refer_to: review
    next: approved
  - id: review
    name: 初审
    kind: single
    assignees: {role: reviewer, pick: round_robin}
    authority: borrower
    escalate_to: end
    sla: {hours: 24, remind_before_hours: 4, escalate_to: {role: branch_manager}}
    next:
      - when: amount > 100000
        to: board
      - to: approved
  - id: end
    name: 终审
    kind: any_of
    assignees: {branch_manager: true}
    next: approved
  - id: board
    name: 贷审会
    kind: committee
    assignees: {users: [ca, cb, cc]}
    approvals: 2
    quorum: 3
    chair: ca
    chair_veto: true
    next: approved
"""


def flow_of(text: str):
    document, _ = load_source(text)
    return compile_flow(document)


def test_a_small_flow_draws_exactly():
    assert mermaid(flow_of(SMALL)) == "\n".join(
        [
            "flowchart TD",
            "    start((start))",
            "    s_auto{{\"自动审批<br/>automatic<br/>reject if signals.risk_grade == 'high'<br/>otherwise refer\"}}",
            '    s_review["初审<br/>single<br/>role reviewer (round_robin)<br/>authority: borrower exposure'
            '<br/>SLA 24 h, remind 4 h before, overdue: escalate to role branch_manager"]',
            '    s_end["终审<br/>any of<br/>branch manager"]',
            '    s_board[["贷审会<br/>committee 2/3, chair ca (veto)<br/>users ca, cb, cc"]]',
            '    approved(["approved"])',
            '    rejected(["rejected"])',
            "    start --> s_auto",
            "    s_auto --> approved",
            '    s_auto -->|"refer"| s_review',
            '    s_auto -.->|"reject"| rejected',
            '    s_review -->|"amount #gt; 100000"| s_board',
            '    s_review -->|"otherwise"| approved',
            '    s_review -->|"above authority"| s_end',
            "    s_review -.-> rejected",
            "    s_end --> approved",
            "    s_end -.-> rejected",
            "    s_board --> approved",
            "    s_board -.-> rejected",
        ]
    )


def test_the_same_flow_draws_the_same_text():
    assert mermaid(flow_of(SMALL)) == mermaid(flow_of(SMALL))


def test_quotes_pipes_brackets_and_markup_in_a_condition_are_escaped():
    text = SMALL.replace(
        "      - when: amount > 100000",
        """      - when: 'product.code == "a|b" && application.values["x"] < 3 || product.code == "{#}"'""",
    )
    edge = next(line for line in mermaid(flow_of(text)).splitlines() if "s_board" in line and "-->" in line)
    assert edge == (
        '    s_review -->|"product.code == #quot;a#124;b#quot; #amp;#amp; '
        "application.values#91;#quot;x#quot;#93; #lt; 3 #124;#124; product.code == #quot;#123;#35;#125;#quot;"
        '"| s_board'
    )
    # nothing left that would end the label or the edge early
    label = edge.split('|"', 1)[1].rsplit('"|', 1)[0]
    assert not set(label) & set('"|[]{}<>`')


def test_a_long_condition_is_shortened_in_the_diagram():
    condition = " || ".join(f"amount == {n}" for n in range(20))
    text = SMALL.replace("      - when: amount > 100000", f"      - when: {condition}")
    edge = next(line for line in mermaid(flow_of(text)).splitlines() if "s_board" in line and "-->" in line)
    label = edge.split('|"', 1)[1].rsplit('"|', 1)[0]
    assert label.endswith("…") and len(label.replace("#124;", "|")) == 80


def test_a_flow_that_cannot_reject_has_no_rejected_end():
    text = """
key: auto-only
name: 全自动
stages:
  - id: auto
    name: 自动
    kind: automatic
    rules: [{when: "amount < 1000", outcome: approve}]
    refer_to: person
    next: approved
  - id: person
    name: 人工
    kind: single
    assignees: {role: r}
    next: approved
"""
    lines = mermaid(flow_of(text)).splitlines()
    assert '    rejected(["rejected"])' in lines  # the person may reject
    assert '    s_auto -.->|"reject"| rejected' not in lines  # the automatic stage never does


def test_the_examples_draw_every_stage_and_both_ends():
    for name in ("consumer.yaml", "business.yaml", "committee.yaml"):
        flow = flow_of((EXAMPLES / name).read_text(encoding="utf-8"))
        text = mermaid(flow)
        assert text.startswith("flowchart TD\n")
        for stage_id in flow.stages:
            assert f"    s_{stage_id}" in text
        assert '    approved(["approved"])' in text and '    rejected(["rejected"])' in text
