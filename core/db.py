"""Declarative base and column types shared by every table.

Two databases must behave the same: SQLite (the embedded default) and PostgreSQL. The types here
paper over the differences that bite in practice:

* ``UTCDateTime`` — SQLite has no time zones and hands back naive datetimes; this type refuses
  naive input and always returns timezone-aware UTC, so ``created_at < utcnow()`` never raises
  ``TypeError`` on one backend and works on the other.
* ``JSONType`` — plain JSON on SQLite, JSONB on PostgreSQL (indexable, compact).
* ``new_id()`` — time-ordered UUID strings, so primary-key order follows insertion order and
  b-tree inserts stay at the right edge of the index.

The naming convention gives every constraint a deterministic name, which Alembic needs to alter
constraints later (and SQLite batch mode needs to recreate tables).
"""

from __future__ import annotations

import os
import time
import uuid
from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import JSON, DateTime, Dialect, MetaData, TypeDecorator, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

__all__ = [
    "NAMING_CONVENTION",
    "Base",
    "JSONType",
    "TimestampMixin",
    "UTCDateTime",
    "new_id",
    "refresh_statistics",
    "utcnow",
]

NAMING_CONVENTION: dict[str, str] = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

#: JSON on SQLite, JSONB on PostgreSQL.
JSONType = JSON().with_variant(JSONB(), "postgresql")


def utcnow() -> datetime:
    """The current time, timezone-aware in UTC; the only clock the persistence layer uses."""
    return datetime.now(UTC)


def new_id() -> str:
    """A new UUIDv7-style identifier as a 36-character string.

    The first 48 bits are the Unix time in milliseconds, the rest random (with the version and
    variant bits of RFC 9562 v7). Sorting by id therefore roughly sorts by creation time, which
    keeps index inserts local and makes ids handy in logs.
    """
    millis = time.time_ns() // 1_000_000
    value = (millis & ((1 << 48) - 1)) << 80
    value |= int.from_bytes(os.urandom(10), "big") & ((1 << 80) - 1)
    value &= ~(0xF << 76)
    value |= 0x7 << 76  # version 7
    value &= ~(0x3 << 62)
    value |= 0x2 << 62  # RFC 4122 variant
    return str(uuid.UUID(int=value))


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp that is always timezone-aware UTC going in and coming out.

    Naive datetimes are refused at bind time: guessing their zone is how off-by-eight-hours bugs
    (UTC vs. Asia/Shanghai) get into a lending system.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Normalise to UTC; SQLite gets a naive UTC value because it cannot store an offset."""
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value!r}: pass a timezone-aware value (use utcnow())")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Attach UTC to SQLite's naive values; convert PostgreSQL's aware values to UTC."""
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Base(DeclarativeBase):
    """Declarative base of every LendHub table; one ``MetaData`` so Alembic sees them all."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UTCDateTime()}


class TimestampMixin:
    """``created_at`` and ``updated_at`` set from the application clock (UTC), not the server's.

    Python-side defaults keep SQLite and PostgreSQL identical and make the values testable.
    """

    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime(), default=utcnow, onupdate=utcnow, nullable=False
    )


async def refresh_statistics(connection: AsyncConnection | AsyncSession) -> None:
    """Let SQLite's planner know the tables' sizes (PostgreSQL's autovacuum does this by itself).

    Without statistics SQLite guesses every index equally selective, and picked the owner index
    over a blind index matching ten rows, or sorted a branch's 30,000 customers to show twenty.
    ``analysis_limit`` makes ``ANALYZE`` sample rather than read every row: milliseconds, so it
    runs at start-up and after bulk loads.
    """
    dialect = connection.dialect if isinstance(connection, AsyncConnection) else connection.get_bind().dialect
    if dialect.name != "sqlite":
        return
    await connection.execute(text("PRAGMA analysis_limit=1000"))
    await connection.execute(text("ANALYZE"))
