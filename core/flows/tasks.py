"""The task inbox (待办): my tasks, the queues I may claim from, my team's; claim and release.

``mine`` are open tasks assigned to me or to someone who delegated to me now; ``queue`` the
unclaimed tasks whose pool names me (or my delegators); ``team`` every open task of applications
in my ``applications.decide`` scope — what a branch manager watches. Overdue is computed against
the clock, so a task past its SLA shows as overdue before the worker has even escalated it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, Text, cast, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from core import audit
from core.access import Actor
from core.applications.models import Application
from core.applications.repository import visible
from core.db import utcnow
from core.errors import Conflict, Forbidden, Invalid, NotFound

from .deciders import delegators_of
from .models import FlowTask

__all__ = ["VIEWS", "TaskQuery", "claim", "is_overdue", "release", "tasks_for"]

VIEWS = ("mine", "queue", "team")


@dataclass(frozen=True)
class TaskQuery:
    """Filters of the inbox; ``status`` ``open`` by default (``done`` shows what I decided)."""

    view: str = "mine"
    status: str = "open"
    stage: str | None = None
    flow_key: str | None = None
    overdue: bool | None = None
    limit: int = 50
    offset: int = 0


def _pool_has(people: list[str]) -> Any:
    """``pool`` (a JSON list of ids) names one of ``people``: a LIKE on the JSON text, on both databases."""
    return or_(*(cast(FlowTask.pool, Text).contains(f'"{person}"') for person in people))


async def tasks_for(session: AsyncSession, actor: Actor, query: TaskQuery) -> tuple[list[FlowTask], int]:
    """The tasks of ``query.view`` for ``actor``, most urgent first, and how many there are."""
    if query.view not in VIEWS:
        raise Invalid(
            "approvals.invalid",
            errors=[
                {"field": "view", "code": "approvals.view_unknown", "params": {"known": ", ".join(VIEWS)}}
            ],
        )
    if actor.id is None or not actor.can("applications.decide"):
        raise Forbidden("auth.forbidden", permission="applications.decide")
    now = utcnow()
    people = [actor.id, *await delegators_of(session, actor.id, now)]
    statement: Select[Any] = select(FlowTask)
    if query.view == "mine":
        statement = statement.where(FlowTask.assignee_id.in_(people))
    elif query.view == "queue":
        statement = statement.where(FlowTask.assignee_id.is_(None), _pool_has(people))
    else:
        reachable = visible(actor, "applications.decide").with_only_columns(Application.id)
        statement = statement.where(FlowTask.application_id.in_(reachable.scalar_subquery()))
    statement = statement.where(FlowTask.status == query.status)
    if query.stage:
        statement = statement.where(FlowTask.stage == query.stage)
    if query.flow_key:
        statement = statement.where(FlowTask.flow_key == query.flow_key)
    if query.overdue is True:
        statement = statement.where(FlowTask.due_at.is_not(None), FlowTask.due_at < now)
    elif query.overdue is False:
        statement = statement.where(or_(FlowTask.due_at.is_(None), FlowTask.due_at >= now))
    total = int(await session.scalar(select(func.count()).select_from(statement.subquery())) or 0)
    rows = await session.scalars(
        statement.order_by(FlowTask.due_at.is_(None), FlowTask.due_at, FlowTask.created_at, FlowTask.id)
        .limit(query.limit)
        .offset(query.offset)
    )
    return list(rows.all()), total


def is_overdue(task: FlowTask, now: datetime | None = None) -> bool:
    """Open and past its due time."""
    return task.status == "open" and task.due_at is not None and task.due_at < (now or utcnow())


async def _task(session: AsyncSession, task_id: str) -> FlowTask:
    task = await session.scalar(select(FlowTask).where(FlowTask.id == task_id).with_for_update())
    if task is None:
        raise NotFound("approvals.task_not_found", id=task_id[:40])
    return task


async def claim(session: AsyncSession, actor: Actor, task_id: str) -> FlowTask:
    """Take a queue task: it becomes mine; the others of the pool no longer see it in their queue."""
    task = await _task(session, task_id)
    now = utcnow()
    people = [str(actor.id), *await delegators_of(session, str(actor.id), now)]
    if task.status != "open":
        raise Conflict("approvals.task_closed", status=task.status)
    if task.assignee_id is not None:
        if task.assignee_id == actor.id:
            return task
        raise Conflict("approvals.task_taken")
    if not any(person in task.pool for person in people):
        raise Forbidden("approvals.not_in_pool")
    task.assignee_id, task.claimed_at = actor.id, now
    await session.flush()
    await audit.record(
        session, actor, "flows.task_claim", target_type="flow_task", target_id=task.id,
        after={"application_id": task.application_id, "stage": task.stage},
    )  # fmt: skip
    return task


async def release(session: AsyncSession, actor: Actor, task_id: str) -> FlowTask:
    """Give a claimed queue task back to its pool (a task assigned by name cannot be released)."""
    task = await _task(session, task_id)
    if task.status != "open":
        raise Conflict("approvals.task_closed", status=task.status)
    if task.assignee_id != actor.id:
        raise Forbidden("approvals.not_your_task_to_release")
    if not task.pool:
        raise Conflict("approvals.task_not_releasable")
    task.assignee_id, task.claimed_at = None, None
    await session.flush()
    await audit.record(
        session, actor, "flows.task_release", target_type="flow_task", target_id=task.id,
        after={"application_id": task.application_id, "stage": task.stage},
    )  # fmt: skip
    return task
