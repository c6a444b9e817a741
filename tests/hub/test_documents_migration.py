"""The documents migration builds what the model declares, including what autogenerate does not compare."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from dbfixtures import PG_URL, create_pg_database, drop_pg_database

from core.models import metadata
from hub.database import make_engine, upgrade_database


async def _constraints(url: str) -> tuple[set[str | None], dict[str, bool]]:
    engine = make_engine(url)
    try:
        async with engine.connect() as connection:

            def read(sync):
                inspector = sa.inspect(sync)
                checks = {c["name"] for c in inspector.get_check_constraints("documents")}
                indexes = {i["name"]: bool(i["unique"]) for i in inspector.get_indexes("documents")}
                return checks, indexes

            return await connection.run_sync(read)
    finally:
        await engine.dispose()


async def _check(url: str) -> None:
    await upgrade_database(url)
    checks, indexes = await _constraints(url)
    model_checks = {
        c.name for c in metadata.tables["documents"].constraints if isinstance(c, sa.CheckConstraint)
    }
    assert checks == model_checks == {"ck_documents_owner_kind"}
    assert indexes["uq_documents_live_content"] is True
    engine = make_engine(url)
    try:
        async with engine.begin() as connection:
            row = {
                "id": "d1",
                "owner_kind": "loan",
                "owner_record_id": "r",
                "doc_type": "other",
                "filename": "f",
                "detected_type": "application/pdf",
                "size": 1,
                "sha256": "0" * 64,
                "storage_backend": "local",
                "storage_key": "k",
                "uploaded_by": "t",
                "created_at": sa.func.now(),
            }
            with pytest.raises(sa.exc.IntegrityError):
                async with connection.begin_nested():
                    await connection.execute(metadata.tables["documents"].insert().values(**row))
    finally:
        await engine.dispose()


async def test_sqlite_migration_has_the_check_and_partial_unique_index(tmp_path):
    await _check(f"sqlite+aiosqlite:///{tmp_path / 'm.db'}")


@pytest.mark.postgres
@pytest.mark.skipif(not PG_URL, reason="LENDHUB_TEST_DATABASE_URL is not set")
async def test_postgres_migration_has_the_check_and_partial_unique_index():
    url = await create_pg_database(PG_URL)
    try:
        await _check(url)
    finally:
        await drop_pg_database(url)
