"""Ingestion: every refusal is problem+json with nothing stored; accepted events are durable first."""

from __future__ import annotations

import asyncio
import base64
import json
import time

import pytest
from sqlalchemy import func, select
from webhooks_inbox_support import SECRET, event_body, running_hub, sign, wait_for

from core.jobs import Job
from core.webhooks import WebhookInboxEvent, WebhookRefusalCount, WebhookRequest


async def _count(runtime, model) -> int:
    async with runtime.sessions() as session:
        return await session.scalar(select(func.count()).select_from(model))


async def _nothing_stored(runtime) -> None:
    assert await _count(runtime, WebhookInboxEvent) == 0
    assert await _count(runtime, WebhookRequest) == 0
    assert await _count(runtime, Job) == 0


def _stale() -> dict[str, str]:
    return sign(event_body("e1"), stamp_ms=int(time.time() * 1000) - 3_600_000)


REFUSALS = [
    pytest.param(
        "/webhooks/stub-hmac/partner",
        event_body("e1"),
        {},
        401,
        "webhook-signature-invalid",
        id="missing-signature",
    ),
    pytest.param(
        "/webhooks/stub-hmac/partner",
        event_body("e1"),
        sign(event_body("e1"), secret="wrong"),
        401,
        "webhook-signature-invalid",
        id="bad-signature",
    ),
    pytest.param(
        "/webhooks/stub-hmac/partner",
        event_body("e1"),
        sign(event_body("e1-tampered")),
        401,
        "webhook-signature-invalid",
        id="body-not-signed",
    ),
    pytest.param(
        "/webhooks/stub-hmac/partner",
        event_body("e1"),
        _stale(),
        401,
        "webhook-timestamp-out-of-tolerance",
        id="stale",
    ),
    pytest.param("/webhooks/nope/partner", b"{}", {}, 404, "webhook-source-not-found", id="unknown-source"),
    pytest.param(
        "/webhooks/stub-hmac/nobody", b"{}", {}, 404, "webhook-source-not-found", id="unknown-instance"
    ),
    pytest.param(
        "/webhooks/stub-hmac/partner",
        b"not json",
        lambda: sign(b"not json"),
        400,
        "webhook-unparsable",
        id="unparsable",
    ),
    pytest.param(
        "/webhooks/stub-hmac/partner",
        b'{"type": "x"}',
        lambda: sign(b'{"type": "x"}'),
        400,
        "webhook-unparsable",
        id="no-event-id",
    ),
    pytest.param(
        "/webhooks/stub-hmac/partner",
        b"%%%",
        lambda: {**sign(b"%%%"), "x-stub-encrypted": "1"},
        400,
        "webhook-undecryptable",
        id="undecryptable",
    ),
    pytest.param(
        "/webhooks/stub-hmac/partner",
        json.dumps({"id": "x" * 201, "type": "t"}).encode(),
        lambda: sign(json.dumps({"id": "x" * 201, "type": "t"}).encode()),
        400,
        "webhook-unparsable",
        id="event-id-too-long",
    ),
]


@pytest.mark.parametrize(("path", "body", "headers", "status", "slug"), REFUSALS)
async def test_refusal_is_problem_json_counted_and_stores_nothing(
    engine, database_url, tmp_path, path, body, headers, status, slug
):
    if callable(headers):  # signed when the test runs: a timestamp from collection time may be stale by then
        headers = headers()
    async with running_hub(database_url, tmp_path) as (client, runtime):
        response = await client.post(path, content=body, headers=headers)
        assert response.status_code == status, response.text
        assert response.headers["content-type"] == "application/problem+json"
        problem = response.json()
        assert problem["type"].endswith("/" + slug) and problem["status"] == status
        assert problem["detail"] and '"data"' not in response.text and SECRET not in response.text
        await _nothing_stored(runtime)
        refusals = (await client.get("/api/webhooks/refusals")).json()
        assert [(r["reason"], r["count"]) for r in refusals] == [(slug, 1)]


async def test_body_over_the_limit_is_refused_413_by_declared_length(engine, database_url, tmp_path):
    async with running_hub(database_url, tmp_path, max_body=1024) as (client, runtime):
        body = event_body("big", pad="x" * 2000)
        response = await client.post("/webhooks/stub-hmac/partner", content=body, headers=sign(body))
        assert response.status_code == 413
        assert response.json()["type"].endswith("/webhook-body-too-large")
        await _nothing_stored(runtime)


