"""The ``webhook.process`` job: hand inbox events to the plugins, retry, dead-letter, order.

The first attempt of the events one group commit stored is one job, processed in one
transaction: one claim, one read and one commit for the batch instead of for each event. Each
event's outcome is still its own (a failing event does not hold back its neighbours), each
retry is a job of its own, and a batch job that failed once is split into one job per event.

When a plugin raises (or a coroutine hook outlives the dispatch timeout), the handler records
the error on the inbox row and enqueues the next attempt with ``run_after`` from the configured
schedule (jitter added), all in the job's own transaction;
once the schedule is exhausted the row is ``dead`` with the last error kept. Retrying this way,
rather than by raising, keeps the webhook schedule apart from the job system's generic backoff
and leaves the row's history in one place. The job system's own retries still cover what the
handler cannot see: a worker killed mid-job (its lease expires, the job is redone, its
database writes were never committed, and its events reach the plugins again: at least once).

Per-object ordering: an event carrying ``object_id`` and ``object_version`` older than the
newest one processed for that object is marked ``superseded`` and never dispatched; within one
job only each object's newest version is a candidate. On PostgreSQL the candidates' version rows
are upserted before dispatch, in sorted object order, and stay locked until commit, so two
workers on one object are serialised and two jobs cannot deadlock; on SQLite (one writer, and
holding the write lock through plugin calls would stall ingestion) the recorded versions are
read before dispatch, and every write of a job waits until all its events were dispatched.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import random
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.db import utcnow
from core.jobs.handlers import JobHandlers, PermanentJobError
from core.jobs.repository import ClaimedJob
from core.webhooks.models import InboxStatus, WebhookInboxEvent, WebhookRequest
from core.webhooks.repository import (
    FINAL_STATUSES,
    PROCESS_JOB,
    enqueue_processing,
)
from core.webhooks.statuses import set_status, set_statuses
from core.webhooks.versions import advance_object_versions, newest_object_versions
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


async def deliver_webhook(
    host: PluginHost, delivery: WebhookDelivery, *, plugin_timeout: float | None = None
) -> list[PluginFailure]:
    """Call every ``webhook_received`` implementation, isolating each plugin.

    The same contract as ``plugins.events.deliver_event`` (which passes ``event=``), for a hook
    whose argument is ``delivery``. A coroutine hook still running after ``plugin_timeout`` s is
    cancelled and counts as that plugin's failure, so that one hung plugin cannot hold a worker
    slot, and the events processed with it, indefinitely.
    """
    pm = host.pm
    caller = getattr(pm.hook, HOOK)
    failures: list[PluginFailure] = []
    for impl in reversed(caller.get_hookimpls()):  # pluggy calls the last registered first
        others = [plugin for plugin in pm.get_plugins() if plugin is not impl.plugin]
        try:
            for result in pm.subset_hook_caller(HOOK, remove_plugins=others)(delivery=delivery):
                if inspect.isawaitable(result):
                    async with asyncio.timeout(plugin_timeout):
                        await result
        except Exception as raised:
            exc = raised
            if isinstance(raised, TimeoutError):
                exc = TimeoutError(f"no answer within {plugin_timeout:g} s")
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


_ROWS_AND_RECEIPTS = (
    select(WebhookInboxEvent, WebhookRequest.received_at)
    .outerjoin(WebhookRequest, WebhookRequest.id == WebhookInboxEvent.request_id)
    .where(WebhookInboxEvent.id.in_(bindparam("p_ids", expanding=True)))
)
"""The inbox rows and when their requests arrived, in one query built once."""


def _inbox_ids(payload: dict[str, Any], job: ClaimedJob) -> list[str]:
    one, many = payload.get("inbox_id"), payload.get("inbox_ids")
    if isinstance(one, str):
        return [one]
    if isinstance(many, list) and many and all(isinstance(i, str) for i in many):
        return many
    raise PermanentJobError(f"{PROCESS_JOB} job {job.id} has no inbox_id or inbox_ids")


def register_inbox_handlers(
    handlers: JobHandlers,
    host: PluginHost,
    *,
    retry_delays: Sequence[float] | None = None,
    dispatch_timeout: float | None = None,
) -> None:
    """Register the ``webhook.process`` job handler.

    Args:
        handlers: the process's job registry (``hub.jobs.build_job_handlers``).
        host: the plugin host whose ``webhook_received`` implementations get the events.
        retry_delays: seconds between attempts (``Settings.webhook_retry_delays``); after the
            last one the event is dead-lettered. Read from the environment when ``None``.
        dispatch_timeout: seconds one plugin may take for one event before that counts as its
            failure (``Settings.webhook_dispatch_timeout_seconds``); from the environment when
            ``None``.
    """
    if retry_delays is None or dispatch_timeout is None:
        from hub.settings import load_settings

        settings = load_settings()
        retry_delays = settings.webhook_retry_delays if retry_delays is None else retry_delays
        dispatch_timeout = (
            settings.webhook_dispatch_timeout_seconds if dispatch_timeout is None else dispatch_timeout
        )
    delays = list(retry_delays)
    plugin_timeout = dispatch_timeout

    async def process(session: AsyncSession, payload: dict[str, Any], job: ClaimedJob) -> None:
        ids = _inbox_ids(payload, job)
        found = {
            row.id: (row, received_at)
            for row, received_at in (await session.execute(_ROWS_AND_RECEIPTS, {"p_ids": ids})).all()
        }
        if not found:
            raise PermanentJobError(f"inbox row(s) {', '.join(ids)} do not exist")
        live = [row for row, _ in found.values() if row.status not in FINAL_STATUSES]
        if len(ids) > 1 and job.attempts > 1:
            # The batch failed before (a worker died in it, or the database refused it): each
            # event now gets a job of its own, so one poison event cannot sink its batch-mates.
            for row in live:
                await enqueue_processing(session, row.id, key=f"split-{job.id}")
            log.warning("job %s failed on attempt %d; split into %d", job.id, job.attempts - 1, len(live))
            return
        batch = _Outcomes(early=session.get_bind().dialect.name == "postgresql")
        await batch.decide_order(session, live)
        for inbox_id in ids:
            if inbox_id not in found:
                log.warning("inbox row %s of job %s does not exist; skipped", inbox_id, job.id)
                continue
            row, received_at = found[inbox_id]
            if row.status in FINAL_STATUSES:
                continue  # a duplicate wake-up, or discarded meanwhile
            await _process(session, host, delays, plugin_timeout, row, received_at or row.created_at, batch)
        await batch.write(session)

    handlers.register(PROCESS_JOB, process)


class _Outcomes:
    """What processing a job's events decided, written together once every event was dispatched.

    On SQLite the writes wait for the end of the job: the first write takes the database's
    single write lock until commit, and holding it through the plugin calls of the remaining
    events would stall ingestion. On PostgreSQL (``early``) each object's version is upserted
    before any dispatch instead, holding only that object's row lock until commit, so that two
    workers on one object are serialised.
    """

    def __init__(self, *, early: bool) -> None:
        self.early = early
        self.allowed: dict[tuple[str, str, str], int | None] = {}  # None: every version superseded
        self.advances: list[tuple[WebhookInboxEvent, int]] = []
        self.statuses: list[tuple[str, str, dict[str, Any], tuple[str, datetime] | None]] = []

    async def decide_order(self, session: AsyncSession, rows: Sequence[WebhookInboxEvent]) -> None:
        """Decide, before any dispatch, which version of each ordered object the job may deliver.

        Per object only the job's newest version is a candidate (older ones in the same job are
        superseded by it), and only if no newer version was processed before. On PostgreSQL the
        candidates are upserted here, in one statement, in sorted object order: row locks are then
        always taken in the same order, so two jobs sharing objects cannot deadlock. On SQLite
        the recorded versions are read in one query per source instance and advanced after
        dispatch.
        """
        newest_in_job: dict[tuple[str, str, str], WebhookInboxEvent] = {}
        for row in rows:
            if row.object_id is None or row.object_version is None:
                continue
            key = (row.source, row.instance, row.object_id)
            best = newest_in_job.get(key)
            if best is None or (best.object_version or 0) < row.object_version:
                newest_in_job[key] = row
        if self.early:
            candidates = [
                (*key, newest_in_job[key].object_version or 0, newest_in_job[key].event_id)
                for key in sorted(newest_in_job)
            ]
            advanced = await advance_object_versions(session, candidates)
            for key, top in newest_in_job.items():
                self.allowed[key] = top.object_version if key in advanced else None
            return
        by_instance: dict[tuple[str, str], list[str]] = {}
        for source, instance, object_id in newest_in_job:
            by_instance.setdefault((source, instance), []).append(object_id)
        for (source, instance), object_ids in by_instance.items():
            recorded = await newest_object_versions(session, source, instance, sorted(object_ids))
            for object_id in object_ids:
                top_version = newest_in_job[(source, instance, object_id)].object_version
                assert top_version is not None
                before = recorded.get(object_id)
                newer_before = before is not None and before > top_version
                self.allowed[(source, instance, object_id)] = None if newer_before else top_version

    def superseded(self, row: WebhookInboxEvent) -> bool:
        """Whether the row's object has a newer version processed already, or in this job."""
        assert row.object_id is not None and row.object_version is not None
        allowed = self.allowed.get((row.source, row.instance, row.object_id))
        return allowed is None or row.object_version < allowed

    async def write(self, session: AsyncSession) -> None:
        """A few statements for the whole job, so that SQLite's write lock is held briefly."""
        await advance_object_versions(
            session, [(r.source, r.instance, r.object_id or "", v, r.event_id) for r, v in self.advances]
        )
        await set_statuses(
            session, [(i, e, values) for i, e, values, retry in self.statuses if retry is None]
        )
        for inbox_id, expected, values, retry in self.statuses:
            if retry is None:
                continue
            if await set_status(session, inbox_id, [expected], **values):  # not if discarded meanwhile
                await enqueue_processing(session, inbox_id, key=retry[0], run_after=retry[1])


