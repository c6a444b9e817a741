import asyncio

import pytest
from dbfixtures import effects
from sqlalchemy import func, select
from waiting import wait_for

from core.jobs import (
    ClaimedJob,
    Job,
    JobExecutor,
    JobHandlers,
    JobStatus,
    PermanentJobError,
    RetryPolicy,
    claim,
    enqueue,
)

NO_WAIT = RetryPolicy(base_seconds=0.0, jitter=0.0)


async def _enqueue(session_factory, kind, payload=None, **kwargs):
    async with session_factory() as session:
        job_id = await enqueue(session, kind, payload or {}, **kwargs)
        await session.commit()
    return job_id


async def _count_effects(session_factory) -> int:
    async with session_factory() as session:
        return await session.scalar(select(func.count()).select_from(effects))


async def _job(session_factory, job_id) -> Job:
    async with session_factory() as session:
        return await session.get(Job, job_id)


def _executor(session_factory, handlers, lease=5.0, owner="w1"):
    return JobExecutor(session_factory, handlers, owner=owner, lease_seconds=lease, retry_policy=NO_WAIT)


async def _write_effect(session, payload, job: ClaimedJob) -> None:
    await session.execute(effects.insert().values(job_id=job.id, note=payload.get("note", "")))


async def test_handler_effects_and_completion_commit_together(session_factory):
    handlers = JobHandlers()
    handlers.register("test.effect", _write_effect)
    job_id = await _enqueue(session_factory, "test.effect", {"note": "hi"})
    executor = _executor(session_factory, handlers)
    assert await executor.run(job_id) is True
    assert await executor.run(job_id) is False  # duplicate wake-up: nothing to do
    assert await _count_effects(session_factory) == 1
    job = await _job(session_factory, job_id)
    assert (job.status, job.attempts) == (JobStatus.DONE, 1)


async def test_a_failing_handler_rolls_back_and_is_retried_then_dead_lettered(session_factory):
    handlers = JobHandlers()

    @handlers.register("test.flaky")
    async def flaky(session, payload, job):
        await _write_effect(session, payload, job)
        raise ConnectionError(f"vendor down on attempt {job.attempts}")

    job_id = await _enqueue(session_factory, "test.flaky", max_attempts=3)
    executor = _executor(session_factory, handlers)
    for _ in range(3):
        assert await executor.run(job_id) is True
    assert await executor.run(job_id) is False
    job = await _job(session_factory, job_id)
    assert (job.status, job.attempts) == (JobStatus.DEAD, 3)
    assert "ConnectionError: vendor down on attempt 3" in job.last_error
    assert await _count_effects(session_factory) == 0


async def test_a_permanent_error_dead_letters_immediately(session_factory):
    handlers = JobHandlers()

    @handlers.register("test.bad")
    async def bad(session, payload, job):
        raise PermanentJobError("subject unknown")

    job_id = await _enqueue(session_factory, "test.bad", max_attempts=5)
    await _executor(session_factory, handlers).run(job_id)
    job = await _job(session_factory, job_id)
    assert (job.status, job.attempts) == (JobStatus.DEAD, 1)


async def test_an_unknown_kind_fails_with_a_clear_error(session_factory):
    job_id = await _enqueue(session_factory, "test.nobody", max_attempts=2)
    await _executor(session_factory, JobHandlers()).run(job_id)
    job = await _job(session_factory, job_id)
    assert job.status == JobStatus.FAILED
    assert "no handler registered for job kind 'test.nobody'" in job.last_error


async def test_a_worker_that_lost_its_lease_rolls_back_its_effects(session_factory, job_clock):
    handlers = JobHandlers()
    release_slow = asyncio.Event()

    @handlers.register("test.slow")
    async def slow(session, payload, job):
        await _write_effect(session, payload, job)
        if job.owner == "slow":
            await release_slow.wait()

    job_id = await _enqueue(session_factory, "test.slow")
    # The slow worker claimed first, then stalled past its lease before running the handler
    # (on SQLite a handler holding the write lock would block the take-over, so it runs after).
    slow_worker = JobExecutor(session_factory, handlers, owner="slow", lease_seconds=0.3)
    first = await claim(session_factory, job_id, "slow", 0.3)
    assert first is not None
    job_clock.advance(0.4)
    fast = _executor(session_factory, handlers, owner="fast")
    assert await fast.run(job_id) is True
    release_slow.set()
    await slow_worker.execute(first)
    assert await _count_effects(session_factory) == 1
    job = await _job(session_factory, job_id)
    assert (job.status, job.attempts, job.lease_owner) == (JobStatus.DONE, 2, None)


async def test_the_lease_is_renewed_while_a_long_job_runs(session_factory, job_clock):
    handlers = JobHandlers()
    started, finish = asyncio.Event(), asyncio.Event()
    seen = []

    @handlers.register("test.long")
    async def long(session, payload, job):
        started.set()
        await finish.wait()
        seen.append(job.attempts)

    job_id = await _enqueue(session_factory, "test.long")
    executor = _executor(session_factory, handlers, lease=0.3)  # renewed every 0.1 s
    runner = asyncio.create_task(executor.run(job_id))
    await started.wait()
    claimed_until = (await _job(session_factory, job_id)).lease_expires_at
    job_clock.advance(0.2)

    async def renewed():
        return (await _job(session_factory, job_id)).lease_expires_at > claimed_until

    await wait_for(renewed, within=5, what="a lease renewal")
    job_clock.advance(0.2)
    # Past the original lease, yet nobody else can take the job: it was renewed.
    assert await claim(session_factory, job_id, "thief", 5) is None
    finish.set()
    await runner
    job = await _job(session_factory, job_id)
    assert (job.status, job.attempts, seen) == (JobStatus.DONE, 1, [1])
    assert job.finished_at <= job_clock.now


def test_handlers_refuse_a_duplicate_kind():
    handlers = JobHandlers()
    handlers.register("a", _write_effect)
    with pytest.raises(ValueError, match="already registered"):
        handlers.register("a", _write_effect)
    assert "a" in handlers and list(handlers) == ["a"] and len(handlers) == 1
