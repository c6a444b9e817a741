"""Partner bodies and payloads are sealed at rest; ingestion, processing, replay and display still work.

"At rest" is checked on a raw dump of the database (``sqlite3 .dump``, or every PostgreSQL row cast
to text), not through the ORM, which would open the values again.
"""

from __future__ import annotations

import asyncio
import json
import os

from dbfixtures import assert_not_in_dump, raw_dump
from sqlalchemy import select, text, update
from webhooks_inbox_support import Recorder, running_hub, sign, wait_for

from core import pii
from core.audit import AuditEntry
from core.webhooks import WebhookInboxEvent, WebhookRequest

NAME = "欧阳娜娜"
ID_NUMBER = "11010519900307123X"
MOBILE = "13812345678"
BORROWER = {"name": NAME, "id_number": ID_NUMBER, "mobile": MOBILE}


def borrower_body(event_id: str, **extra: object) -> bytes:
    """An event whose data is a borrower, encoded as partners do (UTF-8, not ``\\u`` escapes)."""
    event = {"id": event_id, "type": "borrower.updated", "data": BORROWER, **extra}
    return json.dumps(event, ensure_ascii=False).encode("utf-8")


async def _post(client, body: bytes) -> None:
    response = await client.post("/webhooks/stub-hmac/partner", content=body, headers=sign(body))
    assert response.status_code == 200, response.text


async def _wait_status(runtime, inbox_id: str, wanted: str) -> None:
    async def reached() -> bool:
        async with runtime.sessions() as session:
            return (await session.get(WebhookInboxEvent, inbox_id)).status == wanted

    await wait_for(reached, within=15)


async def test_a_borrower_webhook_is_sealed_at_rest_and_delivered_in_clear(engine, database_url, tmp_path):
    recorder = Recorder()
    async with running_hub(database_url, tmp_path, recorder, workers=True) as (client, runtime):
        body = borrower_body("b-1")
        await _post(client, body)
        [item] = (await client.get("/api/webhooks/inbox")).json()["items"]
        await _wait_status(runtime, item["id"], "processed")
        dump = await raw_dump(engine)
        async with runtime.sessions() as session:
            raw_body, raw_payload = (
                await session.execute(
                    text(
                        "SELECT r.body, i.payload FROM webhook_requests r"
                        " JOIN webhook_inbox i ON i.request_id = r.id"
                    )
                )
            ).one()
            row = await session.get(WebhookInboxEvent, item["id"])
            request = await session.get(WebhookRequest, row.request_id)
        masked = (await client.get(f"/api/webhooks/inbox/{item['id']}")).json()
        detail = (
            await client.get(f"/api/webhooks/inbox/{item['id']}", params={"purpose": "dispute 2026-118"})
        ).json()
        no_purpose = await client.get(f"/api/webhooks/inbox/{item['id']}", params={"purpose": " "})
        async with runtime.sessions() as session:
            reveals = (
                await session.scalars(select(AuditEntry).where(AuditEntry.action == "pii.reveal"))
            ).all()
    assert_not_in_dump(dump, NAME, ID_NUMBER, MOBILE)
    kid = pii.current().current_kid
    assert pii.KeyRing.kid_of(raw_body) == kid and pii.KeyRing.kid_of(raw_payload) == kid
    assert (request.body, row.payload) == (body, BORROWER)
    assert [d.event.payload for d in recorder.deliveries] == [BORROWER]
    # Masked by default; in clear only with a purpose, and each reveal is audited with it.
    assert NAME not in json.dumps(masked, ensure_ascii=False) and masked["request"]["body_text"] is None
    assert detail["payload"] == BORROWER and detail["request"]["body_text"] == body.decode("utf-8")
    assert no_purpose.status_code == 422 and no_purpose.json()["code"] == "pii.reveal_purpose_required"
    assert [r.after["purpose"] for r in reveals] == ["dispute 2026-118"]
    assert reveals[0].target_id == item["id"] and reveals[0].after["class"] == "payload"


