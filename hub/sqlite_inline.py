"""SQLite on the event loop's own thread, as the driver under SQLAlchemy's asyncio engine.

aiosqlite runs every DBAPI call in a thread of its own and hands each result back to the loop,
several hand-offs per statement, and under CPU contention each hand-off waits for the
scheduler. A transaction that holds SQLite's single write lock is stretched by every one of
them, and every other writer waits that long: measured with ``bench/webhooks.py``, a worker's
short outcome transaction held the lock for up to 25 ms while the ingestion writer waited. A
statement on a local SQLite file takes microseconds, so here it runs inline, and the one wait
that can be long, for the write lock, is spent asleep on the loop instead of blocking it:

* Connections are in autocommit mode with no busy timeout: nothing inside SQLite ever sleeps.
* A statement that writes, outside a transaction, first takes the write lock with
  ``BEGIN IMMEDIATE``, tried again every millisecond (``asyncio.sleep``) until it succeeds or
  the busy timeout passes; that transaction lasts until SQLAlchemy commits or rolls back. A read
  outside a transaction runs on its own, as in pysqlite's legacy mode.
* Checkpoints, which copy the WAL into the database file and sync it, run in a thread of their
  own (``WalCheckpointer``) rather than inside whichever commit crosses the threshold.

The trade-off: a slow statement (a large scan) holds up the event loop while it runs. SQLite is
the embedded default for small installations; PostgreSQL is the choice at scale.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import threading
import time
from collections.abc import AsyncIterator, Callable, Coroutine, Iterable, Sequence
from pathlib import Path
from typing import Any

__all__ = ["InlineConnection", "WalCheckpointer", "inline_connector", "writes"]

log = logging.getLogger(__name__)

_NO_LOCK = frozenset(
    {"SELECT", "PRAGMA", "EXPLAIN", "BEGIN", "COMMIT", "END", "ROLLBACK", "ATTACH", "DETACH"}
)
"""First keywords of statements that do not take the write lock first: reads, transaction
control, and the statements SQLite refuses inside a transaction. ``VALUES`` and ``WITH`` are
treated as writes (a CTE may end in an UPDATE): taking the lock for a read is merely slower."""

_RETRY_SECONDS = 0.001


def writes(sql: str) -> bool:
    """Whether ``sql`` must run inside a write transaction (judged by its first keyword)."""
    words = sql.lstrip(" \t\r\n(").split(None, 1)
    return bool(words) and words[0].upper() not in _NO_LOCK


class _Cursor:
    """The asyncio cursor SQLAlchemy's aiosqlite dialect expects, over a ``sqlite3`` cursor."""

    __slots__ = ("_cursor", "_owner")

    def __init__(self, owner: InlineConnection) -> None:
        self._owner = owner
        self._cursor = owner.raw.cursor()

    async def __aenter__(self) -> _Cursor:
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._cursor.close()

    @property
    def description(self) -> Any:
        return self._cursor.description

    @property
    def rowcount(self) -> int:
        return self._cursor.rowcount

    @property
    def lastrowid(self) -> int | None:
        return self._cursor.lastrowid

    @property
    def arraysize(self) -> int:
        return self._cursor.arraysize

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        self._cursor.arraysize = value

    async def execute(self, sql: str, parameters: Any = ()) -> _Cursor:
        await self._owner.prepare(sql)
        self._cursor.execute(sql, parameters)
        return self

    async def executemany(self, sql: str, seq_of_parameters: Iterable[Any]) -> _Cursor:
        await self._owner.prepare(sql)
        self._cursor.executemany(sql, seq_of_parameters)
        return self

    async def fetchone(self) -> Any:
        return self._cursor.fetchone()

    async def fetchmany(self, size: int | None = None) -> list[Any]:
        return self._cursor.fetchmany(self._cursor.arraysize if size is None else size)

    async def fetchall(self) -> list[Any]:
        return self._cursor.fetchall()

    async def close(self) -> None:
        self._cursor.close()

    async def __aiter__(self) -> AsyncIterator[Any]:
        for row in self._cursor:
            yield row


