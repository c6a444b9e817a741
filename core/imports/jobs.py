"""The ``imports.run`` job: an uploaded file loaded one batch per job, each job enqueuing the next.

A batch, its refusals, the run's progress and the next job commit together with the job's own
completion, so a worker killed mid-import redoes at most the batch it had not committed, and the
import runs on whichever worker is free. The rows are created as the person who uploaded the file,
with the grants they hold when the batch runs: someone whose access was withdrawn mid-import stops
creating customers.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from core.access import Actor, ApiToken, User
from core.access.repository import token_actor, user_actor
from core.clock import business_date
from core.jobs.handlers import JobHandlers, PermanentJobError
from core.jobs.repository import ClaimedJob, enqueue

from . import service
from .models import ImportRun

__all__ = ["JOB_KIND", "enqueue_next", "register_import_handlers"]

JOB_KIND = "imports.run"


async def enqueue_next(session: AsyncSession, run: ImportRun) -> str:
    """The job for the run's next batch (deduplicated: one job per batch, however often asked)."""
    return await enqueue(session, JOB_KIND, {"run_id": run.id}, dedupe_key=f"import:{run.id}:{run.next_row}")


async def _requester(session: AsyncSession, run: ImportRun) -> Actor:
    user = await session.get(User, run.requested_by_id) if run.requested_by_id else None
    if user is not None and user.disabled_at is None:
        return await user_actor(session, user)
    token = await session.get(ApiToken, run.requested_by_id) if run.requested_by_id else None
    if token is not None and token.revoked_at is None:
        return await token_actor(session, token)
    raise PermanentJobError(f"import {run.id}: {run.requested_by} can no longer act")


async def run_batch(session: AsyncSession, payload: dict[str, Any], job: ClaimedJob) -> None:
    """Load the next batch of the run named in ``payload``, then enqueue the one after."""
    run = await session.get(ImportRun, str(payload.get("run_id")))
    if run is None or run.status == "done":
        return
    if run.source is None:
        raise PermanentJobError(f"import {run.id} has no stored file to read")
    actor = await _requester(session, run)
    sheet, mapping = service.load_sheet(run.source, run.filename)
    await service.process_batch(session, actor, run, sheet, mapping, today=business_date())
    if run.status != "done":
        await enqueue_next(session, run)


def register_import_handlers(handlers: JobHandlers) -> None:
    """Add the import job to this process's handlers."""
    handlers.register(JOB_KIND, run_batch)
