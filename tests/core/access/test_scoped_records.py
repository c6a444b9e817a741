"""One scoping mechanism for every domain table, shown on a small model with sealed PII.

The model has an owner, a branch and a sealed, blind-indexed mobile — the shape customers,
leads, applications and loans will have. Lists, reads, searches and counts all go through
``scoped``; nothing outside the caller's scope is loaded or counted.
"""

from __future__ import annotations

from dataclasses import replace
from types import MappingProxyType

import pytest
from sqlalchemy import Column, ForeignKey, MetaData, String, Table, func, select, text
from sqlalchemy.dialects import sqlite

from core import pii
from core.access import Actor, ActorKind, Branch, Scope, scoped
from core.access import service as access
from core.access.repository import user_actor, user_by_name
from core.access.scopes import scope_clause
from core.pii import PII, Sealed, blind_index
from core.pii.rotation import rotate_keys

notes_metadata = MetaData()
notes = Table(
    "test_scoped_notes",
    notes_metadata,
    Column("id", String(36), primary_key=True),
    Column("owner_id", String(36), nullable=False),
    Column("branch_id", String(36), ForeignKey(Branch.id), nullable=False),
    Column("mobile", Sealed("mobile"), nullable=False),
    Column("mobile_index", String(64), nullable=False, index=True),
)

PASSWORD = "Corr3ct-horse"
KEY1, INDEX_KEY = b"1" * 32, b"i" * 32


@pytest.fixture
async def org(session_factory, engine):
    before = pii.current()
    pii.install(pii.KeyRing([("k1", KEY1)], INDEX_KEY))
    async with engine.begin() as connection:
        await connection.run_sync(notes_metadata.drop_all)
        await connection.run_sync(notes_metadata.create_all)
    op = Actor.operator("t")
    async with session_factory() as session, session.begin():
        await access.ensure_builtin_roles(session, op)
        for code, parent in [("HQ", None), ("EAST", "HQ"), ("SH01", "EAST"), ("BJ01", "HQ")]:
            await access.add_branch(session, op, code=code, name=code, parent=parent)
        for name, role, branch in [
            ("li", "loan_officer", "SH01"),
            ("wang", "loan_officer", "SH01"),
            ("zhao", "loan_officer", "BJ01"),
            ("chen", "branch_manager", "EAST"),
            ("risk", "risk_manager", "HQ"),
        ]:
            await access.add_user(session, op, username=name, password=PASSWORD, roles=[role], branch=branch)
        actors = {
            n: await user_actor(session, await user_by_name(session, n))
            for n in ("li", "wang", "zhao", "chen", "risk")
        }
        rows = []
        for i, (owner, mobile) in enumerate(
            [("li", "13800000001"), ("li", "13800000002"), ("wang", "13800000003"), ("zhao", "13800000004")]
        ):
            actor = actors[owner]
            rows.append(
                {
                    "id": f"n{i}",
                    "owner_id": actor.id,
                    "branch_id": actor.branch_id,
                    "mobile": PII("mobile", mobile),
                    "mobile_index": blind_index("mobile", mobile),
                }
            )
        await session.execute(notes.insert(), rows)
    yield actors
    pii.install(before)
    async with engine.begin() as connection:
        await connection.run_sync(notes_metadata.drop_all)


def _q(statement, actor):
    return scoped(statement, actor, "customers.read", owner=notes.c.owner_id, branch=notes.c.branch_id)


async def test_lists_counts_reads_and_searches_are_scoped_in_sql(session_factory, org):
    async with session_factory() as session:
        listed = {
            name: sorted((await session.scalars(_q(select(notes.c.id), actor))).all())
            for name, actor in org.items()
        }
        counts = {
            name: await session.scalar(_q(select(func.count()).select_from(notes), actor))
            for name, actor in org.items()
        }
        search = select(notes.c.id).where(notes.c.mobile_index == blind_index("mobile", "+86 138-0000-0004"))
        found_by = {name: (await session.scalars(_q(search, actor))).all() for name, actor in org.items()}
    assert listed == {
        "li": ["n0", "n1"],
        "wang": ["n2"],
        "zhao": ["n3"],
        "chen": ["n0", "n1", "n2"],
        "risk": ["n0", "n1", "n2", "n3"],
    }
    assert counts == {name: len(ids) for name, ids in listed.items()}
    assert found_by["risk"] == ["n3"] and found_by["zhao"] == ["n3"]
    assert found_by["li"] == [] and found_by["chen"] == []  # cannot even learn that the number exists


