from decimal import Decimal

import pytest
from sqlalchemy import func, select

from core.call_log import CallLogEntry, insert_call_records
from core.db import new_id, utcnow
from core.jobs import Job, JobExecutor, JobHandlers, JobStatus, take_enqueued
from core.models import ConnectorInstance
from core.outbox import DISPATCH_JOB_KIND, OutboxEvent, add_event, register_outbox_dispatcher


async def _count(session_factory, model) -> int:
    async with session_factory() as session:
        return await session.scalar(select(func.count()).select_from(model))


async def _add_change_and_event(session):
    instance = ConnectorInstance(
        id=new_id(), name="baihang-main", connector_slug="baihang", config={"region": "cn"}
    )
    session.add(instance)
    return await add_event(
        session,
        event_type="connector.added",
        subject_type="connector_instance",
        subject_id=instance.id,
        payload={"name": "baihang-main"},
    )


async def test_a_rolled_back_change_leaves_no_event_and_no_job(session_factory):
    async with session_factory() as session:
        await _add_change_and_event(session)
        await session.rollback()
    assert await _count(session_factory, ConnectorInstance) == 0
    assert await _count(session_factory, OutboxEvent) == 0
    assert await _count(session_factory, Job) == 0


async def test_a_committed_change_has_its_event_and_dispatch_job(session_factory):
    async with session_factory() as session:
        event = await _add_change_and_event(session)
        await session.commit()
        job_ids = take_enqueued(session)
    assert len(job_ids) == 1
    async with session_factory() as session:
        job = await session.get(Job, job_ids[0])
        assert job.kind == DISPATCH_JOB_KIND and job.payload == {"outbox_id": event.id}
        assert job.dedupe_key == f"outbox:{event.event_id}"
        stored = await session.get(OutboxEvent, event.id)
        assert stored.dispatched_at is None and stored.occurred_at.tzinfo is not None


async def test_the_dispatcher_delivers_once_and_marks_the_event(session_factory):
    delivered = []

    async def deliver(session, event):
        delivered.append(event.event_id)

    handlers = JobHandlers()
    register_outbox_dispatcher(handlers, deliver)
    async with session_factory() as session:
        event = await _add_change_and_event(session)
        await session.commit()
        [job_id] = take_enqueued(session)
    executor = JobExecutor(session_factory, handlers, owner="w", lease_seconds=5)
    assert await executor.run(job_id) is True
    assert await executor.run(job_id) is False
    assert delivered == [event.event_id]
    async with session_factory() as session:
        assert (await session.get(OutboxEvent, event.id)).dispatched_at is not None
        assert (await session.get(Job, job_id)).status == JobStatus.DONE


async def test_call_records_are_inserted_from_plain_mappings(session_factory):
    record = {
        "connector": "baihang",
        "instance": "baihang-main",
        "operation": "fetch_report",
        "attempt": 1,
        "method": "POST",
        "url": "http://127.0.0.1:9000/report",
        "status_code": 503,
        "latency_ms": 12.5,
        "error_class": "TransientError",
        "idempotency_key": "k-1",
        "cost_units": Decimal("0.5"),
        "request_body": '{"id_number": "***"}',
        "response_body": None,
        "started_at": utcnow(),
    }
    async with session_factory() as session:
        assert await insert_call_records(session, [record, {**record, "attempt": 2, "status_code": 200}]) == 2
        assert await insert_call_records(session, []) == 0
        await session.commit()
    async with session_factory() as session:
        rows = (await session.scalars(select(CallLogEntry).order_by(CallLogEntry.attempt))).all()
    assert [(row.attempt, row.status_code) for row in rows] == [(1, 503), (2, 200)]
    assert rows[0].cost_units == Decimal("0.5") and rows[0].started_at.tzinfo is not None


async def test_call_records_with_unknown_fields_are_refused(session_factory):
    async with session_factory() as session:
        with pytest.raises(ValueError, match="unknown call-log fields: secret"):
            await insert_call_records(session, [{"secret": "x"}])
