"""An approval flow as data: the document a credit manager writes, checked whole, and its compiled form.

The shape follows the approval designers Chinese business users know (钉钉 / 飞书 审批): a list of
stages (审批节点), each with who decides (审批人), how (单人, 会签, 或签, 贷审会, 自动) and where
the application goes next (条件分支). A flow reads like this::

    key: consumer
    name: 消费贷审批
    signals: [risk_grade]            # the named risk signals the conditions may read
    start: auto
    stages:
      - id: auto
        name: 自动审批
        kind: automatic
        rules:
          - when: "signals.risk_grade == 'low' && exposure.borrower <= 50000"
            outcome: approve
            reason_codes: [auto.low_risk]
        otherwise: refer             # no rule matched: to ``refer_to``
        refer_to: review
        next: approved
      - id: review
        name: 人工审核
        kind: single
        assignees: {role: reviewer, pick: queue}
        sla: {hours: 24, remind_before_hours: 4, escalate_to: {role: branch_manager}}
        next: approved

``next`` is where an approval leads: ``approved`` (the application is approved), another stage, or
a list of branches ``[{when: <CEL>, to: <stage>}, …, {to: <stage>}]`` taken in order, the last
without ``when`` being the default. A rejection at any stage rejects the application; a return
sends it back to the officer and review resumes at the same stage.

Checks on save (each a field error naming the path, e.g. ``stages[1].next[0].when``): the shape
and every key; stage ids unique; ``start``, ``next``, ``refer_to`` and ``escalate_to`` name
stages; every stage reachable from ``start``; every stage has a way out; every condition
compiles as CEL against the declared names (``core.flows.context``), and a dotted name such as
``signals.score`` or ``application.amont`` is one the flow knows. Line numbers are added by the
YAML loader (``core.flows.source``) from the same paths.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from .model import (
    ACTION_NAME,
    APPROVED,
    DECISION_KINDS,
    FLOW_KEY,
    FLOW_KEYS,
    KINDS,
    MAX_MEMBERS,
    MAX_SIGNALS,
    MAX_STAGES,
    MEASURES,
    OUTCOMES,
    SIGNAL_NAME,
    STAGE_ID,
    STAGE_KEYS,
    Assignees,
    AutoRule,
    Branch,
    Flow,
    Sla,
    Stage,
)
from .parts import Checker, error, int_of, text_of

__all__ = [
    "APPROVED",
    "DECISION_KINDS",
    "FLOW_KEY",
    "MAX_STAGES",
    "SIGNAL_NAME",
    "STAGE_ID",
    "Assignees",
    "AutoRule",
    "Branch",
    "Flow",
    "Sla",
    "Stage",
    "compile_flow",
    "flow_errors",
]


def _committee(
    checker: Checker, at: str, raw: Mapping[str, Any], assignees: Assignees | None
) -> dict[str, Any]:
    members = len(assignees.users) if assignees and assignees.users else None
    top = members or MAX_MEMBERS
    quorum = int_of(checker, f"{at}.quorum", raw.get("quorum", members or 1), 1, top)
    approvals = int_of(checker, f"{at}.approvals", raw.get("approvals"), 1, top)
    if quorum is not None and approvals is not None and approvals > quorum:
        checker.add(f"{at}.approvals", "flows.approvals_over_quorum", quorum=quorum)
    chair = raw.get("chair")
    if chair is not None and (assignees is None or chair not in assignees.users):
        checker.add(f"{at}.chair", "flows.chair_not_member")
    veto = raw.get("chair_veto", False)
    if not isinstance(veto, bool):
        checker.add(f"{at}.chair_veto", "flows.flag_not_boolean")
    elif veto and chair is None:
        checker.add(f"{at}.chair_veto", "flows.veto_needs_chair")
    return {"quorum": quorum, "approvals": approvals, "chair": chair, "chair_veto": veto is True}


def _stage(checker: Checker, index: int, raw: Any) -> Stage | None:
    at = f"stages[{index}]"
    if not isinstance(raw, dict):
        checker.add(at, "flows.stage_shape")
        return None
    checker.unknown_keys(at, raw, STAGE_KEYS)
    stage_id = raw.get("id")
    if not isinstance(stage_id, str) or not STAGE_ID.match(stage_id) or stage_id == APPROVED:
        checker.add(f"{at}.id", "flows.stage_id_format")
        stage_id = None
    name = text_of(checker, f"{at}.name", raw.get("name"), required=True)
    kind = raw.get("kind")
    if kind not in KINDS:
        checker.add(f"{at}.kind", "flows.kind_unknown", known=", ".join(KINDS))
        return None
    extra: dict[str, Any] = {}
    if kind == "automatic":
        for key in (
            "assignees",
            "authority",
            "escalate_to",
            "quorum",
            "approvals",
            "chair",
            "chair_veto",
            "sla",
        ):
            if key in raw:
                checker.add(f"{at}.{key}", "flows.key_not_for_kind", kind=kind)
        extra["rules"] = checker.rules(f"{at}.rules", raw.get("rules"))
        otherwise = raw.get("otherwise", "refer")
        if otherwise not in OUTCOMES:
            checker.add(f"{at}.otherwise", "flows.outcome_unknown", known=", ".join(OUTCOMES))
        extra["otherwise"] = otherwise
        extra["reason_codes"] = checker.codes(f"{at}.reason_codes", raw.get("reason_codes"))
        if otherwise == "reject" and not extra["reason_codes"]:
            checker.add(f"{at}.reason_codes", "flows.reject_needs_codes")
        # Every automatic stage names where a person takes over: a rule that cannot be judged
        # (a signal not yet reported) refers, whatever the rules say.
        if not isinstance(raw.get("refer_to"), str):
            checker.add(f"{at}.refer_to", "flows.refer_needs_target")
        if raw.get("refer_to") is not None:
            extra["refer_to"] = raw["refer_to"] if isinstance(raw["refer_to"], str) else None
    else:
        for key in ("rules", "otherwise", "refer_to", "reason_codes"):
            if key in raw:
                checker.add(f"{at}.{key}", "flows.key_not_for_kind", kind=kind)
        assignees = checker.assignees(f"{at}.assignees", raw.get("assignees"))
        extra["assignees"] = assignees
        if (
            kind in ("countersign", "any_of", "committee")
            and assignees is not None
            and assignees.pick != "queue"
        ):
            checker.add(f"{at}.assignees.pick", "flows.pick_single_only", kind=kind)
        if kind == "committee":
            extra |= _committee(checker, at, raw, assignees)
        else:
            for key in ("quorum", "approvals", "chair", "chair_veto"):
                if key in raw:
                    checker.add(f"{at}.{key}", "flows.key_not_for_kind", kind=kind)
        authority = raw.get("authority")
        if authority is not None and authority not in MEASURES:
            checker.add(f"{at}.authority", "flows.authority_unknown", known=", ".join(MEASURES))
        extra["authority"] = authority if authority in MEASURES else None
        escalate = raw.get("escalate_to")
        if escalate is not None:
            if extra["authority"] is None:
                checker.add(f"{at}.escalate_to", "flows.escalate_needs_authority")
            extra["escalate_to"] = escalate if isinstance(escalate, str) else None
        if "sla" in raw:
            extra["sla"] = checker.sla(f"{at}.sla", raw["sla"])
    cc = raw.get("cc")
    if cc is not None:
        if not isinstance(cc, list) or len(cc) > 10:
            checker.add(f"{at}.cc", "flows.cc_shape")
        else:
            found = [checker.assignees(f"{at}.cc[{i}]", item) for i, item in enumerate(cc)]
            extra["cc"] = tuple(a for a in found if a is not None)
    on_enter = raw.get("on_enter")
    if on_enter is not None:
        if not isinstance(on_enter, list) or not all(
            isinstance(a, str) and ACTION_NAME.match(a) for a in on_enter
        ):
            checker.add(f"{at}.on_enter", "flows.actions_shape")
        else:
            for position, action in enumerate(on_enter):
                if action not in checker.actions:
                    checker.add(
                        f"{at}.on_enter[{position}]",
                        "flows.action_unknown",
                        action=action,
                        known=", ".join(sorted(checker.actions)) or "-",
                    )
            extra["on_enter"] = tuple(on_enter)
    if "next" not in raw:
        checker.add(f"{at}.next", "flows.no_way_out")
        branches: tuple[Branch, ...] = ()
    else:
        branches = checker.branches(f"{at}.next", raw["next"])
    if stage_id is None or not name:
        return None
    return Stage(id=stage_id, name=name, kind=str(kind), next=branches, **extra)


def _graph(checker: Checker, start: str, stages: list[tuple[int, Stage]]) -> None:
    ids = {stage.id for _, stage in stages}

    def target(path: str, to: str | None) -> None:
        if to is not None and to != APPROVED and to not in ids:
            checker.add(path, "flows.stage_unknown", stage=str(to)[:50], known=", ".join(sorted(ids)) or "-")

    for index, stage in stages:
        at = f"stages[{index}]"
        for position, branch in enumerate(stage.next):
            target(
                f"{at}.next[{position}].to" if len(stage.next) > 1 or branch.when else f"{at}.next", branch.to
            )
        target(f"{at}.refer_to", stage.refer_to)
        target(f"{at}.escalate_to", stage.escalate_to)
        if stage.id in stage.targets:
            checker.add(f"{at}.next", "flows.stage_loops", stage=stage.id)
    if start not in ids:
        return
    edges = {stage.id: [t for t in stage.targets if t in ids] for _, stage in stages}
    seen, todo = {start}, [start]
    while todo:
        for nxt in edges[todo.pop()]:
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    for index, stage in stages:
        if stage.id not in seen:
            checker.add(f"stages[{index}].id", "flows.stage_unreachable", stage=stage.id)
    # A cycle would let an application loop between stages forever: every path must reach the end.
    # Self-edges are reported above (``flows.stage_loops``); the search names the stage closing a loop.
    state: dict[str, int] = {}

    def closing(node: str) -> str | None:
        state[node] = 1
        for nxt in edges[node]:
            if nxt == node:
                continue
            if state.get(nxt) == 1:
                return node
            if state.get(nxt) is None and (found := closing(nxt)) is not None:
                return found
        state[node] = 2
        return None

    index_of = {stage.id: index for index, stage in stages}
    for _, stage in stages:
        if stage.id in seen and stage.id not in state and (culprit := closing(stage.id)) is not None:
            checker.add(f"stages[{index_of[culprit]}].next", "flows.cycle", stage=culprit)
            break


def _parse(
    document: Any, conditions: Iterable[str], actions: Iterable[str]
) -> tuple[Flow | None, list[dict[str, Any]]]:
    if not isinstance(document, dict):
        return None, [error("", "flows.document_not_object")]
    signals = document.get("signals", [])
    signal_errors: list[dict[str, Any]] = []
    if not isinstance(signals, list) or len(signals) > MAX_SIGNALS:
        signal_errors.append(error("signals", "flows.signals_shape", max=MAX_SIGNALS))
        signals = []
    for index, name in enumerate(signals):
        if not isinstance(name, str) or not SIGNAL_NAME.match(name):
            signal_errors.append(error(f"signals[{index}]", "flows.signal_name"))
    signals = [s for s in signals if isinstance(s, str) and SIGNAL_NAME.match(s)]
    checker = Checker(signals, conditions, actions)
    checker.errors += signal_errors
    checker.unknown_keys("", document, FLOW_KEYS)
    key = document.get("key")
    if not isinstance(key, str) or not FLOW_KEY.match(key):
        checker.add("key", "flows.key_format")
    name = text_of(checker, "name", document.get("name"), required=True)
    description = text_of(checker, "description", document.get("description"), required=False, limit=2000)
    raw_stages = document.get("stages")
    if not isinstance(raw_stages, list) or not raw_stages or len(raw_stages) > MAX_STAGES:
        checker.add("stages", "flows.stages_shape", max=MAX_STAGES)
        return None, checker.errors
    stages: list[tuple[int, Stage]] = []
    first_at: dict[str, int] = {}
    for index, raw in enumerate(raw_stages):
        stage = _stage(checker, index, raw)
        if stage is None:
            continue
        if stage.id in first_at:
            checker.add(f"stages[{index}].id", "flows.stage_duplicate", stage=stage.id)
            continue
        first_at[stage.id] = index
        stages.append((index, stage))
    start = document.get("start", stages[0][1].id if stages else None)
    if not isinstance(start, str) or start not in first_at:
        checker.add("start", "flows.stage_unknown", stage=str(start)[:50], known=", ".join(first_at) or "-")
    _graph(checker, str(start), stages)
    if checker.errors:
        return None, checker.errors
    flow = Flow(
        key=str(key),
        name=name,
        description=description,
        signals=tuple(signals),
        start=str(start),
        stages={stage.id: stage for _, stage in stages},
    )
    return flow, []


def flow_errors(
    document: Any, conditions: Iterable[str] = (), actions: Iterable[str] = ()
) -> list[dict[str, Any]]:
    """Everything wrong with a flow document, as field errors (empty when it can be saved).

    Args:
        document: the parsed YAML or JSON.
        conditions: the condition names plugins registered (``checks.<name>``).
        actions: the action names plugins registered (``on_enter``).
    """
    return _parse(document, conditions, actions)[1]


def compile_flow(
    document: Mapping[str, Any], conditions: Iterable[str] = (), actions: Iterable[str] = ()
) -> Flow:
    """The compiled flow of a document :func:`flow_errors` accepted (``ValueError`` otherwise)."""
    flow, errors = _parse(document, conditions, actions)
    if flow is None:
        raise ValueError(f"flow document has {len(errors)} errors; check flow_errors first")
    return flow