async def test_without_the_permission_nothing_is_reachable(session_factory, org):
    stranger = Actor(kind=org["li"].kind, id="x", name="x")
    async with session_factory() as session:
        assert await session.scalar(_q(select(func.count()).select_from(notes), stranger)) == 0


async def test_sealed_values_load_masked_and_the_table_holds_no_clear_pii(session_factory, org, engine):
    async with session_factory() as session:
        value = await session.scalar(select(notes.c.mobile).where(notes.c.id == "n0"))
    assert isinstance(value, PII) and str(value) == "138****0001" and value.reveal() == "13800000001"
    async with engine.connect() as connection:
        raw = (await connection.execute(text("SELECT mobile, mobile_index FROM test_scoped_notes"))).all()
    dump = repr(raw)
    assert "1380000000" not in dump and all(r[0].startswith("pii1:") for r in raw)


async def test_keys_rotate_in_batches_and_a_rerun_finds_nothing_left(session_factory, org, engine):
    old = pii.current()
    newer = pii.KeyRing([("rot2", b"r" * 32), ("k1", KEY1)], INDEX_KEY)
    pii.install(newer)
    try:
        first = await rotate_keys(session_factory, notes_metadata, newer, batch=3)
        again = await rotate_keys(session_factory, notes_metadata, newer, batch=3)
        async with engine.connect() as connection:
            kids = {
                pii.KeyRing.kid_of(r[0])
                for r in (await connection.execute(text("SELECT mobile FROM test_scoped_notes"))).all()
            }
        async with session_factory() as session:
            value = await session.scalar(select(notes.c.mobile).where(notes.c.id == "n3"))
    finally:
        pii.install(old)
    assert first == {"test_scoped_notes.mobile": 4} and again == {"test_scoped_notes.mobile": 0}
    assert kids == {"rot2"} and value.reveal() == "13800000004"


def _with_scope(actor, scope):
    return replace(actor, grants=MappingProxyType({"customers.read": scope}))


async def test_team_scope_reaches_the_callers_own_branch_node_only(session_factory, org):
    async with session_factory() as session:
        seen = {
            name: sorted(
                (await session.scalars(_q(select(notes.c.id), _with_scope(org[name], Scope.TEAM)))).all()
            )
            for name in ("li", "zhao", "chen")
        }
    # li and wang sit in SH01; chen's node is EAST, above SH01, which TEAM does not reach.
    assert seen == {"li": ["n0", "n1", "n2"], "zhao": ["n3"], "chen": []}


@pytest.mark.parametrize("scope", [Scope.OWN, Scope.TEAM, Scope.BRANCH])
def test_a_caller_without_an_id_or_a_branch_reaches_nothing_at_narrow_scopes(scope):
    nobody = Actor(
        kind=ActorKind.TOKEN, id=None, name="x", grants=MappingProxyType({"customers.read": scope})
    )
    clause = scope_clause(nobody, "customers.read", owner=notes.c.owner_id, branch=notes.c.branch_id)
    assert str(clause.compile(dialect=sqlite.dialect())) == "0"  # false, not "owner_id IS NULL"


async def test_branch_scope_matches_the_path_prefix_literally(session_factory, org, engine):
    # Real paths are made of ids; a path holding LIKE's wildcards must still match only itself.
    async with session_factory() as session, session.begin():
        session.add_all(
            [
                Branch(id="b_1", code="W1", name="W1", parent_id=None, path="/b_1/"),
                Branch(id="bx1", code="W2", name="W2", parent_id=None, path="/bx1/"),
                Branch(id="b%2", code="W3", name="W3", parent_id=None, path="/b%2/"),
                Branch(id="bxx2", code="W4", name="W4", parent_id=None, path="/bxx2/"),
            ]
        )
        await session.execute(
            notes.insert(),
            [
                {"id": f"w{i}", "owner_id": "o", "branch_id": b, "mobile": PII("mobile", "13800000009"),
                 "mobile_index": "x"}
                for i, b in enumerate(["b_1", "bx1", "b%2", "bxx2"])
            ],
        )  # fmt: skip
    base = _with_scope(org["li"], Scope.BRANCH)
    async with session_factory() as session:
        seen = {
            path: sorted(
                (await session.scalars(_q(select(notes.c.id), replace(base, branch_path=path)))).all()
            )
            for path in ("/b_1/", "/b%2/")
        }
    assert seen == {"/b_1/": ["w0"], "/b%2/": ["w2"]}
