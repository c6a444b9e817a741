"""Leads coming in: pushed by a partner's token, or registered by an officer.

Every field is checked before anything is written, so a refused lead leaves nothing behind and the
caller sees every problem at once. A partner's push is idempotent on its own lead id: the same
push again answers the lead made the first time (also when the two arrive together — the unique
constraint decides, the loser reads the winner's row), and the same id with different content is
a conflict rather than a silent overwrite.

A lead for a person LendHub knows already — the same mobile or ID number (by blind index) as an
earlier live lead, or as an active customer — is recorded, not dropped and not doubled: it gets
status ``duplicate``, is linked to the earlier lead and/or customer, and lands with their owner,
so the officer who has the person sees the new touch. On PostgreSQL the check runs under a
transaction-scoped advisory lock per index key, and on SQLite under the write lock the insert
took, so two partners pushing one person at the same moment make one lead and one duplicate.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import or_, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from core import audit
from core.access import Actor, User
from core.customers import CHANNELS, Customer
from core.customers.identity import FieldProblem, check_id_number, check_mobile
from core.customers.repository import hint_index
from core.errors import Conflict, Invalid
from core.pii import PII, blind_index, current, normalise

from .assignment import deal, officer_placement
from .models import Lead, LeadStatus, Partner
from .sla import start_clock

__all__ = ["Intake", "LeadFields", "audit_view", "push", "push_digest", "register"]

MAX_AMOUNT = Decimal("9999999999999999.99")
_PRODUCT_CODE = re.compile(r"^[A-Za-z0-9_.-]{1,50}$")
_NOT_LIVE = (LeadStatus.DUPLICATE.value, LeadStatus.DISQUALIFIED.value)


@dataclass
class LeadFields:
    """What a partner pushes or an officer registers; ``None`` means not given."""

    name: str | None = None
    mobile: str | None = None
    id_number: str | None = None
    channel: str | None = None
    partner: str | None = None  # partner code (officers registering a referral)
    campaign: str | None = None
    product_code: str | None = None
    requested_amount: str | None = None
    note: str | None = None
    owner: str | None = None  # username (officers)
    partner_lead_id: str | None = None  # the partner's own id (pushes)


@dataclass(frozen=True)
class Intake:
    """The lead, whether this call created it, and what a duplicate was linked to."""

    lead: Lead
    created: bool
    linked_to: tuple[str, ...] = field(default_factory=tuple)  # "lead" and/or "customer"


def _amount(value: str) -> Decimal | None:
    try:
        amount = Decimal(value.strip())
    except InvalidOperation:
        return None
    if (
        not amount.is_finite()
        or amount <= 0
        or amount > MAX_AMOUNT
        or amount != amount.quantize(Decimal("0.01"))
    ):
        return None
    return amount.quantize(Decimal("0.01"))


def _check(fields: LeadFields, *, today: date, channel: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    values: dict[str, Any] = {}
    errors: list[dict[str, Any]] = []

    def problem(name: str, code: str, **params: Any) -> None:
        errors.append({"field": name, "code": code, "params": params})

    name = " ".join((fields.name or "").split())
    if not 1 <= len(name) <= 200:
        problem("name", "leads.name_required")
    values["name"] = name
    if not fields.mobile:
        problem("mobile", "leads.mobile_required")
    else:
        try:
            values["mobile"] = check_mobile(fields.mobile)
        except FieldProblem as exc:
            errors.append(exc.as_error("mobile"))
    if fields.id_number:
        try:
            values["id_number"] = check_id_number(fields.id_number, today=today).number
        except FieldProblem as exc:
            errors.append(exc.as_error("id_number"))
    if channel not in CHANNELS:
        problem("channel", "leads.channel_unknown", known=", ".join(CHANNELS))
    values["channel"] = channel
    campaign = (fields.campaign or "").strip() or None
    if campaign is not None and len(campaign) > 100:
        problem("campaign", "leads.campaign_too_long")
    if channel == "campaign" and campaign is None:
        problem("campaign", "leads.campaign_required")
    values["campaign"] = campaign
    product = (fields.product_code or "").strip() or None
    if product is not None and not _PRODUCT_CODE.match(product):
        problem("product_code", "leads.product_code_invalid")
    values["product_code"] = product
    if fields.requested_amount is not None:
        amount = _amount(fields.requested_amount)
        if amount is None:
            problem("requested_amount", "leads.amount_invalid", max=str(MAX_AMOUNT))
        values["requested_amount"] = amount
    note = (fields.note or "").strip()
    if len(note) > 2000:
        problem("note", "leads.note_too_long")
    values["note"] = note
    return values, errors


def _columns(values: dict[str, Any]) -> dict[str, Any]:
    """Column values with the mobile and ID number sealed beside their blind and hint indexes."""
    columns = dict(values)
    mobile = values.get("mobile")
    if mobile:
        columns.update(
            mobile=PII("mobile", mobile),
            mobile_index=blind_index("mobile", mobile),
            mobile_hint_index=hint_index("mobile", mobile),
        )
    id_number = values.get("id_number")
    if id_number:
        columns.update(
            id_number=PII("id_number", id_number),
            id_number_index=blind_index("id_number", id_number),
            id_hint_index=hint_index("id_number", id_number),
        )
    return columns


def push_digest(fields: LeadFields) -> str:
    """A keyed digest of what a push says (normalised), to tell a retry from a changed lead."""
    amount = fields.requested_amount
    parsed = _amount(amount) if amount is not None else None
    document = {
        "name": " ".join((fields.name or "").split()),
        "mobile": normalise("mobile", fields.mobile) if fields.mobile else None,
        "id_number": normalise("id_number", fields.id_number) if fields.id_number else None,
        "campaign": (fields.campaign or "").strip() or None,
        "product_code": (fields.product_code or "").strip() or None,
        "requested_amount": str(parsed) if parsed is not None else amount,
        "note": (fields.note or "").strip(),
    }
    return current().blind_index("lead_push", json.dumps(document, sort_keys=True, ensure_ascii=False))


def audit_view(lead: Lead) -> dict[str, Any]:
    """What an audit entry keeps of a lead: personal data only masked."""
    return {
        "name": lead.name,
        "mobile": str(lead.mobile) if lead.mobile else None,
        "id_number": str(lead.id_number) if lead.id_number else None,
        "channel": lead.channel,
        "partner_id": lead.partner_id,
        "partner_lead_id": lead.partner_lead_id,
        "campaign": lead.campaign,
        "product_code": lead.product_code,
        "requested_amount": str(lead.requested_amount) if lead.requested_amount is not None else None,
        "status": lead.status,
        "owner_id": lead.owner_id,
        "branch_id": lead.branch_id,
        "customer_id": lead.customer_id,
        "duplicate_of_id": lead.duplicate_of_id,
    }


async def _lock_person(session: AsyncSession, lead: Lead) -> None:
    if session.get_bind().dialect.name != "postgresql":
        return  # SQLite: the insert already holds the database's single write lock
    keys = sorted(k for k in (lead.mobile_index, lead.id_number_index) if k)
    for key in keys:
        await session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": int(key[:15], 16)})


async def _known_person(session: AsyncSession, lead: Lead) -> tuple[Lead | None, Customer | None]:
    lead_keys = [Lead.mobile_index == lead.mobile_index]
    customer_keys = [Customer.mobile_index == lead.mobile_index]
    if lead.id_number_index:
        lead_keys.append(Lead.id_number_index == lead.id_number_index)
        customer_keys.append(Customer.id_number_index == lead.id_number_index)
    earlier = await session.scalar(
        select(Lead)
        .where(or_(*lead_keys), Lead.id != lead.id, Lead.status.not_in(_NOT_LIVE))
        .order_by(Lead.created_at, Lead.id)
        .limit(1)
    )
    customer_id = earlier.customer_id if earlier is not None else None
    customer = (
        await session.get(Customer, customer_id)
        if customer_id
        else await session.scalar(
            select(Customer)
            .where(or_(*customer_keys), Customer.status == "active")
            .order_by(Customer.created_at, Customer.id)
            .limit(1)
        )
    )
    return earlier, customer


async def _settle(
    session: AsyncSession,
    actor: Actor,
    lead: Lead,
    *,
    start_branch_id: str,
    owner: User | None,
    now: datetime,
) -> Intake:
    """Link a duplicate, or place the lead (given owner, else the rules); start its clock; audit."""
    await _lock_person(session, lead)
    earlier, customer = await _known_person(session, lead)
    linked: tuple[str, ...] = ()
    if earlier is not None or customer is not None:
        holder = earlier if earlier is not None else customer
        assert holder is not None
        lead.status = LeadStatus.DUPLICATE.value
        lead.duplicate_of_id = earlier.id if earlier is not None else None
        lead.customer_id = customer.id if customer is not None else None
        lead.owner_id, lead.branch_id = holder.owner_id, holder.branch_id
        linked = tuple(kind for kind, row in (("lead", earlier), ("customer", customer)) if row is not None)
    elif owner is not None:
        lead.owner_id, lead.branch_id = owner.id, owner.branch_id or start_branch_id
    else:
        lead.branch_id, officer = await deal(session, lead, start_branch_id=start_branch_id)
        lead.owner_id = officer.id if officer is not None else None
    lead.assigned_at = now if lead.owner_id is not None else None
    await session.flush()
    await start_clock(session, lead, now)
    await audit.record(
        session, actor, "leads.create", target_type="lead", target_id=lead.id, after=audit_view(lead)
    )
    return Intake(lead, True, linked)


async def _pushed(session: AsyncSession, partner_id: str, partner_lead_id: str) -> Lead | None:
    return await session.scalar(
        select(Lead)
        .where(Lead.partner_id == partner_id, Lead.partner_lead_id == partner_lead_id)
        .execution_options(populate_existing=True)
    )


def _replay(existing: Lead, digest: str) -> Intake:
    if existing.push_digest != digest:
        raise Conflict(
            "leads.partner_lead_id_reused",
            errors=[{"field": "partner_lead_id", "code": "leads.partner_lead_id_reused"}],
            partner_lead_id=existing.partner_lead_id,
        )
    linked = tuple(
        kind
        for kind, value in (("lead", existing.duplicate_of_id), ("customer", existing.customer_id))
        if existing.status == LeadStatus.DUPLICATE.value and value
    )
    return Intake(existing, False, linked)


async def push(
    session: AsyncSession, actor: Actor, partner: Partner, fields: LeadFields, *, today: date, now: datetime
) -> Intake:
    """A partner's lead: created and placed, or — the same push again — the lead made the first time."""
    partner_lead_id = (fields.partner_lead_id or "").strip()
    if not 1 <= len(partner_lead_id) <= 100:
        raise Invalid(
            "leads.invalid",
            errors=[{"field": "partner_lead_id", "code": "leads.partner_lead_id_required"}],
            count=1,
        )
    digest = push_digest(fields)
    existing = await _pushed(session, partner.id, partner_lead_id)
    if existing is not None:
        return _replay(existing, digest)
    values, errors = _check(fields, today=today, channel=partner.channel)
    if errors:
        raise Invalid("leads.invalid", errors=errors, count=len(errors))
    lead = Lead(
        partner_id=partner.id,
        partner_lead_id=partner_lead_id,
        push_digest=digest,
        branch_id=partner.branch_id,
        status=LeadStatus.NEW.value,
        **_columns(values),
    )
    try:
        async with session.begin_nested():
            session.add(lead)
    except IntegrityError:  # the same push, concurrently, won the unique constraint
        existing = await _pushed(session, partner.id, partner_lead_id)
        if existing is None:
            raise
        return _replay(existing, digest)
    return await _settle(session, actor, lead, start_branch_id=partner.branch_id, owner=None, now=now)


async def register(
    session: AsyncSession, actor: Actor, fields: LeadFields, *, today: date, now: datetime
) -> Intake:
    """An officer's lead (offline by default), owned by the caller or the officer named."""
    channel = fields.channel or "offline"
    values, errors = _check(fields, today=today, channel=channel)
    partner: Partner | None = None
    if fields.partner:
        partner = await session.scalar(select(Partner).where(Partner.code == fields.partner))
        if partner is None:
            errors.append(
                {"field": "partner", "code": "leads.partner_unknown", "params": {"partner": fields.partner}}
            )
    elif channel == "partner_referral":
        errors.append({"field": "partner", "code": "leads.partner_required"})
    if errors:
        raise Invalid("leads.invalid", errors=errors, count=len(errors))
    owner = await officer_placement(session, actor, fields.owner)
    lead = Lead(
        partner_id=partner.id if partner is not None else None,
        branch_id=owner.branch_id,
        status=LeadStatus.NEW.value,
        **_columns(values),
    )
    session.add(lead)
    await session.flush()
    assert owner.branch_id is not None
    return await _settle(session, actor, lead, start_branch_id=owner.branch_id, owner=owner, now=now)
