"""Leads over HTTP: partners push, officers register, list, assign, move, follow up and convert.

``POST /api/leads`` is the partners' door: it needs ``leads.push`` and a token bound to an active
partner, is rate-limited per partner (429 with ``Retry-After``) and idempotent on the partner's
lead id (the same push again answers 200 with the lead made the first time). Everything else is
for officers and scoped in SQL by ``core.leads``: a lead outside the caller's scope answers 404
exactly like one that does not exist.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response, status
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.access import Actor, Branch, User
from core.access.reveal import reveal_fields
from core.clock import business_date
from core.db import utcnow
from core.errors import Invalid
from core.leads import Lead, Partner, followups, intake, partners, service
from core.leads.repository import SORTS, FollowUpQuery, LeadQuery, follow_ups, get_visible, search
from core.leads.views import follow_up_view, labels_for, lead_view
from schemas.api.leads import (
    ConvertRequest,
    ConvertResult,
    FollowUpCreate,
    FollowUpPage,
    FollowUpRead,
    LeadAssign,
    LeadCreated,
    LeadPage,
    LeadPush,
    LeadPushed,
    LeadRead,
    LeadRegister,
    LeadTransition,
)

from ...crm import application_opener
from ...deps import SessionDep
from ..paging import Limit, Offset
from ..rate_limits import check_partner_rate
from ..security import require

__all__ = ["router"]

router = APIRouter(prefix="/api/leads", tags=["leads"])

REVEALABLE = ("mobile", "id_number")
SORT_KEYS = [*SORTS, *(f"-{key}" for key in SORTS)]
_PROBLEM = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
PUSH_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"model": LeadPushed, "description": "The same push again: the lead made the first time"},
    429: {
        "description": "Over the partner's pushes per minute; Retry-After says when to try again",
        "content": _PROBLEM,
        "headers": {"Retry-After": {"schema": {"type": "integer"}, "description": "seconds"}},
    },
}


async def lead_read(session: AsyncSession, lead: Lead, revealed: frozenset[str] = frozenset()) -> LeadRead:
    labels = await labels_for(session, [lead])
    return LeadRead.model_validate(lead_view(lead, labels, now=utcnow(), revealed=revealed))


def _fields(body: LeadPush | LeadRegister) -> intake.LeadFields:
    return intake.LeadFields(**body.model_dump(exclude_unset=True))


@router.post("", status_code=status.HTTP_201_CREATED, responses=PUSH_RESPONSES)
async def push_lead(
    body: LeadPush,
    request: Request,
    response: Response,
    session: SessionDep,
    actor: Actor = require("leads.push"),
) -> LeadPushed:
    """A partner pushes a lead (201); the same ``partner_lead_id`` and body again answers 200."""
    partner = await partners.partner_for(session, actor)
    await check_partner_rate(
        request.app.state.runtime.state.rates, partner.code, partner.rate_limit_per_minute
    )
    done = await intake.push(session, actor, partner, _fields(body), today=business_date(), now=utcnow())
    if not done.created:
        response.status_code = status.HTTP_200_OK
    lead = done.lead
    return LeadPushed(
        id=lead.id,
        partner_lead_id=lead.partner_lead_id or "",
        status=lead.status,
        created=done.created,
        duplicate=lead.status == "duplicate",
        linked_to=list(done.linked_to),
    )


@router.post("/register", status_code=status.HTTP_201_CREATED)
async def register_lead(
    body: LeadRegister, session: SessionDep, actor: Actor = require("leads.write")
) -> LeadCreated:
    """An officer records a lead (offline by default), theirs or an officer's within their scope."""
    done = await intake.register(session, actor, _fields(body), today=business_date(), now=utcnow())
    read = await lead_read(session, done.lead)
    return LeadCreated(**read.model_dump(), linked_to=list(done.linked_to))


@router.get("")
async def list_leads(
    session: SessionDep,
    actor: Actor = require("leads.read"),
    q: Annotated[
        str | None, Query(max_length=100, description="name fragment, or a full or masked mobile")
    ] = None,
    lead_status: Annotated[str | None, Query(alias="status", max_length=20)] = None,
    channel: Annotated[str | None, Query(max_length=30)] = None,
    partner: Annotated[str | None, Query(max_length=50, description="partner code")] = None,
    campaign: Annotated[str | None, Query(max_length=100)] = None,
    owner: Annotated[str | None, Query(max_length=100, description="officer's username")] = None,
    branch: Annotated[str | None, Query(max_length=50, description="branch code")] = None,
    queued: Annotated[bool | None, Query(description="true: only unassigned; false: only assigned")] = None,
    overdue: Annotated[bool, Query(description="first contact or a next action past its time")] = False,
    sort: Annotated[str, Query(max_length=30, description=f"one of {', '.join(SORT_KEYS)}")] = "-created_at",
    limit: Limit = 50,
    offset: Offset = 0,
) -> LeadPage:
    """Leads within the caller's scope (and their branch's queue), filtered, sorted and paged."""
    if sort not in SORT_KEYS:
        raise Invalid(
            "leads.sort_unknown",
            errors=[{"field": "sort", "code": "leads.sort_unknown"}],
            sort=sort,
            known=", ".join(SORT_KEYS),
        )

    async def lookup(column: Any, key: Any, value: str | None) -> str | None:
        if value is None:
            return None
        found = await session.scalar(select(column).where(key == value))
        return str(found) if found is not None else "-"  # an unknown name matches nothing

    query = LeadQuery(
        q=q,
        status=lead_status or None,
        channel=channel,
        partner_id=await lookup(Partner.id, Partner.code, partner),
        campaign=campaign,
        owner_id=await lookup(User.id, User.username, owner),
        branch_id=await lookup(Branch.id, Branch.code, branch),
        queue=queued,
        overdue=overdue,
        now=utcnow(),
        sort=sort,
        limit=limit,
        offset=offset,
    )
    rows, total = await search(session, actor, query)
    labels = await labels_for(session, rows)
    now = utcnow()
    items = [LeadRead.model_validate(lead_view(row, labels, now=now)) for row in rows]
    return LeadPage(items=items, total=total, limit=limit, offset=offset)


