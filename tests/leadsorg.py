"""An organisation and a partner for leads tests on a bare database (no app), and small helpers.

SH01 has two loan officers (li, wang), a manager (mgr) and a disabled officer (old); BJ01 has
zhao, AUTO has sun. Partner acme queues its leads at SH01.
"""

from __future__ import annotations

from itertools import count

import pytest
from sqlalchemy import select

from core.access import Actor, Branch, User
from core.access import service as access
from core.clock import business_date
from core.db import utcnow
from core.leads import Lead, Partner
from core.leads.assignment import RuleSpec, replace_rules
from core.leads.intake import LeadFields, push

OP = Actor.operator("t")
PASSWORD = "Corr3ct-horse"


@pytest.fixture
async def org(session_factory):
    async with session_factory() as session, session.begin():
        await access.ensure_builtin_roles(session, OP)
        for code, parent in [("HQ", None), ("SH01", "HQ"), ("BJ01", "HQ"), ("AUTO", "HQ")]:
            await access.add_branch(session, OP, code=code, name=code, parent=parent)
        for name, role, branch in [
            ("li", "loan_officer", "SH01"),
            ("wang", "loan_officer", "SH01"),
            ("mgr", "branch_manager", "SH01"),
            ("old", "loan_officer", "SH01"),
            ("zhao", "loan_officer", "BJ01"),
            ("sun", "loan_officer", "AUTO"),
        ]:
            await access.add_user(session, OP, username=name, password=PASSWORD, roles=[role], branch=branch)
        await access.set_user_enabled(session, OP, "old", enabled=False)
        sh01 = await session.scalar(select(User.branch_id).where(User.username == "li"))
        session.add(
            Partner(code="acme", name="Acme", channel="partner_referral", branch_id=sh01, tokens_issued=0)
        )
    return session_factory


async def set_rules(sessions, *specs: RuleSpec) -> None:
    async with sessions() as session, session.begin():
        await replace_rules(session, OP, specs)


_numbers = count()


async def push_lead(sessions, now=None, **fields) -> Lead:
    """A lead pushed by acme (a fresh mobile each time) as of ``now``."""
    number = next(_numbers)
    async with sessions() as session, session.begin():
        partner = await session.scalar(select(Partner).where(Partner.code == "acme"))
        body = LeadFields(name="客户", mobile=f"137{number:08d}", partner_lead_id=f"L{number}", **fields)
        done = await push(
            session, Actor.system("test"), partner, body, today=business_date(), now=now or utcnow()
        )
        return done.lead


async def owner_of(sessions, lead: Lead) -> str | None:
    async with sessions() as session:
        row = await session.get(Lead, lead.id)
        return (
            await session.scalar(select(User.username).where(User.id == row.owner_id))
            if row.owner_id
            else None
        )


async def branch_code(sessions, lead: Lead) -> str:
    async with sessions() as session:
        return await session.scalar(select(Branch.code).where(Branch.id == lead.branch_id))
