"""``segments.refresh``: the periodic job that keeps memberships up to date.

It runs every ``service.REFRESH_EVERY`` as a periodic kind (``core.jobs.periodic``), and at once
when a rule changes (``service.define`` enqueues a run). A run recomputes one batch of stale
customers in its own transaction; while a backlog remains (after an import, or a rule change that
made everyone stale) it enqueues the next run immediately rather than waiting for the next slot.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from core.clock import business_date
from core.jobs.handlers import JobHandlers

from . import service

__all__ = ["register_segment_handlers"]


async def refresh(session: AsyncSession, now: datetime) -> None:
    """One batch; another run at once if the batch was full."""
    done = await service.refresh(session, today=business_date(now))
    if done == service.BATCH:
        await service.schedule_refresh(session)


def register_segment_handlers(handlers: JobHandlers) -> None:
    """Add the periodic refresh to this process's handlers."""
    handlers.register_periodic(service.JOB_KIND, refresh, every=service.REFRESH_EVERY)
