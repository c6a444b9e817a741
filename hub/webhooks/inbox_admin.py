"""Administration of the inbox: list, inspect, replay, discard, count.

HTTP and CLI layers call these through :class:`~hub.webhooks.service.WebhookService`; they own no
HTTP types. They work in the caller's session and return the job ids to wake once the caller has
committed (:meth:`InboxAdministration.commit_and_notify` does both).

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
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import defer

from core.jobs.repository import take_enqueued
from core.pii import KeyRingError
from core.secretbox import SecretBox, SecretBoxError
from core.webhooks.models import InboxStatus, WebhookInboxEvent, WebhookRequest
from core.webhooks.repository import (
    NewInboxEvent,
    count_rows,
    enqueue_processing,
    inbox_query,
    refusal_counts,
)
from core.webhooks.statuses import set_status
from plugins.sdk import InboundRequest, WebhookRejected

from .group_commit import GroupCommit
from .intake import checked_events
from .sources import SourceInstanceError, SourceInstances

__all__ = ["InboxAdministration", "InboxConflict", "InboxNotFound", "ReplayRefused"]

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


class InboxAdministration:
    """The inbox operations an operator performs; the base of ``WebhookService``.

    It needs what the service is built with: ``box`` opens sealed credential headers for a
    replay, ``sources`` rebuilds the source that verifies it, ``writer`` flushes pending refusal
    counts, and ``notify`` wakes workers for what a committed operation enqueued.
    """

    box: SecretBox
    sources: SourceInstances
    writer: GroupCommit

    async def notify(self, job_ids: Sequence[str]) -> None:
        """Wake workers for committed jobs (the service does; without it the sweeper finds them)."""

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
