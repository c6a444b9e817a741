import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from core.db import utcnow
from core.jobs import (
    Job,
    JobStatus,
    RetryPolicy,
    bury_expired,
    claim,
    claim_due,
    complete,
    enqueue,
    fail,
    release,
    renew_lease,
    take_enqueued,
)

FAST = RetryPolicy(base_seconds=10.0, factor=2.0, max_seconds=100.0, jitter=0.5)


async def _enqueue(session_factory, kind="test.noop", **kwargs):
    async with session_factory() as session:
        job_id = await enqueue(session, kind, {"n": 1}, **kwargs)
        await session.commit()
    return job_id


async def _job(session_factory, job_id) -> Job:
    async with session_factory() as session:
        job = await session.get(Job, job_id)
        assert job is not None
        return job


async def test_enqueue_is_part_of_the_callers_transaction(session_factory):
    async with session_factory() as session:
        job_id = await enqueue(session, "test.noop", {"a": 1})
        assert take_enqueued(session) == [job_id]
        assert take_enqueued(session) == []
        await session.rollback()
    async with session_factory() as session:
        assert await session.get(Job, job_id) is None


async def test_claim_leases_a_due_job_once(session_factory):
    job_id = await _enqueue(session_factory)
    claimed = await claim(session_factory, job_id, "w1", 30)
    assert claimed is not None
    assert (claimed.kind, claimed.payload, claimed.attempts, claimed.owner) == (
        "test.noop",
        {"n": 1},
        1,
        "w1",
    )
    assert claimed.lease_expires_at > utcnow()
    assert await claim(session_factory, job_id, "w2", 30) is None  # a duplicate wake-up
    job = await _job(session_factory, job_id)
    assert (job.status, job.lease_owner, job.attempts) == (JobStatus.RUNNING, "w1", 1)


async def test_claim_is_exclusive_under_concurrency(session_factory):
    job_id = await _enqueue(session_factory)
    results = await asyncio.gather(*(claim(session_factory, job_id, f"w{n}", 30) for n in range(8)))
    winners = [result for result in results if result is not None]
    assert len(winners) == 1
    assert (await _job(session_factory, job_id)).attempts == 1


async def test_a_job_is_not_claimed_before_run_after(session_factory):
    job_id = await _enqueue(session_factory, run_after=utcnow() + timedelta(hours=1))
    assert await claim(session_factory, job_id, "w1", 30) is None
    assert await claim_due(session_factory, "w1", 30, 10) == []


async def test_expired_lease_is_reclaimed_and_the_old_owner_cannot_complete(session_factory, job_clock):
    job_id = await _enqueue(session_factory)
    first = await claim(session_factory, job_id, "w1", 0.2)
    assert first is not None
    job_clock.advance(0.19)
    assert await claim(session_factory, job_id, "w2", 30) is None  # lease still live
    job_clock.advance(0.02)
    second = await claim(session_factory, job_id, "w2", 30)
    assert second is not None and second.attempts == 2
    async with session_factory() as session:
        assert await complete(session, first) is False
        await session.rollback()
    assert await renew_lease(session_factory, first, 30) is None
    assert await fail(session_factory, first, "late", FAST) is None
    async with session_factory() as session:
        assert await complete(session, second) is True
        await session.commit()
    job = await _job(session_factory, job_id)
    assert (job.status, job.attempts, job.lease_owner) == (JobStatus.DONE, 2, None)
    assert job.finished_at is not None


async def test_the_same_owner_cannot_complete_a_lease_it_lost_to_itself(session_factory, job_clock):
    job_id = await _enqueue(session_factory)
    first = await claim(session_factory, job_id, "w1", 0.1)
    job_clock.advance(0.2)
    second = await claim(session_factory, job_id, "w1", 30)
    assert first is not None and second is not None
    async with session_factory() as session:
        assert await complete(session, first) is False  # attempts fence it