async def _process(
    session: AsyncSession,
    host: PluginHost,
    delays: list[float],
    plugin_timeout: float,
    row: WebhookInboxEvent,
    received_at: datetime,
    batch: _Outcomes,
) -> None:
    status = row.status
    ordered = row.object_id is not None and row.object_version is not None
    if ordered and batch.superseded(row):
        values: dict[str, Any] = {"status": InboxStatus.SUPERSEDED.value, "next_attempt_at": None}
        batch.statuses.append((row.id, status, values, None))
        log.info("inbox %s superseded: a newer version of %s was processed", row.id, row.object_id)
        return
    attempt = row.attempts + 1
    failures = await deliver_webhook(host, delivery_of(row, received_at), plugin_timeout=plugin_timeout)
    now = utcnow()
    if not failures:
        if ordered and not batch.early:
            assert row.object_version is not None
            batch.advances.append((row, row.object_version))
        done: dict[str, Any] = {
            "status": InboxStatus.PROCESSED.value,
            "attempts": attempt,
            "processed_at": now,
        }
        batch.statuses.append((row.id, status, {**done, "next_attempt_at": None}, None))
        return
    error = "; ".join(f"{f.plugin}: {f.error}" for f in failures)[:_MAX_ERROR_CHARS]
    wait = retry_delay(delays, attempt)
    if wait is None:
        dead: dict[str, Any] = {"status": InboxStatus.DEAD.value, "attempts": attempt, "last_error": error}
        batch.statuses.append((row.id, status, {**dead, "next_attempt_at": None}, None))
        log.warning("inbox %s dead after %d attempt(s): %s", row.id, attempt, error)
        return
    run_after = now + timedelta(seconds=wait)
    failed: dict[str, Any] = {
        "status": InboxStatus.PROCESSING.value,
        "attempts": attempt,
        "last_error": error,
    }
    retry = (f"r{row.replays}a{attempt}", run_after)
    batch.statuses.append((row.id, status, {**failed, "next_attempt_at": run_after}, retry))
    log.info("inbox %s attempt %d failed; retry in %.1f s", row.id, attempt, wait)
