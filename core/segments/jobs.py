"""``segments.refresh``: the background job that keeps memberships up to date.

It recomputes a batch of stale customers and schedules itself again — at once while a backlog
remains (after an import, or a rule change that made everyone stale), otherwise after
``service.IDLE_SECONDS``. The follow-up is keyed by its time slot, so however many processes start the
chain, one job per slot runs.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from core.clock import business_date
from core.jobs.handlers import JobHandlers
from core.jobs.repository import ClaimedJob

from . import service

__all__ = ["register_segment_handlers"]


async def refresh(session: AsyncSession, payload: dict[str, Any], job: ClaimedJob) -> None:
    """One batch, then the next run: now if there is more, else after the idle period."""
    done = await service.refresh(session, today=business_date())
    await service.schedule_refresh(session, delay=0 if done == service.BATCH else service.IDLE_SECONDS)


def register_segment_handlers(handlers: JobHandlers) -> None:
    """Add the refresh job to this process's handlers."""
    handlers.register(service.JOB_KIND, refresh)
