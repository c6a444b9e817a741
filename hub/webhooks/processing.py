"""The ``webhook.process`` job: hand one inbox event to the plugins, retry, dead-letter, order.

Each attempt is its own job. When a plugin raises, the handler records the error on the inbox
row and enqueues the next attempt with ``run_after`` from the configured schedule (jitter
added), all in the job's own transaction; once the schedule is exhausted the row is ``dead``
with the last error kept. Retrying this way, rather than by raising, keeps the webhook schedule
apart from the job system's generic backoff and leaves the row's history in one place. The job
system's own retries still cover what the handler cannot see: a worker killed mid-attempt
(its lease expires, the attempt is redone, its database writes were never committed).

Per-object ordering: an event carrying ``object_id`` and ``object_version`` older than the
newest one processed for that object is marked ``superseded`` and never dispatched. On
PostgreSQL the object's version row is upserted before dispatch and stays locked until commit,
so two workers on one object are serialised; on SQLite (one writer, and holding the write lock
through plugin calls would stall ingestion) it is checked before and advanced after dispatch.
"""

from __future__ import annotations

import inspect
import logging
import random
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from core.db import utcnow
from core.jobs.handlers import JobHandlers, PermanentJobError
from core.jobs.repository import ClaimedJob
from core.webhooks.models import InboxStatus, WebhookInboxEvent, WebhookRequest
from core.webhooks.repository import (
    FINAL_STATUSES,
    PROCESS_JOB,
    advance_object_version,
    enqueue_processing,
    newest_object_version,
    set_status,
)
from plugins.events import PluginFailure
from plugins.manager import PluginHost
from schemas.api.webhooks import WebhookDelivery, WebhookDeliveryEvent

__all__ = ["HOOK", "deliver_webhook", "register_inbox_handlers", "retry_delay"]

log = logging.getLogger("lendhub.webhooks.processing")

HOOK = "webhook_received"
_LIVE = (InboxStatus.RECEIVED.value, InboxStatus.PROCESSING.value)
_MAX_ERROR_CHARS = 4000


def retry_delay(delays: Sequence[float], attempt: int, *, jitter: float = 0.2) -> float | None:
    """Seconds before the retry after failed ``attempt`` (1-based), or ``None`` when exhausted.

    The scheduled delay is spread by up to ``jitter`` of itself either way, so events that failed
    together (a plugin's dependency was down) do not all come back in the same second.
    """
    if attempt < 1 or attempt > len(delays):
        return None
    base = delays[attempt - 1]
    return max(0.0, base * (1.0 + jitter * (2 * random.random() - 1)))


def delivery_of(row: WebhookInboxEvent, received_at: datetime) -> WebhookDelivery:
    """The ``webhook_received`` argument for an inbox row."""
    return WebhookDelivery(
        source=row.source,
        instance=row.instance,
        inbox_id=row.id,
        received_at=received_at,
        replay=row.replays,
        event=WebhookDeliveryEvent(
            id=row.event_id,
            type=row.event_type,
            payload=dict(row.payload or {}),
            object_id=row.object_id,
            object_version=row.object_version,
            occurred_at=row.occurred_at,
        ),
    )


async def deliver_webhook(host: PluginHost, delivery: WebhookDelivery) -> list[PluginFailure]:
    """Call every ``webhook_received`` implementation, isolating each plugin.

    The same contract as ``plugins.events.deliver_event`` (which passes ``event=``), for a hook
    whose argument is ``delivery``.
    """
    pm = host.pm
    caller = getattr(pm.hook, HOOK)
    failures: list[PluginFailure] = []
    for impl in reversed(caller.get_hookimpls()):  # pluggy calls the last registered first
        others = [plugin for plugin in pm.get_plugins() if plugin is not impl.plugin]
        try:
            for result in pm.subset_hook_caller(HOOK, remove_plugins=others)(delivery=delivery):
                if inspect.isawaitable(result):
                    await result
        except Exception as exc:
            log.exception(
                "plugin %s failed in %s for %s/%s event %s (inbox %s)",
                impl.plugin_name,
                HOOK,
                delivery.source,
                delivery.instance,
                delivery.event.id,
                delivery.inbox_id,
            )
            failures.append(
                PluginFailure(
                    plugin=impl.plugin_name,
                    hook=HOOK,
                    event_id=UUID(delivery.inbox_id),
                    error=f"{type(exc).__name__}: {exc}",
                    exception=exc,
                )
            )
    return failures


