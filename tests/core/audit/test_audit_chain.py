"""The audit chain: any changed column of any entry, a deleted, inserted or reordered entry is found."""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
from sqlalchemy import delete, func, select, text, update

from core import audit
from core.access import Actor
from core.audit import AuditEntry, AuditHead, verify_chain
from core.audit.chain import GENESIS, HASHED_COLUMNS, ChainBreak, entry_hash, to_json
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


@pytest.fixture
def shanghai_local_time(monkeypatch):
    """The server's local zone is not UTC: nothing hashed or stored may depend on it."""
    monkeypatch.setenv("TZ", "Asia/Shanghai")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


class Opaque:
    def __str__(self) -> str:
        return "opaque-thing"


def test_to_json_turns_values_into_plain_json_data(shanghai_local_time):
    when = datetime(2026, 3, 1, 12, 0, tzinfo=timezone(timedelta(hours=8)))
    assert to_json(
        {
            "when": when,
            "amount": Decimal("1.50"),
            "blob": b"abc",
            "tags": {"b", "a"},
            "kinds": frozenset({"y", "x"}),
            "mobile": PII("mobile", "13812345678"),
            "thing": Opaque(),
            "note": "改",
            "n": 3,
        }
    ) == {
        "when": "2026-03-01T04:00:00+00:00",
        "amount": "1.50",
        "blob": "<3 bytes>",
        "tags": ["a", "b"],
        "kinds": ["x", "y"],
        "mobile": "138****5678",
        "thing": "opaque-thing",
        "note": "改",
        "n": 3,
    }
    assert to_json(None) is None


def test_entry_hash_is_sha256_of_sorted_compact_utf8_json_with_at_in_utc(shanghai_local_time):
    values = {name: None for name in HASHED_COLUMNS}
    values.update(
        seq=7,
        id="e7",
        at=datetime(2026, 3, 1, 12, 0, 0, 5, tzinfo=timezone(timedelta(hours=8))),
        actor="user:li",
        action="things.update",
        target_type="thing",
        target_id=Decimal("12.5"),  # not JSON: hashed as its text
        after={"note": "改"},
        prev_hash=GENESIS,
        not_hashed="x",
    )
    content = {name: values[name] for name in HASHED_COLUMNS}
    content.update(at="2026-03-01T04:00:00.000005+00:00", target_id="12.5")
    canonical = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    assert canonical.startswith('{"action":"things.update","actor":"user:li","actor_branch_id":null')
    assert entry_hash(values) == hashlib.sha256(canonical.encode("utf-8")).hexdigest()
    assert entry_hash({**values, "at": "2026-03-01T04:00:00.000005+00:00"}) == entry_hash(values)


async def test_the_after_state_is_recorded_too(session_factory):
    await _write(session_factory, 1)
    async with session_factory() as session:
        entry = await session.scalar(select(AuditEntry))
    assert entry.after == {"amount": "0.00", "note": "改"}


async def test_the_chain_is_walked_in_batches(session_factory):
    await _write(session_factory, 5)
    async with session_factory() as session:
        assert await verify_chain(session, batch=2) == (5, None)
        assert await verify_chain(session, batch=1) == (5, None)


async def test_an_empty_log_without_a_head_row_verifies(session_factory):
    async with session_factory() as session, session.begin():
        await session.execute(delete(AuditHead))
    assert await _verify(session_factory) == (0, None)


async def test_entries_without_a_head_row_are_a_break_at_the_first(session_factory):
    await _write(session_factory, 2)
    async with session_factory() as session, session.begin():
        await session.execute(delete(AuditHead))
    assert await _verify(session_factory) == (
        2,
        ChainBreak(1, "the chain's head does not name its last entry"),
    )


async def test_a_head_naming_another_hash_is_a_break_after_the_last_entry(session_factory):
    await _write(session_factory, 5)
    async with session_factory() as session, session.begin():
        await session.execute(update(AuditHead).values(hash="3" * 64))
    assert await _verify(session_factory) == (
        5,
        ChainBreak(6, "the chain's head does not name its last entry"),
    )


async def test_a_head_behind_the_last_entry_is_a_break_after_its_seq(session_factory):
    await _write(session_factory, 5)
    async with session_factory() as session, session.begin():
        await session.execute(update(AuditHead).values(seq=3))
    assert await _verify(session_factory) == (
        5,
        ChainBreak(4, "the chain's head does not name its last entry"),
    )


async def test_breaks_name_the_exact_entries_and_reason(session_factory):
    await _write(session_factory, 6)
    async with session_factory() as session, session.begin():
        await session.execute(delete(AuditEntry).where(AuditEntry.seq.in_([2, 3])))
    assert await _verify(session_factory) == (1, ChainBreak(2, "entries 2–3 are missing (deleted)"))
    async with session_factory() as session, session.begin():
        await session.execute(delete(AuditEntry).where(AuditEntry.seq > 3))
    assert await _verify(session_factory) == (1, ChainBreak(2, "entries 2–6 are missing (deleted)"))


async def test_a_changed_entry_is_named_with_the_reason(session_factory, engine):
    await _write(session_factory, 3)
    async with engine.begin() as connection:
        await connection.execute(text("UPDATE audit_log SET target_id = 'tx' WHERE seq = 2"))
    assert await _verify(session_factory) == (
        1,
        ChainBreak(2, "its content does not match its hash (changed)"),
    )
    async with engine.begin() as connection:
        await connection.execute(text("UPDATE audit_log SET prev_hash = '" + "1" * 64 + "' WHERE seq = 2"))
    reason = "does not link to the entry before it (inserted or changed)"
    assert await _verify(session_factory) == (1, ChainBreak(2, reason))


@pytest.mark.parametrize("seq", [0, -4])
async def test_a_row_slipped_in_below_the_start_is_found(session_factory, seq):
    await _write(session_factory, 2)
    async with session_factory() as session, session.begin():
        first = await session.scalar(select(AuditEntry).where(AuditEntry.seq == 1))
        values = {name: getattr(first, name) for name in HASHED_COLUMNS}
        values.update(seq=seq, id=f"forged{seq}")
        session.add(AuditEntry(**values, hash=entry_hash(values)))
    assert await _verify(session_factory) == (0, ChainBreak(seq, "sequence out of order"))
