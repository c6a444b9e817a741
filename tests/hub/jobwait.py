"""Synchronisation helpers for worker tests: what the worker did, and when, without sleeping."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import func, select
from waiting import wait_for

from core.jobs import Job, JobExecutor, JobStatus, enqueue, take_enqueued

__all__ = ["RecordingExecutor", "count", "job_row", "start_after_first_sweep", "wait_for"]

MARKER_KIND = "test.marker"


class RecordingExecutor(JobExecutor):
    """A ``JobExecutor`` that tells the test what happened, so it can wait for it.

    ``wakeups`` holds the outcome of every wake-up handled (``True``: it claimed and ran the job,
    ``False``: nothing was claimable); ``waiting_idle`` is set once a shutdown waits for running jobs.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.wakeups: list[bool] = []
        self.waiting_idle = asyncio.Event()

    async def run(self, job_id: str) -> bool:
        ran = await super().run(job_id)
        self.wakeups.append(ran)
        return ran

    async def wait_idle(self, within: float) -> bool:
        self.waiting_idle.set()
        return await super().wait_idle(within)


async def job_row(session_factory, job_id) -> Job:
    async with session_factory() as session:
        return await session.get(Job, job_id)


async def count(session_factory, table) -> int:
    async with session_factory() as session:
        return await session.scalar(select(func.count()).select_from(table))


async def start_after_first_sweep(queue: Any, session_factory) -> None:
    """Start ``queue`` and return once its sweeper's first (immediate) sweep is over.

    A marker job enqueued before the start and never announced can only be run by that sweep; it
    claims less than the free capacity, so the sweeper then sleeps its whole interval. A job the
    test enqueues afterwards therefore runs only if its wake-up reaches the worker.
    """
    handlers = queue.executor.handlers
    if MARKER_KIND not in handlers:

        @handlers.register(MARKER_KIND)
        async def marker(session, payload, job) -> None:
            return None

    async with session_factory() as session:
        await enqueue(session, MARKER_KIND, {})
        await session.commit()
        [marker_id] = take_enqueued(session)
    await queue.start()

    async def swept() -> bool:
        return (await job_row(session_factory, marker_id)).status == JobStatus.DONE

    await wait_for(swept, within=10, what="the first sweep")
