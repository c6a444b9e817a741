"""Per-object ordering of inbox events: the newest version processed for each object.

An event that names its object and a version is compared with what this table records, so that
an older status never overwrites a newer one. Statements are built once, per dialect where the
upsert differs.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy import Table, bindparam, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from core.db import utcnow
from core.webhooks.models import WebhookObjectVersion

__all__ = [
    "advance_object_versions",
    "newest_object_versions",
]


async def newest_object_versions(
    session: AsyncSession, source: str, instance: str, object_ids: Sequence[str]
) -> dict[str, int]:
    """The newest version processed for each of these objects of one source instance, in one query.

    Objects with no processed version are absent from the result.
    """
    if not object_ids:
        return {}
    params = {"p_source": source, "p_instance": instance, "p_object_ids": list(object_ids)}
    rows = (await session.execute(_NEWEST_VERSIONS, params)).all()
    return {row.object_id: row.version for row in rows}


_NEWEST_VERSIONS = select(WebhookObjectVersion.object_id, WebhookObjectVersion.version).where(
    WebhookObjectVersion.source == bindparam("p_source"),
    WebhookObjectVersion.instance == bindparam("p_instance"),
    WebhookObjectVersion.object_id.in_(bindparam("p_object_ids", expanding=True)),
)


async def advance_object_versions(
    session: AsyncSession, advances: Sequence[tuple[str, str, str, int, str]]
) -> set[tuple[str, str, str]]:
    """Record each ``(source, instance, object_id, version, event_id)`` as its object's newest.

    One conditional upsert, executed for every tuple (a multi-row statement where the driver
    allows): an older version than the one recorded changes nothing. Returns the
    ``(source, instance, object_id)`` that advanced. On PostgreSQL each row lock is held until
    the caller commits, so two workers on one object are serialised and the older event loses;
    rows are locked in the order given, so callers that sort cannot deadlock one another. An
    object must appear at most once.
    """
    if not advances:
        return set()
    now = utcnow()
    params = [
        {
            "p_source": a[0],
            "p_instance": a[1],
            "p_object_id": a[2],
            "p_version": a[3],
            "p_event_id": a[4],
            "p_now": now,
        }
        for a in advances
    ]
    rows = (await session.execute(_advance_statement(session.get_bind().dialect.name), params)).all()
    return {(row.source, row.instance, row.object_id) for row in rows}


@functools.cache
def _advance_statement(dialect: str) -> Any:
    """The conditional upsert of ``advance_object_versions``, built once per dialect."""
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    table = cast(Table, WebhookObjectVersion.__table__)
    stmt = insert(table).values(
        source=bindparam("p_source"),
        instance=bindparam("p_instance"),
        object_id=bindparam("p_object_id"),
        version=bindparam("p_version"),
        event_id=bindparam("p_event_id"),
        updated_at=bindparam("p_now", type_=table.c.updated_at.type),
    )
    upsert = stmt.on_conflict_do_update(
        index_elements=["source", "instance", "object_id"],
        set_={
            "version": stmt.excluded.version,
            "event_id": stmt.excluded.event_id,
            "updated_at": stmt.excluded.updated_at,
        },
        where=table.c.version <= stmt.excluded.version,
    )
    return upsert.returning(table.c.source, table.c.instance, table.c.object_id)