async def test_body_over_the_limit_is_refused_413_while_streaming(engine, database_url, tmp_path):
    read: list[int] = []

    async def chunks():
        for _ in range(100):
            read.append(1)
            yield b"x" * 512

    async with running_hub(database_url, tmp_path, max_body=1024) as (client, runtime):
        response = await client.post("/webhooks/stub-hmac/partner", content=chunks(), headers=sign(b""))
        assert response.status_code == 413
        assert len(read) < 100  # stopped early: the rest was never read
        await _nothing_stored(runtime)
        counted = (await client.get("/api/webhooks/refusals")).json()  # writes pending counts first
        async with runtime.sessions() as session:
            counter = await session.scalar(select(WebhookRefusalCount))
        assert [(c["source"], c["instance"], c["reason"]) for c in counted] == [
            ("stub-hmac", "partner", "webhook-body-too-large")
        ]
        assert (counter.source, counter.instance, counter.reason, counter.count) == (
            "stub-hmac",
            "partner",
            "webhook-body-too-large",
            1,
        )


async def test_disabled_instance_answers_404(engine, database_url, tmp_path):
    async with running_hub(database_url, tmp_path) as (client, runtime):
        from hub.webhooks.deps import get_webhook_service

        class _Req:
            app = client._transport.app  # type: ignore[attr-defined]

        service = await get_webhook_service(_Req())  # type: ignore[arg-type]
        async with runtime.sessions() as session:
            await service.sources.set_enabled(session, "stub-hmac", "partner", False)
            await session.commit()
        body = event_body("e1")
        response = await client.post("/webhooks/stub-hmac/partner", content=body, headers=sign(body))
        assert response.status_code == 404
        await _nothing_stored(runtime)


async def test_accepted_event_is_stored_with_its_job_before_the_2xx(engine, database_url, tmp_path):
    async with running_hub(database_url, tmp_path) as (client, runtime):
        body = event_body("evt-1", object_id="flow-9", version=3)
        headers = {**sign(body), "Authorization": "Bearer partner-token", "X-Trace": "t-1"}
        response = await client.post("/webhooks/stub-hmac/partner?attempt=1", content=body, headers=headers)
        assert response.status_code == 200 and response.json() == {"ok": True, "events": 1}
        async with runtime.sessions() as session:
            row = await session.scalar(select(WebhookInboxEvent))
            request = await session.get(WebhookRequest, row.request_id)
            job = await session.scalar(select(Job))
        assert (row.event_id, row.event_type, row.status, row.object_id, row.object_version) == (
            "evt-1",
            "lead.created",
            "received",
            "flow-9",
            3,
        )
        assert row.payload == {"n": 1}
        assert request.body == body and request.query == {"attempt": "1"}
        assert request.headers["authorization"] == "***" and request.headers["x-trace"] == "t-1"
        assert "partner-token" not in (request.sealed_headers or "") and request.sealed_headers
        assert request.verification["verified"] is True and request.verification["events"] == ["evt-1"]
        assert (job.kind, job.payload, job.status) == ("webhook.process", {"inbox_id": row.id}, "pending")


async def test_handshake_is_answered_and_not_stored(engine, database_url, tmp_path):
    async with running_hub(database_url, tmp_path) as (client, runtime):
        response = await client.post("/webhooks/stub-hmac/partner", content=b'{"challenge": "abc"}')
        assert response.status_code == 200 and response.json() == {"challenge": "abc"}
        await _nothing_stored(runtime)


async def test_duplicate_delivery_is_acknowledged_once_stored(engine, database_url, tmp_path):
    async with running_hub(database_url, tmp_path) as (client, runtime):
        body = event_body("dup-1")
        for _ in range(3):
            response = await client.post("/webhooks/stub-hmac/partner", content=body, headers=sign(body))
            assert response.status_code == 200
        assert await _count(runtime, WebhookInboxEvent) == 1
        assert await _count(runtime, WebhookRequest) == 1
        assert await _count(runtime, Job) == 1


