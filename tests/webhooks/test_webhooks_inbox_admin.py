"""The admin API: list and inspect the inbox, replay one or every dead letter, discard."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta

import pytest
from authsupport import token_headers
from sqlalchemy import select, update
from webhooks_inbox_support import SECRET, Recorder, event_body, running_hub, sign, wait_for

from core.webhooks import WebhookInboxEvent, WebhookRequest


async def _status(runtime, inbox_id: str) -> str:
    async with runtime.sessions() as session:
        return (await session.get(WebhookInboxEvent, inbox_id)).status


async def _wait_status(runtime, inbox_id: str, wanted: str) -> None:
    async def reached():
        return await _status(runtime, inbox_id) == wanted

    await wait_for(reached, within=15)


async def _post(client, body: bytes, **extra: str) -> None:
    response = await client.post("/webhooks/stub-hmac/partner", content=body, headers={**sign(body), **extra})
    assert response.status_code == 200, response.text


async def _ids(client, **params) -> list[str]:
    page = (await client.get("/api/webhooks/inbox", params=params)).json()
    return [item["event_id"] for item in page["items"]]


async def test_inbox_lists_with_filters_and_pages(engine, database_url, tmp_path):
    async with running_hub(database_url, tmp_path) as (client, runtime):
        for n in range(5):
            await _post(client, event_body(f"e{n}"))
        async with runtime.sessions() as session:
            await session.execute(
                update(WebhookInboxEvent).where(WebhookInboxEvent.event_id == "e4").values(status="dead")
            )
            await session.commit()
        page = (await client.get("/api/webhooks/inbox", params={"limit": 2, "offset": 2})).json()
        assert [i["event_id"] for i in page["items"]] == ["e2", "e3"] and page["total"] == 5
        assert "payload" not in page["items"][0]
        assert await _ids(client, status="dead") == ["e4"]
        assert await _ids(client, status="received", source="stub-hmac", instance="partner") == [
            "e0",
            "e1",
            "e2",
            "e3",
        ]
        assert await _ids(client, source="other") == []
        future = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
        assert await _ids(client, since=future) == []
        bad = await client.get("/api/webhooks/inbox", params={"status": "bogus"})
        assert bad.status_code == 422 and bad.headers["content-type"] == "application/problem+json"


async def test_inspect_shows_payload_and_raw_request_with_credentials_masked(engine, database_url, tmp_path):
    async with running_hub(database_url, tmp_path) as (client, _runtime):
        await _post(client, event_body("look-1"), authorization="Bearer s3cr3t-token")
        [item] = (await client.get("/api/webhooks/inbox")).json()["items"]
        masked = (await client.get(f"/api/webhooks/inbox/{item['id']}")).json()
        assert masked["payload"] == {"n": "***"} and masked["revealed"] is False
        assert masked["request"]["body_text"] is None and masked["request"]["body_bytes"] > 0
        detail = await client.get(f"/api/webhooks/inbox/{item['id']}", params={"purpose": "排查回调失败"})
        assert detail.status_code == 200
        data = detail.json()
        assert data["payload"] == {"n": 1} and data["revealed"] is True
        assert data["request"]["headers"]["authorization"] == "***"
        assert (
            data["request"]["body_text"] == event_body("look-1").decode()
            and data["request"]["body_base64"] is None
        )
        assert "s3cr3t-token" not in detail.text and SECRET not in detail.text
        missing = await client.get("/api/webhooks/inbox/nope")
        assert missing.status_code == 404 and missing.json()["type"].endswith("/webhook-inbox-not-found")


async def test_replay_one_dead_letter_processes_it_with_tolerance_waived(engine, database_url, tmp_path):
    broken = Recorder(fail=2)  # the first attempt and its one retry fail: a dead letter
    config = {"secrets": [SECRET], "tolerance_ms": 300}
    async with running_hub(database_url, tmp_path, broken, workers=True, retry="0", config=config) as (
        client,
        rt,
    ):
        stamp_ms = int(time.time() * 1000)
        body = event_body("replay-1")
        posted = await client.post(
            "/webhooks/stub-hmac/partner", content=body, headers=sign(body, stamp_ms=stamp_ms)
        )
        assert posted.status_code == 200, posted.text
        [item] = (await client.get("/api/webhooks/inbox")).json()["items"]
        inbox_id = item["id"]
        await _wait_status(rt, inbox_id, "dead")
        # timing: the signature growing stale is the behaviour under test; only what is left of
        # the 300 ms tolerance after the dead-lettering is waited for.
        await asyncio.sleep(max(0.0, (stamp_ms + 301) / 1000 - time.time()))
        response = await client.post(f"/api/webhooks/inbox/{inbox_id}/replay")
        assert response.status_code == 200, response.text
        assert response.json()["replays"] == 1
        await _wait_status(rt, inbox_id, "processed")
        async with rt.sessions() as session:
            row = await session.get(WebhookInboxEvent, inbox_id)
    assert (row.attempts, row.replays) == (1, 1)
    assert broken.calls == {"replay-1": 3}
    assert [d.replay for d in broken.deliveries] == [1]


async def test_replay_refuses_a_request_that_no_longer_verifies(engine, database_url, tmp_path):
    async with running_hub(database_url, tmp_path) as (client, runtime):
        await _post(client, event_body("tampered-1"))
        async with runtime.sessions() as session:
            row = await session.scalar(select(WebhookInboxEvent))
            await session.execute(update(WebhookInboxEvent).values(status="dead"))
            await session.execute(update(WebhookRequest).values(body=event_body("tampered-2")))
            await session.commit()
        response = await client.post(f"/api/webhooks/inbox/{row.id}/replay")
        assert response.status_code == 422
        assert response.json()["type"].endswith("/webhook-signature-invalid")
        assert await _status(runtime, row.id) == "dead"


async def test_replay_of_an_event_in_flight_is_a_conflict(engine, database_url, tmp_path):
    async with running_hub(database_url, tmp_path) as (client, _runtime):
        await _post(client, event_body("busy-1"))
        [item] = (await client.get("/api/webhooks/inbox")).json()["items"]
        response = await client.post(f"/api/webhooks/inbox/{item['id']}/replay")
        assert response.status_code == 409 and response.json()["type"].endswith("/webhook-inbox-conflict")


async def test_replay_dead_dry_run_lists_then_replays_only_that_source_since_t(
    engine, database_url, tmp_path
):
    recorder = Recorder()
    async with running_hub(database_url, tmp_path, recorder) as (client, runtime):
        for n in range(4):
            await _post(client, event_body(f"d{n}"))
        async with runtime.sessions() as session:
            rows = list(
                (await session.scalars(select(WebhookInboxEvent).order_by(WebhookInboxEvent.id))).all()
            )
            old = datetime.now(UTC) - timedelta(days=2)
            await session.execute(update(WebhookInboxEvent).values(status="dead"))
            await session.execute(
                update(WebhookInboxEvent).where(WebhookInboxEvent.id == rows[0].id).values(created_at=old)
            )
            await session.execute(
                update(WebhookInboxEvent).where(WebhookInboxEvent.id == rows[3].id).values(status="processed")
            )
            await session.commit()
        since = (datetime.now(UTC) - timedelta(days=1)).isoformat()
        dry = await client.post(
            "/api/webhooks/replay-dead", json={"source": "stub-hmac", "since": since, "dry_run": True}
        )
        assert dry.status_code == 200, dry.text
        assert dry.json() == {
            "dry_run": True,
            "matched": [rows[1].id, rows[2].id],
            "replayed": [],
            "failed": {},
        }
        assert {await _status(runtime, r.id) for r in rows[1:3]} == {"dead"}
        real = await client.post("/api/webhooks/replay-dead", json={"source": "stub-hmac", "since": since})
        assert real.json()["replayed"] == [rows[1].id, rows[2].id]
        assert [await _status(runtime, r.id) for r in rows] == ["dead", "received", "received", "processed"]
        other = await client.post("/api/webhooks/replay-dead", json={"source": "nope", "since": since})
        assert other.json()["matched"] == []
        naive = await client.post(
            "/api/webhooks/replay-dead", json={"source": "x", "since": "2026-01-01T00:00:00"}
        )
        assert naive.status_code == 422


async def test_discard_keeps_the_reason_and_the_worker_leaves_it_alone(engine, database_url, tmp_path):
    recorder = Recorder()
    async with running_hub(database_url, tmp_path, recorder) as (client, runtime):
        await _post(client, event_body("junk-1"))
        [item] = (await client.get("/api/webhooks/inbox")).json()["items"]
        response = await client.post(
            f"/api/webhooks/inbox/{item['id']}/discard", json={"reason": "test traffic"}
        )
        assert response.status_code == 200, response.text
        assert (response.json()["status"], response.json()["discard_reason"]) == ("discarded", "test traffic")
        again = await client.post(f"/api/webhooks/inbox/{item['id']}/discard", json={"reason": "again"})
        assert again.status_code == 409
        empty = await client.post(f"/api/webhooks/inbox/{item['id']}/discard", json={"reason": ""})
        assert empty.status_code == 422
        # The job still exists; running it now must not dispatch a discarded event.
        executor_handlers = runtime.handlers
        from core.jobs import JobExecutor

        executor = JobExecutor(runtime.sessions, executor_handlers, owner="test", lease_seconds=5)
        from core.jobs import Job

        async with runtime.sessions() as session:
            job_id = await session.scalar(select(Job.id))
        assert await executor.run(job_id)
        assert await _status(runtime, item["id"]) == "discarded" and recorder.calls == {}
        replayed = await client.post(f"/api/webhooks/inbox/{item['id']}/replay")
        assert replayed.status_code == 200 and replayed.json()["status"] == "received"


async def test_refusal_counters_accumulate_per_reason(engine, database_url, tmp_path):
    async with running_hub(database_url, tmp_path) as (client, _runtime):
        body = event_body("x")
        for _ in range(3):
            await client.post("/webhooks/stub-hmac/partner", content=body)
        await client.post(
            "/webhooks/stub-hmac/partner", content=body, headers=sign(body, stamp_ms=int(time.time()))
        )
        await client.post("/webhooks/unknown/partner", content=body)
        counts = {
            (r["source"], r["instance"], r["reason"]): r["count"]
            for r in (await client.get("/api/webhooks/refusals")).json()
        }
    assert counts == {
        ("stub-hmac", "partner", "webhook-signature-invalid"): 3,
        ("stub-hmac", "partner", "webhook-timestamp-out-of-tolerance"): 1,
        ("*", "*", "webhook-source-not-found"): 1,
    }


async def test_revealing_a_body_needs_the_reveal_permission_not_just_inbox_read(
    engine, database_url, tmp_path
):
    async with running_hub(database_url, tmp_path) as (client, runtime):
        await _post(client, event_body("look-2"))
        [item] = (await client.get("/api/webhooks/inbox")).json()["items"]
        integrator = await token_headers(runtime, "integrator")
        masked = await client.get(f"/api/webhooks/inbox/{item['id']}", headers=integrator)
        assert masked.status_code == 200 and masked.json()["payload"] == {"n": "***"}
        refused = await client.get(
            f"/api/webhooks/inbox/{item['id']}", params={"purpose": "curious"}, headers=integrator
        )
        assert refused.status_code == 403 and "pii.reveal.payload" in refused.json()["detail"]


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/api/webhooks/inbox", {"offset": "70184493815284930184"}),
        ("/api/webhooks/inbox", {"offset": "1000001"}),
        ("/api/webhooks/dead-letters", {"limit": "501"}),
        ("/api/users", {"offset": str(2**64)}),
        ("/api/audit", {"before_seq": str(2**70)}),
    ],
)
async def test_paging_values_past_their_bounds_are_a_422_not_a_500(
    engine, database_url, tmp_path, path, params
):
    async with running_hub(database_url, tmp_path) as (client, _runtime):
        response = await client.get(path, params=params)
        assert response.status_code == 422, response.text
        assert response.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize(
    ("method", "path", "kwargs"),
    [
        (
            "POST",
            "/api/webhooks/replay-dead",
            {"json": {"source": "stub-hmac", "since": "2026-01-01T00:00:00Z", "dry_run": 0}},
        ),
        ("POST", "/api/webhooks/replay-dead", {"json": {"source": "stub-hmac", "since": 0.5}}),
        (
            "POST",
            "/api/webhooks/replay-dead",
            {"json": {"source": "stub-hmac", "since": "2026-01-01T00:00:00"}},
        ),
        ("GET", "/api/webhooks/inbox", {"params": {"since": "0.5"}}),
        ("GET", "/api/audit", {"params": {"since": "1700000000"}}),
        (
            "POST",
            "/api/webhooks/subscriptions",
            {"json": {"name": "x", "url": "https://p.example/h", "event_types": ["*"], "enabled": 0.0}},
        ),
        ("POST", "/api/webhooks/sources", {"json": {"source": "stub-hmac", "name": "p2", "enabled": "yes"}}),
    ],
)
async def test_admin_api_takes_strict_booleans_and_iso_times(
    engine, database_url, tmp_path, method, path, kwargs
):
    async with running_hub(database_url, tmp_path) as (client, _runtime):
        response = await client.request(method, path, **kwargs)
        assert response.status_code == 422, response.text
        assert response.headers["content-type"] == "application/problem+json"
