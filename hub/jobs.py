"""The job kinds the hub runs, wired to the plugin host.

Outbox dispatch first fans each domain event out to the partner subscriptions that want it (one
delivery row and job each, in the dispatch's transaction), then hands it to the plugins' event
hook named by its type. A plugin that raises is isolated (the others still get the event) and the
job is retried, so the failing plugin gets the event again later; every plugin may therefore see
an event more than once and deduplicates on ``event.id``, as the hook contract says. Fan-out is
idempotent, so that retry never sends a partner the event twice.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from core.applications.expiry import register_expiry_job
from core.flows.sla import register_flow_jobs
from core.flows.versions import install_extensions
from core.hookspecs import EVENT_HOOKS
from core.imports.jobs import register_import_handlers
from core.jobs.handlers import JobHandlers
from core.leads.sla import register_sla_handlers
from core.outbox import OutboxEvent, register_outbox_dispatcher
from core.segments.jobs import register_segment_handlers
from core.webhooks_out import fan_out
from plugins.events import deliver_event
from plugins.manager import PluginHost
from schemas.events import DomainEvent

from .settings import Settings
from .webhooks.processing import register_inbox_handlers

__all__ = ["EventDeliveryFailed", "build_job_handlers"]


class EventDeliveryFailed(Exception):
    """One or more plugins raised while handling an event; the job retries it."""


def build_job_handlers(host: PluginHost, settings: Settings) -> JobHandlers:
    """Every job kind this process can run, except outbound delivery (it needs the HTTP client)."""
    handlers = JobHandlers()
    install_extensions(host.flow_extensions)  # the conditions and actions flows check and run
    register_inbox_handlers(
        handlers,
        host,
        retry_delays=settings.webhook_retry_delays,
        dispatch_timeout=settings.webhook_dispatch_timeout_seconds,
    )

    async def deliver(session: AsyncSession, row: OutboxEvent) -> None:
        await fan_out(session, row)
        if row.event_type not in EVENT_HOOKS:
            return  # a partner-only event type: no plugin hook to call
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
    register_import_handlers(handlers)
    register_segment_handlers(handlers)
    register_sla_handlers(handlers)
    register_expiry_job(handlers)
    register_flow_jobs(handlers)
    return handlers
