"""Outbound delivery end to end: outbox → fan-out → signed POST to a loopback partner → outcome.

The partner verifies every request with the official ``standardwebhooks`` library. Jobs run
through a real ``JobExecutor`` on SQLite, and on PostgreSQL when configured.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import threading
from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import func, select, update
from waiting import wait_for
from webhooks_outbound_partner import Partner, Runner, free_port, outbound_settings, publish, rows, serve

from core.db import utcnow
from core.jobs import Job, JobStatus, PermanentJobError, claim, claim_due, take_enqueued
from core.jobs.repository import ClaimedJob
from core.outbox import OutboxEvent
from core.webhooks_out import (
    DELIVER_JOB_KIND,
    SUBSCRIPTION_DISABLED_EVENT,
    DeliveryStatus,
    WebhookDelivery,
    WebhookDeliveryAttempt,
    WebhookSubscription,
    create_subscription,
    fan_out,
    rotate_secret,
)
from schemas.events import SubscriptionDisabled


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(follow_redirects=True) as client:  # the sender must override it
        yield client


@pytest.fixture
def partner():
    partner = Partner()
    with serve(partner.app) as url:
        partner.url = url + "/hook"
        partner.base = url
        yield partner


async def _subscribe(runner: Runner, url: str, events=("*",), name="partner-a"):
    async with runner.session_factory() as session:
        row, secret = await create_subscription(
            session, runner.box, name=name, url=url, event_types=list(events)
        )
        await session.commit()
    return row, secret


async def _deliveries(session_factory) -> list[WebhookDelivery]:
    return await rows(session_factory, WebhookDelivery)


async def test_an_event_is_delivered_signed_and_verifies_with_standardwebhooks(
    session_factory, http, partner
):
    runner = Runner(session_factory, outbound_settings(), http)
    _, secret = await _subscribe(runner, partner.url, events=["loan.*"])
    partner.secrets = [secret]
    await publish(session_factory, "loan.disbursed", {"loan_id": "L-1", "amount": "5000.00", "note": "放款"})
    await publish(session_factory, "application.submitted", {"application_id": "A-1"})
    await runner.run_due()

    [received] = partner.received
    assert received.verified_with == [0], received.error
    document = json.loads(received.body)
    assert document["type"] == "loan.disbursed" and document["data"]["note"] == "放款"
    assert document["timestamp"].endswith("Z")
    assert received.headers["content-type"] == "application/json"
    [delivery] = await _deliveries(session_factory)
    assert received.headers["webhook-id"] == delivery.msg_id and "." not in delivery.msg_id
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("delivered", 1, 200)
    [attempt] = await rows(session_factory, WebhookDeliveryAttempt)
    assert attempt.status_code == 200 and attempt.finished_at and attempt.target_ip == "127.0.0.1"
    assert secret not in (attempt.response_excerpt or "") + (attempt.error or "")


async def test_during_rotation_both_secrets_verify_each_request(session_factory, http, partner):
    runner = Runner(session_factory, outbound_settings(), http)
    sub, old = await _subscribe(runner, partner.url)
    async with session_factory() as session:
        row = await session.get(WebhookSubscription, sub.id)
        new = await rotate_secret(session, runner.box, row, overlap=timedelta(hours=1))
        await session.commit()
    partner.secrets = [old, new, "whsec_" + "A" * 43]
    await publish(session_factory, "loan.disbursed", {"loan_id": "L-2"})
    await runner.run_due()
    [received] = partner.received
    assert received.verified_with == [0, 1]
    assert len(received.headers["webhook-signature"].split(" ")) == 2


async def test_retries_on_500_with_the_same_id_and_a_new_timestamp(
    session_factory, http, partner, monkeypatch
):
    seconds = itertools.count(int(utcnow().timestamp()), 7)
    monkeypatch.setattr("hub.outbound.sender._unix_time", lambda: next(seconds))
    runner = Runner(session_factory, outbound_settings(), http)
    _, secret = await _subscribe(runner, partner.url)
    partner.secrets = [secret]
    partner.script = [500, (503, {"headers": {"retry-after": "0"}}), 204]
    await publish(session_factory, "loan.disbursed", {"loan_id": "L-3"})
    await runner.run_due()

    assert [r.verified_with for r in partner.received] == [[0], [0], [0]]
    assert len({r.headers["webhook-id"] for r in partner.received}) == 1
    assert len({r.headers["webhook-timestamp"] for r in partner.received}) == 3
    [delivery] = await _deliveries(session_factory)
    assert (delivery.status, delivery.attempts) == ("delivered", 3)
    attempts = await rows(session_factory, WebhookDeliveryAttempt)
    assert [a.status_code for a in attempts] == [500, 503, 204]
    assert [a.attempt for a in attempts] == [1, 2, 3]
    [sub] = await rows(session_factory, WebhookSubscription)
    assert sub.consecutive_failures == 0


async def test_the_schedule_ends_in_dead_with_every_attempt_recorded(session_factory, http, partner):
    runner = Runner(session_factory, outbound_settings(outbound_retry_schedule="0,0"), http)
    await _subscribe(runner, partner.url)
    partner.script = [500, 502, 200]
    await publish(session_factory, "loan.disbursed", {})
    await runner.run_due()
    [delivery] = await _deliveries(session_factory)
    assert (delivery.status, delivery.attempts) == ("dead", 2)
    assert "gave up after 2 attempts" in delivery.last_error
    assert len(await rows(session_factory, WebhookDeliveryAttempt)) == 2
    assert len(partner.received) == 2


async def test_410_disables_the_subscription_at_once_and_raises_the_event(session_factory, http, partner):
    runner = Runner(session_factory, outbound_settings(outbound_retry_schedule="0,0,0,0"), http)
    sub, _ = await _subscribe(runner, partner.url, events=["loan.*"])
    partner.script = [410]
    await publish(session_factory, "loan.disbursed", {})
    await runner.run_due()
    [delivery] = await _deliveries(session_factory)
    assert delivery.status == "dead" and "410" in delivery.last_error
    [row] = await rows(session_factory, WebhookSubscription)
    assert not row.enabled and "410" in row.disabled_reason and row.disabled_at
    [event] = await rows(session_factory, OutboxEvent, event_type=SUBSCRIPTION_DISABLED_EVENT)
    assert event.subject_id == sub.id
    assert SubscriptionDisabled.model_validate(event.payload) == SubscriptionDisabled(
        subscription_id=sub.id,
        name="partner-a",
        url=partner.url,
        cause="gone",
        automatic=True,  # the hub disabled it: a 410 is as automatic as a failure streak
        reason="the endpoint answered 410 Gone",
        consecutive_failures=row.consecutive_failures,
        last_status=410,
        last_error=event.payload["last_error"],
    )
    assert "410" in event.payload["last_error"]
    assert len(partner.received) == 1
    # A later event is not fanned out to the disabled subscription.
    await publish(session_factory, "loan.repaid", {})
    await runner.run_due()
    assert len(await _deliveries(session_factory)) == 1


async def test_sustained_failure_auto_disables_and_raises_the_event(session_factory, http, partner):
    settings = outbound_settings(outbound_retry_schedule="0,0,0,0,0,0", outbound_disable_after_failures=3)
    runner = Runner(session_factory, settings, http)
    sub, _ = await _subscribe(runner, partner.url, events=["loan.*"])
    watcher, _ = await _subscribe(runner, partner.url, events=["webhook_subscription_*"], name="ops")
    partner.script = [500] * 3
    await publish(session_factory, "loan.disbursed", {})
    await runner.run_due()
    rows_by_name = {s.name: s for s in await rows(session_factory, WebhookSubscription)}
    assert not rows_by_name["partner-a"].enabled and rows_by_name["ops"].enabled
    assert rows_by_name["partner-a"].disabled_reason == "3 consecutive failed attempts"
    [event] = await rows(session_factory, OutboxEvent, event_type=SUBSCRIPTION_DISABLED_EVENT)
    payload = SubscriptionDisabled.model_validate(event.payload)
    assert (payload.subscription_id, payload.name, payload.url) == (sub.id, "partner-a", partner.url)
    assert (payload.cause, payload.automatic, payload.consecutive_failures) == ("failing", True, 3)
    assert payload.reason == "3 consecutive failed attempts" and payload.last_status == 500
    deliveries = {d.subscription_id: d for d in await _deliveries(session_factory)}
    assert deliveries[sub.id].status == "dead" and deliveries[sub.id].attempts == 3
    # The operational event itself went to the subscription that asked for it.
    assert deliveries[watcher.id].event_type == SUBSCRIPTION_DISABLED_EVENT
    assert deliveries[watcher.id].status == "delivered"


async def test_a_redirect_is_a_failure_and_is_not_followed(session_factory, http, partner):
    runner = Runner(session_factory, outbound_settings(outbound_retry_schedule="0"), http)
    await _subscribe(runner, partner.url)
    partner.script = [(302, {"location": partner.base + "/elsewhere"})]
    await publish(session_factory, "loan.disbursed", {})
    await runner.run_due()
    [delivery] = await _deliveries(session_factory)
    assert delivery.status == "dead" and delivery.last_status_code == 302
    [attempt] = await rows(session_factory, WebhookDeliveryAttempt)
    assert "redirect" in attempt.error and "not followed" in attempt.error
    assert partner.redirect_hits == 0


async def test_retry_after_pushes_the_next_attempt_up_to_the_schedule_max(session_factory, http, partner):
    runner = Runner(session_factory, outbound_settings(outbound_retry_schedule="0,5,60"), http)
    await _subscribe(runner, partner.url)
    partner.script = [(429, {"headers": {"retry-after": "3600"}})]
    await publish(session_factory, "loan.disbursed", {})
    before = utcnow()
    await runner.run_due()
    [delivery] = await _deliveries(session_factory)
    assert delivery.status == "failed" and delivery.last_status_code == 429
    wait = (delivery.next_attempt_at - before).total_seconds()
    assert 59 <= wait <= 60 * 1.1 + 2
    async with session_factory() as session:
        pending = await session.scalar(select(Job).where(Job.id == delivery.job_id))
    assert pending.status == JobStatus.PENDING and pending.run_after == delivery.next_attempt_at


@pytest.mark.parametrize("fault", ["timeout", "refused"])
async def test_timeouts_and_refused_connections_are_retried(session_factory, http, partner, fault):
    settings = outbound_settings(outbound_retry_schedule="0,0", outbound_timeout_seconds=0.3)
    runner = Runner(session_factory, settings, http)
    url = partner.url if fault == "timeout" else f"http://127.0.0.1:{free_port()}/hook"
    await _subscribe(runner, url)
    partner.script = [(200, {"sleep": 1.0}), (200, {"sleep": 1.0})]
    await publish(session_factory, "loan.disbursed", {})
    await runner.run_due()
    attempts = await rows(session_factory, WebhookDeliveryAttempt)
    assert len(attempts) == 2 and all(a.status_code is None for a in attempts)
    words = "no answer within 0.3 s" if fault == "timeout" else "connection failed"
    assert all(words in a.error for a in attempts)
    [delivery] = await _deliveries(session_factory)
    assert delivery.status == "dead"


async def test_a_target_refused_at_delivery_time_fails_permanently_without_sending(
    session_factory, http, partner
):
    # Created while loopback was allowed; the operator has since withdrawn the exemption.
    runner = Runner(session_factory, outbound_settings(outbound_allow_private_targets=""), http)
    await _subscribe(runner, partner.url)
    await publish(session_factory, "loan.disbursed", {})
    await runner.run_due()
    [delivery] = await _deliveries(session_factory)
    assert delivery.status == "dead" and "target refused" in delivery.last_error
    assert "loopback" in delivery.last_error
    assert partner.received == []


async def test_fan_out_is_in_the_callers_transaction_and_idempotent(session_factory):
    runner = Runner(session_factory, outbound_settings(), None)
    await _subscribe(runner, "http://127.0.0.1:1/a", events=["loan.*"], name="one")
    await _subscribe(runner, "http://127.0.0.1:1/b", events=["*"], name="two")
    await _subscribe(runner, "http://127.0.0.1:1/c", events=["application_*"], name="three")
    event = await publish(session_factory, "loan.disbursed", {})
    async with session_factory() as session:
        created = await fan_out(session, await session.get(OutboxEvent, event.id))
        assert len(created) == 2
        await session.rollback()
    assert await _deliveries(session_factory) == []
    async with session_factory() as session:
        assert (
            await session.scalar(select(func.count()).select_from(Job).where(Job.kind == DELIVER_JOB_KIND))
            == 0
        )
        row = await session.get(OutboxEvent, event.id)
        first = await fan_out(session, row)
        again = await fan_out(session, row)
        await session.commit()
        enqueued = take_enqueued(session)
    assert len(first) == 2 and again == []
    deliveries = await _deliveries(session_factory)
    assert {d.job_id for d in deliveries} <= set(enqueued)
    assert len({d.msg_id for d in deliveries}) == 2


async def test_a_worker_killed_mid_request_does_not_lose_the_delivery(session_factory, http, partner):
    runner = Runner(session_factory, outbound_settings(), http)
    _, secret = await _subscribe(runner, partner.url)
    partner.secrets = [secret]
    partner.hold = threading.Event()
    await publish(session_factory, "loan.disbursed", {"loan_id": "L-9"})
    [dispatch] = await claim_due(session_factory, "w0", 5, 10)
    await runner.executor.execute(dispatch)
    [delivery] = await _deliveries(session_factory)
    job = await claim(session_factory, delivery.job_id, "doomed-worker", 30)
    assert job is not None

    async def doomed() -> None:
        async with session_factory() as session:
            await runner.handlers.get(DELIVER_JOB_KIND)(session, job.payload, job)
            await session.commit()

    task = asyncio.create_task(doomed())
    await wait_for(lambda: partner.received, within=5, what="the request reaching the partner")
    task.cancel()  # the worker dies mid-request: no outcome, no completion, no lease renewal
    with pytest.raises(asyncio.CancelledError):
        await task
    partner.hold.set()
    async with session_factory() as session:  # the lease runs out (its expiry is tested in tests/core)
        await session.execute(
            update(Job).where(Job.id == job.id).values(lease_expires_at=utcnow() - timedelta(seconds=1))
        )
        await session.commit()
    await runner.run_due()

    [delivery] = await _deliveries(session_factory)
    assert (delivery.status, delivery.attempts) == ("delivered", 2)
    first, second = await rows(session_factory, WebhookDeliveryAttempt)
    assert first.finished_at is None and second.status_code == 200
    assert len(partner.received) == 2 and all(r.verified_with == [0] for r in partner.received)
    assert len({r.headers["webhook-id"] for r in partner.received}) == 1
    async with session_factory() as session:
        done = await session.get(Job, delivery.job_id)
    assert done.status == JobStatus.DONE
    assert await claim(session_factory, delivery.job_id, "late", 5) is None  # a duplicate wake-up


async def test_hostile_and_stale_jobs_do_nothing_or_fail_permanently(session_factory, http, partner):
    runner = Runner(session_factory, outbound_settings(), http)
    handler = runner.handlers.get(DELIVER_JOB_KIND)
    fake = ClaimedJob("j", DELIVER_JOB_KIND, {}, 1, 3, "o", utcnow())
    async with session_factory() as session:
        with pytest.raises(PermanentJobError):
            await handler(session, {}, fake)
        with pytest.raises(PermanentJobError):
            await handler(session, {"delivery_id": ["x"]}, fake)
        await handler(session, {"delivery_id": "no-such-delivery"}, fake)
    await _subscribe(runner, partner.url)
    await publish(session_factory, "loan.disbursed", {})
    [dispatch] = await claim_due(session_factory, "w0", 5, 10)
    await runner.executor.execute(dispatch)
    [delivery] = await _deliveries(session_factory)
    stale = ClaimedJob("not-the-owner", DELIVER_JOB_KIND, {"delivery_id": delivery.id}, 1, 3, "o", utcnow())
    async with session_factory() as session:
        await handler(session, {"delivery_id": delivery.id}, stale)
        await session.commit()
    assert partner.received == []
    assert (await _deliveries(session_factory))[0].attempts == 0


async def test_a_disabled_subscription_kills_its_pending_delivery_without_sending(
    session_factory, http, partner
):
    runner = Runner(session_factory, outbound_settings(), http)
    sub, _ = await _subscribe(runner, partner.url)
    await publish(session_factory, "loan.disbursed", {})
    [dispatch] = await claim_due(session_factory, "w0", 5, 10)
    await runner.executor.execute(dispatch)
    async with session_factory() as session:
        row = await session.get(WebhookSubscription, sub.id)
        row.enabled, row.disabled_reason = False, "partner on holiday"
        await session.commit()
    await runner.run_due()
    [delivery] = await _deliveries(session_factory)
    assert delivery.status == DeliveryStatus.DEAD and "partner on holiday" in delivery.last_error
    assert partner.received == []


async def test_the_request_goes_to_the_checked_address_with_the_original_host(session_factory, http, partner):
    runner = Runner(session_factory, outbound_settings(outbound_allow_private_targets="localhost"), http)
    url = partner.url.replace("127.0.0.1", "localhost")
    _, secret = await _subscribe(runner, url)
    partner.secrets = [secret]
    await publish(session_factory, "loan.disbursed", {})
    await runner.run_due()
    [received] = partner.received
    assert received.headers["host"] == url.split("/")[2] and received.verified_with == [0]
    [attempt] = await rows(session_factory, WebhookDeliveryAttempt)
    assert attempt.target_ip == "127.0.0.1" and attempt.url == url


async def test_the_lazy_client_is_made_once_and_never_follows_redirects():
    from hub.outbound import LazyClient

    factory = LazyClient()
    client = factory()
    assert factory() is client and client.follow_redirects is False
    await factory.aclose()
    assert factory() is not client
    await factory.aclose()