def register_inbox_handlers(
    handlers: JobHandlers, host: PluginHost, *, retry_delays: Sequence[float] | None = None
) -> None:
    """Register the ``webhook.process`` job handler.

    Args:
        handlers: the process's job registry (``hub.jobs.build_job_handlers``).
        host: the plugin host whose ``webhook_received`` implementations get the events.
        retry_delays: seconds between attempts (``Settings.webhook_retry_delays``); after the
            last one the event is dead-lettered. Read from the environment when ``None``.
    """
    if retry_delays is None:
        from hub.settings import load_settings

        retry_delays = load_settings().webhook_retry_delays
    delays = list(retry_delays)

    async def process(session: AsyncSession, payload: dict[str, Any], job: ClaimedJob) -> None:
        inbox_id = payload.get("inbox_id")
        if not isinstance(inbox_id, str):
            raise PermanentJobError(f"{PROCESS_JOB} job {job.id} has no inbox_id")
        row = await session.get(WebhookInboxEvent, inbox_id)
        if row is None:
            raise PermanentJobError(f"inbox row {inbox_id} does not exist")
        if row.status in FINAL_STATUSES:
            return  # a duplicate wake-up, or discarded meanwhile
        request = await session.get(WebhookRequest, row.request_id)
        received_at = request.received_at if request is not None else row.created_at
        await _process(session, host, delays, row, received_at)

    handlers.register(PROCESS_JOB, process)


async def _process(
    session: AsyncSession,
    host: PluginHost,
    delays: list[float],
    row: WebhookInboxEvent,
    received_at: datetime,
) -> None:
    status = row.status
    ordered = row.object_id is not None and row.object_version is not None
    early = session.get_bind().dialect.name == "postgresql"
    if ordered:
        assert row.object_id is not None and row.object_version is not None
        if early:
            newer = not await advance_object_version(
                session, row.source, row.instance, row.object_id, row.object_version, row.event_id
            )
        else:
            newest = await newest_object_version(session, row.source, row.instance, row.object_id)
            newer = newest is not None and newest > row.object_version
        if newer:
            await set_status(
                session, row.id, [status], status=InboxStatus.SUPERSEDED.value, next_attempt_at=None
            )
            log.info("inbox %s superseded: a newer version of %s was processed", row.id, row.object_id)
            return
    attempt = row.attempts + 1
    failures = await deliver_webhook(host, delivery_of(row, received_at))
    now = utcnow()
    if not failures:
        if ordered and not early:
            assert row.object_id is not None and row.object_version is not None
            await advance_object_version(
                session, row.source, row.instance, row.object_id, row.object_version, row.event_id
            )
        await set_status(
            session,
            row.id,
            [status],
            status=InboxStatus.PROCESSED.value,
            attempts=attempt,
            processed_at=now,
            next_attempt_at=None,
        )
        return
    error = "; ".join(f"{f.plugin}: {f.error}" for f in failures)[:_MAX_ERROR_CHARS]
    wait = retry_delay(delays, attempt)
    if wait is None:
        await set_status(
            session,
            row.id,
            [status],
            status=InboxStatus.DEAD.value,
            attempts=attempt,
            last_error=error,
            next_attempt_at=None,
        )
        log.warning("inbox %s dead after %d attempt(s): %s", row.id, attempt, error)
        return
    run_after = now + timedelta(seconds=wait)
    changed = await set_status(
        session,
        row.id,
        [status],
        status=InboxStatus.PROCESSING.value,
        attempts=attempt,
        last_error=error,
        next_attempt_at=run_after,
    )
    if changed:
        await enqueue_processing(session, row.id, key=f"r{row.replays}a{attempt}", run_after=run_after)
    log.info("inbox %s attempt %d failed; retry in %.1f s", row.id, attempt, wait)
