"""Checking the parts of a flow document — keys, texts, counts, people, SLAs, branches, rules, conditions.

One ``Checker`` per document collects every field error (path, code, params) so the whole
document is reported at once; ``core.flows.definition`` walks the stages with it and checks the
graph.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from core.expressions import Expression, ExpressionError, compile_expression

from .context import CONDITION_VARIABLES, KNOWN_MEMBERS
from .model import (
    ASSIGNEE_KEYS,
    BRANCH_KEYS,
    MAX_BRANCHES,
    MAX_MEMBERS,
    OUTCOMES,
    PICKS,
    REASON_CODE,
    RULE_KEYS,
    SLA_KEYS,
    USERNAME,
    Assignees,
    AutoRule,
    Branch,
    Sla,
)

__all__ = ["Checker", "error", "int_of", "text_of"]


def error(path: str, code: str, **params: Any) -> dict[str, Any]:
    """One field error, in the shape every LendHub problem uses."""
    return {"field": path, "code": code, "params": params}


_MEMBER = re.compile(r"(?<![\w.])([a-z_]+)\.([A-Za-z_][A-Za-z0-9_]*)")
_STRING = re.compile(r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"")


class Checker:
    """Collects field errors of one document, with the names a condition may use."""

    def __init__(self, signals: Iterable[str], conditions: Iterable[str], actions: Iterable[str]) -> None:
        self.errors: list[dict[str, Any]] = []
        self.actions = frozenset(actions)
        self.known = {**KNOWN_MEMBERS, "signals": frozenset(signals), "checks": frozenset(conditions)}

    def add(self, path: str, code: str, **params: Any) -> None:
        """Note one error."""
        self.errors.append(error(path, code, **params))

    def unknown_keys(self, path: str, value: Mapping[str, Any], allowed: frozenset[str]) -> None:
        """A typo in a key is an error, not a silently ignored setting."""
        for key in sorted(set(value) - allowed, key=str):
            self.add(
                f"{path}.{key}" if path else str(key), "flows.unknown_key", allowed=", ".join(sorted(allowed))
            )

    def expression(self, path: str, text: Any) -> Expression | None:
        """A condition compiled, and every dotted name in it (``signals.x``) one the flow knows."""
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
        """Reason codes: at most ten, each a short lowercase code."""
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
        """Exactly one of a role, named users or the branch manager, and how one of them is picked."""
        if not isinstance(value, dict):
            self.add(path, "flows.assignees_shape")
            return None
        self.unknown_keys(path, value, ASSIGNEE_KEYS)
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
        """A positive number of hours, at most a year."""
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
        """The deadline, the reminder before it, and whom to escalate to."""
        if not isinstance(value, dict):
            self.add(path, "flows.sla_shape")
            return None
        self.unknown_keys(path, value, SLA_KEYS)
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
        """``next``: one target, or branches ending in a default."""
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
            self.unknown_keys(at, item, BRANCH_KEYS)
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
        """An automatic stage's rules; a rejecting rule needs reason codes."""
        if not isinstance(value, list) or not value or len(value) > MAX_BRANCHES:
            self.add(path, "flows.rules_shape", max=MAX_BRANCHES)
            return ()
        out: list[AutoRule] = []
        for index, item in enumerate(value):
            at = f"{path}[{index}]"
            if not isinstance(item, dict):
                self.add(at, "flows.rule_shape")
                continue
            self.unknown_keys(at, item, RULE_KEYS)
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


def text_of(checker: Checker, path: str, value: Any, *, required: bool, limit: int = 200) -> str:
    """A non-blank text of at most ``limit`` characters, stripped (empty when absent and optional)."""
    if value is None and not required:
        return ""
    if not isinstance(value, str) or not value.strip() or len(value) > limit:
        checker.add(path, "flows.text_invalid", max=limit)
        return ""
    return value.strip()


def int_of(checker: Checker, path: str, value: Any, low: int, high: int) -> int | None:
    """A whole number from ``low`` to ``high`` (a boolean is not a number)."""
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        checker.add(path, "flows.count_invalid", min=low, max=high)
        return None
    return value
