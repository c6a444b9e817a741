"""Processing: workers dispatch inbox events to ``webhook_received``, retry, dead-letter and order."""

from __future__ import annotations

import json

from sqlalchemy import select
from webhooks_inbox_support import Recorder, event_body, running_hub, sign, wait_for

from core.db import utcnow
from core.jobs import Job, JobStatus
from core.webhooks import WebhookInboxEvent
from hub.webhooks.processing import retry_delay
from plugins.sdk import hookimpl


async def _rows(runtime) -> list[WebhookInboxEvent]:
    async with runtime.sessions() as session:
        return list((await session.scalars(select(WebhookInboxEvent).order_by(WebhookInboxEvent.id))).all())


async def _settled(
    runtime, count: int, statuses=("processed", "dead", "superseded")
) -> list[WebhookInboxEvent]:
    async def done():
        rows = await _rows(runtime)
        return rows if len(rows) == count and all(r.status in statuses for r in rows) else None

    return await wait_for(done, within=15)


async def _jobs_final(runtime) -> bool:
    """Whether every due job is done or dead: a stray duplicate job would then have run already.

    Periodic kinds keep their next run scheduled in the future; those are not this test's."""
    async with runtime.sessions() as session:
        due = select(Job.status).where(Job.run_after <= utcnow())
        statuses = set((await session.scalars(due)).all())
    return statuses <= {JobStatus.DONE, JobStatus.DEAD}


async def _post(client, body: bytes):
    response = await client.post("/webhooks/stub-hmac/partner", content=body, headers=sign(body))
    assert response.status_code == 200, response.text
    return response


async def test_accepted_event_reaches_webhook_received_once_despite_duplicates(
    engine, database_url, tmp_path
):
    recorder = Recorder()
    async with running_hub(database_url, tmp_path, recorder, workers=True) as (client, runtime):
        body = event_body("once-1", object_id="lead-7", version=1)
        for _ in range(3):
            await _post(client, body)
        [row] = await _settled(runtime, 1)
        assert row.status == "processed" and row.attempts == 1 and row.processed_at is not None
        await wait_for(lambda: _jobs_final(runtime), within=15, what="every job finished")
    assert recorder.calls == {"once-1": 1}
    [delivery] = recorder.deliveries
    assert (delivery.source, delivery.instance, delivery.inbox_id, delivery.replay) == (
        "stub-hmac",
        "partner",
        row.id,
        0,
    )
    assert (delivery.event.id, delivery.event.type, delivery.event.payload) == (
        "once-1",
        "lead.created",
        {"n": 1},
    )
    assert (delivery.event.object_id, delivery.event.object_version) == ("lead-7", 1)


async def test_failing_plugin_is_retried_on_the_schedule_then_processed(engine, database_url, tmp_path):
    flaky = Recorder(fail=2)
    async with running_hub(database_url, tmp_path, flaky, workers=True, retry="0,0,0") as (client, runtime):
        await _post(client, event_body("flaky-1"))
        [row] = await _settled(runtime, 1)
    assert row.status == "processed" and row.attempts == 3
    assert flaky.calls == {"flaky-1": 3} and len(flaky.deliveries) == 1
    assert "downstream unavailable (call 2)" in (row.last_error or "")


async def test_retries_exhausted_dead_letter_keeps_the_last_error(engine, database_url, tmp_path):
    broken = Recorder(fail=99)
    async with running_hub(database_url, tmp_path, broken, workers=True, retry="0,0") as (client, runtime):
        await _post(client, event_body("doomed-1"))
        [row] = await _settled(runtime, 1)
        dead = (await client.get("/api/webhooks/dead-letters")).json()
    assert row.status == "dead" and row.attempts == 3 and broken.calls == {"doomed-1": 3}
    assert "RuntimeError: downstream unavailable (call 3)" in row.last_error
    assert [item["id"] for item in dead["items"]] == [row.id] and dead["total"] == 1


async def test_one_raising_plugin_does_not_starve_another(engine, database_url, tmp_path):
    good, bad = Recorder(), Recorder(fail=99)
    async with running_hub(database_url, tmp_path, good, bad, workers=True, retry="0") as (client, runtime):
        await _post(client, event_body("iso-1"))
        [row] = await _settled(runtime, 1)
    assert row.status == "dead"
    assert good.calls == {"iso-1": 2} and bad.calls == {"iso-1": 2}  # at least once for the healthy one


async def test_older_object_version_is_superseded_and_not_dispatched(engine, database_url, tmp_path):
    recorder = Recorder()
    async with running_hub(database_url, tmp_path, recorder, workers=True) as (client, runtime):
        await _post(client, event_body("v5", "flow.status", object_id="flow-1", version=5))
        await _settled(runtime, 1)
        await _post(client, event_body("v3", "flow.status", object_id="flow-1", version=3))
        await _post(client, event_body("v5-again", "flow.status", object_id="flow-1", version=5))
        await _post(client, event_body("v9", "flow.status", object_id="flow-1", version=9))
        await _post(client, event_body("other-v1", "flow.status", object_id="flow-2", version=1))
        rows = {row.event_id: row.status for row in await _settled(runtime, 5)}
    assert rows["v3"] == "superseded"
    assert rows["v5"] == rows["v9"] == rows["other-v1"] == "processed"
    assert "v3" not in recorder.calls
    assert rows["v5-again"] in ("processed", "superseded")  # equal proceeds unless v9 won the race


async def test_events_without_ordering_are_all_dispatched(engine, database_url, tmp_path):
    recorder = Recorder()
    async with running_hub(database_url, tmp_path, recorder, workers=True) as (client, runtime):
        batch = json.dumps({"events": [{"id": f"b{i}", "type": "t"} for i in range(5)]}).encode()
        await _post(client, batch)
        rows = await _settled(runtime, 5)
    assert {row.status for row in rows} == {"processed"}
    assert sorted(recorder.calls) == [f"b{i}" for i in range(5)]


def test_retry_delay_follows_the_schedule_with_bounded_jitter():
    delays = [10.0, 100.0]
    for _ in range(50):
        assert 8.0 <= retry_delay(delays, 1) <= 12.0
        assert 80.0 <= retry_delay(delays, 2) <= 120.0
    assert retry_delay(delays, 3) is None and retry_delay([], 1) is None
    assert retry_delay([0.0], 1) == 0.0


async def test_a_sync_hook_implementation_is_called_too(engine, database_url, tmp_path):
    seen: list[str] = []

    class SyncPlugin:
        @hookimpl
        def webhook_received(self, delivery):
            seen.append(delivery.event.id)

    async with running_hub(database_url, tmp_path, SyncPlugin(), workers=True) as (client, runtime):
        await _post(client, event_body("sync-1"))
        await _settled(runtime, 1)
    assert seen == ["sync-1"]
