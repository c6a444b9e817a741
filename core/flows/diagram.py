"""A flow drawn as a Mermaid flowchart, for the people who configure and approve flows.

Credit managers review a flow before it is published by looking at it, not at its YAML: who
decides at each stage, where each condition leads, what happens above a reviewer's authority and
when a stage is overdue. Mermaid text renders in the web UI, in GitLab/GitHub and in most wikis.

Automatic stages are hexagons listing their rules, committees (贷审会) a double-edged box, other
stages plain boxes; ``approved`` and ``rejected`` are the two ends. A person may reject at any
decision stage, so each has a dashed edge to ``rejected``.

Node ids are ``s_`` and the stage id: a stage may be called ``end`` or ``rejected``, which
Mermaid or this diagram use themselves. The output depends on the flow alone (stages in the
document's order), so two renderings of a version compare equal.
"""

from __future__ import annotations

from decimal import Decimal

from .definition import APPROVED, Assignees, Branch, Flow, Stage

__all__ = ["mermaid"]

#: Longest condition shown on an edge or in a rule; the whole text is in the flow itself.
MAX_LABEL = 80

# Mermaid reads these inside a quoted label (or would start markup with them); "#" goes first
# because every replacement starts with it.
_ESCAPES = (
    ("#", "#35;"),
    ('"', "#quot;"),
    ("|", "#124;"),
    ("[", "#91;"),
    ("]", "#93;"),
    ("{", "#123;"),
    ("}", "#125;"),
    ("<", "#lt;"),
    (">", "#gt;"),
    ("&", "#amp;"),
    ("`", "#96;"),
)
_KIND = {"single": "single", "countersign": "countersign (all)", "any_of": "any of", "automatic": "automatic"}
_REJECTED = "rejected"


def _escape(text: str) -> str:
    text = " ".join(text.split())
    if len(text) > MAX_LABEL:
        text = text[: MAX_LABEL - 1] + "…"
    for raw, code in _ESCAPES:
        text = text.replace(raw, code)
    return text


def _node(stage_id: str) -> str:
    return stage_id if stage_id in (APPROVED, _REJECTED) else f"s_{stage_id}"


def _hours(value: Decimal) -> str:
    return format(value.normalize(), "f")


def _who(assignees: Assignees) -> str:
    if assignees.users:
        return "users " + ", ".join(assignees.users)
    if assignees.branch_manager:
        return "branch manager"
    return f"role {assignees.role}" + ("" if assignees.pick == "queue" else f" ({assignees.pick})")


def _label(stage: Stage) -> list[str]:
    if stage.kind == "committee":
        kind = f"committee {stage.approvals}/{stage.quorum}"
        if stage.chair:
            kind += f", chair {stage.chair}" + (" (veto)" if stage.chair_veto else "")
    else:
        kind = _KIND.get(stage.kind, stage.kind)
    lines = [stage.name, kind]
    if stage.assignees is not None:
        lines.append(_who(stage.assignees))
    if stage.authority:
        lines.append(f"authority: {stage.authority} exposure")
    for rule in stage.rules:
        lines.append(f"{rule.outcome} if {rule.when.text}")
    if stage.kind == "automatic":
        lines.append(f"otherwise {stage.otherwise}")
    if stage.sla is not None:
        sla = f"SLA {_hours(stage.sla.hours)} h"
        if stage.sla.remind_before_hours is not None:
            sla += f", remind {_hours(stage.sla.remind_before_hours)} h before"
        if stage.sla.escalate_to is not None:
            sla += f", overdue: escalate to {_who(stage.sla.escalate_to)}"
        lines.append(sla)
    return lines


def _shape(stage: Stage, label: str) -> str:
    if stage.kind == "automatic":
        return f'{{{{"{label}"}}}}'
    if stage.kind == "committee":
        return f'[["{label}"]]'
    return f'["{label}"]'


def _edge(source: str, target: str, label: str | None = None, *, dashed: bool = False) -> str:
    arrow = "-.->" if dashed else "-->"
    text = f'|"{_escape(label)}"|' if label else ""
    return f"    {source} {arrow}{text} {_node(target)}"


def _branch_label(branches: tuple[Branch, ...], branch: Branch) -> str | None:
    if branch.when is not None:
        return branch.when.text
    return "otherwise" if len(branches) > 1 else None


def mermaid(flow: Flow) -> str:
    """The flow as Mermaid ``flowchart TD`` text (no trailing newline)."""
    lines = ["flowchart TD", "    start((start))"]
    edges = [_edge("start", flow.start)]
    ends: set[str] = set()
    for stage in flow.stages.values():
        source = _node(stage.id)
        label = "<br/>".join(_escape(line) for line in _label(stage))
        lines.append(f"    {source}{_shape(stage, label)}")
        for branch in stage.next:
            edges.append(_edge(source, branch.to, _branch_label(stage.next, branch)))
            ends.add(branch.to)
        if stage.refer_to:
            edges.append(_edge(source, stage.refer_to, "refer"))
        if stage.escalate_to:
            edges.append(_edge(source, stage.escalate_to, "above authority"))
        rejects = stage.kind != "automatic" or stage.otherwise == "reject"
        rejects = rejects or any(rule.outcome == "reject" for rule in stage.rules)
        if rejects:
            edges.append(
                _edge(source, _REJECTED, "reject" if stage.kind == "automatic" else None, dashed=True)
            )
            ends.add(_REJECTED)
    if APPROVED in ends:
        lines.append(f'    {APPROVED}(["{APPROVED}"])')
    if _REJECTED in ends:
        lines.append(f'    {_REJECTED}(["{_REJECTED}"])')
    return "\n".join(lines + edges)
