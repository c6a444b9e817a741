"""A person's decision on an application at its stage: approve, reject, return, transfer, withdraw.

Checks, in order, each a problem+json naming what failed: the application is in review on a
flow (409 ``approvals.not_in_review``); the caller is a person (403); maker-checker, a second
seat, a related party (``core.flows.deciders``); ``applications.decide`` reaching the
application now (a seat does not outlive the permission); the caller holds a seat of the stage, their own
or a delegator's (403 ``approvals.not_your_task``, naming who is asked); the decision's own
needs (reason codes to reject, a comment to return, a person to transfer to); the authority
limit on cumulative exposure (403 ``approvals.above_authority`` naming the limit). Then one
decision row bound to the dossier hash, an audit entry, a ``application_decision_made`` event,
and — when the stage is decided — the next step of the flow.

Committee (贷审会): every member votes approve or reject; the stage is approved once
``approvals`` members approved and ``quorum`` voted, rejected when approval can no longer be
reached or the chair vetoes. Countersign (会签): all approve, any rejection rejects. Any-of (或签)
and single: the first decision decides.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core import audit
from core.access import Actor, ActorKind, User
from core.applications.gates import GateRegistry
from core.applications.models import Application
from core.applications.repository import get_visible, reaches
from core.applications.transitions import MAX_REASON, REASON_CODE, transition
from core.db import utcnow
from core.errors import Conflict, Forbidden, Invalid
from core.outbox import add_event
from core.products.models import Product

from .context import FlowFacts
from .deciders import authority_of, check_may_decide, delegators_of, may_be_asked, may_reach
from .definition import Flow, Stage
from .dossier import dossier_hash
from .engine import cancel_open_tasks, current_round, finish, flow_for, on_approved_stage, usernames
from .evaluate import load_facts
from .models import FlowDecision, FlowTask
from .outcomes import stage_outcome

__all__ = ["DECISIONS", "DecisionResult", "decide"]

DECISIONS = ("approve", "reject", "return", "transfer", "withdraw")
DECISION_MADE = "application_decision_made"


@dataclass(frozen=True)
class DecisionResult:
    """What a decision did: the row (none for transfer and withdraw) and the stage's outcome."""

    application: Application
    decision: FlowDecision | None
    stage_outcome: str | None


def _invalid(field: str, code: str, **params: object) -> Invalid:
    return Invalid("approvals.invalid", errors=[{"field": field, "code": code, "params": params}])


def _check_input(
    decision: str, comment: str | None, reason_codes: Sequence[str], to_user: str | None
) -> None:
    if decision not in DECISIONS:
        raise _invalid("decision", "approvals.decision_unknown", known=", ".join(DECISIONS))
    if comment is not None and len(comment) > 2000:
        raise _invalid("comment", "approvals.comment_too_long", max=2000)
    if len(reason_codes) > 10 or any(
        not isinstance(c, str) or not REASON_CODE.match(c) for c in reason_codes
    ):
        raise _invalid("reason_codes", "approvals.reason_codes_invalid", max=10)
    if decision == "reject" and not reason_codes:
        raise _invalid("reason_codes", "approvals.reason_codes_required")
    if decision == "return" and not (comment or "").strip():
        raise _invalid("comment", "approvals.comment_required")
    if decision == "transfer" and not to_user:
        raise _invalid("to_user", "approvals.transfer_needs_user")


async def _seat(
    session: AsyncSession, application: Application, stage: str, round_: int, user_id: str, now: datetime
) -> tuple[FlowTask | None, str | None]:
    """The caller's open task at the stage (theirs, or a delegator's), and whom they stand in for."""
    tasks = list(
        (
            await session.scalars(
                select(FlowTask)
                .where(
                    FlowTask.application_id == application.id,
                    FlowTask.stage == stage,
                    FlowTask.round == round_,
                    FlowTask.status == "open",
                )
                .order_by(FlowTask.created_at, FlowTask.id)
                .with_for_update()
            )
        ).all()
    )

    def holder(task: FlowTask, person: str) -> bool:
        return task.assignee_id == person or (task.assignee_id is None and person in task.pool)

    for task in tasks:
        if holder(task, user_id):
            return task, None
    for delegator in await delegators_of(session, user_id, now):
        for task in tasks:
            if holder(task, delegator):
                return task, delegator
    return None, None


