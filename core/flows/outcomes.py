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
    votes = list(
        (
            await session.scalars(
                select(FlowDecision.decision).where(
                    FlowDecision.application_id == application.id,
                    FlowDecision.stage == stage.id,
                    FlowDecision.round == round_,
                )
            )
        ).all()
    )
    # Every seat of the stage in this round, read once: which are still open, which are escalations.
    tasks = (
        await session.execute(
            select(FlowTask.status, FlowTask.escalation).where(
                FlowTask.application_id == application.id,
                FlowTask.stage == stage.id,
                FlowTask.round == round_,
            )
        )
    ).all()
    approvals, rejections = votes.count("approve"), votes.count("reject")
    open_seats = sum(1 for status, _ in tasks if status == "open")
    if stage.kind == "countersign":
        if rejections:
            return "rejected"
        return None if open_seats else "approved"
    # committee
    if stage.chair_veto and decision == "reject" and by == f"user:{stage.chair}":
        return "rejected"
    needed = int(stage.approvals or 1)
    # Members recused when the stage was entered hold no seat: the quorum counts those who can vote.
    seated = sum(1 for _, escalation in tasks if not escalation)
    quorum = min(int(stage.quorum or needed), seated)
    if approvals >= needed and approvals + rejections >= quorum:
        return "approved"
    if approvals + open_seats < needed:
        return "rejected"
    return None
