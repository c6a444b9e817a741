"""Working a lead: assigning it, moving it through its states, converting it into a customer.

Services never commit; the request or job owns the unit of work, and every change writes its audit
entry (and, for conversion, its outbox event) in the same transaction. A caller may send the
``version`` it read to refuse a change made meanwhile by someone else.

Conversion goes through ``core.customers.service.register`` (or links the customer the person
already is), keeps the trail on the lead (``customer_id``, ``converted_at``, the audit entry, the
lead's follow-ups gaining the customer) and carries the channel, partner and campaign onto the
customer. Opening the application is the applications context's job: ``convert`` takes an optional
``open_application`` callable, run in the same transaction once the customer exists, whose answer
is kept in ``lead.application_id``; until that context exists the hub passes none.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core import audit
from core.access import Actor, Branch, Scope, User
from core.customers import Customer
from core.customers import service as customers
from core.customers.identity import FieldProblem, check_id_number
from core.customers.repository import get_visible as get_customer
from core.customers.repository import hint_index
from core.errors import Conflict, Forbidden, Invalid
from core.outbox import add_event
from core.pii import PII, blind_index

from .assignment import deal, officer_placement
from .intake import audit_view
from .models import OPEN_STATUSES, FollowUp, Lead, LeadStatus, Partner
from .repository import get_visible
from .sla import start_clock
from .states import check_transition

__all__ = ["ApplicationOpener", "Conversion", "ConvertFields", "assign", "convert", "transition"]

ApplicationOpener = Callable[[AsyncSession, Actor, Lead, Customer], Awaitable[str | None]]
"""Opens the application of a converted lead (customer in hand); returns its id. Same transaction."""

CONVERTED_EVENT = "lead.converted"


def _check_version(lead: Lead, expected: int | None) -> None:
    if expected is not None and expected != lead.version:
        raise Conflict("leads.stale", expected=expected, current=lead.version)


def _placement_view(lead: Lead) -> dict[str, object]:
    return {"owner_id": lead.owner_id, "branch_id": lead.branch_id, "rule": lead.assignment_rule_id}


async def _queue_branch(session: AsyncSession, actor: Actor, code: str) -> Branch:
    branch = await session.scalar(select(Branch).where(Branch.code == code))
    scope = actor.scope_for("leads.write")
    allowed = branch is not None and (
        scope is Scope.ALL
        or (scope is Scope.TEAM and branch.id == actor.branch_id)
        or (
            scope is Scope.BRANCH
            and actor.branch_path is not None
            and branch.path.startswith(actor.branch_path)
        )
    )
    if not allowed or branch is None:
        raise Forbidden("leads.branch_out_of_scope", branch=code)
    return branch


async def assign(
    session: AsyncSession,
    actor: Actor,
    lead_id: str,
    *,
    owner: str | None = None,
    branch: str | None = None,
    now: datetime,
    expected_version: int | None = None,
) -> Lead:
    """Give an open lead to ``owner``, put it in ``branch``'s queue, or (neither) let the rules decide.

    An officer may take a lead from their own branch's queue (``owner`` = themselves); giving leads
    to others, or moving them between queues, needs a wider ``leads.write`` scope. A new owner
    restarts the first-contact clock of a lead nobody has contacted yet, and the lead's open next
    actions move to the new owner.
    """
    if owner is not None and branch is not None:
        raise Invalid("leads.assign_one_way", errors=[{"field": "branch", "code": "leads.assign_one_way"}])
    lead = await get_visible(session, actor, lead_id, "leads.write", queue=True)
    _check_version(lead, expected_version)
    if lead.status not in OPEN_STATUSES:
        raise Conflict("leads.closed", status=lead.status)
    before = _placement_view(lead)
    previous_owner = lead.owner_id
    if owner is not None:
        user = await officer_placement(session, actor, owner)
        lead.owner_id, lead.branch_id, lead.assignment_rule_id = (
            user.id,
            user.branch_id or lead.branch_id,
            None,
        )
    elif branch is not None:
        target = await _queue_branch(session, actor, branch)
        lead.owner_id, lead.branch_id, lead.assignment_rule_id = None, target.id, None
    else:
        if actor.scope_for("leads.write") is Scope.OWN:
            raise Forbidden("leads.deal_needs_scope")  # dealing may hand the lead to someone else
        lead.branch_id, officer = await deal(session, lead, start_branch_id=lead.branch_id)
        lead.owner_id = officer.id if officer is not None else None
    if lead.owner_id != previous_owner:
        lead.assigned_at = now if lead.owner_id is not None else None
        await start_clock(session, lead, now)
        await session.execute(
            update(FollowUp)
            .where(FollowUp.lead_id == lead.id, FollowUp.done.is_(False))
            .values(owner_id=lead.owner_id, branch_id=lead.branch_id)
            .execution_options(synchronize_session=False)
        )
    lead.version += 1
    await session.flush()
    await audit.record(
        session,
        actor,
        "leads.assign",
        target_type="lead",
        target_id=lead.id,
        before=before,
        after=_placement_view(lead),
    )
    return lead


async def transition(
    session: AsyncSession,
    actor: Actor,
    lead_id: str,
    to: str,
    *,
    now: datetime,
    reason: str | None = None,
    duplicate_of: str | None = None,
    expected_version: int | None = None,
) -> Lead:
    """Move the lead to ``to`` as the state table allows; converting has its own call (``convert``)."""
    lead = await get_visible(session, actor, lead_id, "leads.write", queue=False)
    _check_version(lead, expected_version)
    check_transition(lead.status, to)
    if to == LeadStatus.CONVERTED:
        raise Conflict("leads.convert_required", id=lead.id)
    before = {"status": lead.status}
    cleaned = " ".join((reason or "").split())
    if to == LeadStatus.DISQUALIFIED and not 1 <= len(cleaned) <= 500:
        raise Invalid("leads.reason_required", errors=[{"field": "reason", "code": "leads.reason_required"}])
    if to == LeadStatus.DUPLICATE:
        if not duplicate_of:
            raise Invalid(
                "leads.duplicate_of_required",
                errors=[{"field": "duplicate_of", "code": "leads.duplicate_of_required"}],
            )
        original = await get_visible(session, actor, duplicate_of, "leads.read", queue=True)
        if original.id == lead.id or original.duplicate_of_id == lead.id:
            raise Invalid(
                "leads.duplicate_of_self",
                errors=[{"field": "duplicate_of", "code": "leads.duplicate_of_self"}],
            )
        lead.duplicate_of_id = original.duplicate_of_id or original.id
        lead.customer_id = lead.customer_id or original.customer_id
    if to == LeadStatus.CONTACTING and lead.first_contacted_at is None:
        lead.first_contacted_at = now
    lead.status = to
    lead.reason = cleaned or None
    lead.version += 1
    await session.flush()
    await audit.record(
        session,
        actor,
        "leads.transition",
        target_type="lead",
        target_id=lead.id,
        before=before,
        after={"status": lead.status, "reason": lead.reason, "duplicate_of_id": lead.duplicate_of_id},
    )
    return lead


@dataclass
class ConvertFields:
    """What conversion may add: the ID number (when the lead has none), or the customer to link."""

    id_number: str | None = None
    customer_id: str | None = None


@dataclass(frozen=True)
class Conversion:
    """The converted lead, its customer, and whether the customer was registered by this conversion."""

    lead: Lead
    customer: Customer
    customer_created: bool


async def _customer_for(
    session: AsyncSession, actor: Actor, lead: Lead, fields: ConvertFields, *, today: date
) -> tuple[Customer, bool]:
    linked = fields.customer_id or lead.customer_id
    if linked:
        return await get_customer(session, actor, linked), False
    id_number = fields.id_number or (lead.id_number.reveal() if lead.id_number else None)
    if not id_number:
        raise Invalid(
            "leads.id_number_to_convert",
            errors=[{"field": "id_number", "code": "leads.id_number_to_convert"}],
        )
    try:
        checked = check_id_number(id_number, today=today).number
    except FieldProblem as exc:
        raise Invalid("leads.invalid", errors=[exc.as_error("id_number")], count=1) from None
    if checked != (lead.id_number.reveal() if lead.id_number else None):
        lead.id_number = PII("id_number", checked)
        lead.id_number_index = blind_index("id_number", checked)
        lead.id_hint_index = hint_index("id_number", checked)
    known = await session.scalar(
        select(Customer.id).where(
            Customer.id_number_index == lead.id_number_index, Customer.status == "active"
        )
    )
    if known is not None:
        return await get_customer(session, actor, known), False  # 404 when it is out of the caller's scope
    partner_code = (
        await session.scalar(select(Partner.code).where(Partner.id == lead.partner_id))
        if lead.partner_id
        else None
    )
    owner = (
        await session.scalar(select(User.username).where(User.id == lead.owner_id)) if lead.owner_id else None
    )
    customer = await customers.register(
        session,
        actor,
        customers.CustomerFields(
            kind="person",
            name=lead.name,
            id_number=checked,
            mobile=lead.mobile.reveal(),
            channel=lead.channel,
            channel_partner=partner_code,
            owner=owner,
        ),
        today=today,
    )
    return customer, True


async def convert(
    session: AsyncSession,
    actor: Actor,
    lead_id: str,
    fields: ConvertFields,
    *,
    today: date,
    now: datetime,
    expected_version: int | None = None,
    open_application: ApplicationOpener | None = None,
) -> Conversion:
    """Turn a qualified lead into a customer (registered, or the one the person already is)."""
    lead = await get_visible(session, actor, lead_id, "leads.write", queue=False)
    _check_version(lead, expected_version)
    check_transition(lead.status, LeadStatus.CONVERTED)
    before = audit_view(lead)
    customer, created = await _customer_for(session, actor, lead, fields, today=today)
    lead.customer_id = customer.id
    lead.status = LeadStatus.CONVERTED.value
    lead.converted_at = now
    lead.version += 1
    await session.execute(
        update(FollowUp)
        .where(FollowUp.lead_id == lead.id, FollowUp.customer_id.is_(None))
        .values(customer_id=customer.id)
        .execution_options(synchronize_session=False)
    )
    if open_application is not None:
        lead.application_id = await open_application(session, actor, lead, customer)
    await session.flush()
    changed_before, changed_after = audit.changed_fields(before, audit_view(lead))
    await audit.record(
        session,
        actor,
        "leads.convert",
        target_type="lead",
        target_id=lead.id,
        before=changed_before,
        after={**changed_after, "customer_created": created, "application_id": lead.application_id},
    )
    await add_event(
        session,
        event_type=CONVERTED_EVENT,
        subject_type="lead",
        subject_id=lead.id,
        payload={
            "lead_id": lead.id,
            "customer_id": customer.id,
            "customer_created": created,
            "application_id": lead.application_id,
            "channel": lead.channel,
            "partner_id": lead.partner_id,
            "campaign": lead.campaign,
        },
    )
    return Conversion(lead, customer, created)
