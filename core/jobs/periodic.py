"""Periodic jobs: work that runs every so often (an expiry sweep), on the same durable job rows.

A periodic kind runs once per *slot* — the multiples of its interval since the Unix epoch — as an
ordinary job due at the slot. The job's ``dedupe_key`` names the slot, so however many processes
schedule it (every API process and worker does at start, every run schedules the next), each slot
gets exactly one job row, and a run missed while nothing was running happens once when something
starts again. Each run schedules the next slot in its own transaction before working: a run that
fails is retried as any job is, and the chain goes on from the retry that succeeds (or from the
next process start, if all its attempts fail).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncSession

from core.db import utcnow
from core.jobs.repository import ClaimedJob, SessionFactory, enqueue

if TYPE_CHECKING:
    from core.jobs.handlers import JobHandler, JobHandlers

__all__ = ["PeriodicWork", "next_slot", "periodic_handler", "schedule_next", "schedule_periodic"]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

PeriodicWork = Callable[[AsyncSession, datetime], Awaitable[None]]
"""``async def work(session, now)``: one run of a periodic kind, in the job's transaction."""


def next_slot(every: timedelta, now: datetime) -> datetime:
    """The first multiple of ``every`` since the epoch strictly after ``now``."""
    if every <= timedelta(0):
        raise ValueError("a periodic interval must be positive")
    return _EPOCH + ((now - _EPOCH) // every + 1) * every


async def schedule_next(session: AsyncSession, kind: str, every: timedelta, now: datetime) -> str:
    """The job of ``kind``'s next slot after ``now`` (one row per slot, however often asked)."""
    slot = next_slot(every, now)
    return await enqueue(
        session,
        kind,
        {"slot": slot.isoformat()},
        run_after=slot,
        dedupe_key=f"periodic:{kind}:{slot.isoformat()}",
    )


def periodic_handler(kind: str, every: timedelta, work: PeriodicWork) -> JobHandler:
    """The job handler of a periodic kind: schedule the next slot, then do the work."""

    async def handler(session: AsyncSession, payload: dict[str, Any], job: ClaimedJob) -> None:
        now = utcnow()
        await schedule_next(session, kind, every, now)
        await work(session, now)

    return handler


async def schedule_periodic(sessions: SessionFactory, handlers: JobHandlers) -> list[str]:
    """Make sure every periodic kind of ``handlers`` has its next slot's job; call at start-up."""
    ids = []
    now = utcnow()
    async with sessions() as session, session.begin():
        for kind, every in handlers.periodic.items():
            ids.append(await schedule_next(session, kind, every, now))
    return ids
