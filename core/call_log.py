"""The call log: one row per outbound attempt, written from plain mappings.

The SDK's ``CallRecord`` lives in ``plugins`` (which ``core`` may not import), so rows arrive as
mappings with the same field names. Bodies are masked by the SDK before they get here, and are
sealed on their way into the table all the same (field class ``payload``): masking knows only the
patterns it looks for, and a vendor's answer about a borrower is personal data whatever its
shape. They load as masked ``PII`` values; ``reveal()`` gives the recorded text.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Float, Index, Integer, Numeric, String, Text, insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, UTCDateTime, new_id
from core.pii import PII, Sealed

__all__ = ["BODY_FIELD_CLASS", "CALL_RECORD_FIELDS", "CallLogEntry", "insert_call_records"]

BODY_FIELD_CLASS = "payload"
"""The PII field class the bodies are sealed under (``core.access.permissions.PII_FIELD_CLASSES``)."""


class CallLogEntry(Base):
    """One attempt of one outbound call to a vendor (or its simulator)."""

    __tablename__ = "call_log"
    __table_args__ = (
        Index("ix_call_log_connector_started_at", "connector", "started_at"),
        Index("ix_call_log_instance_started_at", "instance", "started_at"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    connector: Mapped[str] = mapped_column(String(100), nullable=False)
    instance: Mapped[str] = mapped_column(String(100), nullable=False)
    operation: Mapped[str] = mapped_column(String(100), nullable=False)
    attempt: Mapped[int] = mapped_column(Integer, nullable=False)
    method: Mapped[str] = mapped_column(String(10), nullable=False)
    url: Mapped[str] = mapped_column(Text, nullable=False)
    status_code: Mapped[int | None] = mapped_column(Integer)
    latency_ms: Mapped[float] = mapped_column(Float, nullable=False)
    error_class: Mapped[str | None] = mapped_column(String(100))
    idempotency_key: Mapped[str | None] = mapped_column(String(200))
    cost_units: Mapped[Decimal] = mapped_column(Numeric(18, 6), nullable=False, default=Decimal(0))
    request_body: Mapped[PII | None] = mapped_column(Sealed(BODY_FIELD_CLASS))
    response_body: Mapped[PII | None] = mapped_column(Sealed(BODY_FIELD_CLASS))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)


#: The fields a record mapping may carry (``id`` is generated when absent).
CALL_RECORD_FIELDS = frozenset(column.key for column in CallLogEntry.__table__.columns if column.key != "id")


async def insert_call_records(session: AsyncSession, records: Sequence[Mapping[str, Any]]) -> int:
    """Insert call-log rows in the caller's transaction (not committed); returns how many.

    Raises:
        ValueError: a record has a field the table does not know (a drifted ``CallRecord``
            should fail loudly in tests, not lose data silently).
    """
    if not records:
        return 0
    rows: list[dict[str, Any]] = []
    for record in records:
        unknown = set(record) - CALL_RECORD_FIELDS - {"id"}
        if unknown:
            raise ValueError(f"unknown call-log fields: {', '.join(sorted(unknown))}")
        row = dict(record)
        row.setdefault("id", new_id())
        if row.get("cost_units") is None:
            row["cost_units"] = Decimal(0)
        rows.append(row)
    await session.execute(insert(CallLogEntry), rows)
    return len(rows)
