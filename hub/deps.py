"""Dependency aliases for endpoints: the runtime, and a session whose unit of work is the request."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from core.jobs.repository import take_enqueued

from .runtime import Runtime

__all__ = ["RuntimeDep", "SessionDep"]

log = logging.getLogger(__name__)


async def get_runtime(request: Request) -> Runtime:
    """The runtime the lifespan started."""
    runtime: Runtime = request.app.state.runtime
    return runtime


async def get_session(runtime: Annotated[Runtime, Depends(get_runtime)]) -> AsyncIterator[AsyncSession]:
    """A session committed when the endpoint returns normally and rolled back when it raises.

    Jobs the request enqueued (an SLA timer, a stage action, an event's dispatch) wake a worker
    once the commit is done, instead of waiting for the next sweep; a lost wake-up only delays
    them, so a failing notify is logged, never raised.
    """
    async with runtime.sessions() as session:
        async with session.begin():
            yield session
        enqueued = take_enqueued(session)
        if enqueued and runtime.jobs is not None:
            try:
                for job_id in enqueued:
                    await runtime.jobs.notify(job_id)
            except Exception:  # the sweeper finds the rows anyway
                log.warning("could not wake a worker for %d new job(s)", len(enqueued), exc_info=True)


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
SessionDep = Annotated[AsyncSession, Depends(get_session)]
