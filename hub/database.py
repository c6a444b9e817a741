"""Engines, sessions, the start-up database check and programmatic migrations.

SQLite is tuned for the embedded default: WAL (readers never block the writer), enforced foreign
keys, and statements run on the event loop's thread, a writer waiting for the write lock
asleep on the loop rather than blocking it (``hub.sqlite_inline``). PostgreSQL's pool pings a
connection that sat idle before handing it out, so a restarted server does not hand out dead
connections.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DisconnectionError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from .sqlite_inline import InlineConnection, WalCheckpointer, inline_connector

__all__ = [
    "MIGRATIONS_DIR",
    "DatabaseUnavailable",
    "alembic_config",
    "check_database",
    "make_engine",
    "make_session_factory",
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

    For a SQLite file the parent directory is created (``var/`` on a fresh checkout). SQLite
    runs on the event loop's own thread (``hub.sqlite_inline``), with WAL, foreign keys, and a
    thread that checkpoints the WAL. Extra keyword arguments go to ``create_async_engine``.
    """
    parsed = make_url(url)
    if _is_sqlite(parsed):
        return _make_sqlite_engine(parsed, **kwargs)
    options: dict[str, Any] = {
        "pool_size": 10,
        "max_overflow": 10,
        "connect_args": {"prepared_statement_cache_size": PREPARED_STATEMENTS_PER_CONNECTION},
    }
    options.update(kwargs)
    engine = create_async_engine(parsed, **options)
    if not options.get("pool_pre_ping"):
        _ping_when_idle(engine)
    return engine


PREPARED_STATEMENTS_PER_CONNECTION = 1000
"""asyncpg prepares every statement once per connection and keeps the last N. A multi-row insert's
text differs with its row count, so batched writes (ingestion's group commit, a job's outcomes)
bring up to a few hundred distinct statements; with the default 100 they were prepared again
and again (measured in-process: 15 % of ingestion's CPU per webhook)."""

PING_IDLE_SECONDS = 10.0
"""A pooled PostgreSQL connection idle for longer is pinged before use (a server restart, an idle
timeout or a firewall may have dropped it). One in active use is not: a ping on every checkout
costs a round trip per transaction, which ingestion under load pays per batch. A dead connection
found in use fails that transaction once; SQLAlchemy then invalidates the pool's other connections
of the same age, so the next checkouts reconnect."""


def _ping_when_idle(engine: AsyncEngine) -> None:
    dialect = engine.sync_engine.dialect

    @event.listens_for(engine.sync_engine.pool, "checkin")
    def _idle_from(_dbapi_connection: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine.sync_engine.pool, "checkout")
    def _ping(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        idle_since = record.info.get("idle_since")
        if idle_since is None or time.monotonic() - idle_since < PING_IDLE_SECONDS:
            return
        try:
            dialect.do_ping(dbapi_connection)
        except Exception as exc:
            raise DisconnectionError("stale pooled connection") from exc  # the pool reconnects


def _make_sqlite_engine(url: URL, **kwargs: Any) -> AsyncEngine:
    database = url.database or ":memory:"
    path = _sqlite_file(url)
    if path is not None:
        path = path.expanduser()
        path.parent.mkdir(parents=True, exist_ok=True)
        database = str(path)
    pragmas = ["PRAGMA foreign_keys=ON", "PRAGMA busy_timeout=0"]
    if database != ":memory:" and "memory" not in database:
        pragmas += ["PRAGMA journal_mode=WAL", "PRAGMA synchronous=NORMAL"]
    checkpointer = WalCheckpointer(path) if path is not None else None
    if checkpointer is not None:
        pragmas.append("PRAGMA wal_autocheckpoint=0")  # the checkpointer's thread does it
    connect = inline_connector(
        database,
        pragmas=pragmas,
        busy_timeout=SQLITE_BUSY_TIMEOUT_MS / 1000,
        uri=str(url.query.get("uri", "")).lower() in ("1", "true"),
    )

    async def connect_inline() -> InlineConnection:
        connection = await connect()
        if checkpointer is not None:
            checkpointer.start()
        return connection

    engine = create_async_engine(url, async_creator=connect_inline, **kwargs)
    if checkpointer is not None:
        event.listen(engine.sync_engine, "engine_disposed", lambda _engine: checkpointer.stop())
    return engine


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
