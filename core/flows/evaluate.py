"""Evaluating a flow's conditions for one application: routes, automatic rules, missing signals.

Shared by the engine and the dry run, so a dry run shows exactly what the engine would do. A
condition that names a value the application lacks (a signal not yet reported) does not hold,
and the missing name is reported — the engine never guesses a risk signal.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.applications.models import Application
from core.expressions import Expression, ExpressionError
from core.segments.models import Segment, SegmentMember

from .context import FlowFacts, facts_for
from .definition import APPROVED, Flow, Stage
from .models import SignalValue
from .rounds import current_round
from .versions import EXTENSIONS

__all__ = ["Outcome", "Verdict", "auto_outcome", "holds", "load_facts", "route", "signals_of"]

_CHECK = re.compile(r"\bchecks\.([a-z][a-z0-9_]*)")


@dataclass(frozen=True)
class Verdict:
    """Whether a condition held, and the names it lacked (then it did not hold)."""

    held: bool
    missing: tuple[str, ...] = ()
    error: str | None = None


@dataclass(frozen=True)
class Outcome:
    """Where a stage leads and why: the target, the condition taken, what was missing on the way."""

    target: str
    why: str
    reason_codes: tuple[str, ...] = ()
    missing: tuple[str, ...] = field(default_factory=tuple)


async def signals_of(session: AsyncSession, application_id: str) -> dict[str, Any]:
    """The application's reported risk signals, by name."""
    rows = await session.execute(
        select(SignalValue.name, SignalValue.value).where(SignalValue.application_id == application_id)
    )
    return {name: value for name, value in rows}


async def load_facts(session: AsyncSession, application: Application) -> FlowFacts:
    """The condition values of a real application: its terms, product, customer, exposure, signals."""
    segments = list(
        (
            await session.scalars(
                select(Segment.code)
                .join(SegmentMember, SegmentMember.segment_id == Segment.id)
                .where(SegmentMember.customer_id == application.customer_id)
                .order_by(Segment.code)
            )
        ).all()
    )
    submissions = await current_round(session, application)
    return await facts_for(
        session, application, await signals_of(session, application.id), segments, submissions
    )


def holds(expression: Expression, facts: FlowFacts, flow: Flow) -> Verdict:
    """Evaluate ``expression``; only ``true`` holds, and a missing value is named, never guessed."""
    values = dict(facts.values)
    values["signals"] = {name: facts.signals[name] for name in flow.signals if name in facts.signals}
    wanted = set(_CHECK.findall(expression.text))
    values["checks"] = EXTENSIONS.checks(wanted, facts.values) if wanted else {}
    try:
        result = expression.evaluate(values)
    except ExpressionError as error:
        if error.code == "expressions.missing":
            return Verdict(False, missing=(str(error.params.get("name") or "?"),))
        return Verdict(False, error=f"{error.code}: {error}")
    return Verdict(result is True)


def route(stage: Stage, facts: FlowFacts, flow: Flow) -> Outcome:
    """Where an approval at ``stage`` leads: the first branch whose condition holds."""
    missing: list[str] = []
    for index, branch in enumerate(stage.next):
        if branch.when is None:
            return Outcome(branch.to, "default" if len(stage.next) > 1 else "next", missing=tuple(missing))
        verdict = holds(branch.when, facts, flow)
        missing += [name for name in verdict.missing if name not in missing]
        if verdict.held:
            return Outcome(branch.to, f"next[{index}]: {branch.when.text}", missing=tuple(missing))
    return Outcome(APPROVED, "no branch held", missing=tuple(missing))  # unreachable: the last is a default


def auto_outcome(stage: Stage, facts: FlowFacts, flow: Flow) -> tuple[str, Outcome]:
    """An automatic stage's ``approve``/``reject``/``refer`` and why; a missing signal refers."""
    missing: list[str] = []
    for index, rule in enumerate(stage.rules):
        verdict = holds(rule.when, facts, flow)
        if verdict.missing:
            missing += [name for name in verdict.missing if name not in missing]
            continue
        if verdict.held:
            return rule.outcome, Outcome(
                "", f"rules[{index}]: {rule.when.text}", rule.reason_codes, tuple(missing)
            )
    if missing:
        # A rule could not be judged: a person must, whatever ``otherwise`` says.
        return "refer", Outcome(
            "", "signals missing: " + ", ".join(missing), ("flows.signals_missing",), tuple(missing)
        )
    return stage.otherwise, Outcome("", "otherwise", stage.reason_codes, ())
