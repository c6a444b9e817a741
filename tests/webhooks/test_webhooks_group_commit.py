"""Group commit: concurrent webhooks share transactions, and one bad request fails alone."""

from __future__ import annotations

import asyncio
from contextlib import asynccontextmanager
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select
from waiting import wait_for

from core.webhooks.models import WebhookInboxEvent
from core.webhooks.repository import NewInboxEvent, NewRequest
from hub.webhooks.group_commit import GroupCommit


def _request(n: int, body: object = b"{}") -> NewRequest:
    return NewRequest(
        source="standard-webhooks",
        instance="gc",
        method="POST",
        path="/webhooks/standard-webhooks/gc",
        query={},
        headers={},
        sealed_headers=None,
        body=body,  # type: ignore[arg-type]
        verification={"verified": True},
        received_at=datetime.now(UTC),
    )


def _event(n: int, payload: object | None = None) -> NewInboxEvent:
    return NewInboxEvent(event_id=f"evt-{n}", event_type="x.y", payload=payload or {"n": n})  # type: ignore[arg-type]


class GatedSessions:
    """A session factory whose transactions start only once the test opens ``gate``.

    ``opened`` is set when the writer asks for a session: it has taken a batch and is writing it.
    """

    def __init__(self, factory):
        self.factory = factory
        self.opened = asyncio.Event()
        self.gate = asyncio.Event()

    @asynccontextmanager
    async def __call__(self):
        self.opened.set()
        await self.gate.wait()
        async with self.factory() as session:
            yield session


class CountingSessions:
    def __init__(self, factory):
        self.factory = factory
        self.opened = 0

    def __call__(self):
        self.opened += 1
        return self.factory()


async def _inbox_count(session_factory) -> int:
    async with session_factory() as session:
        return int(await session.scalar(select(func.count()).select_from(WebhookInboxEvent)) or 0)


async def test_concurrent_deliveries_share_transactions_and_all_commit(session_factory) -> None:
    sessions = CountingSessions(session_factory)
    writer = GroupCommit(sessions, max_batch=64)
    results = await asyncio.gather(*(writer.store(_request(n), [_event(n)]) for n in range(40)))
    assert all(len(r.inserted) == 1 and r.job_ids for r in results)
    assert await _inbox_count(session_factory) == 40
    assert sessions.opened < 40  # batched: fewer transactions than requests


async def test_duplicates_in_one_batch_count_once(session_factory) -> None:
    writer = GroupCommit(session_factory)
    results = await asyncio.gather(*(writer.store(_request(n), [_event(7)]) for n in range(5)))
    assert sum(len(r.inserted) for r in results) == 1
    assert sum(len(r.duplicates) for r in results) == 4
    assert await _inbox_count(session_factory) == 1


async def test_a_bad_request_fails_alone_and_its_neighbours_are_stored(session_factory) -> None:
    writer = GroupCommit(session_factory)
    good = [writer.store(_request(n), [_event(n)]) for n in range(6)]
    bad = writer.store(_request(99), [_event(99, payload={"not json": object()})])
    outcomes = await asyncio.gather(*good, bad, return_exceptions=True)
    assert all(not isinstance(o, BaseException) for o in outcomes[:6])
    assert isinstance(outcomes[6], Exception)
    assert await _inbox_count(session_factory) == 6


@pytest.mark.parametrize("max_batch", [1, 3])
async def test_small_batches_still_store_everything(session_factory, max_batch: int) -> None:
    writer = GroupCommit(session_factory, max_batch=max_batch)
    await asyncio.gather(*(writer.store(_request(n), [_event(n)]) for n in range(10)))
    assert await _inbox_count(session_factory) == 10


async def test_a_waiter_that_gives_up_does_not_break_the_writer(session_factory) -> None:
    sessions = GatedSessions(session_factory)
    writer = GroupCommit(sessions)
    impatient = asyncio.ensure_future(writer.store(_request(1), [_event(1)]))
    patient = asyncio.ensure_future(writer.store(_request(2), [_event(2)]))
    await sessions.opened.wait()  # both are queued and the writer is writing them
    impatient.cancel()
    sessions.gate.set()
    stored = await patient
    assert stored.inserted == {"evt-2": stored.inserted["evt-2"]}
    await writer.aclose()
    assert await _inbox_count(session_factory) == 2  # the cancelled one was already queued: written


async def test_aclose_waits_for_queued_writes(session_factory) -> None:
    sessions = GatedSessions(session_factory)
    writer = GroupCommit(sessions)
    pending = [asyncio.ensure_future(writer.store(_request(n), [_event(n)])) for n in range(5)]
    await sessions.opened.wait()
    assert not any(p.done() for p in pending)
    sessions.gate.set()  # the write can finish now, but only if aclose waits for it
    await writer.aclose()
    assert all(p.done() for p in pending)
    assert await _inbox_count(session_factory) == 5


