"""The audit chain: any changed column of any entry, a deleted, inserted or reordered entry is found."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import delete, func, select, text, update

from core import audit
from core.access import Actor
from core.audit import AuditEntry, AuditHead, verify_chain
from core.pii import PII


async def _write(session_factory, n: int = 5) -> None:
    actor = Actor.operator("tester")
    for i in range(n):
        async with session_factory() as session, session.begin():
            await audit.record(
                session,
                actor,
                "things.update",
                target_type="thing",
                target_id=f"t{i}",
                before={"amount": "100.00", "mobile": PII("mobile", "13812345678")},
                after={"amount": f"{i}.00", "note": "改"},
            )


async def _verify(session_factory):
    async with session_factory() as session:
        return await verify_chain(session)


async def test_intact_chain_verifies_and_pii_is_masked_in_it(session_factory):
    await _write(session_factory)
    count, broken = await _verify(session_factory)
    assert (count, broken) == (5, None)
    async with session_factory() as session:
        entry = await session.scalar(select(AuditEntry).where(AuditEntry.seq == 1))
    assert entry.before["mobile"] == "138****5678"
    assert entry.actor.startswith("operator:tester@")


COLUMNS = {
    "at": "at = at",  # replaced below per dialect
    "actor": "actor = 'operator:someone-else'",
    "actor_kind": "actor_kind = 'user'",
    "actor_id": "actor_id = 'x'",
    "actor_branch_id": "actor_branch_id = 'b'",
    "action": "action = 'things.delete'",
    "target_type": "target_type = 'other'",
    "target_id": "target_id = 't9'",
    "before": None,
    "after": None,
    "request_id": "request_id = 'r'",
    "client_addr": "client_addr = '10.0.0.1'",
    "prev_hash": "prev_hash = '" + "1" * 64 + "'",
    "hash": "hash = '" + "2" * 64 + "'",
    "id": "id = '00000000-0000-0000-0000-000000000000'",
}


@pytest.mark.parametrize("column", sorted(COLUMNS))
async def test_a_changed_column_of_an_entry_is_found_and_named(session_factory, engine, column):
    await _write(session_factory)
    assignment = COLUMNS[column]
    if column == "at":
        assignment = (
            "at = at + interval '1 second'"
            if engine.dialect.name == "postgresql"
            else "at = datetime(at, '+1 second')"
        )
    elif column in ("before", "after"):
        update_value = '{"amount": "999.00"}'
        assignment = f"{column} = '{update_value}'"
    async with engine.begin() as connection:
        await connection.execute(text(f"UPDATE audit_log SET {assignment} WHERE seq = 3"))
    _, broken = await _verify(session_factory)
    assert broken is not None and broken.seq in (3, 4), (column, broken)
    assert broken.seq == 3 or column in ("hash",)


async def test_a_deleted_entry_is_found(session_factory):
    await _write(session_factory)
    async with session_factory() as session, session.begin():
        await session.execute(delete(AuditEntry).where(AuditEntry.seq == 2))
    _, broken = await _verify(session_factory)
    assert broken is not None and broken.seq == 2 and "missing" in broken.reason


async def test_entries_deleted_from_the_end_are_found_through_the_head(session_factory):
    await _write(session_factory)
    async with session_factory() as session, session.begin():
        await session.execute(delete(AuditEntry).where(AuditEntry.seq >= 4))
    _, broken = await _verify(session_factory)
    assert broken is not None and broken.seq == 4 and "missing" in broken.reason


async def test_an_inserted_entry_is_found(session_factory):
    await _write(session_factory, 3)
    async with session_factory() as session, session.begin():
        # renumber 3 -> 4 and forge a 3 that links correctly to 2 but not forward
        await session.execute(update(AuditEntry).where(AuditEntry.seq == 3).values(seq=4))
        second = await session.scalar(select(AuditEntry).where(AuditEntry.seq == 2))
        from core.audit.chain import entry_hash

        values = {
            c: getattr(second, c)
            for c in (
                "at",
                "actor",
                "actor_kind",
                "actor_id",
                "actor_branch_id",
                "target_type",
                "target_id",
                "before",
                "after",
                "request_id",
                "client_addr",
            )
        }
        values.update(seq=3, id="forged", action="things.forged", prev_hash=second.hash)
        session.add(AuditEntry(**values, hash=entry_hash(values)))
        await session.execute(update(AuditHead).values(seq=4))
    _, broken = await _verify(session_factory)
    assert broken is not None and broken.seq == 4 and "link" in broken.reason


async def test_concurrent_writers_keep_one_linear_chain(session_factory):
    async def writer(k: int) -> None:
        for i in range(5):
            async with session_factory() as session, session.begin():
                await audit.record(
                    session, Actor.system(f"w{k}"), "things.touch", target_type="thing", target_id=f"{k}-{i}"
                )

    await asyncio.gather(*(writer(k) for k in range(6)))
    count, broken = await _verify(session_factory)
    assert broken is None and count == 30
    async with session_factory() as session:
        assert await session.scalar(select(func.count(func.distinct(AuditEntry.prev_hash)))) == 30
