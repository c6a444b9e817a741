"""The database call recorder: what reaches ``call_log`` has its bodies sealed, whatever the masking."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from dbfixtures import assert_not_in_dump, raw_dump
from sqlalchemy import select, text

from core import pii
from core.call_log import CallLogEntry
from plugins.call_log import DatabaseCallRecorder
from plugins.sdk import CallRecord

NAME = "张三丰"
ID_NUMBER = "110101194912310021"


def record(attempt: int, request_body: str | None, response_body: str | None) -> CallRecord:
    return CallRecord(
        connector="pboc",
        instance="pboc-main",
        operation="fetch_report",
        attempt=attempt,
        method="POST",
        url="http://127.0.0.1:9000/report",
        status_code=200,
        latency_ms=3.5,
        error_class=None,
        idempotency_key=f"k-{attempt}",
        cost_units=None,
        request_body=request_body,
        response_body=response_body,
        started_at=datetime.now(UTC),
    )


async def test_recorded_bodies_are_sealed_in_the_table_and_read_back_masked(engine, session_factory):
    # As if the SDK's masking had missed them (an unknown field name, a free-text remark).
    request_body = json.dumps({"applicant": NAME, "cert": ID_NUMBER}, ensure_ascii=False)
    response_body = f"查询结果：{NAME}，证件号 {ID_NUMBER}，无不良记录"
    recorder = DatabaseCallRecorder(session_factory)
    await recorder.record(record(1, request_body, response_body))
    await recorder.record(record(2, None, None))
    assert await recorder.flush() == 2
    dump = await raw_dump(engine)
    async with session_factory() as session:
        query = text("SELECT request_body, response_body FROM call_log ORDER BY attempt")
        (sealed_request, sealed_response), empty = (await session.execute(query)).all()
        rows = list(await session.scalars(select(CallLogEntry).order_by(CallLogEntry.attempt)))
    assert_not_in_dump(dump, NAME, ID_NUMBER)
    kid = pii.current().current_kid
    assert pii.KeyRing.kid_of(sealed_request) == kid and pii.KeyRing.kid_of(sealed_response) == kid
    assert tuple(empty) == (None, None)
    first, second = rows
    assert first.request_body is not None and first.response_body is not None
    assert (first.request_body.reveal(), first.response_body.reveal()) == (request_body, response_body)
    assert NAME not in f"{first.request_body} {first.response_body!r}"  # masked unless revealed
    assert (second.request_body, second.response_body) == (None, None)