async def test_known_duplicates_are_answered_without_writing(session_factory) -> None:
    async def known(items):
        return [request.path.endswith("/known") for request, _ in items]

    writer = GroupCommit(session_factory, known=known)
    fresh = _request(1)
    seen = NewRequest(**{**fresh.__dict__, "path": "/webhooks/standard-webhooks/known"})
    a, b = await asyncio.gather(writer.store(fresh, [_event(1)]), writer.store(seen, [_event(2)]))
    assert a.inserted and not a.skipped
    assert b.skipped and b.duplicates == ["evt-2"] and not b.inserted
    assert await _inbox_count(session_factory) == 1


async def test_a_failing_fast_path_writes_the_whole_batch(session_factory) -> None:
    async def broken(items):
        raise ConnectionError("cache down")

    writer = GroupCommit(session_factory, known=broken)
    results = await asyncio.gather(*(writer.store(_request(n), [_event(n)]) for n in range(3)))
    assert all(r.inserted for r in results)
    assert await _inbox_count(session_factory) == 3


async def test_refusal_counts_are_written_together(session_factory) -> None:
    from core.webhooks.models import WebhookRefusalCount

    sessions = CountingSessions(session_factory)
    writer = GroupCommit(sessions)
    for _ in range(50):
        writer.count_refusal("standard-webhooks", "gc", "webhook-signature-invalid")
    writer.count_refusal("*", "*", "webhook-source-not-found")
    await writer.flush()
    async with session_factory() as session:
        counts = {
            (r.source, r.reason): r.count for r in (await session.scalars(select(WebhookRefusalCount))).all()
        }
    assert counts == {
        ("standard-webhooks", "webhook-signature-invalid"): 50,
        ("*", "webhook-source-not-found"): 1,
    }
    assert sessions.opened == 1  # one transaction for all 51


async def test_refusal_counts_are_written_within_the_delay_without_a_flush(session_factory) -> None:
    from core.webhooks.models import WebhookRefusalCount

    sessions = CountingSessions(session_factory)
    writer = GroupCommit(sessions, refusal_delay=0.05)

    async def written() -> int:
        async with session_factory() as session:
            return sum(r.count for r in (await session.scalars(select(WebhookRefusalCount))).all())

    for _ in range(3):
        writer.count_refusal("standard-webhooks", "gc", "webhook-signature-invalid")
    assert await written() == 0  # not on the refusal's path

    async def all_three() -> bool:
        return await written() == 3

    await wait_for(all_three, within=5, what="the counts written")
    assert sessions.opened == 1
    writer.count_refusal("standard-webhooks", "gc", "webhook-signature-invalid")  # a new round
    await writer.flush()
    assert await written() == 4 and sessions.opened == 2


async def test_two_writers_overlap_transactions_and_lose_nothing(session_factory) -> None:
    """PostgreSQL's setting: the next batch is written while the previous one commits."""
    active = peak = opened = 0

    @asynccontextmanager
    async def tracked():
        nonlocal active, peak, opened
        opened += 1
        active += 1
        peak = max(peak, active)
        try:
            async with session_factory() as session:
                yield session
        finally:
            active -= 1

    writer = GroupCommit(tracked, max_batch=8, max_writers=2)
    results = await asyncio.gather(*(writer.store(_request(n), [_event(n)]) for n in range(40)))
    await writer.flush()
    assert all(len(r.inserted) == 1 for r in results)
    assert await _inbox_count(session_factory) == 40
    assert 5 <= opened < 40  # batched, at most 8 a transaction
    assert peak <= 2 and (peak == 2 or session_factory.kw["bind"].dialect.name == "sqlite")
    late = await writer.store(_request(99), [_event(99)])  # a request after the writers went idle
    assert late.inserted


async def test_requests_queued_behind_a_write_are_checked_while_it_runs(session_factory) -> None:
    """The fast path is asked once for everything that queued up, before a writer takes it."""
    asked: list[int] = []
    queued_asked = asyncio.Event()

    async def known(items):
        asked.append(len(items))
        if len(asked) == 2:
            queued_asked.set()
        return [request.path.endswith("/known") for request, _ in items]

    sessions = GatedSessions(session_factory)  # a transaction in flight while more requests arrive
    writer = GroupCommit(sessions, known=known)
    first = asyncio.create_task(writer.store(_request(0), [_event(0)]))
    await sessions.opened.wait()  # the writer has taken the first request and is writing it
    seen = NewRequest(**{**_request(1).__dict__, "path": "/webhooks/standard-webhooks/known"})
    queued = [
        asyncio.create_task(writer.store(request, [_event(n)]))
        for n, request in [(1, seen), *((n, _request(n)) for n in range(2, 12))]
    ]
    await asyncio.wait_for(queued_asked.wait(), 5)  # asked while the first write is still open
    sessions.gate.set()
    results = await asyncio.gather(first, *queued)
    assert asked == [1, 11]  # the first alone, then the eleven queued behind it in one call
    assert results[1].skipped and all(r.inserted for i, r in enumerate(results) if i != 1)
    assert await _inbox_count(session_factory) == 11
