"""Inbox persistence: store a verified delivery once and query it (status changes: ``statuses``).

Nothing here commits: the ingest endpoint, the job handler or the admin service owns the unit
of work. Writes that race (two identical deliveries at once, two workers on one object) are
single ``INSERT … ON CONFLICT`` statements, so the database decides the winner on SQLite and on
PostgreSQL alike and no ``IntegrityError`` ever surfaces.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Select, Table, delete, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from core.bulk import insert_many_sql, row_tuples, unnest_insert, unnest_params
from core.db import new_id, utcnow
from core.jobs.models import Job
from core.jobs.repository import enqueue, job_row
from core.webhooks.models import (
    InboxStatus,
    WebhookInboxEvent,
    WebhookRefusalCount,
    WebhookRequest,
)

__all__ = [
    "EVENTS_PER_JOB",
    "FINAL_STATUSES",
    "PROCESS_JOB",
    "NewInboxEvent",
    "NewRequest",
    "StoredDelivery",
    "count_refusal",
    "count_rows",
    "enqueue_processing",
    "inbox_query",
    "process_job_payload",
    "refusal_counts",
    "store_deliveries",
    "write_deliveries",
]

PROCESS_JOB = "webhook.process"
"""The job kind that dispatches inbox events.

Its payload is ``{"inbox_id": id}`` for one event (a retry, a replay) or ``{"inbox_ids": [...]}``
for the events that one group commit stored together, processed in one transaction.
"""


EVENTS_PER_JOB = 64
"""Most events in one processing job (the group commit's batch size). Fewer would bound what a
worker killed mid-job makes plugins see again, and how long a slow event delays its batch-mates,
but per-job costs then show: measured on PostgreSQL with ``bench/webhooks.py``, 16 accepted about
a fifth fewer webhooks per second than 64."""


def process_job_payload(inbox_ids: Sequence[str]) -> dict[str, Any]:
    """The ``webhook.process`` payload for these events, in the one-event form when there is one."""
    return {"inbox_id": inbox_ids[0]} if len(inbox_ids) == 1 else {"inbox_ids": list(inbox_ids)}


FINAL_STATUSES = frozenset(
    {InboxStatus.PROCESSED, InboxStatus.SUPERSEDED, InboxStatus.DEAD, InboxStatus.DISCARDED}
)
"""Statuses a worker leaves alone; only a replay brings such a row back."""


@dataclass(frozen=True)
class NewRequest:
    """The raw request to keep; headers already masked, their secret values already sealed."""

    source: str
    instance: str
    method: str
    path: str
    query: Mapping[str, str]
    headers: Mapping[str, str]
    sealed_headers: str | None
    body: bytes
    verification: Mapping[str, Any]
    received_at: datetime


@dataclass(frozen=True)
class NewInboxEvent:
    """One parsed event to store (the domain's copy of ``plugins.sdk.WebhookEvent``)."""

    event_id: str
    event_type: str
    payload: Mapping[str, Any]
    object_id: str | None = None
    object_version: int | None = None
    occurred_at: datetime | None = None


@dataclass
class StoredDelivery:
    """What storing one request did: the new inbox ids, and the event ids that were duplicates.

    ``skipped`` means nothing was written at all: every event was known to be stored already.
    """

    request_id: str | None = None
    inserted: dict[str, str] = field(default_factory=dict)
    duplicates: list[str] = field(default_factory=list)
    job_ids: list[str] = field(default_factory=list)
    skipped: bool = False


def _insert(session: AsyncSession | Session) -> Any:
    return postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert


async def enqueue_processing(
    session: AsyncSession, inbox_id: str, *, key: str, run_after: datetime | None = None
) -> str:
    """Enqueue the ``webhook.process`` job of one inbox row, once per ``key``."""
    return await enqueue(
        session,
        PROCESS_JOB,
        {"inbox_id": inbox_id},
        run_after=run_after,
        dedupe_key=f"{PROCESS_JOB}:{inbox_id}:{key}",
    )


async def store_deliveries(
    session: AsyncSession, items: Sequence[tuple[NewRequest, Sequence[NewInboxEvent]]]
) -> list[StoredDelivery]:
    """``write_deliveries`` in an async session."""
    return await session.run_sync(write_deliveries, items)


def write_deliveries(
    session: Session, items: Sequence[tuple[NewRequest, Sequence[NewInboxEvent]]]
) -> list[StoredDelivery]:
    """Store many requests and their events at once, in about three statements whatever their number.

    Synchronous, for ``Session.run_sync``; ``store_deliveries`` is the async form.

    The same semantics, batched for group commit: request rows, then every new inbox row in one
    ``INSERT … ON CONFLICT DO NOTHING RETURNING id`` (duplicates within the batch are dropped
    before it, duplicates of stored events by it), then one processing job for all the new rows;
    request rows left with no new event are removed again. Nothing is committed here.
    """
    insert = _insert(session)
    now = utcnow()
    results = [StoredDelivery() for _ in items]
    requests: list[dict[str, Any]] = []
    rows: list[dict[str, Any]] = []
    owners: list[int] = []
    seen: set[tuple[str, str, str]] = set()
    for index, (request, events) in enumerate(items):
        request_id = new_id()
        results[index].request_id = request_id
        requests.append(
            {
                "id": request_id,
                "source": request.source,
                "instance": request.instance,
                "method": request.method,
                "path": request.path,
                "query": dict(request.query),
                "headers": dict(request.headers),
                "sealed_headers": request.sealed_headers,
                "body": request.body,
                "verification": dict(request.verification),
                "received_at": request.received_at,
            }
        )
        for event in events:
            key = (request.source, request.instance, event.event_id)
            if key in seen:  # the same event twice in this batch counts once
                results[index].duplicates.append(event.event_id)
                continue
            seen.add(key)
            owners.append(index)
            rows.append(
                {
                    "id": new_id(),
                    "request_id": request_id,
                    "source": request.source,
                    "instance": request.instance,
                    "event_id": event.event_id,
                    "event_type": event.event_type,
                    "payload": dict(event.payload),
                    "object_id": event.object_id,
                    "object_version": event.object_version,
                    "occurred_at": event.occurred_at,
                    "status": InboxStatus.RECEIVED.value,
                    "attempts": 0,
                    "replays": 0,
                    "created_at": now,
                    "updated_at": now,
                }
            )
    inserted = _insert_requests_and_events(session, requests, rows)
    new_ids: list[str] = []
    for owner, row in zip(owners, rows, strict=True):
        result = results[owner]
        if row["id"] not in inserted:
            result.duplicates.append(row["event_id"])
            continue
        result.inserted[row["event_id"]] = row["id"]
        new_ids.append(row["id"])
    if new_ids:
        # One job per EVENTS_PER_JOB new events rather than per event: fewer rows here, and one
        # claim and one transaction per job in the worker. Retries and replays get one each.
        chunks = [new_ids[i : i + EVENTS_PER_JOB] for i in range(0, len(new_ids), EVENTS_PER_JOB)]
        jobs = [job_row(PROCESS_JOB, process_job_payload(chunk), now=now) for chunk in chunks]
        session.execute(insert(Job.__table__), jobs)
        job_of = {inbox_id: job["id"] for job, chunk in zip(jobs, chunks, strict=True) for inbox_id in chunk}
        for result in results:
            result.job_ids.extend(dict.fromkeys(job_of[i] for i in result.inserted.values()))
    empty = [r.request_id for r in results if not r.inserted and r.request_id is not None]
    if empty:
        session.execute(delete(WebhookRequest).where(WebhookRequest.id.in_(empty)))
    for result in results:
        if not result.inserted:
            result.request_id = None
    return results


_REQUEST_TABLE = cast(Table, WebhookRequest.__table__)
_INBOX_TABLE = cast(Table, WebhookInboxEvent.__table__)
_INBOX_KEY = ("source", "instance", "event_id")


def _insert_requests_and_events(
    session: Session, requests: list[dict[str, Any]], rows: list[dict[str, Any]]
) -> set[str]:
    """Insert the request rows, then the event rows a stored event does not already hold.

    Returns the ids of the event rows inserted. Values go column-wise through their types' bind
    processors (``core.bulk``), not through a parameter dictionary per row: on PostgreSQL one
    ``unnest`` statement per table, on SQLite a DBAPI ``executemany`` per table, then the ids
    that made it in (SQLite cannot return rows from ``executemany``).
    """
    dialect = session.get_bind().dialect
    if dialect.name == "postgresql":
        request_columns, event_columns = tuple(requests[0]), tuple(rows[0]) if rows else ()
        session.execute(
            unnest_insert(_REQUEST_TABLE, request_columns, dialect=dialect),
            unnest_params(_REQUEST_TABLE, request_columns, requests, dialect=dialect),
        )
        if not rows:
            return set()
        many = unnest_insert(
            _INBOX_TABLE, event_columns, dialect=dialect, conflict=_INBOX_KEY, returning="id"
        )
        params = unnest_params(_INBOX_TABLE, event_columns, rows, dialect=dialect)
        return set(session.execute(many, params).scalars())
    connection = session.connection()
    request_columns = tuple(requests[0])
    connection.exec_driver_sql(
        insert_many_sql(_REQUEST_TABLE, request_columns),
        row_tuples(_REQUEST_TABLE, request_columns, requests, dialect=dialect),
    )
    if not rows:
        return set()
    event_columns = tuple(rows[0])
    connection.exec_driver_sql(
        insert_many_sql(_INBOX_TABLE, event_columns, conflict=_INBOX_KEY),
        row_tuples(_INBOX_TABLE, event_columns, rows, dialect=dialect),
    )
    ids = tuple(row["id"] for row in rows)  # a row kept from before has another id: not ours
    placeholders = ", ".join("?" * len(ids))
    found = connection.exec_driver_sql(
        f"SELECT id FROM {_INBOX_TABLE.name} WHERE id IN ({placeholders})", ids
    )
    return {str(value) for value in found.scalars()}


async def count_refusal(
    session: AsyncSession, source: str, instance: str, reason: str, *, n: int = 1
) -> None:
    """Add ``n`` to the refusal counter of ``(source, instance, reason)``."""
    insert = _insert(session)
    now = utcnow()
    stmt = insert(WebhookRefusalCount).values(
        source=source, instance=instance, reason=reason, count=n, last_at=now
    )
    stmt = stmt.on_conflict_do_update(
        index_elements=["source", "instance", "reason"],
        set_={"count": WebhookRefusalCount.count + n, "last_at": now},
    )
    await session.execute(stmt)


async def refusal_counts(session: AsyncSession) -> list[WebhookRefusalCount]:
    """Every refusal counter, by source, instance and reason."""
    stmt = select(WebhookRefusalCount).order_by(
        WebhookRefusalCount.source, WebhookRefusalCount.instance, WebhookRefusalCount.reason
    )
    return list((await session.scalars(stmt)).all())


def inbox_query(
    *,
    source: str | None = None,
    instance: str | None = None,
    status: str | None = None,
    since: datetime | None = None,
) -> Select[Any]:
    """Inbox rows matching the filters, oldest first (ids are time-ordered)."""
    stmt = select(WebhookInboxEvent)
    if source is not None:
        stmt = stmt.where(WebhookInboxEvent.source == source)
    if instance is not None:
        stmt = stmt.where(WebhookInboxEvent.instance == instance)
    if status is not None:
        stmt = stmt.where(WebhookInboxEvent.status == status)
    if since is not None:
        stmt = stmt.where(WebhookInboxEvent.created_at >= since)
    return stmt.order_by(WebhookInboxEvent.created_at, WebhookInboxEvent.id)


async def count_rows(session: AsyncSession, stmt: Select[Any]) -> int:
    """How many rows ``stmt`` matches, ignoring its order."""
    total: int = await session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    return total
