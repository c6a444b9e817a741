"""Dry run: the path an application would take through a flow, stage by stage, and why.

For the people who configure flows. Given a real application (its facts read like the engine
reads them) or values typed in, it walks the flow assuming every person approves: at each stage
it shows the kind, who would be asked, which authority limit applies and whether anyone asked is
within it (else where the flow escalates), the automatic rules' verdicts, the branch taken and
the condition that chose it — and the signals the application lacks. Nothing is written.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.access import Actor
from core.applications.models import Application
from core.applications.repository import get_visible
from core.errors import Invalid

from .context import FlowFacts, typed_facts
from .deciders import askable, authorities, candidates
from .definition import APPROVED, MAX_STAGES, Flow, Stage
from .evaluate import auto_outcome, load_facts, route
from .models import AuthorityLimit

__all__ = ["dry_run"]


async def _role_limit(session: AsyncSession, role: str, product: str) -> Decimal | None:
    rows = (
        await session.execute(
            select(AuthorityLimit.product_code, AuthorityLimit.max_exposure).where(
                AuthorityLimit.subject_kind == "role",
                AuthorityLimit.subject == role,
                AuthorityLimit.product_code.in_([product, ""]),
            )
        )
    ).all()
    return max(rows, key=lambda row: row[0] == product)[1] if rows else None


async def _people(
    session: AsyncSession, stage: Stage, facts: FlowFacts, application: Application | None
) -> tuple[list[dict[str, Any]], bool | None]:
    """Who would be asked (with their limits when the stage checks authority), and whether any is within."""
    assert stage.assignees is not None
    product = str(facts.values.get("product", {}).get("code", ""))
    measure = facts.exposure.measure(stage.authority) if stage.authority else None
    asked: list[dict[str, Any]] = []
    if application is not None:
        found = await candidates(session, application, stage.assignees)
        people = await askable(session, application, found, stage=stage.id, round_=-1)
        limits = await authorities(session, people, product) if measure is not None else {}
        for user in people:
            entry: dict[str, Any] = {"user": user.username}
            if measure is not None:
                limit = limits[user.id]
                entry |= {
                    "limit": None if limit is None else str(limit),
                    "within": limit is not None and limit >= measure,
                }
            asked.append(entry)
    elif stage.assignees.role:
        entry = {"role": stage.assignees.role}
        if measure is not None:
            limit = await _role_limit(session, stage.assignees.role, product)
            entry |= {
                "limit": None if limit is None else str(limit),
                "within": limit is not None and limit >= measure,
            }
        asked.append(entry)
    else:
        asked = [{"who": stage.assignees.describe()}]
    within = None if measure is None else any(entry.get("within") for entry in asked)
    return asked, within


async def _walk(
    session: AsyncSession, flow: Flow, facts: FlowFacts, application: Application | None
) -> dict[str, Any]:
    path: list[dict[str, Any]] = []
    missing: set[str] = set()
    stage_id, end = flow.start, None
    while end is None and len(path) <= MAX_STAGES:
        stage = flow.stage(stage_id)
        step: dict[str, Any] = {"stage": stage.id, "name": stage.name, "kind": stage.kind}
        path.append(step)
        if stage.kind == "automatic":
            outcome, why = auto_outcome(stage, facts, flow)
            missing |= set(why.missing)
            step |= {"outcome": outcome, "why": why.why, "reason_codes": list(why.reason_codes)}
            if outcome == "reject":
                end = "rejected"
                continue
            if outcome == "refer":
                step["next"] = stage_id = str(stage.refer_to)
                continue
        else:
            asked, within = await _people(session, stage, facts, application)
            step["asked"] = asked
            if stage.kind == "committee":
                step["committee"] = {
                    "approvals": stage.approvals,
                    "quorum": stage.quorum,
                    "chair": stage.chair,
                }
            if stage.authority:
                step["authority"] = {
                    "measure": stage.authority,
                    "exposure": str(facts.exposure.measure(stage.authority)),
                    "within": within,
                }
                if not within and stage.escalate_to:
                    step["why"] = "nobody asked is within their authority: escalated"
                    step["next"] = stage_id = stage.escalate_to
                    continue
            if stage.sla:
                step["sla_hours"] = str(stage.sla.hours)
        taken = route(stage, facts, flow)
        missing |= set(taken.missing)
        step["route"] = taken.why
        if taken.target == APPROVED:
            end = "approved"
        else:
            step["next"] = stage_id = taken.target
    declared_missing = sorted(name for name in flow.signals if name not in facts.signals)
    return {
        "end": end,
        "path": path,
        "exposure": facts.exposure.as_json(),
        "missing_signals": sorted(missing | {f"signals.{n}" for n in declared_missing}),
    }


async def dry_run(
    session: AsyncSession,
    actor: Actor,
    flow: Flow,
    *,
    application_id: str | None = None,
    values: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The path of a real application (one the caller can read) or of ``values`` typed in."""
    if (application_id is None) == (values is None):
        raise Invalid(
            "approvals.invalid",
            errors=[{"field": "application_id", "code": "approvals.dry_run_input", "params": {}}],
        )
    if application_id is not None:
        application = await get_visible(session, actor, application_id)
        return await _walk(session, flow, await load_facts(session, application), application)
    try:
        facts = typed_facts(values or {})
    except (ArithmeticError, ValueError, TypeError, AttributeError):
        raise Invalid(
            "approvals.invalid",
            errors=[{"field": "values", "code": "approvals.dry_run_values", "params": {}}],
        ) from None
    return await _walk(session, flow, facts, None)
