"""An organisation with people of different scopes, for the documents tests.

The actors carry the built-in roles' grants and real branches (the ``branch`` scope reads the
branch tree), but no user rows: hashing five passwords per test would cost more than the tests.
"""

from __future__ import annotations

from types import MappingProxyType

from sqlalchemy import select

from core.access import Actor, ActorKind, Branch
from core.access import service as access
from core.access.roles import BUILTIN_ROLES
from core.db import new_id

PEOPLE = [
    ("li", "loan_officer", "SH01"),
    ("wang", "loan_officer", "SH01"),
    ("zhao", "loan_officer", "BJ01"),
    ("chen", "branch_manager", "EAST"),
    ("shen", "auditor", "HQ"),
]


async def make_org(session_factory) -> dict[str, Actor]:
    """Branches HQ → EAST → SH01 and HQ → BJ01, and an actor for each of the people above."""
    op = Actor.operator("t")
    grants = {role.name: role.grants for role in BUILTIN_ROLES}
    async with session_factory() as session, session.begin():
        for code, parent in [("HQ", None), ("EAST", "HQ"), ("SH01", "EAST"), ("BJ01", "HQ")]:
            await access.add_branch(session, op, code=code, name=code, parent=parent)
        branches = {b.code: b for b in (await session.scalars(select(Branch))).all()}
    return {
        name: Actor(
            kind=ActorKind.USER,
            id=new_id(),
            name=name,
            roles=(role,),
            grants=MappingProxyType(dict(grants[role])),
            branch_id=branches[branch].id,
            branch_path=branches[branch].path,
            branch_code=branch,
        )
        for name, role, branch in PEOPLE
    }
