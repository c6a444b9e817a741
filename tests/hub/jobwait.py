"""Polling helpers for worker tests."""

import asyncio
import time

from sqlalchemy import func, select

from core.jobs import Job


async def wait_for(predicate, within=15.0, interval=0.05):
    deadline = time.monotonic() + within
    while True:
        value = await predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {within} s")
        await asyncio.sleep(interval)


async def job_row(session_factory, job_id) -> Job:
    async with session_factory() as session:
        return await session.get(Job, job_id)


async def count(session_factory, table) -> int:
    async with session_factory() as session:
        return await session.scalar(select(func.count()).select_from(table))
