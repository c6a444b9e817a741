"""The compiled form of an approval flow: the names, limits and value types the rest of the engine uses.

``core.flows.definition`` checks a document and builds these; the engine, the dry run and the
diagram read them. Frozen dataclasses: a compiled version is shared by every request.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from core.expressions import Expression

__all__ = [
    "ACTION_NAME",
    "APPROVED",
    "ASSIGNEE_KEYS",
    "BRANCH_KEYS",
    "DECISION_KINDS",
    "FLOW_KEY",
    "FLOW_KEYS",
    "KINDS",
    "MAX_BRANCHES",
    "MAX_MEMBERS",
    "MAX_SIGNALS",
    "MAX_STAGES",
    "MEASURES",
    "OUTCOMES",
    "PICKS",
    "REASON_CODE",
    "RULE_KEYS",
    "SIGNAL_NAME",
    "SLA_KEYS",
    "STAGE_ID",
    "STAGE_KEYS",
    "USERNAME",
    "Assignees",
    "AutoRule",
    "Branch",
    "Flow",
    "Sla",
    "Stage",
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

FLOW_KEYS = frozenset({"key", "name", "description", "signals", "start", "stages"})
STAGE_KEYS = frozenset(
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
ASSIGNEE_KEYS = frozenset({"role", "users", "branch_manager", "pick"})
SLA_KEYS = frozenset({"hours", "remind_before_hours", "escalate_to"})
RULE_KEYS = frozenset({"when", "outcome", "reason_codes"})
BRANCH_KEYS = frozenset({"when", "to"})


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
