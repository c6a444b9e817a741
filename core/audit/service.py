"""Writing audit entries: one per change, in the same transaction as the change.

``record`` first touches the chain's head row with an ``UPDATE`` — a row lock on PostgreSQL, the
write lock on SQLite, where a plain read would not lock — so concurrent writers queue and the
chain stays one line. The lock is held until the
caller's transaction ends: audited changes serialise on it, which is the price of a single chain.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from core.access.actor import Actor
from core.access.scopes import scope_clause
from core.db import new_id, utcnow

from .chain import GENESIS, entry_hash, to_json
from .models import AuditEntry, AuditHead

__all__ = ["AuditQuery", "batched", "changed_fields", "query_audit", "record"]


_BATCH_KEY = "lendhub.audit.batch"


async def _lock_head(session: AsyncSession) -> AuditHead:
    touch = update(AuditHead).where(AuditHead.id == 1).values(seq=AuditHead.seq)
    if (await session.execute(touch)).rowcount == 0:  # type: ignore[attr-defined]
        # No head yet (a database built without the migration's seed row): create it, and if a
        # concurrent writer won that race, lock theirs.
        try:
            async with session.begin_nested():
                session.add(AuditHead(id=1, seq=0, hash=GENESIS))
        except IntegrityError:
            pass
        await session.execute(touch)
    head = await session.scalar(
        select(AuditHead).where(AuditHead.id == 1).execution_options(populate_existing=True)
    )
    assert head is not None
    return head


async def record(
    session: AsyncSession,
    actor: Actor,
    action: str,
    *,
    target_type: str,
    target_id: str | None = None,
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
) -> AuditEntry:
    """Append one entry for ``actor`` doing ``action`` to a target; the caller commits.

    Args:
        session: the transaction that makes the change.
        actor: who did it (its request id and address are recorded too).
        action: a stable code, ``<area>.<verb>`` (``users.disable``, ``auth.login_failed``).
        target_type: what kind of thing changed (``user``, ``connector_instance``).
        target_id: which one.
        before: its state before (PII values are masked; secrets must not be passed).
        after: its state after.
    """
    values: dict[str, Any] = {
        "id": new_id(),
        "at": utcnow(),
        "actor": actor.audit_name,
        "actor_kind": actor.kind.value,
        "actor_id": actor.id,
        "actor_branch_id": actor.branch_id,
        "action": action,
        "target_type": target_type,
        "target_id": target_id,
        "before": to_json(before),
        "after": to_json(after),
        "request_id": actor.request_id,
        "client_addr": actor.client_addr,
    }
    pending: list[dict[str, Any]] | None = session.info.get(_BATCH_KEY)
    if pending is not None:
        pending.append(values)
        return AuditEntry(**values)
    return (await _append(session, [values]))[0]


async def _append(session: AsyncSession, entries: list[dict[str, Any]]) -> list[AuditEntry]:
    """Chain ``entries`` after the head, under one lock, and add them to the session."""
    head = await _lock_head(session)
    rows = []
    for values in entries:
        linked = {**values, "seq": head.seq + 1, "prev_hash": head.hash}
        entry = AuditEntry(**linked, hash=entry_hash(linked))
        head.seq, head.hash = entry.seq, entry.hash
        rows.append(entry)
    session.add_all(rows)
    await session.flush()
    return rows


@asynccontextmanager
async def batched(session: AsyncSession) -> AsyncIterator[None]:
    """Collect the entries recorded inside the block and chain them all at its end, under one lock.

    For bulk work (an import of thousands of customers): one head lock and one multi-row insert
    instead of a lock, a read and an insert per entry. The entries are the same ones, in the same
    order, written in the same transaction; if the block raises, none is written — nor, the caller
    rolling back, the changes they describe.
    """
    if _BATCH_KEY in session.info:
        yield  # already inside a batch: the outer one writes
        return
    pending: list[dict[str, Any]] = []
    session.info[_BATCH_KEY] = pending
    try:
        yield
    finally:
        session.info.pop(_BATCH_KEY, None)
    if pending:
        await _append(session, pending)


def changed_fields(
    before: Mapping[str, Any], after: Mapping[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Only the fields that differ, as (before, after): what an update's audit entry keeps."""
    keys = sorted(set(before) | set(after))
    changed = [k for k in keys if before.get(k) != after.get(k)]
    return {k: before.get(k) for k in changed}, {k: after.get(k) for k in changed}


@dataclass(frozen=True)
class AuditQuery:
    """Filters for reading the log, all optional; ``action`` may be a prefix ending in ``*``."""

    actor: str | None = None
    action: str | None = None
    target_type: str | None = None
    target_id: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    before_seq: int | None = None
    limit: int = 100


async def query_audit(session: AsyncSession, caller: Actor, query: AuditQuery) -> list[AuditEntry]:
    """Entries the caller may read (scope of ``audit.read`` applied in SQL), newest first."""
    conditions = [
        scope_clause(caller, "audit.read", owner=AuditEntry.actor_id, branch=AuditEntry.actor_branch_id)
    ]
    if query.actor:
        conditions.append(AuditEntry.actor == query.actor)
    if query.action:
        conditions.append(
            AuditEntry.action.startswith(query.action[:-1], autoescape=True)
            if query.action.endswith("*")
            else AuditEntry.action == query.action
        )
    if query.target_type:
        conditions.append(AuditEntry.target_type == query.target_type)
    if query.target_id:
        conditions.append(AuditEntry.target_id == query.target_id)
    if query.since is not None:
        conditions.append(AuditEntry.at >= query.since)
    if query.until is not None:
        conditions.append(AuditEntry.at < query.until)
    if query.before_seq is not None:
        conditions.append(AuditEntry.seq < query.before_seq)
    statement = select(AuditEntry).where(and_(*conditions)).order_by(AuditEntry.seq.desc()).limit(query.limit)
    return list((await session.scalars(statement)).all())
