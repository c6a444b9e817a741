"""The inbox as a service: ingest verified requests; list, inspect, replay, discard, count.

HTTP and CLI layers call this; it owns no HTTP types. Ingestion commits its own unit of work
(the events must be durable before the 2xx): requests share transactions through the group
commit, duplicates known to the Redis fast path skip the database, and workers are woken once
the events are durable. The administration of what was stored is in
:mod:`hub.webhooks.inbox_admin`, whose errors are re-exported here.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.jobs.handlers import JobQueue
from core.secretbox import SecretBox
from core.webhooks.repository import NewInboxEvent, NewRequest, StoredDelivery
from plugins.manager import PluginHost
from plugins.sdk import InboundRequest, Unparsable, WebhookEvent, WebhookSource

from ..state import RedisNamespace
from .dedupe import DedupeCache
from .group_commit import GroupCommit
from .inbox_admin import InboxAdministration, InboxConflict, InboxNotFound, ReplayRefused
from .intake import checked_events, mask_headers
from .refusal_log import RefusalLog
from .sources import SourceInstances

__all__ = [
    "InboxConflict",
    "InboxNotFound",
    "IngestResult",
    "ReplayRefused",
    "WebhookService",
]

log = logging.getLogger("lendhub.webhooks")


@dataclass
class IngestResult:
    """What ingestion stored: new inbox ids by event id and the duplicates skipped."""

    events: Sequence[WebhookEvent]
    stored: StoredDelivery = field(default_factory=StoredDelivery)
    fast_duplicate: bool = False


class WebhookService(InboxAdministration):
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
