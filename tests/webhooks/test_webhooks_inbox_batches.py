"""One processing job per group commit: a batch is one transaction, its events keep their own fate."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select
from webhooks_inbox_support import make_host

from core.jobs.handlers import JobHandlers, PermanentJobError
from core.jobs.models import Job
from core.jobs.repository import ClaimedJob
from core.webhooks import PROCESS_JOB, WebhookInboxEvent
from core.webhooks.repository import NewInboxEvent, NewRequest, store_deliveries
from hub.webhooks.processing import register_inbox_handlers
from plugins.sdk import hookimpl


class Picky:
    """Fails for the event ids in ``failing``, hangs for those in ``hanging``, records the rest."""

    LENDHUB_HOOK_API = "1.0"

    def __init__(self, failing: set[str] = frozenset(), hanging: set[str] = frozenset()) -> None:  # type: ignore[assignment]
        self.failing, self.hanging = failing, hanging
        self.seen: list[str] = []

    @hookimpl
    async def webhook_received(self, delivery: Any) -> None:
        if delivery.event.id in self.hanging:
            await asyncio.Event().wait()  # never answers; the dispatch timeout has to end it
        if delivery.event.id in self.failing:
            raise RuntimeError("downstream said no")
        self.seen.append(delivery.event.id)


def _request(n: int) -> NewRequest:
    return NewRequest(
        source="stub-hmac",
        instance="partner",
        method="POST",
        path="/webhooks/stub-hmac/partner",
        query={},
        headers={},
        sealed_headers=None,
        body=b"{}",
        verification={"verified": True},
        received_at=datetime.now(UTC),
    )


def _event(event_id: str, object_id: str | None = None, version: int | None = None) -> NewInboxEvent:
    return NewInboxEvent(
        event_id=event_id,
        event_type="x.y",
        payload={"id": event_id},
        object_id=object_id,
        object_version=version,
    )


async def _store_batch(session_factory, events: list[NewInboxEvent]) -> Job:
    async with session_factory() as session:
        await store_deliveries(session, [(_request(n), [event]) for n, event in enumerate(events)])
        await session.commit()
        [job] = (await session.scalars(select(Job))).all()
    return job


async def _run(session_factory, plugin: Picky, job: Job, dispatch_timeout: float = 5.0) -> None:
    handlers = JobHandlers()
    register_inbox_handlers(
        handlers, make_host(plugin), retry_delays=[0.0], dispatch_timeout=dispatch_timeout
    )
    claimed = ClaimedJob(
        id=job.id,
        kind=job.kind,
        payload=job.payload,
        attempts=1,
        max_attempts=5,
        owner="t",
        lease_expires_at=None,
    )
    async with session_factory() as session:
        await handlers.get(PROCESS_JOB)(session, job.payload, claimed)
        await session.commit()


async def _statuses(session_factory) -> dict[str, tuple[str, str | None]]:
    async with session_factory() as session:
        rows = (await session.scalars(select(WebhookInboxEvent))).all()
    return {r.event_id: (r.status, r.last_error) for r in rows}


async def test_a_batch_is_one_job_and_a_failing_event_fails_alone(session_factory) -> None:
    job = await _store_batch(session_factory, [_event("a"), _event("b"), _event("c")])
    assert job.kind == PROCESS_JOB and len(job.payload["inbox_ids"]) == 3
    plugin = Picky(failing={"b"})
    await _run(session_factory, plugin, job)
    statuses = await _statuses(session_factory)
    assert plugin.seen == ["a", "c"]
    assert statuses["a"][0] == statuses["c"][0] == "processed"
    assert statuses["b"][0] == "processing" and "downstream said no" in (statuses["b"][1] or "")
    async with session_factory() as session:
        retries = [j for j in (await session.scalars(select(Job))).all() if j.id != job.id]
        b_row = await session.scalar(select(WebhookInboxEvent).where(WebhookInboxEvent.event_id == "b"))
    assert [r.payload for r in retries] == [{"inbox_id": b_row.id}]  # the retry is the event's own job


async def test_ordering_holds_inside_one_batch(session_factory) -> None:
    events = [
        _event("v2", "loan-1", 2),
        _event("v1", "loan-1", 1),
        _event("w1", "loan-2", 1),
        _event("w3", "loan-2", 3),
    ]
    job = await _store_batch(session_factory, events)
    plugin = Picky()
    await _run(session_factory, plugin, job)
    statuses = await _statuses(session_factory)
    assert plugin.seen == ["v2", "w3"]  # per object, only the job's newest version is delivered
    assert statuses["v1"][0] == statuses["w1"][0] == "superseded"
    assert statuses["v2"][0] == statuses["w3"][0] == "processed"


async def test_a_hung_plugin_times_out_and_its_neighbours_are_processed(session_factory) -> None:
    job = await _store_batch(session_factory, [_event("slow"), _event("quick")])
    plugin = Picky(hanging={"slow"})
    started = asyncio.get_running_loop().time()
    await _run(session_factory, plugin, job, dispatch_timeout=0.2)
    assert asyncio.get_running_loop().time() - started < 5
    statuses = await _statuses(session_factory)
    assert statuses["quick"][0] == "processed"
    assert statuses["slow"][0] == "processing" and "no answer within 0.2 s" in (statuses["slow"][1] or "")


async def test_a_single_event_batch_keeps_the_one_event_payload(session_factory) -> None:
    job = await _store_batch(session_factory, [_event("solo")])
    async with session_factory() as session:
        row = await session.scalar(select(WebhookInboxEvent))
    assert job.payload == {"inbox_id": row.id}


async def test_a_later_batch_sees_versions_an_earlier_one_processed(session_factory) -> None:
    plugin = Picky()
    await _run(session_factory, plugin, await _store_batch(session_factory, [_event("v5", "loan-9", 5)]))
    async with session_factory() as session:
        from sqlalchemy import delete

        await session.execute(delete(Job))  # the first job is done; keep the next one alone
        await session.commit()
    job = await _store_batch(session_factory, [_event("v3", "loan-9", 3), _event("v6", "loan-9", 6)])
    await _run(session_factory, plugin, job)
    statuses = await _statuses(session_factory)
    assert plugin.seen == ["v5", "v6"]
    assert statuses["v3"][0] == "superseded" and statuses["v6"][0] == "processed"


async def test_a_large_batch_is_split_into_jobs_of_bounded_size(session_factory) -> None:
    from core.webhooks.repository import EVENTS_PER_JOB

    events = [_event(f"e{n}") for n in range(EVENTS_PER_JOB * 2 + 3)]
    async with session_factory() as session:
        results = await store_deliveries(session, [(_request(n), [e]) for n, e in enumerate(events)])
        await session.commit()
        jobs = (await session.scalars(select(Job))).all()
    sizes = sorted(len(j.payload.get("inbox_ids", [j.payload.get("inbox_id")])) for j in jobs)
    assert sizes == [3, EVENTS_PER_JOB, EVENTS_PER_JOB]
    assert all(len(r.job_ids) == 1 for r in results) and len({r.job_ids[0] for r in results}) == 3


async def test_a_batch_that_failed_before_is_split_into_one_job_per_event(session_factory) -> None:
    job = await _store_batch(session_factory, [_event("p"), _event("q"), _event("r")])
    handlers = JobHandlers()
    plugin = Picky()
    register_inbox_handlers(handlers, make_host(plugin), retry_delays=[0.0], dispatch_timeout=5.0)
    second_attempt = ClaimedJob(
        id=job.id,
        kind=job.kind,
        payload=job.payload,
        attempts=2,
        max_attempts=5,
        owner="t",
        lease_expires_at=None,
    )
    async with session_factory() as session:
        await handlers.get(PROCESS_JOB)(session, job.payload, second_attempt)
        await session.commit()
        jobs = [j for j in (await session.scalars(select(Job))).all() if j.id != job.id]
    assert plugin.seen == []  # nothing dispatched by the failed batch itself
    assert sorted(len(j.payload) for j in jobs) == [1, 1, 1] and all("inbox_id" in j.payload for j in jobs)
    for split in jobs:
        await _run(session_factory, plugin, split)
    assert sorted(plugin.seen) == ["p", "q", "r"]
    assert {status for status, _ in (await _statuses(session_factory)).values()} == {"processed"}


@pytest.mark.parametrize(
    "payload", [{}, {"inbox_ids": []}, {"inbox_ids": [1, 2]}, {"inbox_ids": "abc"}, {"inbox_id": 7}]
)
async def test_a_malformed_job_payload_fails_permanently(session_factory, payload) -> None:
    handlers = JobHandlers()
    register_inbox_handlers(handlers, make_host(Picky()), retry_delays=[0.0], dispatch_timeout=5.0)
    job = ClaimedJob(
        id="j",
        kind=PROCESS_JOB,
        payload=payload,
        attempts=1,
        max_attempts=5,
        owner="t",
        lease_expires_at=None,
    )
    async with session_factory() as session:
        with pytest.raises(PermanentJobError, match="no inbox_id or inbox_ids"):
            await handlers.get(PROCESS_JOB)(session, payload, job)


async def test_a_job_whose_rows_are_all_gone_fails_permanently(session_factory) -> None:
    handlers = JobHandlers()
    register_inbox_handlers(handlers, make_host(Picky()), retry_delays=[0.0], dispatch_timeout=5.0)
    payload = {"inbox_ids": ["missing-1", "missing-2"]}
    job = ClaimedJob(
        id="j",
        kind=PROCESS_JOB,
        payload=payload,
        attempts=1,
        max_attempts=5,
        owner="t",
        lease_expires_at=None,
    )
    async with session_factory() as session:
        with pytest.raises(PermanentJobError, match="do not exist"):
            await handlers.get(PROCESS_JOB)(session, payload, job)
