"""Deciding applications over HTTP: decisions, the task inbox, delegations, risk signals.

``POST /api/applications/{id}/decisions`` needs only that the caller can read the application:
the engine checks the rest — the caller's seat at the stage, maker-checker, authority — and
answers each refusal as its own problem (403/409) naming what failed.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, status
from sqlalchemy import select

from core.access import Actor, User
from core.applications.repository import get_visible
from core.db import utcnow
from core.flows import authority as controls
from core.flows.decisions import decide
from core.flows.models import Delegation, FlowDecision, FlowTask
from core.flows.signals import record_signals
from core.flows.tasks import VIEWS, TaskQuery, claim, is_overdue, release, tasks_for
from schemas.api.flows import (
    DecisionRead,
    DecisionRequest,
    DelegationCreate,
    DelegationRead,
    SignalsWrite,
    TaskPage,
    TaskRead,
)

from ...crm import APPLICATION_GATES
from ...deps import SessionDep
from ..paging import Limit, Offset
from ..security import require

__all__ = ["router"]

router = APIRouter(prefix="/api", tags=["approvals"])


async def _names(session: SessionDep, ids: set[str]) -> dict[str, str]:
    ids.discard("")
    if not ids:
        return {}
    return dict(
        {
            uid: name
            for uid, name in await session.execute(select(User.id, User.username).where(User.id.in_(ids)))
        }
    )


@router.post("/applications/{application_id}/decisions")
async def post_decision(
    application_id: str,
    body: DecisionRequest,
    session: SessionDep,
    actor: Actor = require("applications.read"),
) -> DecisionRead:
    """Approve, reject (reason codes), return (comment), transfer (``to_user``) or withdraw, at the stage."""
    result = await decide(
        session,
        actor,
        application_id,
        body.decision,
        comment=body.comment,
        reason_codes=body.reason_codes,
        to_user=body.to_user,
        expected_version=body.version,
        gates=APPLICATION_GATES,
    )
    row = result.decision
    return DecisionRead(
        application_id=result.application.id,
        status=result.application.status,
        stage=result.application.stage,
        stage_outcome=result.stage_outcome,
        decision_id=row.id if row else None,
        dossier_hash=row.dossier_hash if row else None,
        decided_by=row.decided_by if row else None,
        on_behalf_of=row.on_behalf_of if row else None,
    )


@router.get("/applications/{application_id}/decisions")
async def list_decisions(
    application_id: str, session: SessionDep, actor: Actor = require("applications.read")
) -> list[dict[str, Any]]:
    """Every decision on the application, oldest first: the approval trail (审批记录)."""
    application = await get_visible(session, actor, application_id)
    rows = await session.scalars(
        select(FlowDecision).where(FlowDecision.application_id == application.id).order_by(FlowDecision.at)
    )
    return [
        {
            "id": row.id,
            "stage": row.stage,
            "round": row.round,
            "decision": row.decision,
            "comment": row.comment,
            "reason_codes": row.reason_codes,
            "decided_by": row.decided_by,
            "on_behalf_of": row.on_behalf_of,
            "exposure": None if row.exposure is None else str(row.exposure),
            "limit_applied": None if row.limit_applied is None else str(row.limit_applied),
            "dossier_hash": row.dossier_hash,
            "at": row.at.isoformat(),
        }
        for row in rows.all()
    ]


@router.put("/applications/{application_id}/signals")
async def put_signals(
    application_id: str,
    body: SignalsWrite,
    session: SessionDep,
    actor: Actor = require("applications.signals"),
) -> dict[str, Any]:
    """Set named risk signals of the application (others are kept); answers all of its signals."""
    return {"signals": await record_signals(session, actor, application_id, body.signals, body.source)}


async def _tasks(session: SessionDep, rows: list[FlowTask]) -> list[TaskRead]:
    names = await _names(session, {r.assignee_id or "" for r in rows} | {p for r in rows for p in r.pool})
    now = utcnow()
    return [
        TaskRead(
            id=row.id,
            application_id=row.application_id,
            flow_key=row.flow_key,
            flow_version=row.flow_version,
            stage=row.stage,
            stage_name=row.stage_name,
            round=row.round,
            assignee=names.get(row.assignee_id or ""),
            queue=sorted(names[p] for p in row.pool if p in names),
            status=row.status,
            escalation=row.escalation,
            created_at=row.created_at,
            due_at=row.due_at,
            overdue=is_overdue(row, now),
            reminded_at=row.reminded_at,
            escalated_at=row.escalated_at,
            outcome=row.outcome,
        )
        for row in rows
    ]


@router.get("/tasks")
async def list_tasks(
    session: SessionDep,
    view: Annotated[str, Query(description=f"one of {', '.join(VIEWS)}", max_length=10)] = "mine",
    task_status: Annotated[str, Query(alias="status", pattern="^(open|done|cancelled)$")] = "open",
    stage: Annotated[str | None, Query(max_length=50)] = None,
    flow: Annotated[str | None, Query(max_length=100)] = None,
    overdue: bool | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
    actor: Actor = require("applications.decide"),
) -> TaskPage:
    """My tasks (``mine``), the queues I may claim from (``queue``), my scope's (``team``); urgent first."""
    query = TaskQuery(
        view=view, status=task_status, stage=stage, flow_key=flow, overdue=overdue, limit=limit, offset=offset
    )
    rows, total = await tasks_for(session, actor, query)
    return TaskPage(items=await _tasks(session, rows), total=total, limit=limit, offset=offset)