@router.get("/{lead_id}")
async def get_lead(
    lead_id: str,
    session: SessionDep,
    actor: Actor = require("leads.read"),
    reveal: Annotated[
        list[str] | None, Query(max_length=2, description=f"fields to show in clear: {', '.join(REVEALABLE)}")
    ] = None,
    purpose: Annotated[str | None, Query(max_length=500, description="why, when revealing")] = None,
) -> LeadRead:
    """One lead, masked; ``reveal`` shows the mobile or ID number in clear with a purpose, audited."""
    lead = await get_visible(session, actor, lead_id)
    fields = await reveal_fields(
        session,
        actor,
        reveal,
        purpose,
        revealable=REVEALABLE,
        unknown_code="leads.reveal_unknown",
        target_type="lead",
        target_id=lead.id,
    )
    return await lead_read(session, lead, fields)


@router.post("/{lead_id}/assign")
async def assign_lead(
    lead_id: str, body: LeadAssign, session: SessionDep, actor: Actor = require("leads.write")
) -> LeadRead:
    """Give the lead to an officer (officers take from their branch's queue), queue it, or deal it."""
    lead = await service.assign(
        session,
        actor,
        lead_id,
        owner=body.owner,
        branch=body.branch,
        now=utcnow(),
        expected_version=body.version,
    )
    return await lead_read(session, lead)


@router.post("/{lead_id}/transition")
async def transition_lead(
    lead_id: str, body: LeadTransition, session: SessionDep, actor: Actor = require("leads.write")
) -> LeadRead:
    """Move the lead along ``new → contacting → qualified``, or out (disqualified, duplicate)."""
    lead = await service.transition(
        session,
        actor,
        lead_id,
        body.to,
        now=utcnow(),
        reason=body.reason,
        duplicate_of=body.duplicate_of,
        expected_version=body.version,
    )
    return await lead_read(session, lead)


@router.post("/{lead_id}/follow-ups", status_code=status.HTTP_201_CREATED)
async def add_follow_up(
    lead_id: str, body: FollowUpCreate, session: SessionDep, actor: Actor = require("leads.write")
) -> FollowUpRead:
    """Record a call, visit, message or document received, with its outcome and next action."""
    now = utcnow()
    row = await followups.record(
        session, actor, lead_id, followups.FollowUpFields(**body.model_dump()), now=now
    )
    labels = await labels_for(session, follow_ups=[row])
    return FollowUpRead.model_validate(follow_up_view(row, labels, now=now))


@router.get("/{lead_id}/follow-ups")
async def lead_follow_ups(
    lead_id: str,
    session: SessionDep,
    actor: Actor = require("leads.read"),
    limit: Limit = 50,
    offset: Offset = 0,
) -> FollowUpPage:
    """The lead's follow-ups, the most urgent open next action first."""
    lead = await get_visible(session, actor, lead_id)
    now = utcnow()
    rows, total = await follow_ups(session, actor, FollowUpQuery(lead_id=lead.id, limit=limit, offset=offset))
    labels = await labels_for(session, follow_ups=rows)
    items = [FollowUpRead.model_validate(follow_up_view(row, labels, now=now)) for row in rows]
    return FollowUpPage(items=items, total=total, limit=limit, offset=offset)


@router.post("/{lead_id}/convert")
async def convert_lead(
    lead_id: str, body: ConvertRequest, session: SessionDep, actor: Actor = require("leads.write")
) -> ConvertResult:
    """Turn a qualified lead into a customer (registered, or linked when the person is one already)."""
    done = await service.convert(
        session,
        actor,
        lead_id,
        service.ConvertFields(id_number=body.id_number, customer_id=body.customer_id),
        today=business_date(),
        now=utcnow(),
        expected_version=body.version,
        open_application=application_opener(**body.application.model_dump()) if body.application else None,
    )
    return ConvertResult(
        lead=await lead_read(session, done.lead),
        customer_id=done.customer.id,
        customer_created=done.customer_created,
        application_id=done.lead.application_id,
    )
