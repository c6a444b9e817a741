"""The inbox as a service: ingest a verified request, list, inspect, replay, discard, count.

HTTP and CLI layers call this; it owns no HTTP types. Ingestion commits its own unit of work
(the events must be durable before the 2xx); the admin operations work in the caller's session
and return the job ids to wake once the caller has committed.

Replay uses the stored raw request, not the stored parsed event: the request is verified and
parsed again by the source, exactly as on receipt, with ``now`` set to the original receipt time.
The signature is thus re-checked against the instance's current secrets (a retired secret no
longer verifies: rotate, then replay, then retire), while the timestamp tolerance is judged
against the time the request really arrived, so an old dead letter is not refused as a replay
attack. A fixed source (a new parser version) therefore takes effect on replayed events.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from redis.asyncio import Redis
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import defer

from core.jobs.handlers import JobQueue
from core.jobs.repository import take_enqueued
from core.pii import KeyRingError
from core.secretbox import SecretBox, SecretBoxError
from core.webhooks.models import InboxStatus, WebhookInboxEvent, WebhookRequest
from core.webhooks.repository import (
    NewInboxEvent,
    NewRequest,
    StoredDelivery,
    count_rows,
    enqueue_processing,
    inbox_query,
    refusal_counts,
)
from core.webhooks.statuses import set_status
from plugins.manager import PluginHost
from plugins.sdk import InboundRequest, Unparsable, WebhookEvent, WebhookRejected, WebhookSource

from ..state import RedisNamespace
from .dedupe import DedupeCache
from .group_commit import GroupCommit
from .intake import checked_events, mask_headers
from .refusal_log import RefusalLog
from .sources import SourceInstanceError, SourceInstances

__all__ = [
    "InboxConflict",
    "InboxNotFound",
    "IngestResult",
    "ReplayRefused",
    "WebhookService",
]

log = logging.getLogger("lendhub.webhooks")


class InboxNotFound(LookupError):
    """No inbox row with that id."""


class InboxConflict(Exception):
    """The row's status does not allow the operation (e.g. replaying an event in flight)."""


class ReplayRefused(Exception):
    """The stored request no longer verifies, or no longer carries the event; ``slug`` says why."""

    def __init__(self, message: str, slug: str = "webhook-replay-refused") -> None:
        super().__init__(message)
        self.slug = slug


@dataclass
class IngestResult:
    """What ingestion stored: new inbox ids by event id and the duplicates skipped."""

    events: Sequence[WebhookEvent]
    stored: StoredDelivery = field(default_factory=StoredDelivery)
    fast_duplicate: bool = False


