"""Alembic environment: async engine, batch mode on SQLite, URL from the caller or settings.

Two processes may migrate at once (two ``lendhub db upgrade``, or several replicas started
together with an upgrade step). On PostgreSQL both would find no ``alembic_version`` and both
create it, one failing on ``pg_type_typname_nsp_index``; so the whole upgrade runs under a
transaction-level advisory lock (``MIGRATION_LOCK``): the second waits, then finds the database at
head and does nothing. The lock goes with the transaction, so a process killed mid-upgrade cannot
leave it held. On SQLite the file's own write lock serialises: the upgrade takes it first
(``BEGIN IMMEDIATE``, waiting while another process holds it) rather than at its first write, as
the hub's driver would, because Alembic reads ``alembic_version`` before writing and two readers
that both saw an empty file would both create the tables. ``tests/hub/test_migration_lock.py``
races two real processes on each.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any, Literal

from alembic import context
from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import OperationalError

import core.models
from core.db import UTCDateTime
from hub.database import make_engine

config = context.config
target_metadata = core.models.metadata

MIGRATION_LOCK = 0x4C48_4D49_4752  # "LHMIGR": any fixed bigint, the same in every LendHub
SQLITE_LOCK_WAIT_SECONDS = 120.0  # another process's whole upgrade may run meanwhile


def _database_url() -> str:
    url = config.attributes.get("database_url") or config.get_main_option("sqlalchemy.url")
    if url:
        return str(url)
    from hub.settings import load_settings

    return load_settings().database_url


def _render_item(type_: str, obj: Any, autogen_context: Any) -> str | Literal[False]:
    """Render ``UTCDateTime`` as a plain timestamptz so revisions never import ``core``."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        # SQLite cannot ALTER most things; batch mode recreates the table instead.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        render_item=_render_item,
    )


def _lock(connection: Connection) -> None:
    """Hold the database's migration lock until the upgrade commits (or rolls back)."""
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
    elif connection.dialect.name == "sqlite":
        deadline = time.monotonic() + SQLITE_LOCK_WAIT_SECONDS
        while True:
            try:
                connection.exec_driver_sql("BEGIN IMMEDIATE")
                return
            except OperationalError as exc:
                connection.rollback()
                if "locked" not in str(exc) or time.monotonic() >= deadline:
                    raise
            time.sleep(0.05)  # env.py runs on a loop of its own, in a thread: nothing else waits


def _run_sync(connection: Connection) -> None:
    _lock(connection)  # before Alembic reads alembic_version
    _configure(connection)
    with context.begin_transaction():
        context.run_migrations()


async def _run_async() -> None:
    engine = make_engine(_database_url())
    try:
        async with engine.connect() as connection:
            await connection.run_sync(_run_sync)
            await connection.commit()
    finally:
        await engine.dispose()


def run_migrations_offline() -> None:
    context.configure(
        url=_database_url(),
        target_metadata=target_metadata,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
        render_as_batch=_database_url().startswith("sqlite"),
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    asyncio.run(_run_async())
