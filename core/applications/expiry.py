"""Expiring applications nobody works on: drafts and returned applications past their ``expires_at``.

The clock starts when an application is opened, and restarts with each change of the draft and
each return to the applicant, for the number of days the lender's policy says (``config``). A
periodic job (``applications.expire``, hourly, ``core.jobs.periodic``) moves every application
past its date to ``expired`` through the same door as any other move (``service.transition``),
as LendHub itself: one history row and one audit entry each. An application touched between the
sweep's read and its write keeps its new clock (its version moved on; the sweep leaves it).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.access import Actor
from core.errors import Conflict
from core.jobs.handlers import JobHandlers

from .gates import GateRegistry
from .models import Application
from .states import OPEN_FOR_CHANGES, ApplicationStatus
from .transitions import transition

__all__ = ["BATCH", "EXPIRY_EVERY", "EXPIRY_JOB_KIND", "expire_due", "register_expiry_job"]

EXPIRY_JOB_KIND = "applications.expire"
EXPIRY_EVERY = timedelta(hours=1)
BATCH = 500
MAX_BATCHES_PER_RUN = 20
_REASON = "no activity before the expiry date"


async def expire_due(session: AsyncSession, now: datetime, *, limit: int = BATCH) -> list[str]:
    """Expire up to ``limit`` applications past their date (oldest date first); their ids."""
    due = (
        await session.scalars(
            select(Application)
            .where(Application.status.in_(sorted(OPEN_FOR_CHANGES)), Application.expires_at <= now)
            .order_by(Application.expires_at, Application.id)
            .limit(limit)
        )
    ).all()
    actor = Actor.system("applications.expiry")
    no_gates = GateRegistry()  # nothing may hold an application back from expiring
    expired = []
    for application in due:
        try:
            async with session.begin_nested():
                await transition(
                    session, actor, application, ApplicationStatus.EXPIRED, _REASON, gates=no_gates
                )
        except Conflict:  # changed meanwhile (its clock restarted, or it was submitted): not due now
            await session.refresh(application)
            continue
        expired.append(application.id)
    return expired


async def _sweep(session: AsyncSession, now: datetime) -> None:
    # A backlog (after a long stop) is worked off a batch at a time, up to a bound per run so one
    # job never holds its transaction for long; the next hour's run takes the rest.
    for _ in range(MAX_BATCHES_PER_RUN):
        if len(await expire_due(session, now)) < BATCH:
            return


def register_expiry_job(handlers: JobHandlers) -> None:
    """Run the expiry sweep hourly in this process's workers."""
    handlers.register_periodic(EXPIRY_JOB_KIND, _sweep, every=EXPIRY_EVERY)
