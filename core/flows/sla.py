"""Stage SLAs run by the workers: a reminder before the deadline, escalation after it.

The timers are durable jobs written in the same transaction as the task (``engine.schedule_sla``,
one job per task and kind, de-duplicated), so a worker restart, a crash or a deploy loses none:
the job waits in the table until some worker claims it — the way Camunda keeps timer jobs in its
job table. A handler acts only if the task is still open, so a decision that beat the timer makes
the job a no-op, and running one twice changes nothing (``reminded_at``/``escalated_at`` are
set once, by a conditional UPDATE).

Escalation (升级): the task is marked overdue-escalated and, when the stage names
``sla.escalate_to``, those people get a seat of their own at the stage (a queue task), so the
supervisor can decide in the assignee's place; the original seat stays open too.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core import audit
from core.applications.models import Application
from core.db import utcnow
from core.jobs.handlers import JobHandlers
from core.jobs.repository import ClaimedJob
from core.outbox import add_event

from .deciders import askable, candidates
from .engine import ACTION_JOB, ENGINE, SLA_DUE_JOB, SLA_REMIND_JOB, current_round, flow_for, usernames
from .extensions import ActionCall
from .models import FlowTask
from .versions import EXTENSIONS

__all__ = ["DUE_SOON_EVENT", "ESCALATED_EVENT", "escalate", "register_flow_jobs", "remind"]

DUE_SOON_EVENT = "application_task_due_soon"
ESCALATED_EVENT = "application_task_escalated"


async def _mark(session: AsyncSession, task_id: str, column: str) -> FlowTask | None:
    """Set ``column`` (``reminded_at``/``escalated_at``) of an open task once; the task, if this call did."""
    now = utcnow()
    done = await session.execute(
        update(FlowTask)
        .where(FlowTask.id == task_id, FlowTask.status == "open", getattr(FlowTask, column).is_(None))
        .values({column: now})
        .execution_options(synchronize_session=False)
    )
    if not getattr(done, "rowcount", 0):
        return None
    return await session.scalar(
        select(FlowTask).where(FlowTask.id == task_id).execution_options(populate_existing=True)
    )


async def _holders(session: AsyncSession, task: FlowTask) -> list[str]:
    return await usernames(session, [task.assignee_id] if task.assignee_id else list(task.pool))


async def _announce(session: AsyncSession, task: FlowTask, event: str, action: str, **more: Any) -> None:
    """The event partners subscribe to and the audit entry, with the same facts."""
    payload = {
        "application_id": task.application_id,
        "task_id": task.id,
        "stage": task.stage,
        "holders": await _holders(session, task),
        "due_at": task.due_at.isoformat() if task.due_at else None,
        **more,
    }
    await add_event(
        session, event_type=event, subject_type="application", subject_id=task.application_id, payload=payload
    )
    await audit.record(session, ENGINE, action, target_type="flow_task", target_id=task.id, after=payload)


async def remind(session: AsyncSession, task_id: str) -> bool:
    """Remind the task's holders that its deadline nears (once)."""
    task = await _mark(session, task_id, "reminded_at")
    if task is None:
        return False
    await _announce(session, task, DUE_SOON_EVENT, "flows.sla_reminder")
    return True


async def escalate(session: AsyncSession, task_id: str) -> bool:
    """Escalate an overdue task (once): mark it, and seat the stage's ``escalate_to`` people."""
    task = await _mark(session, task_id, "escalated_at")
    if task is None:
        return False
    application = await session.get(Application, task.application_id)
    assert application is not None
    seated: list[str] = []
    if application.flow_key is not None and application.stage == task.stage:
        stage = (await flow_for(session, application)).stage(task.stage)
        round_ = await current_round(session, application)
        if stage.sla is not None and stage.sla.escalate_to is not None and round_ == task.round:
            found = await candidates(session, application, stage.sla.escalate_to)
            people = await askable(session, application, found, stage=stage.id, round_=round_)
            session.add(
                FlowTask(
                    application_id=application.id,
                    flow_key=task.flow_key,
                    flow_version=task.flow_version,
                    stage=task.stage,
                    stage_name=task.stage_name,
                    round=task.round,
                    branch_id=task.branch_id,
                    assignee_id=None,
                    pool=[user.id for user in people],
                    status="open",
                    escalation=True,
                    created_at=utcnow(),
                )
            )
            seated = sorted(user.username for user in people)
    await _announce(session, task, ESCALATED_EVENT, "flows.sla_escalated", escalated_to=seated)
    return True


def register_flow_jobs(handlers: JobHandlers) -> None:
    """The worker jobs of flows: SLA reminders and escalations, and the stage actions of plugins."""

    async def due_soon(session: AsyncSession, payload: dict[str, Any], job: ClaimedJob) -> None:
        await remind(session, str(payload["task_id"]))

    async def due(session: AsyncSession, payload: dict[str, Any], job: ClaimedJob) -> None:
        await escalate(session, str(payload["task_id"]))

    async def action(session: AsyncSession, payload: dict[str, Any], job: ClaimedJob) -> None:
        application = await session.get(Application, str(payload["application_id"]))
        if application is None or application.flow_key is None or application.flow_version is None:
            return
        call = ActionCall(
            application_id=application.id,
            stage=str(payload["stage"]),
            round=int(payload["round"]),
            flow_key=application.flow_key,
            flow_version=application.flow_version,
        )
        await EXTENSIONS.run(str(payload["action"]), call)

    handlers.register(SLA_REMIND_JOB, due_soon)
    handlers.register(SLA_DUE_JOB, due)
    handlers.register(ACTION_JOB, action)