async def test_batch_with_a_known_and_a_new_event_stores_only_the_new_one(engine, database_url, tmp_path):
    async with running_hub(database_url, tmp_path) as (client, runtime):
        first = event_body("a")
        await client.post("/webhooks/stub-hmac/partner", content=first, headers=sign(first))
        batch = json.dumps(
            {"events": [{"id": "a", "type": "t"}, {"id": "b", "type": "t"}, {"id": "b", "type": "t"}]}
        )
        response = await client.post(
            "/webhooks/stub-hmac/partner", content=batch.encode(), headers=sign(batch.encode())
        )
        assert response.status_code == 200
        async with runtime.sessions() as session:
            ids = sorted((await session.scalars(select(WebhookInboxEvent.event_id))).all())
        assert ids == ["a", "b"]


async def test_concurrent_identical_deliveries_store_one_row(engine, database_url, tmp_path):
    async with running_hub(database_url, tmp_path) as (client, runtime):
        body = event_body("race-1")
        headers = sign(body)
        responses = await asyncio.gather(
            *(client.post("/webhooks/stub-hmac/partner", content=body, headers=headers) for _ in range(8))
        )
        assert [r.status_code for r in responses] == [200] * 8
        assert await _count(runtime, WebhookInboxEvent) == 1
        assert await _count(runtime, WebhookRequest) == 1
        assert await _count(runtime, Job) == 1


async def test_same_event_id_on_another_instance_is_a_different_event(engine, database_url, tmp_path):
    async with running_hub(database_url, tmp_path) as (client, runtime):
        created = await client.post(
            "/api/webhooks/sources",
            json={"source": "stub-hmac", "name": "other", "config": {"secrets": [SECRET]}},
        )
        assert created.status_code == 201
        body = event_body("shared-id")
        for instance in ("partner", "other"):
            assert (
                await client.post(f"/webhooks/stub-hmac/{instance}", content=body, headers=sign(body))
            ).is_success
        assert await _count(runtime, WebhookInboxEvent) == 2


async def test_hostile_header_and_body_bytes_are_stored_verbatim(engine, database_url, tmp_path):
    async with running_hub(database_url, tmp_path) as (client, runtime):
        body = json.dumps({"id": "ü-1", "type": "t", "data": {"s": "\u0000<script>"}}).encode()
        encrypted = base64.b64encode(body)
        headers = {**sign(encrypted), "x-stub-encrypted": "1"}
        response = await client.post("/webhooks/stub-hmac/partner", content=encrypted, headers=headers)
        assert response.status_code == 200
        async with runtime.sessions() as session:
            request = await session.scalar(select(WebhookRequest))
            row = await session.scalar(select(WebhookInboxEvent))
        assert request.body == encrypted and row.event_id == "ü-1"
        assert row.payload == {"s": "\ufffd<script>"}  # JSONB refuses NUL; the raw body keeps it


async def test_event_id_with_a_nul_character_is_unparsable(engine, database_url, tmp_path):
    async with running_hub(database_url, tmp_path) as (client, runtime):
        body = json.dumps({"id": "a\u0000b", "type": "t"}).encode()
        response = await client.post("/webhooks/stub-hmac/partner", content=body, headers=sign(body))
        assert response.status_code == 400 and response.json()["type"].endswith("/webhook-unparsable")
        await _nothing_stored(runtime)


async def test_redis_fast_path_answers_duplicates_and_db_stays_the_truth(
    engine, database_url, tmp_path, redis_url
):
    async with running_hub(database_url, tmp_path, redis_url=redis_url) as (client, runtime):
        from hub.webhooks.deps import get_webhook_service

        class _Req:
            app = client._transport.app  # type: ignore[attr-defined]

        service = await get_webhook_service(_Req())  # type: ignore[arg-type]
        assert service.dedupe is not None
        service.dedupe.prefix = f"lendhub:test:{time.time_ns()}"
        body = event_body("fast-1")
        assert (await client.post("/webhooks/stub-hmac/partner", content=body, headers=sign(body))).is_success

        async def remembered():  # right after the commit, off the answer's path
            return (await service.dedupe.known([("stub-hmac", "partner", ["fast-1"])])) == [True]

        await wait_for(remembered, within=5)
        assert await service.dedupe.known([("stub-hmac", "partner", ["fast-1", "other"])]) == [False]
        assert await service.dedupe.known(
            [("stub-hmac", "partner", ["fast-1"]), ("stub-hmac", "partner", ["x"])]
        ) == [
            True,
            False,
        ]
        writes = runtime.sessions
        opened = 0

        def counting():
            nonlocal opened
            opened += 1
            return writes()

        service.writer.sessions = counting
        again = await client.post("/webhooks/stub-hmac/partner", content=body, headers=sign(body))
        assert again.status_code == 200
        assert opened == 0  # answered from the fast path: no database transaction at all
        service.writer.sessions = writes
        assert await _count(runtime, WebhookInboxEvent) == 1
        await runtime.redis.delete(service.dedupe._key("stub-hmac", "partner", "fast-1"))
        third = await client.post("/webhooks/stub-hmac/partner", content=body, headers=sign(body))
        assert third.status_code == 200 and await _count(runtime, WebhookInboxEvent) == 1


