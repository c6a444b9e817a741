"""Many rows in one PostgreSQL ``INSERT``: one array parameter per column, expanded by ``unnest``.

SQLAlchemy's multi-row insert renders one placeholder per value, so its statement text changes
with the row count, and it builds a parameter dictionary for every row. For ingestion's group
commit that was most of the writer's CPU per webhook. Here the statement is the same whatever the
row count (prepared once per connection), and each value goes through its column type's own bind
processor, so validation and JSON encoding are exactly what the ORM would do. SQLite keeps the
ordinary executemany: it runs in-process, without round trips or statement preparation to save.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Table, TextClause, text
from sqlalchemy.engine import Dialect

__all__ = ["unnest_insert", "unnest_params"]


@functools.cache
def unnest_insert(
    table: Table,
    columns: tuple[str, ...],
    *,
    dialect: Dialect,
    conflict: tuple[str, ...] = (),
    returning: str | None = None,
) -> TextClause:
    """``INSERT INTO table (columns) SELECT * FROM unnest(...)``, built once per shape.

    Args:
        table: the table.
        columns: the columns given, in order; ``unnest_params`` must get the same.
        dialect: a PostgreSQL dialect (column types are rendered with it).
        conflict: index columns for ``ON CONFLICT (...) DO NOTHING``; none for a plain insert.
        returning: a column to return for each inserted row.
    """
    arrays = ", ".join(
        f"CAST(:c{index} AS {table.c[name].type.compile(dialect=dialect)}[])"
        for index, name in enumerate(columns)
    )
    sql = f"INSERT INTO {table.name} ({', '.join(columns)}) SELECT * FROM unnest({arrays})"
    if conflict:
        sql += f" ON CONFLICT ({', '.join(conflict)}) DO NOTHING"
    if returning:
        sql += f" RETURNING {returning}"
    return text(sql)


def unnest_params(
    table: Table, columns: tuple[str, ...], rows: Sequence[Mapping[str, Any]], *, dialect: Dialect
) -> dict[str, list[Any]]:
    """The column arrays for ``unnest_insert``: each value through its column type's bind processor."""
    params: dict[str, list[Any]] = {}
    for index, name in enumerate(columns):
        process = _processor(table, name, dialect)
        values = [row[name] for row in rows]
        params[f"c{index}"] = [process(v) for v in values] if process is not None else values
    return params


@functools.cache
def _processor(table: Table, column: str, dialect: Dialect) -> Any:
    return table.c[column].type.dialect_impl(dialect).bind_processor(dialect)
