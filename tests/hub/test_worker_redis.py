import uuid

import pytest
import redis.asyncio as aioredis
from dbfixtures import effects
from jobwait import RecordingExecutor, count, job_row, start_after_first_sweep, wait_for

from core.jobs import JobExecutor, JobHandlers, JobStatus, enqueue, take_enqueued
from hub.workers import RedisJobQueue

pytestmark = pytest.mark.redis


@pytest.fixture
async def stream(redis_url):
    name = f"lendhub:test:{uuid.uuid4().hex}"
    yield name
    client = aioredis.from_url(redis_url)
    try:
        await client.delete(name)
    finally:
        await client.aclose()


def _handlers() -> JobHandlers:
    handlers = JobHandlers()

    @handlers.register("test.effect")
    async def effect(session, payload, job):
        await session.execute(effects.insert().values(job_id=job.id))

    return handlers


async def _enqueue(session_factory) -> str:
    async with session_factory() as session:
        await enqueue(session, "test.effect", {})
        await session.commit()
        [job_id] = take_enqueued(session)
    return job_id


async def _done(session_factory, job_id):
    return (await job_row(session_factory, job_id)).status == JobStatus.DONE


async def test_a_wake_up_through_the_stream_runs_the_job_once_despite_duplicates(
    session_factory, redis_url, stream
):
    executor = RecordingExecutor(session_factory, _handlers(), owner="redis-worker", lease_seconds=5)
    consumer = RedisJobQueue(redis_url, executor=executor, stream=stream, sweep_interval=60)
    producer = RedisJobQueue(redis_url, stream=stream)
    await producer.start()
    # Past the consumer's first sweep: only the stream can wake it.
    await start_after_first_sweep(consumer, session_factory)
    try:
        job_id = await _enqueue(session_factory)
        for _ in range(3):
            await producer.notify(job_id)
        # Every message handled, not merely the job done: a duplicate that ran it again would show.
        await wait_for(lambda: len(executor.wakeups) == 3, within=10, what="all three wake-ups")
    finally:
        await producer.stop()
        await consumer.stop()
    assert sorted(executor.wakeups) == [False, False, True]
    assert await count(session_factory, effects) == 1
    assert (await job_row(session_factory, job_id)).attempts == 1


async def test_a_job_whose_message_was_lost_is_swept(session_factory, redis_url, stream):
    executor = JobExecutor(session_factory, _handlers(), owner="redis-worker", lease_seconds=5)
    consumer = RedisJobQueue(redis_url, executor=executor, stream=stream, sweep_interval=0.2)
    await consumer.start()
    try:
        job_id = await _enqueue(session_factory)
        await wait_for(lambda: _done(session_factory, job_id), within=10)
    finally:
        await consumer.stop()
    assert await count(session_factory, effects) == 1