async def _asked(session: AsyncSession, application_id: str, stage: str, round_: int) -> list[str]:
    rows = (
        await session.execute(
            select(FlowTask.assignee_id, FlowTask.pool).where(
                FlowTask.application_id == application_id,
                FlowTask.stage == stage,
                FlowTask.round == round_,
                FlowTask.status == "open",
            )
        )
    ).all()
    ids = [a for a, _ in rows if a] + [p for a, pool in rows if not a for p in pool]
    return await usernames(session, ids)


async def _authority(
    session: AsyncSession, application: Application, stage: Stage, holder_id: str
) -> tuple[Decimal | None, Decimal | None, FlowFacts | None]:
    if stage.authority is None:
        return None, None, None
    product = await session.get(Product, application.product_id)
    holder = await session.get(User, holder_id)
    assert product is not None and holder is not None
    facts = await load_facts(session, application)
    measure = facts.exposure.measure(stage.authority)
    limit = await authority_of(session, holder, product.code)
    if limit is None or measure > limit:
        raise Forbidden(
            "approvals.above_authority",
            members={"limit": None if limit is None else str(limit), "exposure": str(measure)},
            limit="-" if limit is None else f"{limit:,.2f}",
            exposure=f"{measure:,.2f}",
            measure=stage.authority,
        )
    return measure, limit, facts


async def _transfer(
    session: AsyncSession, actor: Actor, application: Application, task: FlowTask, to_user: str, round_: int
) -> None:
    user = await session.scalar(select(User).where(User.username == to_user.strip().lower()))
    if (
        user is None
        or user.id == actor.id
        or not await may_reach(session, user, application)
        or not await may_be_asked(session, application, user, stage=task.stage, round_=round_)
    ):
        raise Forbidden("approvals.transfer_refused", to_user=to_user[:100])
    before = {"assignee_id": task.assignee_id, "pool": len(task.pool)}
    task.assignee_id, task.pool, task.claimed_at = user.id, [], utcnow()
    await session.flush()
    await audit.record(
        session,
        actor,
        "flows.task_transfer",
        target_type="flow_task",
        target_id=task.id,
        before=before,
        after={"assignee": user.username, "application_id": application.id},
    )


async def decide(
    session: AsyncSession,
    actor: Actor,
    application_id: str,
    decision: str,
    *,
    comment: str | None = None,
    reason_codes: Sequence[str] = (),
    to_user: str | None = None,
    expected_version: int | None = None,
    gates: GateRegistry,
) -> DecisionResult:
    """Take ``actor``'s ``decision`` on the application's current stage; see the module docstring."""
    _check_input(decision, comment, reason_codes, to_user)
    application = await get_visible(session, actor, application_id, for_update=True)
    if expected_version is not None and expected_version != application.version:
        raise Conflict("applications.stale", expected=expected_version, current=application.version)
    if decision == "withdraw":
        await cancel_open_tasks(session, application.id, "withdrawn")
        await transition(
            session,
            actor,
            application,
            "withdrawn",
            (comment or "").strip()[:MAX_REASON] or None,
            gates=gates,
        )
        return DecisionResult(application, None, "withdrawn")
    if application.status != "in_review" or application.flow_key is None or application.stage is None:
        raise Conflict("approvals.not_in_review", status=application.status)
    if actor.kind is not ActorKind.USER or actor.id is None:
        raise Forbidden("approvals.people_only")
    flow = await flow_for(session, application)
    stage = flow.stage(application.stage)
    round_ = await current_round(session, application)
    await check_may_decide(session, application, actor.id, stage=stage.id, round_=round_)
    # A seat does not outlive the permission: whoever decides holds applications.decide here, now.
    if not await reaches(session, actor, application.id, "applications.decide"):
        raise Forbidden("auth.forbidden", permission="applications.decide")
    now = utcnow()
    task, on_behalf = await _seat(session, application, stage.id, round_, actor.id, now)
    if task is None:
        asked = await _asked(session, application.id, stage.id, round_)
        raise Forbidden(
            "approvals.not_your_task",
            members={"stage": stage.id, "asked": asked},
            stage=stage.name,
            asked=", ".join(asked) or "-",
        )
    if on_behalf is not None:
        await check_may_decide(session, application, on_behalf, stage=stage.id, round_=round_)
    if decision == "transfer":
        if stage.kind == "committee":  # a member's vote is theirs; an absence is covered by delegation
            raise Conflict("approvals.committee_no_transfer", stage=stage.name)
        await _transfer(session, actor, application, task, str(to_user), round_)
        return DecisionResult(application, None, None)
    if stage.kind == "committee" and decision not in ("approve", "reject"):
        raise _invalid("decision", "approvals.committee_votes", stage=stage.name)
    exposure, limit, facts = None, None, None
    if decision == "approve":
        exposure, limit, facts = await _authority(session, application, stage, on_behalf or actor.id)
    return await _record(
        session,
        actor,
        application,
        (flow, stage, task, round_),
        decision,
        comment=comment,
        reason_codes=reason_codes,
        on_behalf=on_behalf,
        authority=(exposure, limit),
        facts=facts,
        gates=gates,
    )


