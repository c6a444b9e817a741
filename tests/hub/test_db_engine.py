import pytest
from sqlalchemy import text

from hub.database import DatabaseUnavailable, check_database, make_engine, mask_url


async def test_sqlite_engine_creates_the_directory_and_sets_pragmas(tmp_path):
    path = tmp_path / "nested" / "var" / "lendhub.db"
    engine = make_engine(f"sqlite+aiosqlite:///{path}")
    try:
        await check_database(engine)
        async with engine.connect() as connection:
            assert (await connection.execute(text("PRAGMA journal_mode"))).scalar() == "wal"
            assert (await connection.execute(text("PRAGMA foreign_keys"))).scalar() == 1
            assert (await connection.execute(text("PRAGMA synchronous"))).scalar() == 1  # NORMAL
            # Nothing inside SQLite sleeps: the lock is awaited on the loop, checkpoints run apart.
            assert (await connection.execute(text("PRAGMA busy_timeout"))).scalar() == 0
            assert (await connection.execute(text("PRAGMA wal_autocheckpoint"))).scalar() == 0
    finally:
        await engine.dispose()
    assert path.exists()


def test_mask_url_hides_the_password():
    masked = mask_url("postgresql+asyncpg://lender:s3cret@db.example:5432/crm")
    assert "s3cret" not in masked and "***" in masked and "db.example" in masked


async def test_an_unreachable_postgres_names_the_masked_url_and_the_cause():
    engine = make_engine("postgresql+asyncpg://lender:s3cret@127.0.0.1:1/crm")
    try:
        with pytest.raises(DatabaseUnavailable) as info:
            await check_database(engine)
    finally:
        await engine.dispose()
    message = str(info.value)
    assert "postgresql+asyncpg://lender:***@127.0.0.1:1/crm" in message
    assert "s3cret" not in message
    assert "refused" in message.lower() or "connect" in message.lower()


async def test_an_unusable_sqlite_path_is_reported(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'dir' / 'x.db'}")
    (tmp_path / "dir").rmdir()
    (tmp_path / "dir").symlink_to(blocker)
    try:
        with pytest.raises(DatabaseUnavailable, match="unable to open database file"):
            await check_database(engine)
    finally:
        await engine.dispose()


async def _backend_pid(engine) -> int:
    async with engine.connect() as connection:
        return int((await connection.execute(text("SELECT pg_backend_pid()"))).scalar_one())


async def _terminate(database_url: str, pid: int) -> None:
    killer = make_engine(database_url, pool_size=1, max_overflow=0)
    try:
        async with killer.connect() as connection:
            await connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    finally:
        await killer.dispose()


async def test_postgres_pool_replaces_a_connection_that_died_while_idle(database_url, monkeypatch):
    if not database_url.startswith("postgresql"):
        pytest.skip("PostgreSQL's pool")
    import hub.database

    monkeypatch.setattr(hub.database, "PING_IDLE_SECONDS", 0.0)  # every pooled connection counts as idle
    engine = make_engine(database_url, pool_size=1, max_overflow=0)
    try:
        first = await _backend_pid(engine)
        await _terminate(database_url, first)
        second = await _backend_pid(engine)  # pinged on checkout, found dead, replaced: no error
        assert second != first
    finally:
        await engine.dispose()


async def test_postgres_connection_in_active_use_is_not_pinged(database_url):
    if not database_url.startswith("postgresql"):
        pytest.skip("PostgreSQL's pool")
    from sqlalchemy.exc import DBAPIError

    engine = make_engine(database_url, pool_size=1, max_overflow=0)
    try:
        first = await _backend_pid(engine)
        await _terminate(database_url, first)
        with pytest.raises(DBAPIError) as failed:  # no ping: the dead connection fails once...
            await _backend_pid(engine)
        assert failed.value.connection_invalidated
        assert await _backend_pid(engine) != first  # ...and the pool reconnects for the next one
    finally:
        await engine.dispose()
