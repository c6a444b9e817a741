"""SQLite on the loop's thread: the write lock is awaited without blocking the loop, and given up
with a clear error after the busy timeout; reads never wait; transactions hold; checkpoints run
in their own thread."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import threading
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from sqlalchemy import event, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import create_async_engine
from waiting import wait_for

from hub.database import make_engine
from hub.sqlite_inline import WalCheckpointer, inline_connector, writes


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("SELECT 1", False),
        ("  select * FROM t", False),
        ("(SELECT 1) UNION (SELECT 2)", False),
        ("PRAGMA journal_mode", False),
        ("EXPLAIN QUERY PLAN SELECT 1", False),
        ("BEGIN IMMEDIATE", False),
        ("COMMIT", False),
        ("ROLLBACK", False),
        ("ATTACH DATABASE 'x' AS x", False),
        ("INSERT INTO t VALUES (1)", True),
        ("\n  update t SET a = 1", True),
        ("DELETE FROM t", True),
        ("REPLACE INTO t VALUES (1)", True),
        ("CREATE TABLE t (a)", True),
        ("WITH c AS (SELECT 1) UPDATE t SET a = 1", True),  # a CTE may end in a write
        ("SAVEPOINT sa_1", True),
        ("", False),
    ],
)
def test_statements_that_write_take_the_lock_first(sql, expected):
    assert writes(sql) is expected


def _engine(path, busy_timeout: float = 10.0):
    connect = inline_connector(
        str(path), pragmas=["PRAGMA journal_mode=WAL", "PRAGMA busy_timeout=0"], busy_timeout=busy_timeout
    )
    return create_async_engine(f"sqlite+aiosqlite:///{path}", async_creator=connect)


async def _make_table(engine) -> None:
    async with engine.begin() as conn:
        await conn.execute(text("CREATE TABLE t (a INTEGER)"))


@asynccontextmanager
async def _locked(tmp_path, busy_timeout: float = 10.0) -> AsyncIterator[tuple[Any, sqlite3.Connection]]:
    """An engine on a new database, and another writer holding its write lock until the end.

    To SQLite the other connection is another process's writer; rolling it back (early, or at
    the end of the block) releases the lock.
    """
    path = tmp_path / "x.db"
    engine = _engine(path, busy_timeout=busy_timeout)
    await _make_table(engine)
    other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")
    try:
        yield engine, other
    finally:
        other.rollback()
        other.close()


async def test_a_writer_waiting_for_the_lock_leaves_the_loop_free(tmp_path):
    ticks = 0

    async def ticker() -> None:
        # A probe, not a wait: it counts how often the loop gets to run it.
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0.005)

    async with _locked(tmp_path) as (engine, other):
        trying = asyncio.Event()
        event.listen(engine.sync_engine, "before_cursor_execute", lambda *_: trying.set())
        tick_task = asyncio.create_task(ticker())
        try:
            writer = asyncio.create_task(_insert(engine, 1))
            await trying.wait()  # the INSERT is about to run: it now waits for the lock
            ticks_then = ticks
            await wait_for(lambda: ticks >= ticks_then + 10, within=5, what="ten loop ticks")
            assert not writer.done(), "the write must wait for the lock"
            other.rollback()  # release the lock: the writer gets it within a few milliseconds
            released = time.monotonic()
            await asyncio.wait_for(writer, 2)
        finally:
            tick_task.cancel()
    assert time.monotonic() - released < 1.0
    async with engine.connect() as conn:
        assert (await conn.execute(text("SELECT count(*) FROM t"))).scalar() == 1
    await engine.dispose()


async def _insert(engine, value: int) -> None:
    async with engine.begin() as conn:
        await conn.execute(text("INSERT INTO t VALUES (:a)"), {"a": value})


async def test_the_lock_is_given_up_after_the_busy_timeout_with_nothing_written(tmp_path):
    async with _locked(tmp_path, busy_timeout=0.2) as (engine, _other):
        started = time.monotonic()
        with pytest.raises(OperationalError, match="database is locked"):
            async with engine.begin() as conn:
                await conn.execute(text("INSERT INTO t VALUES (1)"))
        assert 0.2 <= time.monotonic() - started < 2.0
    async with engine.begin() as conn:  # the connection is still usable once the lock is free
        await conn.execute(text("INSERT INTO t VALUES (2)"))
        assert (await conn.execute(text("SELECT a FROM t"))).scalars().all() == [2]
    await engine.dispose()


async def test_reads_do_not_wait_for_a_writer(tmp_path):
    async with _locked(tmp_path, busy_timeout=0.1) as (engine, other):
        other.execute("INSERT INTO t VALUES (7)")  # not committed: readers must not see it
        async with engine.connect() as conn:
            assert (await conn.execute(text("SELECT count(*) FROM t"))).scalar() == 0
    await engine.dispose()


async def test_a_transaction_is_atomic_and_rolls_back_whole(tmp_path):
    path = tmp_path / "x.db"
    engine = _engine(path)
    await _make_table(engine)
    with pytest.raises(RuntimeError):
        async with engine.begin() as conn:
            await conn.execute(text("INSERT INTO t VALUES (1)"))
            await conn.execute(text("INSERT INTO t VALUES (2)"))
            raise RuntimeError("abort")
    async with engine.begin() as conn:
        await conn.execute(text("INSERT INTO t VALUES (3)"))
        # a read after a write sees the transaction's own writes
        assert (await conn.execute(text("SELECT count(*) FROM t"))).scalar() == 1
    async with engine.connect() as conn:
        assert (await conn.execute(text("SELECT a FROM t"))).scalars().all() == [3]
    await engine.dispose()


async def test_every_statement_runs_on_the_loops_thread(tmp_path):
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'x.db'}")
    threads: set[str] = set()

    @event.listens_for(engine.sync_engine, "before_cursor_execute")
    def _seen(*_args: object) -> None:
        threads.add(threading.current_thread().name)

    await _make_table(engine)
    async with engine.begin() as conn:
        await conn.execute(text("INSERT INTO t VALUES (1)"))
        await conn.execute(text("SELECT * FROM t"))
    await engine.dispose()
    assert threads == {threading.current_thread().name}


async def test_the_wal_is_checkpointed_by_the_thread_and_it_stops_on_dispose(tmp_path):
    def checkpointers() -> set[threading.Thread]:
        return {t for t in threading.enumerate() if t.name == "sqlite-checkpoint"}

    others = checkpointers()  # engines of other tests may still have theirs
    path = tmp_path / "x.db"
    engine = make_engine(f"sqlite+aiosqlite:///{path}")
    await _make_table(engine)
    size_before = path.stat().st_size
    async with engine.begin() as conn:
        await conn.execute(text("CREATE TABLE big (b BLOB)"))
        for _ in range(50):
            await conn.execute(text("INSERT INTO big VALUES (randomblob(8000))"))
    # The rows reach the database file only by a checkpoint.
    await wait_for(lambda: path.stat().st_size > size_before + 400_000, within=5, what="a checkpoint")
    assert len(checkpointers() - others) == 1
    await engine.dispose()
    assert checkpointers() - others == set()


def test_a_checkpointer_never_creates_a_missing_database(tmp_path):
    path = tmp_path / "absent.db"
    tried = threading.Event()

    class Tried(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if str(path) in record.getMessage():
                tried.set()

    handler = Tried()
    logging.getLogger("hub.sqlite_inline").addHandler(handler)
    checkpointer = WalCheckpointer(path, interval=0.01)
    checkpointer.start()
    try:
        # Its attempt failing is the event waited for; one that created the file would log nothing.
        assert tried.wait(5) or path.exists(), "the checkpointer never tried the missing file"
    finally:
        checkpointer.stop()
        logging.getLogger("hub.sqlite_inline").removeHandler(handler)
    assert not path.exists()


async def test_results_can_be_streamed(tmp_path):
    """``stream()`` uses the server-side cursor form: rows fetched in parts, not all at once."""
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'x.db'}")
    await _make_table(engine)
    async with engine.begin() as conn:
        await conn.execute(text("INSERT INTO t VALUES (:a)"), [{"a": n} for n in range(25)])
    async with engine.connect() as conn:
        result = await conn.stream(text("SELECT a FROM t ORDER BY a"))
        first = await result.fetchmany(10)
        rest = [row.a async for row in result]
    await engine.dispose()
    assert [row.a for row in first] == list(range(10)) and rest == list(range(10, 25))
