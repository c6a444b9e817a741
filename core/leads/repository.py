"""Reading leads and follow-ups within the caller's scope, in SQL.

Scope of a lead: its owner and branch, as for customers (``core.access.scoped``). An unassigned
lead (no owner) sits in its branch's *queue*: besides whoever's scope covers the branch (a team
lead, a branch manager), every holder of the permission whose own branch node is the lead's
branch sees it, so an officer can take it (``queue=True``). Working a lead — transitions,
follow-ups, conversion — needs it within the scope proper (``queue=False``): an officer takes a
queue lead first, which makes it theirs.

A lead outside the caller's reach is never loaded or counted; to the caller it does not exist (404).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, exists, false, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.access import Actor, scope_clause
from core.errors import NotFound
from core.pii import blind_index

from .models import OPEN_STATUSES, FollowUp, Lead

__all__ = [
    "SORTS",
    "FollowUpQuery",
    "LeadQuery",
    "follow_ups",
    "get_visible",
    "get_visible_follow_up",
    "search",
    "visible",
    "visible_follow_ups",
]

SORTS = {
    "created_at": Lead.created_at,
    "updated_at": Lead.updated_at,
    "name": Lead.name,
    "first_contact_due_at": Lead.first_contact_due_at,
}
_FULL_MOBILE = re.compile(r"^1\d{10}$")
_MASKED_MOBILE = re.compile(r"^(1\d{2})\*{4}(\d{4})$")
_FULL_ID = re.compile(r"^\d{17}[\dX]$")


def _reach(actor: Actor, permission: str, *, queue: bool) -> ColumnElement[bool]:
    clause = scope_clause(actor, permission, owner=Lead.owner_id, branch=Lead.branch_id)
    if queue and actor.can(permission) and actor.branch_id is not None:
        clause = or_(clause, and_(Lead.owner_id.is_(None), Lead.branch_id == actor.branch_id))
    return clause


def visible(actor: Actor, permission: str = "leads.read", *, queue: bool = True) -> Select[Lead]:
    """Leads the actor reaches through ``permission`` (their branch's queue too, when ``queue``)."""
    return select(Lead).where(_reach(actor, permission, queue=queue))


async def get_visible(
    session: AsyncSession, actor: Actor, lead_id: str, permission: str = "leads.read", *, queue: bool = True
) -> Lead:
    """The lead, if the actor reaches it; otherwise 404, exactly as if it did not exist."""
    row = await session.scalar(visible(actor, permission, queue=queue).where(Lead.id == lead_id))
    if row is None:
        raise NotFound("leads.not_found", id=lead_id)
    return row


def overdue_clause(now: datetime) -> ColumnElement[bool]:
    """An open lead past its first-contact SLA uncontacted, or with a next action past its date."""
    late_action = exists().where(
        FollowUp.lead_id == Lead.id, FollowUp.done.is_(False), FollowUp.next_due_at < now
    )
    first_contact_late = and_(
        Lead.status.in_(OPEN_STATUSES),
        Lead.first_contacted_at.is_(None),
        Lead.first_contact_due_at < now,
    )
    return or_(first_contact_late, and_(Lead.status.in_(OPEN_STATUSES), late_action))


@dataclass(frozen=True)
class LeadQuery:
    """Filters of the officers' list, all optional and combined with AND.

    ``q`` is a full or masked mobile (``138****8000``) or full ID number, looked up through the
    blind indexes, or else a fragment of the name. ``queue`` selects unassigned leads (True) or
    assigned ones (False).
    """

    q: str | None = None
    status: str | None = None
    channel: str | None = None
    partner_id: str | None = None
    campaign: str | None = None
    owner_id: str | None = None
    branch_id: str | None = None
    queue: bool | None = None
    overdue: bool = False
    now: datetime | None = None
    sort: str = "-created_at"
    limit: int = 50
    offset: int = 0


def _text_condition(q: str) -> ColumnElement[bool]:
    compact = q.replace(" ", "").replace("-", "").upper()
    if compact.startswith("+86"):
        compact = compact[3:]
    if _FULL_MOBILE.match(compact):
        return Lead.mobile_index == blind_index("mobile", compact)
    if match := _MASKED_MOBILE.match(compact):
        return Lead.mobile_hint_index == blind_index("mobile_hint", match[1] + match[2])
    if _FULL_ID.match(compact):
        return Lead.id_number_index == blind_index("id_number", compact)
    fragment = q.strip().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return Lead.name.like(f"%{fragment}%", escape="\\")


def _filtered(actor: Actor, query: LeadQuery) -> Select[Lead]:
    conditions: list[Any] = []
    if query.q and query.q.strip():
        conditions.append(_text_condition(query.q))
    for column, value in (
        (Lead.status, query.status),
        (Lead.channel, query.channel),
        (Lead.partner_id, query.partner_id),
        (Lead.campaign, query.campaign),
        (Lead.owner_id, query.owner_id),
        (Lead.branch_id, query.branch_id),
    ):
        if value is not None:
            conditions.append(column == value)
    if query.queue is not None:
        conditions.append(Lead.owner_id.is_(None) if query.queue else Lead.owner_id.is_not(None))
    if query.overdue:
        conditions.append(overdue_clause(query.now) if query.now is not None else false())
    return visible(actor).where(*conditions)


async def search(session: AsyncSession, actor: Actor, query: LeadQuery) -> tuple[Sequence[Lead], int]:
    """One page of matching leads the actor may read, and how many match in all."""
    statement = _filtered(actor, query)
    total = await session.scalar(select(func.count()).select_from(statement.subquery()))
    descending = query.sort.startswith("-")
    column = SORTS[query.sort.lstrip("-")]
    order = [
        column.desc().nulls_last() if descending else column.asc().nulls_last(),
        Lead.id.desc() if descending else Lead.id,
    ]
    rows = (await session.scalars(statement.order_by(*order).limit(query.limit).offset(query.offset))).all()
    return rows, int(total or 0)


def visible_follow_ups(actor: Actor, permission: str = "leads.read") -> Select[FollowUp]:
    """Follow-ups the actor reaches: those whose next action falls to someone within their scope."""
    return select(FollowUp).where(
        scope_clause(actor, permission, owner=FollowUp.owner_id, branch=FollowUp.branch_id)
    )


async def get_visible_follow_up(
    session: AsyncSession, actor: Actor, follow_up_id: str, permission: str = "leads.read"
) -> FollowUp:
    """The follow-up, if within the actor's scope; otherwise 404."""
    row = await session.scalar(visible_follow_ups(actor, permission).where(FollowUp.id == follow_up_id))
    if row is None:
        raise NotFound("leads.follow_up_not_found", id=follow_up_id)
    return row


@dataclass(frozen=True)
class FollowUpQuery:
    """Filters of the follow-up list; ``overdue`` keeps open next actions past their date at ``now``."""

    lead_id: str | None = None
    customer_id: str | None = None
    owner_id: str | None = None
    done: bool | None = None
    overdue: bool = False
    now: datetime | None = None
    limit: int = 50
    offset: int = 0


async def follow_ups(
    session: AsyncSession, actor: Actor, query: FollowUpQuery
) -> tuple[Sequence[FollowUp], int]:
    """One page of follow-ups (most urgent next action first, then newest) and the count of all."""
    conditions: list[Any] = []
    for column, value in (
        (FollowUp.lead_id, query.lead_id),
        (FollowUp.customer_id, query.customer_id),
        (FollowUp.owner_id, query.owner_id),
        (FollowUp.done, query.done),
    ):
        if value is not None:
            conditions.append(column == value)
    if query.overdue:
        if query.now is None:
            conditions.append(false())
        else:
            conditions += [FollowUp.done.is_(False), FollowUp.next_due_at < query.now]
    statement = visible_follow_ups(actor).where(*conditions)
    total = await session.scalar(select(func.count()).select_from(statement.subquery()))
    order: list[Any] = [
        FollowUp.next_due_at.asc().nulls_last(),
        FollowUp.created_at.desc(),
        FollowUp.id.desc(),
    ]
    rows = (await session.scalars(statement.order_by(*order).limit(query.limit).offset(query.offset))).all()
    return rows, int(total or 0)
