"""Follow-ups over HTTP: the officer's list, customers' follow-ups, marking next actions done.

``GET /api/follow-ups?overdue=true`` is the officer's list of next actions past their time.
Follow-ups of a lead are recorded under the lead (``POST /api/leads/{id}/follow-ups``); every list
here is scoped to the follow-ups whose next action falls within the caller's scope.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status
from sqlalchemy import select

from core.access import Actor, User
from core.db import utcnow
from core.leads import followups
from core.leads.repository import FollowUpQuery, follow_ups
from core.leads.views import follow_up_view, labels_for
from schemas.api.leads import CustomerFollowUpCreate, FollowUpPage, FollowUpRead

from ...deps import SessionDep
from ..paging import Limit, Offset
from ..security import require

__all__ = ["router"]

router = APIRouter(prefix="/api/follow-ups", tags=["leads"])


@router.get("")
async def list_follow_ups(
    session: SessionDep,
    actor: Actor = require("leads.read"),
    overdue: Annotated[bool, Query(description="only open next actions past their time")] = False,
    lead_id: Annotated[str | None, Query(max_length=36)] = None,
    customer_id: Annotated[str | None, Query(max_length=36)] = None,
    owner: Annotated[str | None, Query(max_length=100, description="officer's username")] = None,
    done: Annotated[bool | None, Query(description="next action done (true) or open (false)")] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> FollowUpPage:
    """Follow-ups within the caller's scope, the most urgent open next action first."""
    owner_id = None
    if owner is not None:
        owner_id = await session.scalar(select(User.id).where(User.username == owner)) or "-"
    now = utcnow()
    query = FollowUpQuery(
        lead_id=lead_id,
        customer_id=customer_id,
        owner_id=owner_id,
        done=done,
        overdue=overdue,
        now=now,
        limit=limit,
        offset=offset,
    )
    rows, total = await follow_ups(session, actor, query)
    labels = await labels_for(session, follow_ups=rows)
    items = [FollowUpRead.model_validate(follow_up_view(row, labels, now=now)) for row in rows]
    return FollowUpPage(items=items, total=total, limit=limit, offset=offset)


@router.post("", status_code=status.HTTP_201_CREATED)
async def add_customer_follow_up(
    body: CustomerFollowUpCreate, session: SessionDep, actor: Actor = require("leads.write")
) -> FollowUpRead:
    """Record a contact with a customer (one the caller can read) outside any lead."""
    now = utcnow()
    fields = followups.FollowUpFields(**body.model_dump(exclude={"customer_id"}))
    row = await followups.record_for_customer(session, actor, body.customer_id, fields, now=now)
    labels = await labels_for(session, follow_ups=[row])
    return FollowUpRead.model_validate(follow_up_view(row, labels, now=now))


@router.post("/{follow_up_id}/done")
async def complete_follow_up(
    follow_up_id: str, session: SessionDep, actor: Actor = require("leads.write")
) -> FollowUpRead:
    """Mark a follow-up's next action done; it leaves the overdue list."""
    now = utcnow()
    row = await followups.complete(session, actor, follow_up_id, now=now)
    labels = await labels_for(session, follow_ups=[row])
    return FollowUpRead.model_validate(follow_up_view(row, labels, now=now))