@router.post("/tasks/{task_id}/claim")
async def claim_task(
    task_id: str, session: SessionDep, actor: Actor = require("applications.decide")
) -> TaskRead:
    """Take a queue task: it becomes mine."""
    return (await _tasks(session, [await claim(session, actor, task_id)]))[0]


@router.post("/tasks/{task_id}/release")
async def release_task(
    task_id: str, session: SessionDep, actor: Actor = require("applications.decide")
) -> TaskRead:
    """Give a claimed queue task back to its pool."""
    return (await _tasks(session, [await release(session, actor, task_id)]))[0]


async def _delegations(session: SessionDep, rows: list[Delegation]) -> list[DelegationRead]:
    names = await _names(session, {r.from_user_id for r in rows} | {r.to_user_id for r in rows})
    now = utcnow()
    return [
        DelegationRead(
            id=row.id,
            from_user=names.get(row.from_user_id, "?"),
            to_user=names.get(row.to_user_id, "?"),
            starts_at=row.starts_at,
            ends_at=row.ends_at,
            reason=row.reason,
            created_by=row.created_by,
            revoked_at=row.revoked_at,
            active=row.revoked_at is None and row.starts_at <= now < row.ends_at,
        )
        for row in rows
    ]


@router.post("/delegations", status_code=status.HTTP_201_CREATED)
async def create_delegation(
    body: DelegationCreate, session: SessionDep, actor: Actor = require("applications.decide")
) -> DelegationRead:
    """Let someone decide my tasks while I am away (or someone's, with ``flows.manage``); audited."""
    row = await controls.create_delegation(
        session,
        actor,
        to_user=body.to_user,
        from_user=body.from_user,
        starts_at=body.starts_at,
        ends_at=body.ends_at,
        reason=body.reason,
    )
    return (await _delegations(session, [row]))[0]


@router.get("/delegations")
async def list_delegations(
    session: SessionDep, actor: Actor = require("applications.decide")
) -> list[DelegationRead]:
    """Delegations I gave or received (every one, with ``flows.manage``)."""
    return await _delegations(session, await controls.delegations_for(session, actor))


@router.delete("/delegations/{delegation_id}")
async def revoke_delegation(
    delegation_id: str, session: SessionDep, actor: Actor = require("applications.decide")
) -> DelegationRead:
    """End a delegation now."""
    return (await _delegations(session, [await controls.revoke_delegation(session, actor, delegation_id)]))[0]
