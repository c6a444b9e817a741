"""How leads come in and are routed, over HTTP: partners and their tokens, assignment rules, SLAs.

Reading the set-up needs ``leads.read`` (officers see which partners and rules exist); changing it
needs ``leads.manage``. A partner's API token is shown once, when the partner is created or a new
token is issued (which revokes the previous one).
"""

from __future__ import annotations

from fastapi import APIRouter, status
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.access import Actor, ApiToken, Branch
from core.customers import CHANNELS
from core.leads import Partner, assignment, partners, sla
from schemas.api.leads import (
    AssignmentRuleRead,
    AssignmentRules,
    AssignmentRulesRead,
    PartnerCreate,
    PartnerCreated,
    PartnerRead,
    PartnerUpdate,
    SlaPolicies,
    SlaPoliciesRead,
)

from ...deps import SessionDep
from ..security import require

__all__ = ["router"]

router = APIRouter(prefix="/api", tags=["leads"])


async def _partner_read(session: AsyncSession, partner: Partner) -> PartnerRead:
    branch = await session.scalar(select(Branch.code).where(Branch.id == partner.branch_id))
    token = (
        await session.scalar(
            select(ApiToken.name).where(ApiToken.id == partner.token_id, ApiToken.revoked_at.is_(None))
        )
        if partner.token_id
        else None
    )
    return PartnerRead(
        code=partner.code,
        name=partner.name,
        channel=partner.channel,
        branch=branch,
        rate_limit_per_minute=partner.rate_limit_per_minute,
        active=partner.active,
        token=token,
    )


def _changes(body: PartnerCreate | PartnerUpdate) -> partners.PartnerChanges:
    return partners.PartnerChanges(**body.model_dump(exclude_unset=True, exclude={"code"}))


@router.get("/partners")
async def list_partners(session: SessionDep, actor: Actor = require("leads.read")) -> list[PartnerRead]:
    """Every partner, by code, with the name of its live token."""
    return [await _partner_read(session, partner) for partner, _ in await partners.list_partners(session)]


@router.post("/partners", status_code=status.HTTP_201_CREATED)
async def create_partner(
    body: PartnerCreate, session: SessionDep, actor: Actor = require("leads.manage")
) -> PartnerCreated:
    """Add a partner; its API token (role ``partner``) is in this answer and nowhere else."""
    partner, value = await partners.create_partner(session, actor, body.code, _changes(body))
    return PartnerCreated(**(await _partner_read(session, partner)).model_dump(), api_token=value)


@router.patch("/partners/{code}")
async def update_partner(
    code: str, body: PartnerUpdate, session: SessionDep, actor: Actor = require("leads.manage")
) -> PartnerRead:
    """Change a partner's name, branch, channel or rate limit, or stop (``active: false``) its pushes."""
    partner = await partners.update_partner(session, actor, code, _changes(body))
    return await _partner_read(session, partner)


@router.post("/partners/{code}/token")
async def issue_partner_token(
    code: str, session: SessionDep, actor: Actor = require("leads.manage")
) -> PartnerCreated:
    """Issue the partner a new API token (shown once); the previous one stops working at once."""
    partner = await partners.partner_by_code(session, code)
    value = await partners.issue_token(session, actor, partner)
    return PartnerCreated(**(await _partner_read(session, partner)).model_dump(), api_token=value)


@router.get("/lead-rules")
async def read_rules(session: SessionDep, actor: Actor = require("leads.read")) -> AssignmentRulesRead:
    """The assignment rules in the order they are read."""
    rows = await assignment.read_rules(session)
    return AssignmentRulesRead(rules=[AssignmentRuleRead.model_validate(row) for row in rows])


@router.put("/lead-rules")
async def replace_rules(
    body: AssignmentRules, session: SessionDep, actor: Actor = require("leads.manage")
) -> AssignmentRulesRead:
    """Replace the whole ordered list of assignment rules (all checked first; all or nothing)."""
    specs = [
        assignment.RuleSpec(**{**rule.model_dump(), "officers": tuple(rule.officers)}) for rule in body.rules
    ]
    await assignment.replace_rules(session, actor, specs)
    rows = await assignment.read_rules(session)
    return AssignmentRulesRead(rules=[AssignmentRuleRead.model_validate(row) for row in rows])


@router.get("/lead-sla")
async def read_sla(session: SessionDep, actor: Actor = require("leads.read")) -> SlaPoliciesRead:
    """Hours from assignment to first contact, per channel."""
    hours = await sla.policies(session, CHANNELS)
    return SlaPoliciesRead(first_contact_hours=hours, default_hours=sla.DEFAULT_FIRST_CONTACT_HOURS)


@router.put("/lead-sla")
async def update_sla(
    body: SlaPolicies, session: SessionDep, actor: Actor = require("leads.manage")
) -> SlaPoliciesRead:
    """Set the first-contact hours of the channels named; clocks started from now on use them."""
    hours = await sla.set_policies(session, actor, body.first_contact_hours, channels=CHANNELS)
    return SlaPoliciesRead(first_contact_hours=hours, default_hours=sla.DEFAULT_FIRST_CONTACT_HOURS)
