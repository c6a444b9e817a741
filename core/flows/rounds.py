"""Rounds: how many times an application was submitted (a return and a resubmission start a new one)."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.applications.models import Application, ApplicationTransition

__all__ = ["current_round"]


async def current_round(session: AsyncSession, application: Application) -> int:
    """How many times the application was submitted: a return and a resubmission start a new round.

    Remembered for the transaction, keyed by the last submission's time: a decision asks it a
    few times, and only a submission changes it.
    """
    key = ("flows.round", application.id, application.submitted_at)
    cached = session.info.get(key)
    if cached is None:
        cached = int(
            await session.scalar(
                select(func.count()).where(
                    ApplicationTransition.application_id == application.id,
                    ApplicationTransition.to_status == "submitted",
                )
            )
            or 0
        )
        session.info[key] = cached
    return int(cached)
