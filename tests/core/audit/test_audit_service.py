"""Writing and reading the audit log: the head row, what an update keeps, each filter's edge, scope."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from types import MappingProxyType

import pytest
from sqlalchemy import delete, select, update

from core import audit
from core.access import Actor, ActorKind, Scope
from core.audit import AuditEntry, AuditHead, verify_chain
from core.audit.chain import GENESIS
from core.audit.service import AuditQuery, changed_fields, query_audit

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def test_changed_fields_keeps_only_what_differs_on_either_side() -> None:
    before = {"a": 1, "b": 2, "gone": "x", "same": None}
    after = {"a": 1, "b": 3, "new": "y", "same": None}
    assert changed_fields(before, after) == (
        {"b": 2, "gone": "x", "new": None},
        {"b": 3, "gone": None, "new": "y"},
    )
    assert list(changed_fields(before, after)[0]) == ["b", "gone", "new"]  # sorted
    assert changed_fields({}, {}) == ({}, {})


async def test_a_missing_head_row_is_created_and_the_chain_starts_from_genesis(session_factory):
    async with session_factory() as session, session.begin():
        await session.execute(delete(AuditHead))
    async with session_factory() as session, session.begin():
        entry = await audit.record(session, Actor.system("t"), "things.touch", target_type="thing")
    assert (entry.seq, entry.prev_hash) == (1, GENESIS)
    async with session_factory() as session:
        head = await session.get(AuditHead, 1)
        assert head is not None and (head.seq, head.hash) == (1, entry.hash)
        assert await verify_chain(session) == (1, None)


USERS = {
    "li": Actor(kind=ActorKind.USER, id="u-li", name="li", branch_id="b-sh", branch_path="/b-hq/b-sh/"),
    "wang": Actor(kind=ActorKind.USER, id="u-wang", name="wang", branch_id="b-bj", branch_path="/b-hq/b-bj/"),
}
WRITES = [
    # (who, action, target_type, target_id, minutes after T0)
    ("li", "auth.login_failed", "user", "li", 0),
    ("li", "auth.logins", "user", "li", 1),
    ("wang", "users.create", "user", "zhao", 2),
    ("li", "users.disable", "user", "zhao", 3),
    ("wang", "tokens.create", "api_token", "crm-sync", 4),
]


@pytest.fixture
async def log(session_factory, monkeypatch):
    clock = [T0]
    monkeypatch.setattr("core.audit.service.utcnow", lambda: clock[0])
    async with session_factory() as session, session.begin():
        for who, action, target_type, target_id, minutes in WRITES:
            clock[0] = T0 + timedelta(minutes=minutes)
            await audit.record(session, USERS[who], action, target_type=target_type, target_id=target_id)
    return session_factory


def reader(scope: Scope | None = Scope.ALL, who: str = "li") -> Actor:
    grants = {"audit.read": scope} if scope is not None else {}
    return replace(USERS[who], grants=MappingProxyType(grants))


async def seqs(session_factory, query: AuditQuery, caller: Actor | None = None) -> list[int]:
    async with session_factory() as session:
        return [e.seq for e in await query_audit(session, caller or reader(), query)]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        (AuditQuery(), [5, 4, 3, 2, 1]),  # newest first
        (AuditQuery(limit=2), [5, 4]),
        (AuditQuery(actor="user:wang"), [5, 3]),
        (AuditQuery(action="users.create"), [3]),
        (AuditQuery(action="users.*"), [4, 3]),
        (AuditQuery(action="auth.login_*"), [1]),  # "_" is a letter here, not LIKE's wildcard
        (AuditQuery(action="auth.*"), [2, 1]),
        (AuditQuery(action="users"), []),  # no star: exact only
        (AuditQuery(target_type="api_token"), [5]),
        (AuditQuery(target_id="zhao"), [4, 3]),
        (AuditQuery(since=T0 + timedelta(minutes=3)), [5, 4]),  # since is inclusive
        (AuditQuery(until=T0 + timedelta(minutes=3)), [3, 2, 1]),  # until is exclusive
        (AuditQuery(before_seq=3), [2, 1]),  # exclusive: pages continue below the last seen
        (AuditQuery(target_type="user", target_id="zhao", actor="user:li"), [4]),
    ],
)
async def test_each_filter_and_its_edge(log, query, expected):
    assert await seqs(log, query) == expected


async def test_the_log_is_read_through_the_callers_audit_read_scope(log):
    assert await seqs(log, AuditQuery(), reader(Scope.OWN, "wang")) == [5, 3]
    assert await seqs(log, AuditQuery(), reader(Scope.TEAM, "li")) == [4, 2, 1]
    assert await seqs(log, AuditQuery(), reader(None, "li")) == []
    assert await seqs(log, AuditQuery(actor="user:li"), reader(Scope.OWN, "wang")) == []


async def test_entries_carry_who_and_what(log):
    async with log() as session:
        (entry,) = await query_audit(session, reader(), AuditQuery(before_seq=2))
    assert (entry.actor, entry.actor_id, entry.actor_branch_id, entry.at) == ("user:li", "u-li", "b-sh", T0)


async def test_the_next_entry_follows_the_head_row(session_factory):
    async with session_factory() as session, session.begin():
        await audit.record(session, Actor.system("t"), "things.touch", target_type="thing")
    async with session_factory() as session, session.begin():
        await session.execute(update(AuditHead).values(seq=41))
    async with session_factory() as session, session.begin():
        entry = await audit.record(session, Actor.system("t"), "things.touch", target_type="thing")
    assert entry.seq == 42
    async with session_factory() as session:
        assert await session.scalar(select(AuditHead.seq)) == 42


async def _entries(session_factory) -> list[tuple[int, str | None]]:
    async with session_factory() as session:
        rows = (await session.scalars(select(AuditEntry).order_by(AuditEntry.seq))).all()
    return [(e.seq, e.target_id) for e in rows]


async def test_a_batch_writes_its_entries_at_its_end_in_order_under_one_chain(session_factory):
    actor = Actor.system("import")
    async with session_factory() as session, session.begin():
        await audit.record(session, actor, "things.touch", target_type="thing", target_id="before")
    async with session_factory() as session, session.begin():
        async with audit.batched(session):
            for name in ("a", "b", "c"):
                pending = await audit.record(
                    session, actor, "things.import", target_type="thing", target_id=name
                )
                assert pending.seq is None  # not chained until the batch ends
            assert await session.scalar(select(AuditHead.seq)) == 1  # nothing written yet
        assert await session.scalar(select(AuditHead.seq)) == 4
    assert await _entries(session_factory) == [(1, "before"), (2, "a"), (3, "b"), (4, "c")]
    async with session_factory() as session:
        assert await verify_chain(session) == (4, None)


async def test_a_batch_inside_a_batch_is_written_once_by_the_outer_one(session_factory):
    actor = Actor.system("import")
    async with session_factory() as session, session.begin(), audit.batched(session):
        await audit.record(session, actor, "things.import", target_type="thing", target_id="outer")
        async with audit.batched(session):
            await audit.record(session, actor, "things.import", target_type="thing", target_id="inner")
        assert await _entries(session_factory) == []  # the inner end writes nothing
        await audit.record(session, actor, "things.import", target_type="thing", target_id="last")
    assert await _entries(session_factory) == [(1, "outer"), (2, "inner"), (3, "last")]


async def test_an_empty_batch_writes_nothing_and_a_failed_one_nothing_either(session_factory):
    actor = Actor.system("import")
    async with session_factory() as session, session.begin(), audit.batched(session):
        pass
    with pytest.raises(RuntimeError):
        async with session_factory() as session, session.begin(), audit.batched(session):
            await audit.record(session, actor, "things.import", target_type="thing", target_id="lost")
            raise RuntimeError("the import failed")
    assert await _entries(session_factory) == []
    async with session_factory() as session, session.begin():
        entry = await audit.record(session, actor, "things.touch", target_type="thing", target_id="after")
        assert entry.seq == 1  # the failed batch left no pending entries behind in a new session
