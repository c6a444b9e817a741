import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from dbfixtures import PG_URL, create_pg_database, drop_pg_database
from sqlalchemy import inspect

from core.models import metadata
from hub.database import make_engine, upgrade_database

EXPECTED = {
    "alembic_version",
    "call_log",
    "connector_instances",
    "jobs",
    "outbox",
    "webhook_source_instances",
    "webhook_requests",
    "webhook_inbox",
    "webhook_object_versions",
    "webhook_refusals",
    "webhook_subscriptions",
    "webhook_deliveries",
    "webhook_delivery_attempts",
    "branches",
    "roles",
    "role_grants",
    "users",
    "user_roles",
    "api_tokens",
    "api_token_roles",
    "login_throttle",
    "audit_log",
    "audit_head",
}


async def _schema_after_upgrade(url: str):
    await upgrade_database(url)
    await upgrade_database(url)  # idempotent: already at head
    engine = make_engine(url)
    try:
        async with engine.connect() as connection:

            def inspect_and_compare(sync_connection):
                tables = set(inspect(sync_connection).get_table_names())
                context = MigrationContext.configure(sync_connection, opts={"compare_type": True})
                return tables, compare_metadata(context, metadata)

            return await connection.run_sync(inspect_and_compare)
    finally:
        await engine.dispose()


async def test_upgrade_creates_every_table_on_a_fresh_sqlite_file_without_drift(tmp_path):
    tables, diff = await _schema_after_upgrade(f"sqlite+aiosqlite:///{tmp_path / 'new' / 'lendhub.db'}")
    assert tables == EXPECTED
    assert diff == []


@pytest.mark.postgres
@pytest.mark.skipif(not PG_URL, reason="LENDHUB_TEST_DATABASE_URL is not set")
async def test_upgrade_creates_every_table_on_postgres_without_drift():
    url = await create_pg_database(PG_URL)
    try:
        tables, diff = await _schema_after_upgrade(url)
    finally:
        await drop_pg_database(url)
    assert tables == EXPECTED
    assert diff == []
