"""Many rows in one PostgreSQL ``INSERT``: one array parameter per column, expanded by ``unnest``.

SQLAlchemy's multi-row insert renders one placeholder per value, so its statement text changes
with the row count, and it builds a parameter dictionary for every row. For ingestion's group
commit that was most of the writer's CPU per webhook. Here the statement is the same whatever the
row count (prepared once per connection), and each value goes through its column type's own bind
processor, so validation and JSON encoding are exactly what the ORM would do. On SQLite, which has
no arrays, the same column-wise processing feeds a plain DBAPI ``executemany``
(``insert_many_sql``, ``row_tuples``).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Table, TextClause, text
from sqlalchemy.engine import Dialect

__all__ = [
    "column_values",
    "insert_many_sql",
    "row_tuples",
    "unnest_insert",
    "unnest_params",
    "unnest_update",
]


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


@functools.cache
def unnest_update(
    table: Table, key: str, guard: str, assigned: tuple[str, ...], *, dialect: Dialect
) -> TextClause:
    """``UPDATE table SET assigned FROM unnest(...)``: row ``i`` gets the ``i``-th value of each array.

    Parameters ``c0`` (the ``key`` of each row to change), ``c1`` (the value its ``guard`` column
    must still hold, or the row is left alone: a status that moved on meanwhile), then one per
    ``assigned`` column; build each with ``column_values``. Keys must be unique in one call.
    """
    names = (key, guard, *assigned)
    types = [table.c[name].type.compile(dialect=dialect) for name in names]
    arrays = ", ".join(f"CAST(:c{index} AS {type_}[])" for index, type_ in enumerate(types))
    aliases = ", ".join(f"a{index}" for index in range(len(names)))
    sets = ", ".join(f"{name} = v.a{index + 2}" for index, name in enumerate(assigned))
    return text(
        f"UPDATE {table.name} SET {sets} FROM unnest({arrays}) AS v({aliases}) "
        f"WHERE {table.name}.{key} = v.a0 AND {table.name}.{guard} = v.a1"
    )


def column_values(table: Table, column: str, values: Sequence[Any], *, dialect: Dialect) -> list[Any]:
    """One parameter array: ``values`` through ``column``'s type's bind processor."""
    process = _processor(table, column, dialect)
    return [process(v) for v in values] if process is not None else list(values)


@functools.cache
def insert_many_sql(table: Table, columns: tuple[str, ...], *, conflict: tuple[str, ...] = ()) -> str:
    """SQLite's ``INSERT … VALUES (?, …)`` for ``executemany`` with ``row_tuples``, built once."""
    sql = f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
    if conflict:
        sql += f" ON CONFLICT ({', '.join(conflict)}) DO NOTHING"
    return sql


def row_tuples(
    table: Table, columns: tuple[str, ...], rows: Sequence[Mapping[str, Any]], *, dialect: Dialect
) -> list[tuple[Any, ...]]:
    """The rows as DBAPI parameter tuples, each value through its column type's bind processor."""
    arrays = [column_values(table, name, [row[name] for row in rows], dialect=dialect) for name in columns]
    return list(zip(*arrays, strict=True))


def unnest_params(
    table: Table, columns: tuple[str, ...], rows: Sequence[Mapping[str, Any]], *, dialect: Dialect
) -> dict[str, list[Any]]:
    """The column arrays for ``unnest_insert``: each value through its column type's bind processor."""
    return {
        f"c{index}": column_values(table, name, [row[name] for row in rows], dialect=dialect)
        for index, name in enumerate(columns)
    }


@functools.cache
def _processor(table: Table, column: str, dialect: Dialect) -> Any:
    return table.c[column].type.dialect_impl(dialect).bind_processor(dialect)
