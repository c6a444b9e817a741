"""Registering in bulk: the same outcome per entry as one at a time, in a few statements."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from core.access import Actor
from core.access import service as access
from core.audit import AuditEntry
from core.customers import Customer
from core.customers import service as customers
from core.customers.service import CustomerFields
from core.errors import Conflict, Invalid

TODAY = date(2026, 12, 6)


def person(name, number, mobile="13800138000", owner="li"):
    return CustomerFields(kind="person", name=name, id_number=number, mobile=mobile, owner=owner)


@pytest.fixture
async def operator(session_factory):
    op = Actor.operator("test")
    async with session_factory() as session, session.begin():
        await access.ensure_builtin_roles(session, op)
        await access.add_branch(session, op, code="HQ", name="总行", parent=None)
        await access.add_user(
            session, op, username="li", password="Corr3ct-horse", roles=["loan_officer"], branch="HQ"
        )
    return op


async def test_each_entry_gets_its_id_or_its_reason(session_factory, operator):
    batch = [
        person("张三", "11010519491231002X"),
        person("王五", "11010519491231002Y"),
        person("张三二", "11010519491231002x"),  # the first entry's ID, in other case
        person("李四", "11010119900307803X", owner="nobody"),
        CustomerFields(kind="enterprise", name="某公司", uscc="91350100M000100Y43", owner="li"),
    ]
    async with session_factory() as session, session.begin():
        results = await customers.register_many(session, operator, batch, today=TODAY)
    assert isinstance(results[0], str) and isinstance(results[4], str)
    assert isinstance(results[1], Invalid) and results[1].errors[0]["field"] == "id_number"
    assert isinstance(results[2], Conflict) and results[2].code == "customers.duplicate_in_batch"
    assert results[2].params["position"] == 1
    assert isinstance(results[3], Invalid) and results[3].errors[0]["field"] == "owner"
    async with session_factory() as session:
        assert await session.scalar(select(func.count()).select_from(Customer)) == 2
        created = (
            await session.scalars(select(AuditEntry.target_id).where(AuditEntry.action == "customers.create"))
        ).all()
        assert sorted(created) == sorted([results[0], results[4]])
    async with session_factory() as session, session.begin():
        again = await customers.register_many(session, operator, batch[:1], today=TODAY)
    assert isinstance(again[0], Conflict) and again[0].code == "customers.duplicate"


async def test_an_identity_taken_between_check_and_insert_fails_only_that_entry(
    session_factory, operator, monkeypatch
):
    async with session_factory() as session, session.begin():
        await customers.register(session, operator, person("张三", "11010519491231002X"), today=TODAY)

    async def nothing_exists(*args, **kwargs):
        return {}  # as if a concurrent writer inserted after the lookup

    monkeypatch.setattr(customers, "_existing", nothing_exists)
    async with session_factory() as session, session.begin():
        results = await customers.register_many(
            session,
            operator,
            [person("李四", "11010119900307803X"), person("张三", "11010519491231002X")],
            today=TODAY,
        )
    assert isinstance(results[0], str)
    assert isinstance(results[1], Conflict) and results[1].code == "customers.duplicate_elsewhere"
    async with session_factory() as session:
        assert await session.scalar(select(func.count()).select_from(Customer)) == 2