async def test_a_dead_letter_replays_from_its_sealed_body_and_stays_sealed(engine, database_url, tmp_path):
    broken = Recorder(fail=2)  # the first attempt and its one retry fail: a dead letter
    async with running_hub(database_url, tmp_path, broken, workers=True, retry="0") as (client, runtime):
        await _post(client, borrower_body("b-dead", object_id="loan-7", version=2))
        [item] = (await client.get("/api/webhooks/inbox")).json()["items"]
        await _wait_status(runtime, item["id"], "dead")
        assert [i["id"] for i in (await client.get("/api/webhooks/dead-letters")).json()["items"]] == [
            item["id"]
        ]
        replayed = await client.post(f"/api/webhooks/inbox/{item['id']}/replay")
        assert replayed.status_code == 200, replayed.text
        await _wait_status(runtime, item["id"], "processed")
        dump = await raw_dump(engine)
    assert_not_in_dump(dump, NAME, ID_NUMBER, MOBILE)
    assert broken.calls == {"b-dead": 3}
    [delivery] = broken.deliveries
    assert (delivery.replay, delivery.event.payload, delivery.event.object_id) == (1, BORROWER, "loan-7")


async def test_a_group_committed_batch_is_sealed_row_by_row(engine, database_url, tmp_path):
    """Concurrent requests share one bulk insert (``unnest`` / ``executemany``); each value is sealed."""
    async with running_hub(database_url, tmp_path) as (client, runtime):
        bodies = [borrower_body(f"g-{n}") for n in range(12)]
        many = json.dumps(
            {"events": [{"id": f"m-{n}", "type": "borrower.updated", "data": BORROWER} for n in range(3)]},
            ensure_ascii=False,
        ).encode("utf-8")
        await asyncio.gather(*(_post(client, body) for body in [*bodies, many]))
        dump = await raw_dump(engine)
        async with runtime.sessions() as session:
            stored = set((await session.scalars(select(WebhookRequest.body))).all())
            payloads = list((await session.scalars(select(WebhookInboxEvent.payload))).all())
            raw = list((await session.scalars(text("SELECT payload FROM webhook_inbox"))).all())
    assert_not_in_dump(dump, NAME, ID_NUMBER, MOBILE)
    assert stored == {*bodies, many}
    assert payloads == [BORROWER] * 15
    assert len(set(raw)) == 15  # a fresh nonce each: equal payloads are not recognisable at rest


async def test_an_event_sealed_under_a_key_not_loaded_is_listed_but_refused_by_key_id(
    engine, database_url, tmp_path
):
    async with running_hub(database_url, tmp_path) as (client, runtime):
        await _post(client, borrower_body("b-lost"))
        ring = pii.current()
        pii.install(pii.KeyRing([("other", os.urandom(32))], os.urandom(32)))  # the old key was lost
        try:
            await _post(client, borrower_body("b-new"))
            async with runtime.sessions() as session:
                await session.execute(update(WebhookInboxEvent).values(status="dead"))
                await session.commit()
            listed = await client.get("/api/webhooks/dead-letters")
            ids = {item["event_id"]: item["id"] for item in listed.json()["items"]}
            shown = await client.get(f"/api/webhooks/inbox/{ids['b-lost']}")
            replayed = await client.post(f"/api/webhooks/inbox/{ids['b-lost']}/replay")
            everything = await client.post(
                "/api/webhooks/replay-dead", json={"source": "stub-hmac", "since": "2020-01-01T00:00:00Z"}
            )
        finally:
            pii.install(ring)
    assert listed.status_code == 200 and set(ids) == {"b-lost", "b-new"}
    assert shown.status_code == 500 and shown.json()["type"].endswith("/webhook-inbox-undecryptable")
    assert f"key {ring.current_kid!r}, which is not loaded" in shown.json()["detail"]
    assert replayed.status_code == 422 and replayed.json()["type"].endswith("/webhook-replay-undecryptable")
    assert everything.status_code == 200 and everything.json()["replayed"] == [ids["b-new"]]
    assert list(everything.json()["failed"]) == [ids["b-lost"]]