class WebhookService:
    """Ingestion and administration of the inbox for one process.

    Args:
        host: plugin host with the webhook source classes.
        box: the secret box sealing instance secrets and credential headers.
        sessions: session factory on the hub database.
        jobs: wakes workers after a commit; ``None`` leaves it to the sweeper.
        redis: enables the duplicate fast path when set.
        dedupe_ttl_seconds: how long the fast path remembers a stored event.
        writers: ingestion transactions in flight at once: 1 on SQLite (one writer at a time
            anyway), 2 on PostgreSQL (measured: the next batch is written while one commits).
        redis_namespace: the keys' prefix (``LENDHUB_REDIS_PREFIX``); the default one when omitted.
    """

    def __init__(
        self,
        *,
        host: PluginHost,
        box: SecretBox,
        sessions: async_sessionmaker[AsyncSession],
        jobs: JobQueue | None = None,
        redis: Redis | None = None,
        dedupe_ttl_seconds: int = 86_400,
        writers: int = 1,
        redis_namespace: RedisNamespace | None = None,
    ) -> None:
        self.host = host
        self.box = box
        self.sessions = sessions
        self.jobs = jobs
        self.sources = SourceInstances(host, box)
        self.writer = GroupCommit(sessions, on_commit=self._after_commit, known=self._known)
        namespace = redis_namespace or RedisNamespace()
        self.dedupe = (
            DedupeCache(redis, ttl_seconds=dedupe_ttl_seconds, prefix=namespace.webhooks_seen)
            if redis is not None
            else None
        )
        self.refusal_log = RefusalLog(log)

    @classmethod
    def from_runtime(cls, runtime: Any) -> WebhookService:
        """The service wired to a ``hub.runtime.Runtime``."""
        return cls(
            host=runtime.host,
            box=runtime.box,
            sessions=runtime.sessions,
            jobs=runtime.jobs,
            redis=runtime.redis,
            dedupe_ttl_seconds=runtime.settings.webhook_dedupe_ttl_seconds,
            writers=1 if runtime.engine.dialect.name == "sqlite" else 2,
            redis_namespace=RedisNamespace(runtime.settings.redis_prefix),
        )

    async def notify(self, job_ids: Sequence[str]) -> None:
        """Wake workers for committed jobs; a lost wake-up only waits for the sweeper."""
        if self.jobs is None:
            return
        for job_id in job_ids:
            try:
                await self.jobs.notify(job_id)
            except Exception:
                log.warning(
                    "could not wake a worker for job %s; the sweeper will find it", job_id, exc_info=True
                )

    async def _known(self, items: list[tuple[NewRequest, Sequence[NewInboxEvent]]]) -> list[bool]:
        """Which queued requests the Redis fast path knows to be stored already (none without Redis)."""
        if self.dedupe is None:
            return [False] * len(items)
        return await self.dedupe.known([(r.source, r.instance, [e.event_id for e in ev]) for r, ev in items])

    async def _after_commit(self, committed: list[tuple[NewRequest, StoredDelivery]]) -> None:
        """Once a group commit is durable: wake workers, and let the fast path know the events."""
        await self.notify(list(dict.fromkeys(j for _, stored in committed for j in stored.job_ids)))
        if self.dedupe is not None:
            keys = [
                (request.source, request.instance, event_id)
                for request, stored in committed
                for event_id in [*stored.inserted, *stored.duplicates]
            ]
            await self.dedupe.remember(keys)

    # -- ingestion -------------------------------------------------------------------------------

    def refuse(self, source: str, instance: str, reason: str, *, status: int = 400) -> None:
        """Count a refusal (the writer records counts with its next transaction) and log it, sparingly."""
        self.writer.count_refusal(source[:100], instance[:100], reason[:100])
        self.refusal_log.refused(source, instance, status, reason)

    async def ingest(self, source: WebhookSource, request: InboundRequest) -> IngestResult:
        """Verify ``request`` with ``source`` and store its events durably, deduplicated.

        Raises:
            WebhookRejected: the request is refused; nothing was stored.
        """
        try:
            events = source.verify(request, now=request.received_at)
        except RecursionError:  # nested past what a parser manages (encrypted envelopes hide depth)
            raise Unparsable("the payload nests too deep to parse") from None
        checked = checked_events(events)
        result = IngestResult(events=events)
        if not checked:
            return result
        ids = [event.event_id for event in checked]
        shown, hidden = mask_headers(request.headers)
        new_request = NewRequest(
            source=source.name,
            instance=source.instance,
            method=request.method,
            path=request.path,
            query=dict(request.query),
            headers=shown,
            sealed_headers=self.box.seal(hidden) if hidden else None,
            body=request.body,
            verification={
                "verified": True,
                "source_class": f"{type(source).__module__}.{type(source).__qualname__}",
                "events": ids,
                "checked_at": request.received_at.isoformat(),
            },
            received_at=request.received_at,
        )
        # The writer consults the fast path for its whole batch first (known duplicates skip the
        # database), and after the commit wakes workers and feeds the fast path.
        result.stored = await self.writer.store(new_request, checked)
        result.fast_duplicate = result.stored.skipped
        if result.stored.duplicates:
            log.info(
                "webhook %s/%s: %d duplicate event(s) acknowledged",
                source.name,
                source.instance,
                len(result.stored.duplicates),
            )
        return result

    # -- administration --------------------------------------------------------------------------

    async def page(
        self,
        session: AsyncSession,
        *,
        source: str | None = None,
        instance: str | None = None,
        status: str | None = None,
        since: datetime | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> tuple[list[WebhookInboxEvent], int]:
        """A page of inbox rows matching the filters, and how many match in all.

        The payload is not loaded (lists leave it out): no row is opened just to be listed.
        """
        stmt = inbox_query(source=source, instance=instance, status=status, since=since)
        total = await count_rows(session, stmt)
        page = stmt.options(defer(WebhookInboxEvent.payload)).limit(limit).offset(offset)
        rows = list((await session.scalars(page)).all())
        return rows, total

    async def get(self, session: AsyncSession, inbox_id: str) -> tuple[WebhookInboxEvent, WebhookRequest]:
        """An inbox row and its raw request."""
        row = await session.get(WebhookInboxEvent, inbox_id)
        request = await session.get(WebhookRequest, row.request_id) if row is not None else None
        if row is None or request is None:
            raise InboxNotFound(f"no inbox event {inbox_id!r}")
        return row, request

    async def replay(self, session: AsyncSession, inbox_id: str) -> WebhookInboxEvent:
        """Verify the stored raw request again, refresh the event from it and queue it.

        Raises:
            InboxNotFound: no such row.
            InboxConflict: the event is still in flight (``received`` or ``processing``).
            ReplayRefused: the stored request no longer verifies or no longer carries the event.
        """
        try:
            row, request = await self.get(session, inbox_id)
        except KeyRingError as exc:  # sealed under a PII key this process does not have
            raise ReplayRefused(str(exc), "webhook-replay-undecryptable") from None
        if row.status in (InboxStatus.RECEIVED, InboxStatus.PROCESSING):
            raise InboxConflict(
                f"inbox event {inbox_id} is {row.status}; wait for it to finish or discard it"
            )
        event = await self._reverify(session, row, request)
        replays = row.replays + 1
        changed = await set_status(
            session,
            row.id,
            [row.status],
            status=InboxStatus.RECEIVED.value,
            event_type=event.event_type,
            payload=event.payload,
            object_id=event.object_id,
            object_version=event.object_version,
            occurred_at=event.occurred_at,
            attempts=0,
            replays=replays,
            next_attempt_at=None,
            discard_reason=None,
        )
        if not changed:
            raise InboxConflict(f"inbox event {inbox_id} changed meanwhile; try again")
        await enqueue_processing(session, row.id, key=f"replay{replays}")
        await session.refresh(row)
        log.info("inbox %s replayed (replay %d)", row.id, replays)
        return row

    async def _reverify(
        self, session: AsyncSession, row: WebhookInboxEvent, request: WebhookRequest
    ) -> NewInboxEvent:
        """Re-run the source on the stored bytes, at the original receipt time; the row's event."""
        headers = dict(request.headers)
        if request.sealed_headers:
            try:
                headers.update(self.box.open(request.sealed_headers))
            except SecretBoxError as exc:
                raise ReplayRefused(str(exc), "webhook-replay-undecryptable") from None
        inbound = InboundRequest(
            method=request.method,
            path=request.path,
            query=dict(request.query),
            headers=headers,
            body=request.body,
            received_at=request.received_at,
        )
        try:
            source = self.sources.build(await self.sources.row(session, row.source, row.instance))
        except SourceInstanceError as exc:
            raise ReplayRefused(
                f"cannot rebuild the source: {exc.message}", "webhook-replay-no-source"
            ) from None
        try:
            events = checked_events(source.verify(inbound, now=request.received_at))
        except WebhookRejected as exc:
            raise ReplayRefused(f"the stored request no longer verifies: {exc}", exc.slug) from None
        for event in events:
            if event.event_id == row.event_id:
                return event
        raise ReplayRefused(
            f"the stored request no longer carries event {row.event_id!r}", "webhook-replay-event-missing"
        )

    async def replay_dead(
        self,
        session: AsyncSession,
        *,
        source: str,
        since: datetime,
        instance: str | None = None,
        dry_run: bool = False,
        limit: int = 1000,
    ) -> tuple[list[str], list[str], dict[str, str]]:
        """Replay every dead letter of ``source`` received since ``since``; or list them (``dry_run``).

        Returns:
            The matching ids, the replayed ids and, by id, why a replay was refused.
        """
        stmt = inbox_query(source=source, instance=instance, status=InboxStatus.DEAD.value, since=since)
        # Payloads unread: a replay re-parses the body; one unopenable row must not fail the rest.
        rows = list(
            (await session.scalars(stmt.options(defer(WebhookInboxEvent.payload)).limit(limit))).all()
        )
        matched = [row.id for row in rows]
        replayed: list[str] = []
        failed: dict[str, str] = {}
        if dry_run:
            return matched, replayed, failed
        for inbox_id in matched:
            try:
                await self.replay(session, inbox_id)
            except (InboxConflict, ReplayRefused, InboxNotFound) as exc:
                failed[inbox_id] = str(exc)
            else:
                replayed.append(inbox_id)
        return matched, replayed, failed

    async def discard(self, session: AsyncSession, inbox_id: str, reason: str) -> WebhookInboxEvent:
        """Give up on an event that is not processed yet; it is never dispatched (until replayed)."""
        row, _ = await self.get(session, inbox_id)
        allowed = [InboxStatus.RECEIVED.value, InboxStatus.PROCESSING.value, InboxStatus.DEAD.value]
        if row.status not in allowed:
            raise InboxConflict(
                f"inbox event {inbox_id} is {row.status}; only unfinished events can be discarded"
            )
        changed = await set_status(
            session,
            row.id,
            [row.status],
            status=InboxStatus.DISCARDED.value,
            discard_reason=reason,
            next_attempt_at=None,
        )
        if not changed:
            raise InboxConflict(f"inbox event {inbox_id} changed meanwhile; try again")
        await session.refresh(row)
        log.info("inbox %s discarded", row.id)
        return row

    async def refusals(self, session: AsyncSession) -> list[dict[str, Any]]:
        """The refusal counters, as plain dicts (this process's pending counts written first)."""
        await self.writer.flush()
        return [
            {
                "source": r.source,
                "instance": r.instance,
                "reason": r.reason,
                "count": r.count,
                "last_at": r.last_at,
            }
            for r in await refusal_counts(session)
        ]

    async def status_counts(self, session: AsyncSession) -> list[dict[str, Any]]:
        """How many inbox events each source and instance has in each status."""
        cols = (WebhookInboxEvent.source, WebhookInboxEvent.instance, WebhookInboxEvent.status)
        stmt = select(*cols, func.count()).group_by(*cols).order_by(*cols)
        rows = (await session.execute(stmt)).all()
        return [{"source": r[0], "instance": r[1], "status": r[2], "count": r[3]} for r in rows]

    async def commit_and_notify(self, session: AsyncSession) -> None:
        """Commit the caller's admin unit of work, then wake workers for the jobs it enqueued."""
        await session.commit()
        await self.notify(take_enqueued(session))
