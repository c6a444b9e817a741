"""Re-sealing stored personal data under the newest key, in batches, resumable.

Columns are found by type (every ``Sealed`` column of every table), so a new table with PII is
covered without being listed anywhere. Each batch selects rows whose value names another key id,
re-seals them and commits; an interrupted run simply finds fewer rows the next time.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from sqlalchemy import Column, MetaData, Table, Text, column, select, table, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from .keyring import PREFIX, KeyRing
from .types import Sealed

__all__ = ["SealedColumn", "rotate_keys", "sealed_columns"]


@dataclass(frozen=True)
class SealedColumn:
    """One column holding sealed values, with its table's single-column primary key."""

    table: Table
    column: Column[object]
    field_class: str

    @property
    def label(self) -> str:
        """``table.column``."""
        return f"{self.table.name}.{self.column.name}"


def sealed_columns(metadata: MetaData) -> Iterator[SealedColumn]:
    """Every sealed column of tables with a single-column primary key."""
    for each in metadata.sorted_tables:
        if len(each.primary_key.columns) != 1:
            continue
        for col in each.columns:
            if isinstance(col.type, Sealed):
                yield SealedColumn(each, col, col.type.field_class)


async def rotate_keys(
    sessions: async_sessionmaker[AsyncSession],
    metadata: MetaData,
    ring: KeyRing,
    *,
    batch: int = 500,
    progress: Callable[[str, int], None] | None = None,
) -> dict[str, int]:
    """Re-seal every value not under ``ring``'s newest key; returns rows re-sealed per column.

    Values are read and written as raw text (a lightweight ``table()`` without the ``Sealed``
    type), so nothing is opened into a ``PII`` object or sealed twice.
    """
    current = f"{PREFIX}:{ring.current_kid}:"
    done: dict[str, int] = {}
    for sealed in sealed_columns(metadata):
        key_name = next(iter(sealed.table.primary_key.columns)).name
        raw = table(sealed.table.name, column(key_name), column(sealed.column.name, Text()))
        key, value = raw.c[key_name], raw.c[sealed.column.name]
        count = 0
        while True:
            async with sessions() as session, session.begin():
                statement = (
                    select(key, value).where(value.isnot(None), ~value.startswith(current)).limit(batch)
                )
                rows = (await session.execute(statement)).all()
                for row_key, token in rows:
                    resealed = ring.seal(ring.open(token, sealed.field_class), sealed.field_class)
                    await session.execute(
                        update(raw).where(key == row_key).values({sealed.column.name: resealed})
                    )
            count += len(rows)
            if progress is not None and rows:
                progress(sealed.label, count)
            if len(rows) < batch:
                break
        done[sealed.label] = count
    return done
