"""The job kinds the hub runs, wired to the plugin host.

Today that is outbox delivery: each domain event is handed to the plugins' event hook named by
its type. A plugin that raises is isolated (the others still get the event) and the job is
retried, so the failing plugin gets the event again later; every plugin may therefore see an
event more than once and deduplicates on ``event.id``, as the hook contract says.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from core.hookspecs import EVENT_HOOKS
from core.jobs.handlers import JobHandlers, PermanentJobError
from core.outbox import OutboxEvent, register_outbox_dispatcher
from plugins.events import deliver_event
from plugins.manager import PluginHost
from schemas.events import DomainEvent

__all__ = ["EventDeliveryFailed", "build_job_handlers"]


class EventDeliveryFailed(Exception):
    """One or more plugins raised while handling an event; the job retries it."""


def build_job_handlers(host: PluginHost) -> JobHandlers:
    """Every job kind this process can run."""
    handlers = JobHandlers()

    async def deliver(session: AsyncSession, row: OutboxEvent) -> None:
        if row.event_type not in EVENT_HOOKS:
            raise PermanentJobError(f"outbox event type {row.event_type!r} has no event hook")
        event = DomainEvent(
            id=row.event_id,
            type=row.event_type,
            occurred_at=row.occurred_at,
            subject_type=row.subject_type,
            subject_id=row.subject_id,
            payload=row.payload,
        )
        failures = await deliver_event(host, row.event_type, event)
        if failures:
            names = ", ".join(f"{f.plugin}: {f.error}" for f in failures)
            raise EventDeliveryFailed(f"{row.event_type} {row.event_id} failed in {names}")

    register_outbox_dispatcher(handlers, deliver)
    return handlers
