"""Database and Redis fixtures shared by tests/core and tests/hub.

SQLite (a fresh file per test) always; PostgreSQL too when ``LENDHUB_TEST_DATABASE_URL`` is set.
PostgreSQL tests run in a database created for this test session (unique name, dropped at the
end), so parallel runs never see each other's rows. A configured server that cannot be reached
makes the tests error, never skip.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import sqlite3
import subprocess
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import pytest
from alembic.migration import MigrationContext
from sqlalchemy import Column, Integer, MetaData, String, Table, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from core.models import metadata
from hub.database import make_engine, make_session_factory, upgrade_database
from hub.schema import script_directory

PG_URL = os.environ.get("LENDHUB_TEST_DATABASE_URL") or None
REDIS_URL = os.environ.get("LENDHUB_TEST_REDIS_URL") or None

BACKENDS = [pytest.param("sqlite", id="sqlite")]
if PG_URL:
    BACKENDS.append(pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgres))

#: Rows written by test job handlers; counting them shows whether work was lost or doubled.
test_metadata = MetaData()
effects = Table(
    "test_effects",
    test_metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("job_id", String(36), nullable=False),
    Column("note", String(100), nullable=False, default=""),
)


def _admin_dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def create_pg_database(base_url: str) -> str:
    """Create an empty database next to ``base_url``'s and return its SQLAlchemy URL."""
    name = f"lendhub_test_{uuid.uuid4().hex[:12]}"
    connection = await asyncpg.connect(_admin_dsn(base_url))
    try:
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()
    return make_url(base_url).set(database=name).render_as_string(hide_password=False)


async def drop_pg_database(url: str) -> None:
    """Drop a database made by ``create_pg_database``, disconnecting stragglers."""
    name = make_url(url).database
    connection = await asyncpg.connect(_admin_dsn(PG_URL or url))
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await connection.close()


@pytest.fixture(scope="session")
def pg_session_url() -> Iterator[str]:
    """A migrated PostgreSQL database for this test session."""
    assert PG_URL, "LENDHUB_TEST_DATABASE_URL is not set"
    url = asyncio.run(create_pg_database(PG_URL))
    try:
        asyncio.run(upgrade_database(url))
        yield url
    finally:
        asyncio.run(drop_pg_database(url))


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The URL of an empty LendHub database (schema created by the ``engine`` fixture)."""
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'lendhub.db'}"
    url: str = request.getfixturevalue("pg_session_url")
    return url


def stamp_head(connection: Connection) -> None:
    """Record the head migration in a database made with ``create_all``.

    ``create_all`` is much faster than running every migration for each test, and
    ``tests/hub/test_migrations.py`` proves both give the same schema; the stamp is what lets the
    hub's start-up check (``hub.schema``) accept such a database, which it otherwise refuses.
    """
    MigrationContext.configure(connection).stamp(script_directory(), "head")


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    """An engine on a database with every LendHub table (empty, at the head migration) plus ``test_effects``."""
    engine = make_engine(database_url)
    async with engine.begin() as connection:
        if engine.dialect.name == "sqlite":
            await connection.run_sync(metadata.create_all)
            await connection.run_sync(stamp_head)
        else:
            tables = ", ".join(metadata.tables)
            await connection.execute(text(f"TRUNCATE {tables}"))
        await connection.run_sync(test_metadata.create_all)
        await connection.execute(effects.delete())
    try:
        yield engine
    finally:
        await engine.dispose()


@pytest.fixture
def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions on the test database."""
    return make_session_factory(engine)


@pytest.fixture
def redis_url() -> str:
    """The Redis server named by ``LENDHUB_TEST_REDIS_URL``; tests skip when it is unset."""
    if not REDIS_URL:
        pytest.skip("LENDHUB_TEST_REDIS_URL is not set")
    return REDIS_URL


async def raw_dump(engine: AsyncEngine) -> str:
    """Everything stored in the database as text, read past every column type.

    SQLite: ``sqlite3``'s ``.dump`` of the file. PostgreSQL: ``pg_dump --data-only`` of the
    database where the client is installed (CI), otherwise each row of each table cast to text (a
    ``bytea`` shows as hex, ``jsonb`` as JSON). What personal data looks like at rest.
    """
    if engine.dialect.name == "sqlite":
        path = engine.url.database
        assert path, "an in-memory database has no file to dump"
        connection = sqlite3.connect(path)
        try:
            return "\n".join(connection.iterdump())
        finally:
            connection.close()
    pg_dump = shutil.which("pg_dump")
    if pg_dump:
        dsn = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
        done = await asyncio.to_thread(
            subprocess.run,
            [pg_dump, "--data-only", "--no-owner", dsn],
            capture_output=True,
            text=True,
            check=True,
        )
        return done.stdout
    async with engine.connect() as connection:
        lines = []
        for table in metadata.tables:
            rows = await connection.execute(text(f"SELECT t::text FROM {table} t"))
            lines += [f"{table}: {row}" for (row,) in rows]
        return "\n".join(lines)


def clear_forms(value: str) -> list[str]:
    """The ways ``value`` could appear in a dump: as is, JSON-escaped, and as UTF-8 hex (blobs)."""
    hexed = value.encode("utf-8").hex()
    return [value, json.dumps(value)[1:-1], hexed, hexed.upper()]


def assert_not_in_dump(dump: str, *values: str) -> None:
    """None of ``values`` is readable in ``dump`` in any of its ``clear_forms``."""
    assert "pii1:" in dump, "the dump holds no sealed value: nothing was written, or the dump read nothing"
    leaked = [form for value in values for form in clear_forms(value) if form in dump]
    assert not leaked, f"clear personal data at rest: {leaked}"