async def test_redis_fast_path_remembers_a_batch_in_one_command_with_its_ttl(redis_url):
    from redis.asyncio import Redis

    from hub.webhooks.dedupe import DedupeCache

    redis = Redis.from_url(redis_url)
    cache = DedupeCache(redis, ttl_seconds=120, prefix=f"lendhub:test:{time.time_ns()}")
    try:
        first = cache._key("s", "i", "e1")
        await redis.set(first, b"earlier")  # NX: an existing key is left as it is
        await cache.remember([("s", "i", "e1"), ("s", "i", "e2"), ("s", "other", "e2")])
        assert await cache.known([("s", "i", ["e1", "e2"]), ("s", "other", ["e2"]), ("s", "i", ["e3"])]) == [
            True,
            True,
            False,
        ]
        assert await redis.get(first) == b"earlier"
        assert 0 < await redis.ttl(cache._key("s", "i", "e2")) <= 120
        await cache.remember([])  # nothing to do, no error
    finally:
        await redis.delete(
            *[cache._key(*k) for k in [("s", "i", "e1"), ("s", "i", "e2"), ("s", "other", "e2")]]
        )
        await redis.aclose()


def _nested(event_id: str, depth: int) -> bytes:
    nested = "[" * depth + "1" + "]" * depth
    return (
        json.dumps({"id": event_id, "type": "t", "data": {"x": 1}})
        .replace('"x": 1', '"x": ' + nested)
        .encode()
    )


@pytest.mark.parametrize("depth", [255, 1000, 5000])
async def test_a_body_nested_too_deep_is_refused_400_and_stores_nothing(
    engine, database_url, tmp_path, depth
):
    async with running_hub(database_url, tmp_path, max_body=65536) as (client, runtime):
        body = _nested(f"deep-{depth}", depth)
        response = await client.post("/webhooks/stub-hmac/partner", content=body, headers=sign(body))
        assert response.status_code == 400, response.text
        assert (
            response.json()["type"].endswith("/webhook-unparsable")
            and "nests deeper" in response.json()["detail"]
        )
        await _nothing_stored(runtime)


async def test_a_body_nested_within_the_limit_is_accepted(engine, database_url, tmp_path):
    async with running_hub(database_url, tmp_path) as (client, _runtime):
        body = _nested("deep-ok", 60)
        response = await client.post("/webhooks/stub-hmac/partner", content=body, headers=sign(body))
        assert response.status_code == 200, response.text


def test_depth_counting_skips_brackets_inside_strings():
    from hub.webhooks.intake import nested_too_deep

    assert not nested_too_deep(b'{"a": "' + b"[" * 500 + b'\\"{{{"}', limit=3)
    assert nested_too_deep(b'{"a": [[[["x"]]]]}', limit=4)
    assert not nested_too_deep(b'{"a": [[["x"]]]}', limit=4)
    assert not nested_too_deep(b"not json [[[[[[", limit=2)


async def test_a_payload_that_is_not_an_object_is_refused_400_not_500(engine, database_url, tmp_path):
    async with running_hub(database_url, tmp_path) as (client, runtime):
        body = json.dumps({"id": "list-1", "type": "t", "data": [1, 2]}).encode()
        response = await client.post("/webhooks/stub-hmac/partner", content=body, headers=sign(body))
        assert response.status_code == 400, response.text
        assert "not an object" in response.json()["detail"]
        await _nothing_stored(runtime)
