"""Periodic jobs: one job row per slot however often scheduled, each run scheduling the next."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from core.jobs import Job, JobExecutor, JobHandlers, claim_due
from core.jobs.periodic import next_slot, schedule_next, schedule_periodic

HOUR = timedelta(hours=1)


@pytest.mark.parametrize(
    ("now", "slot"),
    [
        (datetime(2026, 12, 7, 9, 0, tzinfo=UTC), datetime(2026, 12, 7, 10, 0, tzinfo=UTC)),  # strictly after
        (datetime(2026, 12, 7, 9, 59, 59, tzinfo=UTC), datetime(2026, 12, 7, 10, 0, tzinfo=UTC)),
        (datetime(2026, 12, 7, 23, 30, tzinfo=UTC), datetime(2026, 12, 8, 0, 0, tzinfo=UTC)),
    ],
)
def test_the_next_slot_is_the_next_multiple_of_the_interval(now, slot):
    assert next_slot(HOUR, now) == slot


def test_a_non_positive_interval_is_refused_at_registration():
    handlers = JobHandlers()

    async def work(session, now):
        return None

    with pytest.raises(ValueError, match="positive"):
        handlers.register_periodic("test.never", work, every=timedelta(0))
    assert "test.never" not in handlers and dict(handlers.periodic) == {}


async def _jobs(session_factory, kind):
    async with session_factory() as session:
        return (await session.scalars(select(Job).where(Job.kind == kind).order_by(Job.run_after))).all()


async def test_each_slot_gets_one_job_however_many_processes_schedule_it(session_factory):
    now = datetime(2026, 12, 7, 9, 15, tzinfo=UTC)
    async with session_factory() as session, session.begin():
        first = await schedule_next(session, "test.tick", HOUR, now)
        again = await schedule_next(session, "test.tick", HOUR, now + timedelta(minutes=30))
    assert first == again
    jobs = await _jobs(session_factory, "test.tick")
    assert [(j.run_after, j.payload) for j in jobs] == [
        (datetime(2026, 12, 7, 10, 0, tzinfo=UTC), {"slot": "2026-12-07T10:00:00+00:00"})
    ]


async def test_a_run_does_its_work_and_schedules_the_next_slot(session_factory, monkeypatch):
    clock = {"now": datetime.now(UTC)}
    for target in ("core.jobs.periodic.utcnow", "core.jobs.repository.utcnow", "core.jobs.handlers.utcnow"):
        monkeypatch.setattr(target, lambda: clock["now"])
    runs = []

    async def work(session, now):
        runs.append(now)

    handlers = JobHandlers()
    handlers.register_periodic("test.tick", work, every=HOUR)
    await schedule_periodic(session_factory, handlers)
    await schedule_periodic(session_factory, handlers)  # a second process starting: no second job
    executor = JobExecutor(session_factory, handlers, owner="w", lease_seconds=30)
    assert await claim_due(session_factory, "w", 30, 10) == []  # not due before its slot
    clock["now"] = next_slot(HOUR, clock["now"]) + timedelta(seconds=1)
    for job in await claim_due(session_factory, "w", 30, 10):
        await executor.execute(job)
    assert runs == [clock["now"]]
    jobs = await _jobs(session_factory, "test.tick")
    assert [j.status for j in jobs] == ["done", "pending"]
    assert jobs[1].run_after == next_slot(HOUR, clock["now"])
