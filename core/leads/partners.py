"""Partners who push leads, and the one API token each pushes with.

A partner is bound to its token by ``partners.token_id``: creating a partner issues a token named
``partner-<code>-<n>`` holding only the built-in ``partner`` role (``leads.push``), and issuing a
new one revokes the old. A push is accepted from a token bound to an active partner only, and the
lead is the bound partner's whatever the body says, so one partner can neither push as another nor
read anything back. The token shows up in ``lendhub tokens``/``GET /api/tokens`` like any other and
can be revoked there too (the partner then pushes nothing until it is given a new one).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core import audit
from core.access import Actor, ActorKind, ApiToken, Branch
from core.access.service import create_token, revoke_token
from core.customers import CHANNELS
from core.errors import Conflict, Forbidden, Invalid, NotFound

from .models import Partner

__all__ = [
    "PARTNER_ROLE",
    "PartnerChanges",
    "create_partner",
    "issue_token",
    "list_partners",
    "partner_by_code",
    "partner_for",
    "update_partner",
]

PARTNER_ROLE = "partner"
_CODE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
MAX_RATE = 10_000


@dataclass
class PartnerChanges:
    """What a caller may set on a partner; ``None`` leaves a field as it is."""

    name: str | None = None
    branch: str | None = None
    channel: str | None = None
    rate_limit_per_minute: int | None = None
    active: bool | None = None


def _view(partner: Partner, branch_code: str | None) -> dict[str, Any]:
    return {
        "code": partner.code,
        "name": partner.name,
        "channel": partner.channel,
        "branch": branch_code,
        "rate_limit_per_minute": partner.rate_limit_per_minute,
        "active": partner.active,
    }


def _check(changes: PartnerChanges) -> list[dict[str, Any]]:
    errors: list[dict[str, Any]] = []
    if changes.name is not None and not 1 <= len(changes.name.strip()) <= 200:
        errors.append({"field": "name", "code": "leads.partner_name_required"})
    if changes.channel is not None and changes.channel not in CHANNELS:
        errors.append(
            {"field": "channel", "code": "leads.channel_unknown", "params": {"known": ", ".join(CHANNELS)}}
        )
    if changes.rate_limit_per_minute is not None and not 1 <= changes.rate_limit_per_minute <= MAX_RATE:
        errors.append(
            {
                "field": "rate_limit_per_minute",
                "code": "leads.partner_rate_invalid",
                "params": {"max": MAX_RATE},
            }
        )
    return errors


async def _branch_code(session: AsyncSession, branch_id: str) -> str | None:
    return await session.scalar(select(Branch.code).where(Branch.id == branch_id))


async def _branch(session: AsyncSession, code: str | None, errors: list[dict[str, Any]]) -> Branch | None:
    if code is None:
        return None
    branch = await session.scalar(select(Branch).where(Branch.code == code))
    if branch is None:
        errors.append({"field": "branch", "code": "leads.branch_unknown", "params": {"branch": code}})
    return branch


async def partner_by_code(session: AsyncSession, code: str) -> Partner:
    """The partner with ``code``; 404 otherwise."""
    partner = await session.scalar(select(Partner).where(Partner.code == code))
    if partner is None:
        raise NotFound("leads.partner_not_found", partner=code)
    return partner


async def list_partners(session: AsyncSession) -> Sequence[tuple[Partner, str | None]]:
    """Every partner by code, with its branch code."""
    rows = await session.execute(
        select(Partner, Branch.code).join(Branch, Branch.id == Partner.branch_id).order_by(Partner.code)
    )
    return [(partner, code) for partner, code in rows.all()]


async def issue_token(session: AsyncSession, actor: Actor, partner: Partner) -> str:
    """A new API token for the partner (returned once); the previous one, if any, is revoked."""
    if partner.token_id is not None:
        old = await session.get(ApiToken, partner.token_id)
        if old is not None and old.revoked_at is None:
            await revoke_token(session, actor, old.name)
    partner.tokens_issued += 1
    token, value = await create_token(
        session,
        actor,
        name=f"partner-{partner.code}-{partner.tokens_issued}",
        roles=[PARTNER_ROLE],
        branch=await _branch_code(session, partner.branch_id),
    )
    partner.token_id = token.id
    await session.flush()
    await audit.record(
        session,
        actor,
        "leads.partner_token",
        target_type="partner",
        target_id=partner.code,
        after={"token": token.name, "prefix": token.prefix},
    )
    return value


async def create_partner(
    session: AsyncSession, actor: Actor, code: str, changes: PartnerChanges
) -> tuple[Partner, str]:
    """A new partner and its first API token (the value, shown once)."""
    code = code.strip().lower()
    errors = _check(changes)
    if not _CODE.match(code):
        errors.append({"field": "code", "code": "leads.partner_code_invalid"})
    if changes.name is None:
        errors.append({"field": "name", "code": "leads.partner_name_required"})
    branch = await _branch(session, changes.branch, errors)
    if changes.branch is None:
        errors.append({"field": "branch", "code": "leads.partner_branch_required"})
    if errors or branch is None or changes.name is None:
        raise Invalid("leads.partner_invalid", errors=errors, count=len(errors))
    if await session.scalar(select(Partner.id).where(Partner.code == code)):
        raise Conflict("leads.partner_exists", partner=code)
    partner = Partner(
        code=code,
        name=changes.name.strip(),
        channel=changes.channel or "partner_referral",
        branch_id=branch.id,
        rate_limit_per_minute=changes.rate_limit_per_minute or 60,
        active=True if changes.active is None else changes.active,
        tokens_issued=0,
    )
    session.add(partner)
    await session.flush()
    await audit.record(
        session,
        actor,
        "leads.partner_create",
        target_type="partner",
        target_id=code,
        after=_view(partner, branch.code),
    )
    return partner, await issue_token(session, actor, partner)


async def update_partner(session: AsyncSession, actor: Actor, code: str, changes: PartnerChanges) -> Partner:
    """Change a partner's name, branch, channel, rate limit or whether it may push."""
    partner = await partner_by_code(session, code)
    errors = _check(changes)
    branch = await _branch(session, changes.branch, errors)
    if errors:
        raise Invalid("leads.partner_invalid", errors=errors, count=len(errors))
    before = _view(partner, await _branch_code(session, partner.branch_id))
    if branch is not None:
        partner.branch_id = branch.id
    if changes.name is not None:
        partner.name = changes.name.strip()
    if changes.channel is not None:
        partner.channel = changes.channel
    if changes.rate_limit_per_minute is not None:
        partner.rate_limit_per_minute = changes.rate_limit_per_minute
    if changes.active is not None:
        partner.active = changes.active
    await session.flush()
    changed_before, changed_after = audit.changed_fields(
        before, _view(partner, await _branch_code(session, partner.branch_id))
    )
    await audit.record(
        session,
        actor,
        "leads.partner_update",
        target_type="partner",
        target_id=code,
        before=changed_before,
        after=changed_after,
    )
    return partner


async def partner_for(session: AsyncSession, actor: Actor) -> Partner:
    """The active partner the caller's API token is bound to; 403 for anyone else."""
    partner = (
        await session.scalar(select(Partner).where(Partner.token_id == actor.id))
        if actor.kind is ActorKind.TOKEN and actor.id
        else None
    )
    if partner is None:
        raise Forbidden("leads.not_a_partner")
    if not partner.active:
        raise Forbidden("leads.partner_inactive", partner=partner.code)
    return partner
