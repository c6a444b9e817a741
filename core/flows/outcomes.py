"""When a stage is decided: the first decision (single, any-of), everyone (countersign), votes (committee).

Committee (贷审会): every seated member votes approve or reject; the stage is approved once
``approvals`` members approved and the quorum voted — the quorum counting only members who hold a
seat, so a recused member does not block it — and rejected when approval can no longer be reached
or the chair vetoes.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.applications.models import Application

from .definition import Stage
from .models import FlowDecision, FlowTask

__all__ = ["stage_outcome"]


async def stage_outcome(
    session: AsyncSession, application: Application, stage: Stage, round_: int, decision: str, by: str
) -> str | None:
    """``approved``/``rejected``/``returned`` once the stage is decided, ``None`` while it waits."""
    if decision == "return":
        return "returned"
    if stage.kind in ("single", "any_of"):
        return "approved" if decision == "approve" else "rejected"
    votes = (
        await session.execute(
            select(FlowDecision.decision, FlowDecision.decided_by, FlowDecision.on_behalf_of).where(
                FlowDecision.application_id == application.id,
                FlowDecision.stage == stage.id,
                FlowDecision.round == round_,
            )
        )
    ).all()
    seats = await session.scalar(
        select(FlowTask.id)
        .where(
            FlowTask.application_id == application.id,
            FlowTask.stage == stage.id,
            FlowTask.round == round_,
            FlowTask.status == "open",
        )
        .limit(1)
    )
    approvals = sum(1 for d, _, _ in votes if d == "approve")
    rejections = sum(1 for d, _, _ in votes if d == "reject")
    waiting = seats is not None
    if stage.kind == "countersign":
        if rejections:
            return "rejected"
        return None if waiting else "approved"
    # committee
    if stage.chair_veto and decision == "reject" and by == f"user:{stage.chair}":
        return "rejected"
    open_seats = await _open_count(session, application.id, stage.id, round_)
    needed = int(stage.approvals or 1)
    # Members recused when the stage was entered hold no seat: the quorum counts those who can vote.
    quorum = min(int(stage.quorum or needed), await _seat_count(session, application.id, stage.id, round_))
    if approvals >= needed and approvals + rejections >= quorum:
        return "approved"
    if approvals + open_seats < needed:
        return "rejected"
    return None


async def _seat_count(session: AsyncSession, application_id: str, stage: str, round_: int) -> int:
    rows = await session.scalars(
        select(FlowTask.id).where(
            FlowTask.application_id == application_id,
            FlowTask.stage == stage,
            FlowTask.round == round_,
            FlowTask.escalation.is_(False),
        )
    )
    return len(rows.all())


async def _open_count(session: AsyncSession, application_id: str, stage: str, round_: int) -> int:
    rows = await session.scalars(
        select(FlowTask.id).where(
            FlowTask.application_id == application_id,
            FlowTask.stage == stage,
            FlowTask.round == round_,
            FlowTask.status == "open",
        )
    )
    return len(rows.all())
