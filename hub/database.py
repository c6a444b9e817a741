"""Engines, sessions, the start-up database check and programmatic migrations.

SQLite is tuned for the embedded default: WAL (readers never block the writer), a busy timeout
(a second writer waits instead of failing at once) and enforced foreign keys. PostgreSQL gets a
pre-pinged pool so a restarted server does not hand out dead connections.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

__all__ = [
    "MIGRATIONS_DIR",
    "DatabaseUnavailable",
    "alembic_config",
    "check_database",
    "make_engine",
    "make_session_factory",
    "make_sqlite_thread_engine",
    "mask_url",
    "upgrade_database",
]

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
SQLITE_BUSY_TIMEOUT_MS = 10_000


class DatabaseUnavailable(Exception):
    """The database cannot be reached or used; the message names the URL (masked) and the cause."""

    def __init__(self, url: str, cause: BaseException | str) -> None:
        self.url = mask_url(url)
        reason = cause if isinstance(cause, str) else f"{type(cause).__name__}: {cause}".rstrip(": ")
        self.reason = reason
        super().__init__(f"cannot use the database at {self.url}: {reason}")


def mask_url(url: str | URL) -> str:
    """The URL with its password replaced by ``***``, safe for messages and logs."""
    try:
        parsed = make_url(url) if isinstance(url, str) else url
    except ArgumentError:
        return "<unparseable database URL>"
    return parsed.render_as_string(hide_password=True)


def _is_sqlite(url: URL) -> bool:
    return url.get_backend_name() == "sqlite"


def _sqlite_file(url: URL) -> Path | None:
    database = url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return Path(database)


def make_engine(url: str, **kwargs: Any) -> AsyncEngine:
    """Create an async engine for a ``sqlite+aiosqlite`` or ``postgresql+asyncpg`` URL.

    For a SQLite file the parent directory is created (``var/`` on a fresh checkout) and every
    connection gets WAL, a busy timeout and foreign keys. Extra keyword arguments go to
    ``create_async_engine``.
    """
    parsed = make_url(url)
    if _is_sqlite(parsed):
        path = _sqlite_file(parsed)
        if path is not None:
            path.expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(parsed, **kwargs)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    options: dict[str, Any] = {"pool_pre_ping": True, "pool_size": 10, "max_overflow": 10}
    options.update(kwargs)
    return create_async_engine(parsed, **options)


def make_sqlite_thread_engine(engine: AsyncEngine) -> Engine | None:
    """A synchronous engine on the same SQLite file, for work done whole in one thread.

    aiosqlite hands every DBAPI call to its thread and back, several per statement; a writer
    that runs a whole transaction in one thread of its own saves those hops (measured on
    ingestion: about a sixth more webhooks per second). ``None`` for anything but a SQLite
    file (PostgreSQL, or an in-memory database another engine could not share).
    """
    url = engine.url
    if not _is_sqlite(url) or _sqlite_file(url) is None:
        return None
    sync_engine = create_engine(url.set(drivername="sqlite+pysqlite"))
    event.listen(sync_engine, "connect", _sqlite_pragmas)
    return sync_engine


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
    finally:
        cursor.close()


def make_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions that keep loaded attributes after commit (no surprise lazy loads in async code)."""
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=True)


async def check_database(engine: AsyncEngine, *, within: float = 10.0) -> None:
    """Run ``SELECT 1``.

    Raises:
        DatabaseUnavailable: naming the masked URL and the cause (refused connection, unknown
            database, unreadable file, timeout...).
    """
    try:
        async with asyncio.timeout(within):
            async with engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
    except TimeoutError as exc:
        raise DatabaseUnavailable(str(engine.url), f"no answer within {within:g} s") from exc
    except Exception as exc:
        if engine.dialect.name == "sqlite":
            # aiosqlite stops its thread after a failed connect without awaiting it; give the
            # thread a moment so it does not report to an event loop that has since closed.
            await asyncio.sleep(0.05)
        raise DatabaseUnavailable(str(engine.url), _root_cause(exc)) from exc


def _root_cause(exc: BaseException) -> BaseException:
    """The driver's own error rather than SQLAlchemy's wrapper with its long help link."""
    original = getattr(exc, "orig", None)
    if isinstance(original, BaseException):
        return original
    return exc


def alembic_config(url: str) -> Any:
    """An Alembic ``Config`` without ``alembic.ini``: works from an installed package too."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["database_url"] = url
    return config


async def upgrade_database(url: str, revision: str = "head") -> None:
    """Apply migrations up to ``revision`` (head by default).

    The database is checked first so an unreachable server gives ``DatabaseUnavailable`` rather
    than a traceback from inside Alembic.

    Raises:
        DatabaseUnavailable: the database cannot be reached.
    """
    from alembic import command

    engine = make_engine(url)
    try:
        await check_database(engine)
    finally:
        await engine.dispose()
    config = alembic_config(url)
    # Alembic's command API is synchronous and env.py runs its own event loop; keep it off ours.
    await asyncio.to_thread(command.upgrade, config, revision)
