"""Inbox status changes that only happen from an expected status, one row or a job's worth at once.

A worker's outcome, an operator's discard and a replay race one another; each change names the
status it expects, so whichever comes second finds the row moved on and changes nothing.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from typing import Any, cast

from sqlalchemy import Table, bindparam, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.bulk import column_values, unnest_update
from core.db import utcnow
from core.webhooks.models import WebhookInboxEvent

__all__ = ["set_status", "set_statuses"]

_INBOX_TABLE = cast(Table, WebhookInboxEvent.__table__)


async def set_status(session: AsyncSession, inbox_id: str, expected: Sequence[str], **values: Any) -> bool:
    """Change a row only if its status is one of ``expected``; ``False`` if it was not."""
    stmt = _set_status_statement(tuple(sorted(values)))
    params = {f"v_{name}": value for name, value in values.items()}
    params.update(p_id=inbox_id, p_expected=list(expected), v_updated_at=utcnow())
    result = await session.execute(stmt, params)
    count: int = getattr(result, "rowcount", 0)
    return count == 1


async def set_statuses(session: AsyncSession, changes: Sequence[tuple[str, str, Mapping[str, Any]]]) -> None:
    """``set_status`` for many ``(inbox_id, expected status, values)``: one statement per shape.

    For outcomes whose caller needs no answer: a row whose status moved on meanwhile (discarded)
    is left alone, silently.
    """
    now = utcnow()
    dialect = session.get_bind().dialect
    shapes: dict[tuple[str, ...], list[tuple[str, str, Mapping[str, Any]]]] = {}
    for change in changes:
        shapes.setdefault(tuple(sorted(change[2])), []).append(change)
    if dialect.name == "postgresql":  # one statement, prepared once, per shape (core.bulk)
        for shape, group in shapes.items():
            params = {
                "c0": [inbox_id for inbox_id, _, _ in group],
                "c1": [expected for _, expected, _ in group],
                **{
                    f"c{index + 2}": column_values(
                        _INBOX_TABLE, name, [v[name] for _, _, v in group], dialect=dialect
                    )
                    for index, name in enumerate(shape)
                },
                f"c{len(shape) + 2}": column_values(
                    _INBOX_TABLE, "updated_at", [now] * len(group), dialect=dialect
                ),
            }
            stmt = unnest_update(_INBOX_TABLE, "id", "status", (*shape, "updated_at"), dialect=dialect)
            await session.execute(stmt, params)
        return
    for shape, group in shapes.items():
        many = [
            {
                **{f"v_{name}": value for name, value in values.items()},
                "p_id": inbox_id,
                "p_expected_one": expected,
                "v_updated_at": now,
            }
            for inbox_id, expected, values in group
        ]
        await session.execute(_set_status_statement(shape, many=True), many)


@functools.cache
def _set_status_statement(columns: tuple[str, ...], *, many: bool = False) -> Any:
    """The conditional update of ``set_status`` for one set of columns, built once per set.

    The form for many rows takes one expected status: expanding ``IN`` lists cannot be
    executed many times in one call.
    """
    table = cast(Table, WebhookInboxEvent.__table__)
    expected = (
        table.c.status == bindparam("p_expected_one")
        if many
        else table.c.status.in_(bindparam("p_expected", expanding=True))
    )
    return (
        update(table)
        .where(table.c.id == bindparam("p_id"), expected)
        .values({name: bindparam(f"v_{name}", type_=table.c[name].type) for name in (*columns, "updated_at")})
    )
