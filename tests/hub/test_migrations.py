import asyncio
import json

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from dbfixtures import PG_URL, assert_not_in_dump, create_pg_database, drop_pg_database, raw_dump
from sqlalchemy import inspect

from core.call_log import CallLogEntry
from core.db import JSONType, UTCDateTime, utcnow
from core.models import metadata
from core.webhooks import WebhookInboxEvent, WebhookRequest
from hub.database import alembic_config, make_engine, make_session_factory, upgrade_database

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
    "key_fingerprints",
    "customers",
    "customer_relations",
    "import_runs",
    "import_rejections",
    "products",
    "form_versions",
    "segments",
    "segment_members",
    "documents",
    "partners",
    "leads",
    "lead_follow_ups",
    "lead_assignment_rules",
    "lead_sla_policies",
    "applications",
    "application_transitions",
    "flow_versions",
    "flow_tasks",
    "flow_decisions",
    "authority_limits",
    "delegations",
    "application_signals",
    "staff_parties",
    "application_gates",
    "application_policy",
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


# -- 0007: bodies sealed ------------------------------------------------------------------------

NAME, ID_NUMBER = "欧阳娜娜", "11010519900307123X"
BODY = json.dumps({"id": "e-1", "data": {"name": NAME, "id_number": ID_NUMBER}}, ensure_ascii=False).encode()
PAYLOAD = {"name": NAME, "id_number": ID_NUMBER}
REQUEST_TEXT = f'{{"cert": "{ID_NUMBER}"}}'

_old_requests = sa.table(
    "webhook_requests",
    *(sa.column(name) for name in ("id", "source", "instance", "method", "path", "sealed_headers")),
    sa.column("query", JSONType),
    sa.column("headers", JSONType),
    sa.column("verification", JSONType),
    sa.column("body", sa.LargeBinary),
    sa.column("received_at", UTCDateTime()),
)
_old_inbox = sa.table(
    "webhook_inbox",
    *(sa.column(name) for name in ("id", "request_id", "source", "instance", "event_id", "event_type")),
    *(sa.column(name) for name in ("status", "attempts", "replays")),
    sa.column("payload", JSONType),
    sa.column("created_at", UTCDateTime()),
    sa.column("updated_at", UTCDateTime()),
)
_old_call_log = sa.table(
    "call_log",
    *(sa.column(name) for name in ("id", "connector", "instance", "operation", "attempt", "method", "url")),
    *(sa.column(name) for name in ("latency_ms", "cost_units", "request_body", "response_body")),
    sa.column("started_at", UTCDateTime()),
)


async def _clear_rows_before_0007_are_sealed_and_downgrade_opens_them(url: str) -> None:
    await upgrade_database(url, "0003_webhook_subscriptions")
    now = utcnow()
    engine = make_engine(url)
    try:
        async with engine.begin() as connection:
            await connection.execute(
                sa.insert(_old_requests),
                [
                    {
                        "id": f"r-{n}",
                        **dict(source="s", instance="i", method="POST", path="/w", sealed_headers=None),
                        **dict(query={}, headers={}, verification={}, body=BODY, received_at=now),
                    }
                    for n in range(3)
                ],
            )
            await connection.execute(
                sa.insert(_old_inbox),
                [
                    {
                        **dict(id=f"x-{n}", request_id=f"r-{n}", source="s", instance="i"),
                        **dict(event_id=f"e-{n}", event_type="t", status="processed", attempts=1),
                        **dict(replays=0, payload=PAYLOAD, created_at=now, updated_at=now),
                    }
                    for n in range(3)
                ],
            )
            await connection.execute(
                sa.insert(_old_call_log),
                [
                    {
                        **dict(id=f"c-{n}", connector="pboc", instance="p", operation="o", attempt=n),
                        **dict(method="POST", url="http://x", latency_ms=1.0, cost_units=0),
                        **dict(request_body=REQUEST_TEXT if n else None, response_body=NAME, started_at=now),
                    }
                    for n in range(2)
                ],
            )
        await upgrade_database(url)
        assert_not_in_dump(await raw_dump(engine), NAME, ID_NUMBER)
        sessions = make_session_factory(engine)
        async with sessions() as session:
            bodies = list(await session.scalars(sa.select(WebhookRequest.body)))
            payloads = list(await session.scalars(sa.select(WebhookInboxEvent.payload)))
            logged = (await session.execute(sa.select(CallLogEntry).order_by(CallLogEntry.attempt))).scalars()
            calls = [(c.request_body and c.request_body.reveal(), c.response_body.reveal()) for c in logged]
        assert (bodies, payloads) == ([BODY] * 3, [PAYLOAD] * 3)
        assert calls == [(None, NAME), (REQUEST_TEXT, NAME)]
        await engine.dispose()

        config = alembic_config(url)
        await asyncio.to_thread(command.downgrade, config, "0003_webhook_subscriptions")
        async with engine.connect() as connection:
            old_bodies = (await connection.execute(sa.select(_old_requests.c.body))).scalars().all()
            old_payloads = (await connection.execute(sa.select(_old_inbox.c.payload))).scalars().all()
            old_calls = (await connection.execute(sa.select(_old_call_log.c.request_body))).scalars().all()
        assert (old_bodies, old_payloads) == ([BODY] * 3, [PAYLOAD] * 3)
        assert sorted(old_calls, key=str) == sorted([None, REQUEST_TEXT], key=str)
    finally:
        await engine.dispose()


async def test_0007_seals_existing_clear_rows_on_sqlite_and_downgrade_opens_them(tmp_path):
    await _clear_rows_before_0007_are_sealed_and_downgrade_opens_them(
        f"sqlite+aiosqlite:///{tmp_path / 'old.db'}"
    )


@pytest.mark.postgres
@pytest.mark.skipif(not PG_URL, reason="LENDHUB_TEST_DATABASE_URL is not set")
async def test_0007_seals_existing_clear_rows_on_postgres_and_downgrade_opens_them():
    url = await create_pg_database(PG_URL)
    try:
        await _clear_rows_before_0007_are_sealed_and_downgrade_opens_them(url)
    finally:
        await drop_pg_database(url)
