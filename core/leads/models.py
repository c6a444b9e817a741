"""Leads, their follow-ups, the partners who push them, and the rules that route them, as tables.

A lead keeps its channel (online, partner referral, offline/branch, campaign), partner and campaign
from the first touch to the customer and the application it becomes, so channel KPIs can be
counted later without guessing. Its mobile and ID number are sealed like a customer's (``core.pii``)
with the same blind and hint indexes, so a duplicate person is found without decrypting anything.

Scope: a lead belongs to a branch and, once assigned, to an officer (``owner_id``). An unassigned
lead (``owner_id`` NULL) waits in its branch's queue (``core.leads.repository`` says who sees it).

A partner's push is idempotent on ``(partner_id, partner_lead_id)``, a unique constraint, so two
concurrent pushes of one lead make one row; ``push_digest`` remembers what was pushed, so the same
id with another body is told apart from a retry.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import Boolean, ForeignKey, Index, Integer, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, JSONType, TimestampMixin, UTCDateTime, new_id, utcnow
from core.pii import PII, Sealed

__all__ = [
    "FOLLOW_UP_KINDS",
    "OPEN_STATUSES",
    "AssignmentRule",
    "FollowUp",
    "Lead",
    "LeadStatus",
    "Partner",
    "RuleKind",
    "SlaPolicy",
]

FOLLOW_UP_KINDS = ("call", "visit", "message", "document_received")


class LeadStatus(StrEnum):
    """Where a lead is: ``new → contacting → qualified → converted``, or out as disqualified/duplicate."""

    NEW = "new"
    CONTACTING = "contacting"
    QUALIFIED = "qualified"
    CONVERTED = "converted"
    DISQUALIFIED = "disqualified"
    DUPLICATE = "duplicate"


OPEN_STATUSES = (LeadStatus.NEW.value, LeadStatus.CONTACTING.value, LeadStatus.QUALIFIED.value)
"""Statuses of leads an officer still works: what "least loaded" counts and the SLA watches."""


class RuleKind(StrEnum):
    """How an assignment rule acts: two route a lead to a branch, two deal it to an officer."""

    BY_BRANCH = "by_branch"
    BY_PRODUCT = "by_product"
    ROUND_ROBIN = "round_robin"
    LEAST_LOADED = "least_loaded"

    @property
    def routes(self) -> bool:
        """Whether the rule sends the lead to a branch (rather than picking an officer)."""
        return self in (RuleKind.BY_BRANCH, RuleKind.BY_PRODUCT)


class Partner(TimestampMixin, Base):
    """A channel partner (or the lender's own web form) that pushes leads with its own API token.

    ``token_id`` binds one live API token to the partner: a push is accepted from that token only,
    and the partner is whatever the token is bound to, never what the body claims.
    """

    __tablename__ = "partners"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    code: Mapped[str] = mapped_column(String(50), unique=True, nullable=False)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    channel: Mapped[str] = mapped_column(String(30), nullable=False, default="partner_referral")
    branch_id: Mapped[str] = mapped_column(ForeignKey("branches.id"), nullable=False)
    rate_limit_per_minute: Mapped[int] = mapped_column(Integer, nullable=False, default=60)
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    token_id: Mapped[str | None] = mapped_column(ForeignKey("api_tokens.id"), unique=True)
    tokens_issued: Mapped[int] = mapped_column(Integer, nullable=False, default=0)


class Lead(TimestampMixin, Base):
    """One prospective borrower, from first touch to conversion (or disqualification)."""

    __tablename__ = "leads"
    __table_args__ = (
        UniqueConstraint("partner_id", "partner_lead_id"),
        Index("ix_leads_sla", "status", "first_contact_due_at"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    channel: Mapped[str] = mapped_column(String(30), nullable=False)
    partner_id: Mapped[str | None] = mapped_column(ForeignKey("partners.id"), index=True)
    partner_lead_id: Mapped[str | None] = mapped_column(String(100))
    push_digest: Mapped[str | None] = mapped_column(String(64))
    campaign: Mapped[str | None] = mapped_column(String(100))
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    mobile: Mapped[PII] = mapped_column(Sealed("mobile"), nullable=False)
    mobile_index: Mapped[str] = mapped_column(String(64), nullable=False, index=True)
    mobile_hint_index: Mapped[str] = mapped_column(String(64), nullable=False, index=True)
    id_number: Mapped[PII | None] = mapped_column(Sealed("id_number"))
    id_number_index: Mapped[str | None] = mapped_column(String(64), index=True)
    id_hint_index: Mapped[str | None] = mapped_column(String(64), index=True)
    product_code: Mapped[str | None] = mapped_column(String(50))
    requested_amount: Mapped[Decimal | None] = mapped_column(Numeric(18, 2))
    note: Mapped[str] = mapped_column(Text, nullable=False, default="")
    status: Mapped[str] = mapped_column(String(20), nullable=False, default=LeadStatus.NEW.value)
    reason: Mapped[str | None] = mapped_column(String(500))
    customer_id: Mapped[str | None] = mapped_column(ForeignKey("customers.id"), index=True)
    duplicate_of_id: Mapped[str | None] = mapped_column(ForeignKey("leads.id"))
    # The application a conversion opened; a plain id until the applications context exists.
    application_id: Mapped[str | None] = mapped_column(String(36))
    owner_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"), index=True)
    branch_id: Mapped[str] = mapped_column(ForeignKey("branches.id"), nullable=False, index=True)
    assigned_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    assignment_rule_id: Mapped[str | None] = mapped_column(String(36))
    first_contact_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    first_contacted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    sla_breached_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    converted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)


class FollowUp(Base):
    """One contact with a lead or customer — call, visit, message, document received — and what next.

    ``owner_id``/``branch_id`` are those of whoever must take the next action (the lead's owner),
    so the officer's list of overdue next actions is one scoped query; reassigning a lead moves its
    open next actions with it.
    """

    __tablename__ = "lead_follow_ups"
    __table_args__ = (Index("ix_lead_follow_ups_due", "done", "next_due_at"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    lead_id: Mapped[str | None] = mapped_column(ForeignKey("leads.id"), index=True)
    customer_id: Mapped[str | None] = mapped_column(ForeignKey("customers.id"), index=True)
    kind: Mapped[str] = mapped_column(String(30), nullable=False)
    outcome: Mapped[str] = mapped_column(String(200), nullable=False)
    note: Mapped[str] = mapped_column(Text, nullable=False, default="")
    next_action: Mapped[str | None] = mapped_column(String(300))
    next_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    done: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    recorded_by: Mapped[str] = mapped_column(String(200), nullable=False)  # the audit name of who recorded it
    owner_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"), index=True)
    branch_id: Mapped[str] = mapped_column(ForeignKey("branches.id"), nullable=False, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)


class AssignmentRule(TimestampMixin, Base):
    """One step of lead routing, evaluated in ``position`` order (see ``core.leads.assignment``).

    Conditions (``channel``, ``partner_id``, ``campaign``, ``product_code``, ``branch_id`` — the
    branch the lead is in when the rule is read) are all optional and combined with AND.
    ``to_branch_id`` is where a routing rule sends the lead; ``officers`` (usernames) replaces a
    dealing rule's pool; ``cursor`` is the username a round-robin rule dealt to last.
    """

    __tablename__ = "lead_assignment_rules"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    position: Mapped[int] = mapped_column(Integer, nullable=False)
    kind: Mapped[str] = mapped_column(String(20), nullable=False)
    channel: Mapped[str | None] = mapped_column(String(30))
    partner_id: Mapped[str | None] = mapped_column(ForeignKey("partners.id"))
    campaign: Mapped[str | None] = mapped_column(String(100))
    product_code: Mapped[str | None] = mapped_column(String(50))
    branch_id: Mapped[str | None] = mapped_column(ForeignKey("branches.id"))
    to_branch_id: Mapped[str | None] = mapped_column(ForeignKey("branches.id"))
    officers: Mapped[list[str]] = mapped_column(JSONType, nullable=False, default=list)
    cursor: Mapped[str | None] = mapped_column(String(100))


class SlaPolicy(Base):
    """Hours from assignment to the first contact, per channel; a channel without a row gets the default."""

    __tablename__ = "lead_sla_policies"

    channel: Mapped[str] = mapped_column(String(30), primary_key=True)
    first_contact_hours: Mapped[int] = mapped_column(Integer, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime(), default=utcnow, onupdate=utcnow, nullable=False
    )
