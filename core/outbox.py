"""The transactional outbox: domain events saved with the change that caused them.

``add_event`` writes the event row *and* an ``outbox.dispatch`` job in the caller's transaction.
If the change rolls back, so do both; if it commits, the job guarantees delivery even when the
wake-up is lost. Delivery (calling plugins' event hooks) is at least once, so hook
implementations are idempotent on ``event_id``.

The host decides what delivery means by calling ``register_outbox_dispatcher`` with its
deliver function; this module only stores events and marks them dispatched.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from sqlalchemy import Index, String
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, JSONType, UTCDateTime, new_id, utcnow
from core.jobs.handlers import JobHandlers, PermanentJobError
from core.jobs.repository import DEFAULT_MAX_ATTEMPTS, ClaimedJob, enqueue

__all__ = ["DISPATCH_JOB_KIND", "OutboxDeliver", "OutboxEvent", "add_event", "register_outbox_dispatcher"]

DISPATCH_JOB_KIND = "outbox.dispatch"

OutboxDeliver = Callable[[AsyncSession, "OutboxEvent"], Awaitable[None]]


class OutboxEvent(Base):
    """One domain event awaiting (or done with) delivery to event hooks."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_subject", "subject_type", "subject_id"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    event_id: Mapped[str] = mapped_column(String(36), unique=True, nullable=False, default=new_id)
    event_type: Mapped[str] = mapped_column(String(100), nullable=False)
    subject_type: Mapped[str] = mapped_column(String(100), nullable=False)
    subject_id: Mapped[str] = mapped_column(String(100), nullable=False)
    payload: Mapped[dict[str, Any]] = mapped_column(JSONType, nullable=False, default=dict)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)
    dispatched_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


async def add_event(
    session: AsyncSession,
    *,
    event_type: str,
    subject_type: str,
    subject_id: str,
    payload: dict[str, Any],
    event_id: str | None = None,
    occurred_at: datetime | None = None,
    max_attempts: int = DEFAULT_MAX_ATTEMPTS,
) -> OutboxEvent:
    """Record a domain event and its dispatch job in the caller's transaction (not committed).

    Args:
        session: the unit of work that holds the change the event describes.
        event_type: e.g. ``application.submitted``.
        subject_type: the kind of thing that changed, e.g. ``application``.
        subject_id: its id.
        payload: JSON-serialisable event data.
        event_id: the id hook implementations deduplicate on; a new one when omitted.
        occurred_at: when it happened (timezone-aware); now when omitted.
        max_attempts: delivery attempts before the dispatch job is dead-lettered.

    Returns:
        The flushed outbox row. Its dispatch job id is among ``take_enqueued(session)``; notify
        it after committing.
    """
    now = utcnow()
    event = OutboxEvent(
        id=new_id(),
        event_id=event_id or new_id(),
        event_type=event_type,
        subject_type=subject_type,
        subject_id=subject_id,
        payload=payload,
        occurred_at=occurred_at or now,
        created_at=now,
    )
    session.add(event)
    await session.flush()
    await enqueue(
        session,
        DISPATCH_JOB_KIND,
        {"outbox_id": event.id},
        max_attempts=max_attempts,
        dedupe_key=f"outbox:{event.event_id}",
    )
    return event


def register_outbox_dispatcher(handlers: JobHandlers, deliver: OutboxDeliver) -> None:
    """Register the ``outbox.dispatch`` handler that hands each event to ``deliver``.

    ``deliver`` runs in the job's transaction; ``dispatched_at`` is set in the same one, so an
    event is marked dispatched only if delivery finished. An already dispatched event is skipped
    (a redelivered wake-up after a completed dispatch).
    """

    async def dispatch(session: AsyncSession, payload: dict[str, Any], job: ClaimedJob) -> None:
        event = await session.get(OutboxEvent, payload["outbox_id"])
        if event is None:
            raise PermanentJobError(f"outbox row {payload['outbox_id']!r} does not exist")
        if event.dispatched_at is not None:
            return
        await deliver(session, event)
        event.dispatched_at = utcnow()
        await session.flush()

    handlers.register(DISPATCH_JOB_KIND, dispatch)