async def _record(
    session: AsyncSession,
    actor: Actor,
    application: Application,
    seat: tuple[Flow, Stage, FlowTask, int],
    decision: str,
    *,
    comment: str | None,
    reason_codes: Sequence[str],
    on_behalf: str | None,
    authority: tuple[Decimal | None, Decimal | None],
    facts: FlowFacts | None,
    gates: GateRegistry,
) -> DecisionResult:
    flow, stage, task, round_ = seat
    exposure, limit = authority
    now = utcnow()
    behalf_name = (await usernames(session, [on_behalf]))[0] if on_behalf else None
    digest = await dossier_hash(session, application)
    row = FlowDecision(
        application_id=application.id,
        task_id=task.id,
        stage=stage.id,
        round=round_,
        decision=decision,
        comment=(comment or "").strip() or None,
        reason_codes=list(reason_codes),
        decided_by_id=actor.id,
        decided_by=actor.audit_name,
        on_behalf_of_id=on_behalf,
        on_behalf_of=f"user:{behalf_name}" if behalf_name else None,
        exposure=exposure,
        limit_applied=limit,
        dossier_hash=digest,
        at=now,
    )
    session.add(row)
    if task.assignee_id is None:  # decided straight from the queue: the seat is the decider's
        task.assignee_id, task.claimed_at = on_behalf or actor.id, now
    task.status, task.outcome, task.closed_at = "done", decision, now
    await session.flush()
    by = row.on_behalf_of or row.decided_by
    outcome = await stage_outcome(session, application, stage, round_, decision, by)
    await audit.record(
        session,
        actor,
        "applications.decision",
        target_type="application",
        target_id=application.id,
        after={
            "stage": stage.id,
            "round": round_,
            "decision": decision,
            "reason_codes": list(reason_codes),
            "on_behalf_of": row.on_behalf_of,
            "dossier_hash": digest,
            "exposure": None if exposure is None else str(exposure),
            "limit": None if limit is None else str(limit),
            "stage_outcome": outcome,
        },
    )
    await add_event(
        session,
        event_type=DECISION_MADE,
        subject_type="application",
        subject_id=application.id,
        payload={
            "application_id": application.id,
            "stage": stage.id,
            "round": round_,
            "decision": decision,
            "reason_codes": list(reason_codes),
            "decided_by": row.decided_by,
            "on_behalf_of": row.on_behalf_of,
            "dossier_hash": digest,
            "stage_outcome": outcome,
        },
    )
    if outcome == "approved":
        await on_approved_stage(session, actor, application, flow, stage, facts, gates=gates)
    elif outcome == "rejected":
        codes = list(reason_codes) or ["committee.not_approved"]
        await finish(
            session, actor, application, "rejected", gates=gates, reason=row.comment, reason_codes=codes
        )
    elif outcome == "returned":
        await finish(session, actor, application, "returned", gates=gates, reason=row.comment)
    return DecisionResult(application, row, outcome)