class InlineConnection:
    """A ``sqlite3`` connection driven from the event loop's thread, shaped like aiosqlite's.

    Args:
        raw: a connection in autocommit mode (``isolation_level=None``), busy timeout 0.
        busy_timeout: seconds to keep trying for the write lock before "database is locked".
    """

    def __init__(self, raw: sqlite3.Connection, busy_timeout: float) -> None:
        self.raw = raw
        self.busy_timeout = busy_timeout

    @property
    def _connection(self) -> sqlite3.Connection:
        # SQLAlchemy's dialect checks this aiosqlite attribute before commit and rollback.
        return self.raw

    @property
    def isolation_level(self) -> str | None:
        """``None``: the driver never begins transactions; ``prepare`` does, for writes."""
        return self.raw.isolation_level

    def cursor(self) -> _Cursor:
        """A new cursor (SQLAlchemy enters it with ``async with``)."""
        return _Cursor(self)

    async def prepare(self, sql: str) -> None:
        """Before ``sql`` runs: take the write lock if it writes and no transaction is open."""
        if self.raw.in_transaction or not writes(sql):
            return
        deadline = time.monotonic() + self.busy_timeout
        while True:
            try:
                self.raw.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() >= deadline:
                    raise
            await asyncio.sleep(_RETRY_SECONDS)

    async def commit(self) -> None:
        """Commit the open transaction, if any."""
        self.raw.commit()

    async def rollback(self) -> None:
        """Roll back the open transaction, if any."""
        self.raw.rollback()

    async def close(self) -> None:
        """Close the connection (an open transaction is rolled back)."""
        self.raw.close()

    async def create_function(self, *args: Any, **kwargs: Any) -> None:
        """``sqlite3.Connection.create_function`` (the dialect registers ``regexp``)."""
        self.raw.create_function(*args, **kwargs)

    def stop(self) -> None:
        """Close at once: SQLAlchemy's forced termination of a connection."""
        self.raw.close()


def inline_connector(
    database: str, *, pragmas: Sequence[str], busy_timeout: float, uri: bool = False
) -> Callable[[], Coroutine[Any, Any, InlineConnection]]:
    """An ``async_creator`` for ``create_async_engine``: new inline connections to ``database``."""

    async def connect() -> InlineConnection:
        raw = sqlite3.connect(database, isolation_level=None, check_same_thread=False, uri=uri)
        try:
            for pragma in pragmas:
                await _pragma(raw, pragma, busy_timeout)
        except BaseException:
            raw.close()
            raise
        return InlineConnection(raw, busy_timeout)

    return connect


async def _pragma(raw: sqlite3.Connection, pragma: str, busy_timeout: float) -> None:
    """Run ``pragma``, waiting as a write does while another process holds the lock.

    ``journal_mode=WAL`` needs the file to itself the first time; a process connecting while
    another creates a fresh file (two ``lendhub db upgrade`` at once) would otherwise fail at once.
    """
    deadline = time.monotonic() + busy_timeout
    while True:
        try:
            raw.execute(pragma)
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() >= deadline:
                raise
        await asyncio.sleep(_RETRY_SECONDS)


class WalCheckpointer:
    """Checkpoints a SQLite file's WAL every ``interval`` seconds, in a thread of its own.

    Connections made by ``inline_connector`` switch automatic checkpoints off, since a checkpoint
    run by a commit would sync the database file on the event loop. A PASSIVE checkpoint never
    waits for readers or writers, and costs next to nothing when the WAL holds nothing new; what
    it cannot copy yet (a reader still needs it), the next one does.
    """

    def __init__(self, path: Path, *, interval: float = 0.25) -> None:
        self.path = path
        self.interval = interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def start(self) -> None:
        """Start the thread unless it runs already (every new connection calls this)."""
        with self._lock:
            if self._thread is None:
                self._stop = threading.Event()
                self._thread = threading.Thread(
                    target=self._run, args=(self._stop,), name="sqlite-checkpoint", daemon=True
                )
                self._thread.start()

    def stop(self) -> None:
        """Stop the thread after its current checkpoint and wait for it (the engine was disposed)."""
        with self._lock:
            thread, self._thread = self._thread, None
            self._stop.set()
        if thread is not None:
            thread.join()

    def _run(self, stop: threading.Event) -> None:
        connection: sqlite3.Connection | None = None
        try:
            while not stop.wait(self.interval):
                try:
                    if connection is None:  # read-write, never create: the file is the engine's
                        uri = f"{self.path.resolve().as_uri()}?mode=rw"
                        connection = sqlite3.connect(uri, uri=True, timeout=self.interval)
                    connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                except sqlite3.Error:
                    log.warning("checkpoint of %s failed; trying again later", self.path, exc_info=True)
        finally:
            if connection is not None:
                connection.close()
