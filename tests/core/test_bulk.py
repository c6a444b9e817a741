"""PostgreSQL's ``unnest`` inserts store exactly what the ORM would, whatever the row count."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any, cast

import pytest
from sqlalchemy import Table, select
from sqlalchemy.dialects import postgresql
from sqlalchemy.exc import StatementError

from core.bulk import unnest_insert, unnest_params
from core.db import new_id, utcnow
from core.webhooks.models import WebhookInboxEvent, WebhookRequest

REQUESTS = cast(Table, WebhookRequest.__table__)
INBOX = cast(Table, WebhookInboxEvent.__table__)
SHANGHAI = timezone(timedelta(hours=8))


def _request(**overrides: Any) -> dict[str, Any]:
    row = {
        "id": new_id(),
        "source": "standard-webhooks",
        "instance": "bulk",
        "method": "POST",
        "path": "/webhooks/standard-webhooks/bulk",
        "query": {"a": "1"},
        "headers": {"webhook-id": "msg_1", "x-quote": 'it\'s "quoted" \\ and 中文'},
        "sealed_headers": None,
        "body": b"\x00raw \xff bytes'; DROP TABLE webhook_requests; --",
        "verification": {"verified": True, "events": ["e1"]},
        "received_at": datetime(2026, 11, 29, 9, 30, tzinfo=SHANGHAI),
    }
    row.update(overrides)
    return row


def _event(request_id: str, event_id: str, **overrides: Any) -> dict[str, Any]:
    now = utcnow()
    row = {
        "id": new_id(),
        "request_id": request_id,
        "source": "standard-webhooks",
        "instance": "bulk",
        "event_id": event_id,
        "event_type": "repayment.received",
        "payload": {"amount": "1200.00", "nested": {"list": [1, None, "x"]}},
        "object_id": None,
        "object_version": 2**40,
        "occurred_at": None,
        "status": "received",
        "attempts": 0,
        "replays": 0,
        "created_at": now,
        "updated_at": now,
    }
    row.update(overrides)
    return row


@pytest.fixture
def postgres_only(engine):
    if engine.dialect.name != "postgresql":
        pytest.skip("unnest inserts are PostgreSQL's")


async def test_rows_round_trip_with_every_column_type(postgres_only, session_factory):
    requests = [_request(), _request(sealed_headers="sealed", query={})]
    events = [_event(requests[0]["id"], "e1"), _event(requests[1]["id"], "e2", occurred_at=utcnow())]
    async with session_factory() as session:
        columns = tuple(requests[0])
        await session.execute(
            unnest_insert(REQUESTS, columns, dialect=session.get_bind().dialect),
            unnest_params(REQUESTS, columns, requests, dialect=session.get_bind().dialect),
        )
        columns = tuple(events[0])
        await session.execute(
            unnest_insert(INBOX, columns, dialect=session.get_bind().dialect),
            unnest_params(INBOX, columns, events, dialect=session.get_bind().dialect),
        )
        await session.commit()
    async with session_factory() as session:
        stored = {r.id: r for r in (await session.scalars(select(WebhookRequest))).all()}
        inbox = {r.event_id: r for r in (await session.scalars(select(WebhookInboxEvent))).all()}
    first = stored[requests[0]["id"]]
    assert first.body == requests[0]["body"]
    assert first.headers == requests[0]["headers"] and first.query == {"a": "1"}
    assert first.received_at == requests[0]["received_at"] and first.received_at.tzinfo == UTC
    assert stored[requests[1]["id"]].sealed_headers == "sealed"
    assert inbox["e1"].payload == events[0]["payload"] and inbox["e1"].object_version == 2**40
    assert inbox["e1"].occurred_at is None and inbox["e2"].occurred_at == events[1]["occurred_at"]


async def test_conflicting_rows_are_skipped_and_only_new_ids_returned(postgres_only, session_factory):
    request = _request()
    columns = tuple(_event("x", "x"))
    async with session_factory() as session:
        dialect = session.get_bind().dialect
        await session.execute(
            unnest_insert(REQUESTS, tuple(request), dialect=dialect),
            unnest_params(REQUESTS, tuple(request), [request], dialect=dialect),
        )
        stmt = unnest_insert(
            INBOX, columns, dialect=dialect, conflict=("source", "instance", "event_id"), returning="id"
        )
        first = [_event(request["id"], "dup"), _event(request["id"], "one")]
        inserted = set(
            (await session.execute(stmt, unnest_params(INBOX, columns, first, dialect=dialect))).scalars()
        )
        assert inserted == {first[0]["id"], first[1]["id"]}
        again = [_event(request["id"], "dup"), _event(request["id"], "two"), _event(request["id"], "three")]
        inserted = set(
            (await session.execute(stmt, unnest_params(INBOX, columns, again, dialect=dialect))).scalars()
        )
        assert inserted == {again[1]["id"], again[2]["id"]}
        await session.commit()


async def test_a_naive_timestamp_is_refused_as_the_orm_would(postgres_only, session_factory):
    bad = _request(received_at=datetime(2026, 11, 29, 9, 30))
    async with session_factory() as session:
        with pytest.raises((ValueError, StatementError), match="naive datetime"):
            dialect = session.get_bind().dialect
            await session.execute(
                unnest_insert(REQUESTS, tuple(bad), dialect=dialect),
                unnest_params(REQUESTS, tuple(bad), [bad], dialect=dialect),
            )


def test_the_statement_is_the_same_whatever_the_row_count():
    dialect = postgresql.asyncpg.dialect()
    columns = ("id", "source")
    first = unnest_insert(INBOX, columns, dialect=dialect)
    assert first is unnest_insert(INBOX, columns, dialect=dialect)  # built once, prepared once
    assert str(first) == (
        "INSERT INTO webhook_inbox (id, source) "
        "SELECT * FROM unnest(CAST(:c0 AS VARCHAR(36)[]), CAST(:c1 AS VARCHAR(100)[]))"
    )


async def test_update_changes_only_rows_still_in_the_guarded_state(postgres_only, session_factory):
    from core.bulk import column_values, unnest_update

    request = _request()
    rows = [_event(request["id"], f"u{n}", status="processing" if n == 1 else "received") for n in range(3)]
    async with session_factory() as session:
        dialect = session.get_bind().dialect
        await session.execute(
            unnest_insert(REQUESTS, tuple(request), dialect=dialect),
            unnest_params(REQUESTS, tuple(request), [request], dialect=dialect),
        )
        await session.execute(
            unnest_insert(INBOX, tuple(rows[0]), dialect=dialect),
            unnest_params(INBOX, tuple(rows[0]), rows, dialect=dialect),
        )
        done = datetime(2026, 11, 29, 10, 0, tzinfo=SHANGHAI)
        stmt = unnest_update(INBOX, "id", "status", ("status", "processed_at", "last_error"), dialect=dialect)
        await session.execute(
            stmt,
            {
                "c0": [r["id"] for r in rows],
                "c1": ["received"] * 3,  # the second row moved on: it must be left alone
                "c2": ["processed"] * 3,
                "c3": column_values(INBOX, "processed_at", [done] * 3, dialect=dialect),
                "c4": [None, None, "x'); DELETE FROM webhook_inbox; --"],
            },
        )
        await session.commit()
    async with session_factory() as session:
        stored = {r.event_id: r for r in (await session.scalars(select(WebhookInboxEvent))).all()}
    assert [stored[f"u{n}"].status for n in range(3)] == ["processed", "processing", "processed"]
    assert stored["u0"].processed_at == done and stored["u1"].processed_at is None
    assert stored["u2"].last_error == "x'); DELETE FROM webhook_inbox; --"


async def test_sqlite_rows_round_trip_through_executemany(engine, session_factory):
    if engine.dialect.name != "sqlite":
        pytest.skip("SQLite's executemany form")
    from core.bulk import insert_many_sql, row_tuples

    requests = [_request(), _request(sealed_headers="sealed", query={})]
    events = [_event(requests[0]["id"], "e1"), _event(requests[1]["id"], "e2", occurred_at=utcnow())]

    def write(session) -> None:
        connection, dialect = session.connection(), session.get_bind().dialect
        for table, rows in ((REQUESTS, requests), (INBOX, events)):
            columns = tuple(rows[0])
            connection.exec_driver_sql(
                insert_many_sql(table, columns), row_tuples(table, columns, rows, dialect=dialect)
            )
        again = [_event(requests[0]["id"], "e1")]  # a conflict: skipped, not an error
        connection.exec_driver_sql(
            insert_many_sql(INBOX, tuple(again[0]), conflict=("source", "instance", "event_id")),
            row_tuples(INBOX, tuple(again[0]), again, dialect=dialect),
        )

    async with session_factory() as session:
        await session.run_sync(write)
        await session.commit()
    async with session_factory() as session:
        stored = {r.id: r for r in (await session.scalars(select(WebhookRequest))).all()}
        inbox = {r.event_id: r for r in (await session.scalars(select(WebhookInboxEvent))).all()}
    first = stored[requests[0]["id"]]
    assert first.body == requests[0]["body"] and first.headers == requests[0]["headers"]
    assert first.received_at == requests[0]["received_at"] and first.received_at.tzinfo == UTC
    assert inbox["e1"].id == events[0]["id"] and inbox["e1"].payload == events[0]["payload"]
    assert inbox["e2"].occurred_at == events[1]["occurred_at"] and len(inbox) == 2
    bad = [_request(received_at=datetime(2026, 11, 29, 9, 30))]
    with pytest.raises(ValueError, match="naive datetime"):
        row_tuples(REQUESTS, tuple(bad[0]), bad, dialect=engine.dialect)
