"""The admin API of partner subscriptions: secrets shown once, SSRF refusals, rotation, deliveries."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from authsupport import authorise
from sqlalchemy import select
from webhooks_outbound_partner import Partner, outbound_settings, serve

from core.outbox import OutboxEvent, add_event
from core.webhooks_out import SUBSCRIPTION_DISABLED_EVENT, WebhookSubscription, fan_out
from hub.app import create_app
from plugins.manager import make_plugin_manager

BASE = "/api/webhooks/subscriptions"


@pytest.fixture
def partner():
    partner = Partner()
    with serve(partner.app) as url:
        partner.url = url + "/hook"
        yield partner


@pytest.fixture
async def hub(engine, database_url, tmp_path) -> AsyncIterator[tuple[httpx.AsyncClient, object]]:
    settings = outbound_settings(
        database_url=database_url, secret_key_file=tmp_path / "secret.key", inprocess_workers=False
    )
    app = create_app(settings, host=make_plugin_manager(load_entrypoints=False))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
            await authorise(client, app.state.runtime)
            yield client, app.state.runtime


def _problem(response: httpx.Response, status: int, slug: str) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["type"].endswith("/" + slug)
    return body


async def _create(client, url="http://127.0.0.1:9/hook", name="partner-a", events=("loan.*",)):
    response = await client.post(BASE, json={"name": name, "url": url, "event_types": list(events)})
    assert response.status_code == 201, response.text
    return response.json()


async def test_create_returns_the_secret_once_and_stores_it_sealed(hub):
    client, runtime = hub
    created = await _create(client)
    secret = created["secret"]
    assert secret.startswith("whsec_") and created["enabled"] and created["rotating"] is False
    for response in (
        await client.get(BASE),
        await client.get(f"{BASE}/partner-a"),
        await client.get(f"{BASE}/{created['id']}"),
    ):
        assert response.status_code == 200 and secret not in response.text
        assert '"secret"' not in response.text
    async with runtime.sessions() as session:
        row = await session.scalar(select(WebhookSubscription))
    assert secret not in row.secrets_ciphertext and secret[6:] not in row.secrets_ciphertext


@pytest.mark.parametrize(
    ("url", "slug", "words"),
    [
        ("http://10.0.0.8/hook", "webhook-target-refused", "private"),
        ("http://192.168.1.1/hook", "webhook-target-refused", "private"),
        ("http://169.254.169.254/latest/meta-data", "webhook-target-refused", "cloud metadata"),
        ("http://[::1]:8080/hook", "webhook-target-refused", "loopback"),
        ("http://172.16.5.5:8080/hook", "webhook-target-refused", "private"),
        ("file:///etc/passwd", "webhook-target-refused", "only http and https"),
        ("javascript:alert(1)", "webhook-target-refused", "only http and https"),
        ("https://no-such-host.invalid/x", "webhook-target-unresolvable", "cannot resolve"),
    ],
)
async def test_create_refuses_unsafe_targets_with_a_clear_problem(hub, url, slug, words):
    client, _ = hub
    response = await client.post(BASE, json={"name": "p", "url": url, "event_types": ["*"]})
    assert words in _problem(response, 422, slug)["detail"]
    assert (await client.get(BASE)).json() == []


@pytest.mark.parametrize(
    ("body", "slug"),
    [
        (
            {"name": "p", "url": "http://127.0.0.1/x", "event_types": ["loan.*.x"]},
            "invalid-webhook-subscription",
        ),
        ({"name": "p", "url": "http://127.0.0.1/x", "event_types": []}, "validation-error"),
        ({"name": "Bad Name", "url": "http://127.0.0.1/x", "event_types": ["*"]}, "validation-error"),
        (
            {"name": "p", "url": "http://127.0.0.1/x", "event_types": ["*"], "secret": "whsec_x"},
            "validation-error",
        ),
        ({"name": "p", "url": "x" * 3000, "event_types": ["*"]}, "validation-error"),
        ({"name": "p", "event_types": ["*"]}, "validation-error"),
    ],
)
async def test_malformed_subscriptions_are_refused(hub, body, slug):
    client, _ = hub
    _problem(await client.post(BASE, json=body), 422, slug)


async def test_duplicates_and_unknowns_are_problems(hub):
    client, _ = hub
    await _create(client)
    _problem(
        await client.post(
            BASE, json={"name": "partner-a", "url": "http://127.0.0.1/y", "event_types": ["*"]}
        ),
        409,
        "webhook-subscription-exists",
    )
    for response in (
        await client.get(f"{BASE}/nope"),
        await client.patch(f"{BASE}/nope", json={"enabled": False}),
        await client.delete(f"{BASE}/nope"),
        await client.post(f"{BASE}/nope/rotate-secret"),
        await client.get(f"{BASE}/nope/deliveries"),
    ):
        _problem(response, 404, "webhook-subscription-not-found")
    _problem(await client.get(f"{BASE}/partner-a/deliveries/x/attempts"), 404, "webhook-delivery-not-found")


async def test_update_disable_enable_and_the_disabled_event(hub):
    client, runtime = hub
    await _create(client)
    changed = await client.patch(
        f"{BASE}/partner-a", json={"event_types": ["*"], "url": "http://127.0.0.1:10/new"}
    )
    assert changed.json()["event_types"] == ["*"] and changed.json()["url"].endswith("/new")
    _problem(
        await client.patch(f"{BASE}/partner-a", json={"url": "http://10.1.1.1/"}),
        422,
        "webhook-target-refused",
    )
    disabled = (
        await client.patch(f"{BASE}/partner-a", json={"enabled": False, "reason": "maintenance"})
    ).json()
    assert disabled["enabled"] is False and disabled["disabled_reason"] == "maintenance"
    async with runtime.sessions() as session:
        events = (
            await session.scalars(
                select(OutboxEvent).where(OutboxEvent.event_type == SUBSCRIPTION_DISABLED_EVENT)
            )
        ).all()
    assert len(events) == 1 and events[0].payload["reason"] == "maintenance"
    assert (events[0].payload["cause"], events[0].payload["automatic"]) == ("operator", False)
    enabled = (await client.patch(f"{BASE}/partner-a", json={"enabled": True})).json()
    assert enabled["enabled"] and enabled["disabled_reason"] is None and enabled["consecutive_failures"] == 0


async def test_rotation_then_retire(hub):
    client, runtime = hub
    created = await _create(client)
    rotated = (await client.post(f"{BASE}/partner-a/rotate-secret", json={"overlap_hours": 2})).json()
    assert rotated["secret"].startswith("whsec_") and rotated["secret"] != created["secret"]
    assert (await client.get(f"{BASE}/partner-a")).json()["rotating"] is True
    from core.webhooks_out import active_secrets

    async with runtime.sessions() as session:
        row = await session.scalar(select(WebhookSubscription))
        assert active_secrets(runtime.box, row) == [rotated["secret"], created["secret"]]
    retired = (await client.post(f"{BASE}/partner-a/retire-secret")).json()
    assert retired["rotating"] is False and "secret" not in retired
    async with runtime.sessions() as session:
        row = await session.scalar(select(WebhookSubscription))
        assert active_secrets(runtime.box, row) == [rotated["secret"]]
    _problem(
        await client.post(f"{BASE}/partner-a/rotate-secret", json={"overlap_hours": -1}),
        422,
        "validation-error",
    )


async def test_deliveries_attempts_redeliver_and_delete(hub, partner):
    client, runtime = hub
    created = await _create(client, url=partner.url)
    partner.secrets = [created["secret"]]
    handlers = runtime.handlers
    assert "webhook.deliver" in handlers  # the runtime wires outbound delivery itself
    async with runtime.sessions() as session, session.begin():
        event = await add_event(
            session, event_type="loan.disbursed", subject_type="loan", subject_id="L", payload={}
        )
        [delivery_id] = await fan_out(session, event)
    from core.jobs import JobExecutor, claim_due

    executor = JobExecutor(runtime.sessions, handlers, owner="t", lease_seconds=5)

    async def run() -> None:
        for job in await claim_due(runtime.sessions, "t", 5, 10):
            if job.kind == "webhook.deliver":
                await executor.execute(job)

    await run()
    listed = (await client.get(f"{BASE}/partner-a/deliveries")).json()
    assert [(d["id"], d["status"], d["attempts"]) for d in listed] == [(delivery_id, "delivered", 1)]
    assert (await client.get(f"{BASE}/partner-a/deliveries", params={"status": "dead"})).json() == []
    _problem(
        await client.get(f"{BASE}/partner-a/deliveries", params={"status": "bogus"}), 422, "validation-error"
    )
    queued = await client.post(f"{BASE}/partner-a/deliveries/{delivery_id}/redeliver")
    assert queued.status_code == 202 and queued.json()["status"] == "pending"
    await run()
    attempts = (await client.get(f"{BASE}/partner-a/deliveries/{delivery_id}/attempts")).json()
    assert [(a["attempt"], a["status_code"]) for a in attempts] == [(1, 200), (2, 200)]
    assert len({r.headers["webhook-id"] for r in partner.received}) == 1
    assert all(r.verified_with == [0] for r in partner.received)
    await client.patch(f"{BASE}/partner-a", json={"enabled": False})
    _problem(
        await client.post(f"{BASE}/partner-a/deliveries/{delivery_id}/redeliver"),
        409,
        "webhook-subscription-disabled",
    )
    assert (await client.delete(f"{BASE}/partner-a")).status_code == 204
    _problem(await client.get(f"{BASE}/partner-a"), 404, "webhook-subscription-not-found")