async def test_failures_retry_with_backoff_then_dead_letter_keeping_the_error(session_factory):
    job_id = await _enqueue(session_factory, max_attempts=3)
    delays = []
    for attempt in (1, 2, 3):
        async with session_factory() as session:
            await session.execute(Job.__table__.update().where(Job.id == job_id).values(run_after=utcnow()))
            await session.commit()
        job = await claim(session_factory, job_id, "w1", 30)
        assert job is not None and job.attempts == attempt
        before = utcnow()
        status = await fail(session_factory, job, RuntimeError(f"boom {attempt}"), FAST)
        row = await _job(session_factory, job_id)
        if attempt < 3:
            assert status is JobStatus.FAILED and row.status == JobStatus.FAILED
            delays.append((row.run_after - before).total_seconds())
        else:
            assert status is JobStatus.DEAD and row.status == JobStatus.DEAD
            assert row.finished_at is not None
        assert row.last_error is not None and f"RuntimeError: boom {attempt}" in row.last_error
        assert row.lease_owner is None
    # base 10 s doubling, jitter shortens by at most half
    assert 5 - 0.5 <= delays[0] <= 10 + 0.5
    assert 10 - 0.5 <= delays[1] <= 20 + 0.5
    assert await claim(session_factory, job_id, "w1", 30) is None


def test_retry_policy_is_capped_and_jittered():
    policy = RetryPolicy(base_seconds=1, factor=10, max_seconds=50, jitter=0.2)
    assert policy.delay(1).total_seconds() <= 1
    assert 40 <= policy.delay(5).total_seconds() <= 50
    assert len({policy.delay(3) for _ in range(20)}) > 1


async def test_permanent_failure_is_dead_at_once(session_factory):
    job_id = await _enqueue(session_factory, max_attempts=5)
    job = await claim(session_factory, job_id, "w1", 30)
    assert await fail(session_factory, job, ValueError("bad"), FAST, permanent=True) is JobStatus.DEAD


async def test_claim_due_takes_due_and_expired_jobs_in_batches(session_factory, job_clock):
    ids = [await _enqueue(session_factory) for _ in range(5)]
    await _enqueue(session_factory, run_after=utcnow() + timedelta(hours=1))
    first = await claim_due(session_factory, "w1", 0.2, 3)
    second = await claim_due(session_factory, "w2", 30, 10)
    assert len(first) == 3 and len(second) == 2
    assert {job.id for job in first + second} == set(ids)
    job_clock.advance(0.3)  # past w1's 0.2 s leases, within w2's 30 s ones
    third = await claim_due(session_factory, "w3", 30, 10)
    assert {job.id for job in third} == {job.id for job in first}
    assert all(job.attempts == 2 for job in third)


async def test_concurrent_sweepers_never_share_a_job(session_factory):
    for _ in range(12):
        await _enqueue(session_factory)
    batches = await asyncio.gather(*(claim_due(session_factory, f"s{n}", 30, 5) for n in range(4)))
    claimed = [job.id for batch in batches for job in batch]
    assert len(claimed) == len(set(claimed)) == 12


async def test_bury_expired_dead_letters_a_job_that_used_its_last_attempt(session_factory, job_clock):
    job_id = await _enqueue(session_factory, max_attempts=1)
    assert await claim(session_factory, job_id, "w1", 0.1) is not None
    assert await bury_expired(session_factory) == 0  # its lease is still live
    job_clock.advance(0.2)
    assert await claim(session_factory, job_id, "w2", 30) is None
    assert await bury_expired(session_factory) == 1
    row = await _job(session_factory, job_id)
    assert row.status == JobStatus.DEAD and "lease expired" in (row.last_error or "")


async def test_renew_and_release(session_factory):
    job_id = await _enqueue(session_factory)
    job = await claim(session_factory, job_id, "w1", 1)
    renewed = await renew_lease(session_factory, job, 60)
    assert renewed is not None and renewed > job.lease_expires_at
    assert await release(session_factory, job) is True
    again = await claim(session_factory, job_id, "w2", 30)
    assert again is not None and again.attempts == 2


async def test_dedupe_key_enqueues_a_logical_job_once(session_factory):
    first = await _enqueue(session_factory, dedupe_key="report:42")
    second = await _enqueue(session_factory, dedupe_key="report:42")
    other = await _enqueue(session_factory, dedupe_key="report:43")
    assert first == second != other
    async with session_factory() as session:
        assert await session.scalar(select(func.count()).select_from(Job)) == 2


async def test_enqueue_rejects_zero_attempts(session_factory):
    async with session_factory() as session:
        with pytest.raises(ValueError):
            await enqueue(session, "x", {}, max_attempts=0)
