import asyncio

from dbfixtures import effects
from jobwait import RecordingExecutor, count, job_row, start_after_first_sweep, wait_for

from core.jobs import JobHandlers, JobStatus, RetryPolicy, enqueue, take_enqueued
from hub.settings import load_settings
from hub.workers import InProcessJobQueue, RedisJobQueue, make_job_queue


def _handlers(gate: asyncio.Event | None = None) -> JobHandlers:
    handlers = JobHandlers()

    @handlers.register("test.effect")
    async def effect(session, payload, job):
        await session.execute(effects.insert().values(job_id=job.id))
        if gate is not None:
            await gate.wait()

    return handlers


async def _enqueue(session_factory, **kwargs) -> str:
    async with session_factory() as session:
        await enqueue(session, "test.effect", {}, **kwargs)
        await session.commit()
        [job_id] = take_enqueued(session)
    return job_id


def _queue(session_factory, handlers, *, sweep_interval, concurrency=2, lease=5.0):
    executor = RecordingExecutor(
        session_factory,
        handlers,
        owner="inproc",
        lease_seconds=lease,
        retry_policy=RetryPolicy(base_seconds=0.05, jitter=0.0),
    )
    return InProcessJobQueue(executor, concurrency=concurrency, sweep_interval=sweep_interval)


async def _done(session_factory, job_id):
    return (await job_row(session_factory, job_id)).status == JobStatus.DONE


async def test_a_notified_job_runs_without_waiting_for_the_sweeper(session_factory):
    queue = _queue(session_factory, _handlers(), sweep_interval=60)
    await start_after_first_sweep(queue, session_factory)
    try:
        job_id = await _enqueue(session_factory)
        await queue.notify(job_id)
        await wait_for(lambda: _done(session_factory, job_id), within=3)
    finally:
        await queue.stop()


async def test_duplicate_notifies_run_the_job_once(session_factory):
    queue = _queue(session_factory, _handlers(), sweep_interval=60, concurrency=4)
    await start_after_first_sweep(queue, session_factory)
    try:
        job_id = await _enqueue(session_factory)
        for _ in range(5):
            await queue.notify(job_id)
        # Every wake-up handled, not merely the job done: a duplicate that ran it again would show.
        await wait_for(lambda: len(queue.executor.wakeups) == 5, within=3, what="all five wake-ups")
    finally:
        await queue.stop()
    assert sorted(queue.executor.wakeups) == [False, False, False, False, True]
    assert await count(session_factory, effects) == 1
    assert (await job_row(session_factory, job_id)).attempts == 1


async def test_a_lost_notify_is_recovered_by_the_sweeper(session_factory):
    queue = _queue(session_factory, _handlers(), sweep_interval=0.2)
    await queue.start()
    try:
        job_id = await _enqueue(session_factory)  # never notified
        await wait_for(lambda: _done(session_factory, job_id), within=5)
    finally:
        await queue.stop()
    assert await count(session_factory, effects) == 1


async def test_a_retry_is_picked_up_by_the_sweeper_after_its_backoff(session_factory):
    handlers = JobHandlers()
    calls = []

    @handlers.register("test.effect")
    async def flaky(session, payload, job):
        calls.append(job.attempts)
        if job.attempts < 3:
            raise TimeoutError("vendor slow")
        await session.execute(effects.insert().values(job_id=job.id))

    queue = _queue(session_factory, handlers, sweep_interval=0.1)
    await queue.start()
    try:
        job_id = await _enqueue(session_factory)
        await queue.notify(job_id)
        await wait_for(lambda: _done(session_factory, job_id), within=5)
    finally:
        await queue.stop()
    assert calls == [1, 2, 3]
    assert await count(session_factory, effects) == 1


async def test_stop_lets_running_jobs_finish_within_the_grace_period(session_factory):
    gate = asyncio.Event()
    queue = _queue(session_factory, _handlers(gate), sweep_interval=60)
    await start_after_first_sweep(queue, session_factory)
    job_id = await _enqueue(session_factory)
    await queue.notify(job_id)
    await wait_for(lambda: _running(queue))
    stopping = asyncio.create_task(queue.stop(grace=5))
    await queue.executor.waiting_idle.wait()  # stop is waiting for the running job...
    assert not stopping.done() and not await _done(session_factory, job_id)
    gate.set()  # ...which finishes only now
    await stopping
    assert await _done(session_factory, job_id)
    assert not queue.running


async def test_stop_after_the_grace_period_rolls_back_and_releases_the_job(session_factory):
    queue = _queue(session_factory, _handlers(asyncio.Event()), sweep_interval=60)  # never finishes
    await start_after_first_sweep(queue, session_factory)
    job_id = await _enqueue(session_factory)
    await queue.notify(job_id)
    await wait_for(lambda: _running(queue))
    await queue.stop(grace=0.1)  # the grace period running out is the behaviour under test
    job = await job_row(session_factory, job_id)
    assert (job.status, job.lease_owner, job.attempts) == (JobStatus.PENDING, None, 1)
    assert await count(session_factory, effects) == 0


async def _running(queue):
    return queue.executor.busy > 0


def test_make_job_queue_follows_the_redis_setting(session_factory):
    handlers = JobHandlers()
    embedded = make_job_queue(load_settings(), session_factory=session_factory, handlers=handlers)
    assert isinstance(embedded, InProcessJobQueue)
    distributed = make_job_queue(
        load_settings(redis_url="redis://127.0.0.1:6379/0", inprocess_workers=False),
        session_factory=session_factory,
        handlers=handlers,
    )
    assert isinstance(distributed, RedisJobQueue) and distributed.executor is None
