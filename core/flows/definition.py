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

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from core.expressions import Expression, ExpressionError, compile_expression

from .context import CONDITION_VARIABLES, KNOWN_MEMBERS

__all__ = [
    "APPROVED",
    "DECISION_KINDS",
    "FLOW_KEY",
    "MAX_STAGES",
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

FLOW_KEY = re.compile(r"^[a-z0-9][a-z0-9._-]{0,99}$")
STAGE_ID = re.compile(r"^[a-z][a-z0-9_]{0,49}$")
SIGNAL_NAME = re.compile(r"^[a-z][a-z0-9_]{0,49}$")
REASON_CODE = re.compile(r"^[a-z][a-z0-9_.-]{0,49}$")
ACTION_NAME = re.compile(r"^[a-z][a-z0-9_.-]{0,99}$")
USERNAME = re.compile(r"^[a-z0-9][a-z0-9._@-]{0,99}$")
#: The end every approving path leads to.
APPROVED = "approved"
#: Stage kinds where people decide (``automatic`` is LendHub's own).
DECISION_KINDS = ("single", "countersign", "any_of", "committee")
KINDS = (*DECISION_KINDS, "automatic")
PICKS = ("queue", "round_robin", "least_loaded")
OUTCOMES = ("approve", "reject", "refer")
MEASURES = ("borrower", "group")
MAX_STAGES = 50
MAX_BRANCHES = 20
MAX_MEMBERS = 50
MAX_SIGNALS = 100

_FLOW_KEYS = frozenset({"key", "name", "description", "signals", "start", "stages"})
_STAGE_KEYS = frozenset(
    {
        "id",
        "name",
        "kind",
        "assignees",
        "authority",
        "escalate_to",
        "quorum",
        "approvals",
        "chair",
        "chair_veto",
        "rules",
        "otherwise",
        "refer_to",
        "reason_codes",
        "sla",
        "cc",
        "on_enter",
        "next",
    }
)
_ASSIGNEE_KEYS = frozenset({"role", "users", "branch_manager", "pick"})
_SLA_KEYS = frozenset({"hours", "remind_before_hours", "escalate_to"})
_RULE_KEYS = frozenset({"when", "outcome", "reason_codes"})
_BRANCH_KEYS = frozenset({"when", "to"})


@dataclass(frozen=True)
class Assignees:
    """Who is asked: a role (within the application's scope), named users, or the branch's manager."""

    role: str | None = None
    users: tuple[str, ...] = ()
    branch_manager: bool = False
    pick: str = "queue"

    def describe(self) -> str:
        """Who, in a few words (dry runs and diagrams)."""
        if self.users:
            return "users: " + ", ".join(self.users)
        if self.branch_manager:
            return "branch manager"
        return f"role {self.role} ({self.pick})"


@dataclass(frozen=True)
class Sla:
    """How long a stage may take, when to remind, and whom to escalate to once it is overdue."""

    hours: Decimal
    remind_before_hours: Decimal | None = None
    escalate_to: Assignees | None = None


@dataclass(frozen=True)
class Branch:
    """One way out of a stage: taken when ``when`` holds (always, without one)."""

    to: str
    when: Expression | None = None


@dataclass(frozen=True)
class AutoRule:
    """One rule of an automatic stage: when ``when`` holds, the stage ``outcome``s with ``reason_codes``."""

    when: Expression
    outcome: str
    reason_codes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Stage:
    """One step of review; see the module docstring for the document's keys."""

    id: str
    name: str
    kind: str
    assignees: Assignees | None = None
    authority: str | None = None
    escalate_to: str | None = None
    quorum: int | None = None
    approvals: int | None = None
    chair: str | None = None
    chair_veto: bool = False
    rules: tuple[AutoRule, ...] = ()
    otherwise: str = "refer"
    refer_to: str | None = None
    reason_codes: tuple[str, ...] = ()
    sla: Sla | None = None
    cc: tuple[Assignees, ...] = ()
    on_enter: tuple[str, ...] = ()
    next: tuple[Branch, ...] = ()

    @property
    def targets(self) -> list[str]:
        """Every stage (or end) this stage can lead to."""
        out = [branch.to for branch in self.next]
        out += [t for t in (self.refer_to, self.escalate_to) if t]
        return out


@dataclass(frozen=True)
class Flow:
    """A compiled flow version: what the engine runs and the dry run walks."""

    key: str
    name: str
    description: str
    signals: tuple[str, ...]
    start: str
    stages: Mapping[str, Stage] = field(default_factory=dict)

    def stage(self, stage_id: str) -> Stage:
        """The stage ``stage_id`` (``KeyError`` for one the flow lacks)."""
        return self.stages[stage_id]


def _error(path: str, code: str, **params: Any) -> dict[str, Any]:
    return {"field": path, "code": code, "params": params}


_MEMBER = re.compile(r"(?<![\w.])([a-z_]+)\.([A-Za-z_][A-Za-z0-9_]*)")
_STRING = re.compile(r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"")


class _Checker:
    """Collects field errors of one document, with the names a condition may use."""

    def __init__(self, signals: Iterable[str], conditions: Iterable[str], actions: Iterable[str]) -> None:
        self.errors: list[dict[str, Any]] = []
        self.actions = frozenset(actions)
        self.known = {**KNOWN_MEMBERS, "signals": frozenset(signals), "checks": frozenset(conditions)}

    def add(self, path: str, code: str, **params: Any) -> None:
        self.errors.append(_error(path, code, **params))

    def unknown_keys(self, path: str, value: Mapping[str, Any], allowed: frozenset[str]) -> None:
        for key in sorted(set(value) - allowed, key=str):
            self.add(
                f"{path}.{key}" if path else str(key), "flows.unknown_key", allowed=", ".join(sorted(allowed))
            )

    def expression(self, path: str, text: Any) -> Expression | None:
        if not isinstance(text, str):
            self.add(path, "flows.condition_not_text")
            return None
        try:
            compiled = compile_expression(text, CONDITION_VARIABLES)
        except ExpressionError as error:
            self.add(path, error.code, **{k: v for k, v in error.params.items() if v is not None})
            return None
        for root, member in _MEMBER.findall(_STRING.sub("''", text)):
            names = self.known.get(root)
            if names is not None and member not in names:
                self.add(
                    path,
                    "flows.unknown_value",
                    name=f"{root}.{member}",
                    known=", ".join(sorted(names)) or "-",
                )
                return None
        return compiled

    def codes(self, path: str, value: Any) -> tuple[str, ...]:
        if value is None:
            return ()
        if not isinstance(value, list) or len(value) > 10:
            self.add(path, "flows.reason_codes_invalid")
            return ()
        bad = [i for i, code in enumerate(value) if not isinstance(code, str) or not REASON_CODE.match(code)]
        for index in bad:
            self.add(f"{path}[{index}]", "flows.reason_code_format")
        return tuple(value) if not bad else ()

    def assignees(self, path: str, value: Any) -> Assignees | None:
        if not isinstance(value, dict):
            self.add(path, "flows.assignees_shape")
            return None
        self.unknown_keys(path, value, _ASSIGNEE_KEYS)
        role, users, manager = value.get("role"), value.get("users"), value.get("branch_manager", False)
        pick = value.get("pick", "queue")
        chosen = sum(1 for given in (role is not None, users is not None, bool(manager)) if given)
        if chosen != 1:
            self.add(path, "flows.assignees_one_of")
            return None
        if role is not None and (not isinstance(role, str) or not USERNAME.match(role)):
            self.add(f"{path}.role", "flows.role_name")
            return None
        if users is not None:
            if not isinstance(users, list) or not users or len(users) > MAX_MEMBERS:
                self.add(f"{path}.users", "flows.users_list", max=MAX_MEMBERS)
                return None
            bad = [i for i, u in enumerate(users) if not isinstance(u, str) or not USERNAME.match(u)]
            for index in bad:
                self.add(f"{path}.users[{index}]", "flows.username_format")
            if len(set(users)) != len(users):
                self.add(f"{path}.users", "flows.users_duplicate")
            if bad or len(set(users)) != len(users):
                return None
        if not isinstance(manager, bool):
            self.add(f"{path}.branch_manager", "flows.flag_not_boolean")
            return None
        if pick not in PICKS:
            self.add(f"{path}.pick", "flows.pick_unknown", known=", ".join(PICKS))
            return None
        return Assignees(role=role, users=tuple(users or ()), branch_manager=bool(manager), pick=pick)

    def hours(self, path: str, value: Any) -> Decimal | None:
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            self.add(path, "flows.hours_invalid")
            return None
        try:
            hours = Decimal(str(value))
        except ArithmeticError:
            self.add(path, "flows.hours_invalid")
            return None
        if not hours.is_finite() or hours <= 0 or hours > 24 * 365:
            self.add(path, "flows.hours_invalid")
            return None
        return hours

    def sla(self, path: str, value: Any) -> Sla | None:
        if not isinstance(value, dict):
            self.add(path, "flows.sla_shape")
            return None
        self.unknown_keys(path, value, _SLA_KEYS)
        hours = self.hours(f"{path}.hours", value.get("hours"))
        remind = value.get("remind_before_hours")
        remind_hours = self.hours(f"{path}.remind_before_hours", remind) if remind is not None else None
        if hours is not None and remind_hours is not None and remind_hours >= hours:
            self.add(f"{path}.remind_before_hours", "flows.remind_after_due")
        escalate = value.get("escalate_to")
        escalation = self.assignees(f"{path}.escalate_to", escalate) if escalate is not None else None
        if hours is None:
            return None
        return Sla(hours=hours, remind_before_hours=remind_hours, escalate_to=escalation)

    def branches(self, path: str, value: Any) -> tuple[Branch, ...]:
        if isinstance(value, str):
            return (Branch(to=value),)
        if not isinstance(value, list) or not value or len(value) > MAX_BRANCHES:
            self.add(path, "flows.next_shape", max=MAX_BRANCHES)
            return ()
        out: list[Branch] = []
        for index, item in enumerate(value):
            at = f"{path}[{index}]"
            if not isinstance(item, dict) or not isinstance(item.get("to"), str):
                self.add(at, "flows.branch_shape")
                continue
            self.unknown_keys(at, item, _BRANCH_KEYS)
            last = index == len(value) - 1
            if "when" not in item:
                if not last:
                    self.add(at, "flows.default_not_last")
                out.append(Branch(to=item["to"]))
                continue
            when = self.expression(f"{at}.when", item["when"])
            if when is not None:
                out.append(Branch(to=item["to"], when=when))
        if out and out[-1].when is not None:
            self.add(path, "flows.no_default_branch")
        return tuple(out)

    def rules(self, path: str, value: Any) -> tuple[AutoRule, ...]:
        if not isinstance(value, list) or not value or len(value) > MAX_BRANCHES:
            self.add(path, "flows.rules_shape", max=MAX_BRANCHES)
            return ()
        out: list[AutoRule] = []
        for index, item in enumerate(value):
            at = f"{path}[{index}]"
            if not isinstance(item, dict):
                self.add(at, "flows.rule_shape")
                continue
            self.unknown_keys(at, item, _RULE_KEYS)
            outcome = item.get("outcome")
            if outcome not in OUTCOMES:
                self.add(f"{at}.outcome", "flows.outcome_unknown", known=", ".join(OUTCOMES))
            codes = self.codes(f"{at}.reason_codes", item.get("reason_codes"))
            if outcome == "reject" and not codes:
                self.add(f"{at}.reason_codes", "flows.reject_needs_codes")
            when = self.expression(f"{at}.when", item.get("when"))
            if when is not None and outcome in OUTCOMES:
                out.append(AutoRule(when=when, outcome=str(outcome), reason_codes=codes))
        return tuple(out)


def _text(checker: _Checker, path: str, value: Any, *, required: bool, limit: int = 200) -> str:
    if value is None and not required:
        return ""
    if not isinstance(value, str) or not value.strip() or len(value) > limit:
        checker.add(path, "flows.text_invalid", max=limit)
        return ""
    return value.strip()


def _int(checker: _Checker, path: str, value: Any, low: int, high: int) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        checker.add(path, "flows.count_invalid", min=low, max=high)
        return None
    return value


def _committee(
    checker: _Checker, at: str, raw: Mapping[str, Any], assignees: Assignees | None
) -> dict[str, Any]:
    members = len(assignees.users) if assignees and assignees.users else None
    top = members or MAX_MEMBERS
    quorum = _int(checker, f"{at}.quorum", raw.get("quorum", members or 1), 1, top)
    approvals = _int(checker, f"{at}.approvals", raw.get("approvals"), 1, top)
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


def _stage(checker: _Checker, index: int, raw: Any) -> Stage | None:
    at = f"stages[{index}]"
    if not isinstance(raw, dict):
        checker.add(at, "flows.stage_shape")
        return None
    checker.unknown_keys(at, raw, _STAGE_KEYS)
    stage_id = raw.get("id")
    if not isinstance(stage_id, str) or not STAGE_ID.match(stage_id) or stage_id == APPROVED:
        checker.add(f"{at}.id", "flows.stage_id_format")
        stage_id = None
    name = _text(checker, f"{at}.name", raw.get("name"), required=True)
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


def _graph(checker: _Checker, start: str, stages: list[tuple[int, Stage]]) -> None:
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
        return None, [_error("", "flows.document_not_object")]
    signals = document.get("signals", [])
    signal_errors: list[dict[str, Any]] = []
    if not isinstance(signals, list) or len(signals) > MAX_SIGNALS:
        signal_errors.append(_error("signals", "flows.signals_shape", max=MAX_SIGNALS))
        signals = []
    for index, name in enumerate(signals):
        if not isinstance(name, str) or not SIGNAL_NAME.match(name):
            signal_errors.append(_error(f"signals[{index}]", "flows.signal_name"))
    signals = [s for s in signals if isinstance(s, str) and SIGNAL_NAME.match(s)]
    checker = _Checker(signals, conditions, actions)
    checker.errors += signal_errors
    checker.unknown_keys("", document, _FLOW_KEYS)
    key = document.get("key")
    if not isinstance(key, str) or not FLOW_KEY.match(key):
        checker.add("key", "flows.key_format")
    name = _text(checker, "name", document.get("name"), required=True)
    description = _text(checker, "description", document.get("description"), required=False, limit=2000)
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
