from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from core.db import new_id, utcnow
from core.jobs import Job
from core.models import ConnectorInstance


def test_new_ids_are_unique_sortable_uuid7_strings():
    ids = [new_id() for _ in range(2000)]
    assert len(set(ids)) == 2000
    assert all(len(value) == 36 and value[14] == "7" for value in ids)
    later = new_id()
    assert later > ids[0]


def test_utcnow_is_aware_utc():
    assert utcnow().tzinfo is UTC


async def test_timestamps_come_back_aware_in_utc_and_compare_correctly(session_factory):
    shanghai = timezone(timedelta(hours=8))
    local = datetime(2026, 3, 1, 9, 30, tzinfo=shanghai)
    async with session_factory() as session:
        session.add(Job(id="j1", kind="k", payload={"a": [1, "二"]}, run_after=local))
        await session.commit()
    async with session_factory() as session:
        job = (await session.scalars(select(Job))).one()
        assert job.run_after == datetime(2026, 3, 1, 1, 30, tzinfo=UTC)
        assert job.run_after.utcoffset() == timedelta(0)
        assert job.created_at.tzinfo is not None and job.created_at <= utcnow()
        assert job.payload == {"a": [1, "二"]}
        found = await session.scalar(
            select(Job.id).where(Job.run_after < datetime(2026, 3, 1, 2, tzinfo=UTC))
        )
        assert found == "j1"


async def test_naive_datetimes_are_refused(session_factory):
    async with session_factory() as session:
        session.add(Job(id="j2", kind="k", payload={}, run_after=datetime(2026, 1, 1)))
        with pytest.raises(Exception, match="naive datetime"):
            await session.commit()


async def test_updated_at_moves_on_update(session_factory):
    async with session_factory() as session:
        instance = ConnectorInstance(name="tyc-main", connector_slug="tianyancha")
        session.add(instance)
        await session.commit()
        created = instance.updated_at
        instance.enabled = False
        await session.commit()
        assert instance.updated_at > created and instance.config == {}
