"""How an audit entry is hashed, and how the chain is walked to find tampering.

An entry's hash is SHA-256 over a canonical JSON of every column but ``hash`` itself — the
previous entry's hash included — so changing any column of any entry (its hash too), deleting
one, inserting one or reordering them breaks the chain at that entry. Values are normalised to
JSON before they are stored, so what is hashed is exactly what the database gives back.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.pii import PII

from .models import AuditEntry, AuditHead

__all__ = ["GENESIS", "ChainBreak", "entry_hash", "to_json", "verify_chain"]

GENESIS = "0" * 64
HASHED_COLUMNS = (
    "seq",
    "id",
    "at",
    "actor",
    "actor_kind",
    "actor_id",
    "actor_branch_id",
    "action",
    "target_type",
    "target_id",
    "before",
    "after",
    "request_id",
    "client_addr",
    "prev_hash",
)


def _plain(value: Any) -> Any:
    if isinstance(value, PII):
        return value.masked  # the audit trail never holds personal data in clear
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, bytes):
        return f"<{len(value)} bytes>"
    if isinstance(value, set | frozenset):
        return sorted(_plain(v) for v in value)
    return str(value)


def to_json(value: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """``value`` as plain JSON data (PII masked, decimals and times as text), ready to store and hash."""
    if value is None:
        return None
    result: dict[str, Any] = json.loads(json.dumps(dict(value), default=_plain))
    return result


def entry_hash(values: Mapping[str, Any]) -> str:
    """The hash of an entry's columns (``at`` as a datetime, the rest as stored)."""
    content = {name: values.get(name) for name in HASHED_COLUMNS}
    at = content["at"]
    if isinstance(at, datetime):
        content["at"] = at.astimezone(UTC).isoformat(timespec="microseconds")
    canonical = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class ChainBreak:
    """Where the chain first fails, and how."""

    seq: int
    reason: str


async def _entries(session: AsyncSession, batch: int) -> AsyncIterator[AuditEntry]:
    # Every row, the first batch with no lower bound: a row slipped in below seq 1 is walked too.
    first = select(AuditEntry).order_by(AuditEntry.seq).limit(batch)
    rows = (await session.scalars(first)).all()
    while rows:
        for row in rows:
            yield row
        last = rows[-1].seq
        session.expunge_all()
        rows = (await session.scalars(first.where(AuditEntry.seq > last))).all()


async def verify_chain(session: AsyncSession, *, batch: int = 1000) -> tuple[int, ChainBreak | None]:
    """Walk the whole chain; the number of entries checked and the first break, if any."""
    expected_seq, previous, count = 1, GENESIS, 0
    async for entry in _entries(session, batch):
        values = {name: getattr(entry, name) for name in HASHED_COLUMNS}
        if entry.seq < expected_seq:
            return count, ChainBreak(entry.seq, "sequence out of order")
        if entry.seq > expected_seq:
            reason = f"entries {expected_seq}–{entry.seq - 1} are missing (deleted)"
            return count, ChainBreak(expected_seq, reason)
        if entry.prev_hash != previous:
            return count, ChainBreak(entry.seq, "does not link to the entry before it (inserted or changed)")
        if entry_hash(values) != entry.hash:
            return count, ChainBreak(entry.seq, "its content does not match its hash (changed)")
        previous, expected_seq, count = entry.hash, expected_seq + 1, count + 1
    head = await session.get(AuditHead, 1)
    head_seq, head_hash = (head.seq, head.hash) if head is not None else (0, GENESIS)
    if head_seq != count or head_hash != previous:
        if head_seq > count:
            return count, ChainBreak(count + 1, f"entries {count + 1}–{head_seq} are missing (deleted)")
        return count, ChainBreak(head_seq + 1, "the chain's head does not name its last entry")
    return count, None
