"""Leads over HTTP: what partners push, what officers send and read back, and the routing set-up.

Money is a decimal string (``"50000.00"``); personal fields are masked in every answer unless the
caller reveals them. A partner's answer names no other partner's lead and no customer: only
whether the person was known already.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from .common import Flag, Timestamp
from .products import Money, Term

__all__ = [
    "AssignmentRuleRead",
    "AssignmentRuleWrite",
    "AssignmentRules",
    "AssignmentRulesRead",
    "ConvertRequest",
    "ConvertResult",
    "CustomerFollowUpCreate",
    "FollowUpCreate",
    "FollowUpPage",
    "FollowUpRead",
    "LeadAssign",
    "LeadCreated",
    "LeadPage",
    "LeadPush",
    "LeadPushed",
    "LeadRead",
    "LeadRegister",
    "LeadTransition",
    "PartnerCreate",
    "PartnerCreated",
    "PartnerRead",
    "PartnerUpdate",
    "SlaPolicies",
    "SlaPoliciesRead",
]

Text40 = Annotated[str, Field(max_length=40)]
Text100 = Annotated[str, Field(max_length=100)]
Version = Annotated[int, Field(ge=1, le=2**31)]


class _Person(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, Field(max_length=300, description="the person's full name")]
    mobile: Text40 = Field(description="11-digit mainland mobile; +86, spaces and dashes allowed")
    id_number: Text40 | None = Field(None, description="18-digit resident ID, when the partner has it")
    campaign: Text100 | None = None
    product_code: Annotated[str, Field(max_length=60)] | None = Field(None, description="product of interest")
    requested_amount: Text40 | None = Field(
        None, description="decimal string, to the cent", examples=["50000.00"]
    )
    note: Annotated[str, Field(max_length=4000)] | None = None


class LeadPush(_Person):
    """A partner's lead; ``partner_lead_id`` is the partner's own id, the key of idempotency."""

    partner_lead_id: Text100 = Field(
        description="the partner's id of this lead; the same id again is a retry"
    )


class LeadPushed(BaseModel):
    """What a partner learns: the lead's id and status, and whether the person was known already."""

    id: str
    partner_lead_id: str
    status: str
    created: bool = Field(description="false when this answers an earlier push with the same id")
    duplicate: bool
    linked_to: list[Literal["lead", "customer"]] = Field(
        default_factory=list, description="what the duplicate was linked to (never which one)"
    )


class LeadRegister(_Person):
    """A lead an officer records (offline by default); ``owner`` defaults to the caller."""

    channel: Annotated[str, Field(max_length=30)] | None = Field(
        None, description="online, partner_referral, offline or campaign (default offline)"
    )
    partner: Annotated[str, Field(max_length=50)] | None = Field(None, description="partner code (referrals)")
    owner: Text100 | None = Field(None, description="officer's username (default: the caller)")


class LeadRead(BaseModel):
    """A lead as the caller may see it: mobile and ID number masked unless revealed."""

    id: str
    status: str
    reason: str | None = None
    channel: str
    partner: str | None = None
    partner_lead_id: str | None = None
    campaign: str | None = None
    name: str
    mobile: str
    id_number: str | None = None
    product_code: str | None = None
    requested_amount: str | None = None
    note: str
    owner: str | None = Field(None, description="the officer's username; none while in the branch queue")
    branch: str | None = None
    queued: bool = Field(description="unassigned, waiting in its branch's queue")
    customer_id: str | None = None
    duplicate_of: str | None = None
    application_id: str | None = None
    assigned_at: datetime | None = None
    first_contact_due_at: datetime | None = None
    first_contacted_at: datetime | None = None
    first_contact_overdue: bool
    sla_breached_at: datetime | None = None
    converted_at: datetime | None = None
    version: int
    revealed: list[str] = Field(default_factory=list)
    created_at: datetime
    updated_at: datetime


class LeadCreated(LeadRead):
    """A registered lead, and what it was linked to when the person was known already."""

    linked_to: list[str] = Field(default_factory=list)


class LeadPage(BaseModel):
    """One page of leads and how many match in all."""

    items: list[LeadRead]
    total: int
    limit: int
    offset: int


class LeadAssign(BaseModel):
    """Give the lead to ``owner``, or move it to ``branch``'s queue; neither: the rules decide."""

    model_config = ConfigDict(extra="forbid")

    owner: Text100 | None = None
    branch: Annotated[str, Field(max_length=50)] | None = None
    version: Version | None = None


class LeadTransition(BaseModel):
    """Move the lead to ``to``; ``reason`` for disqualified, ``duplicate_of`` (a lead id) for duplicate."""

    model_config = ConfigDict(extra="forbid")

    to: Annotated[str, Field(max_length=30)]
    reason: Annotated[str, Field(max_length=1000)] | None = None
    duplicate_of: Annotated[str, Field(max_length=36)] | None = None
    version: Version | None = None


class FollowUpCreate(BaseModel):
    """A call, visit, message or document received: its outcome, and the next action with its time."""

    model_config = ConfigDict(extra="forbid")

    kind: Annotated[str, Field(max_length=30, description="call, visit, message or document_received")]
    outcome: Annotated[str, Field(max_length=400)]
    note: Annotated[str, Field(max_length=4000)] = ""
    next_action: Annotated[str, Field(max_length=600)] | None = None
    next_due_at: Timestamp | None = None
    completes_previous: Flag = Field(True, description="mark the earlier open next actions done")


class CustomerFollowUpCreate(FollowUpCreate):
    """A follow-up of a customer outside any lead."""

    customer_id: Annotated[str, Field(max_length=36)]


class FollowUpRead(BaseModel):
    """One follow-up; ``overdue`` when its next action is open and past its time."""

    id: str
    lead_id: str | None = None
    customer_id: str | None = None
    kind: str
    outcome: str
    note: str
    next_action: str | None = None
    next_due_at: datetime | None = None
    done: bool
    done_at: datetime | None = None
    overdue: bool
    by: str
    owner: str | None = None
    branch: str | None = None
    created_at: datetime


class FollowUpPage(BaseModel):
    """One page of follow-ups and how many match in all."""

    items: list[FollowUpRead]
    total: int
    limit: int
    offset: int


class ConvertApplication(BaseModel):
    """The draft application a conversion opens; product and amount default to the lead's."""

    model_config = ConfigDict(extra="forbid")

    product_code: Annotated[str, Field(max_length=50)] | None = Field(None, description="default: the lead's")
    amount: Money | None = Field(None, description="default: the lead's requested amount")
    term_months: Term
    repayment_method: Annotated[str, Field(max_length=30)] | None = None


class ConvertRequest(BaseModel):
    """Convert a qualified lead; ``id_number`` when the lead has none, ``customer_id`` to link one."""

    model_config = ConfigDict(extra="forbid")

    id_number: Text40 | None = None
    customer_id: Annotated[str, Field(max_length=36)] | None = None
    application: ConvertApplication | None = Field(None, description="also open a draft application")
    version: Version | None = None


class ConvertResult(BaseModel):
    """The converted lead, its customer, and whether the customer was registered by this conversion."""

    lead: LeadRead
    customer_id: str
    customer_created: bool
    application_id: str | None = Field(None, description="set once the applications context opens one")


class PartnerCreate(BaseModel):
    """A new partner; its API token is issued at once and shown once."""

    model_config = ConfigDict(extra="forbid")

    code: Annotated[str, Field(max_length=40, description="lower-case letters, digits, - and _")]
    name: Annotated[str, Field(max_length=300)]
    branch: Annotated[str, Field(max_length=50, description="code of the branch whose queue its leads enter")]
    channel: Annotated[str, Field(max_length=30)] | None = Field(None, description="default partner_referral")
    rate_limit_per_minute: int | None = Field(None, description="pushes a minute (default 60)")


class PartnerUpdate(BaseModel):
    """Fields of a partner to change."""

    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, Field(max_length=300)] | None = None
    branch: Annotated[str, Field(max_length=50)] | None = None
    channel: Annotated[str, Field(max_length=30)] | None = None
    rate_limit_per_minute: int | None = None
    active: Flag | None = None


class PartnerRead(BaseModel):
    """A partner and the name of the API token bound to it (never its value)."""

    code: str
    name: str
    channel: str
    branch: str | None = None
    rate_limit_per_minute: int
    active: bool
    token: str | None = Field(None, description="name of the bound API token, if any is live")


class PartnerCreated(PartnerRead):
    """The one answer that carries the partner's API token value."""

    api_token: str


class AssignmentRuleWrite(BaseModel):
    """One rule: its kind, optional conditions, and where (routing) or among whom (dealing)."""

    model_config = ConfigDict(extra="forbid")

    kind: Annotated[
        str, Field(max_length=20, description="by_branch, by_product, round_robin or least_loaded")
    ]
    channel: Annotated[str, Field(max_length=30)] | None = None
    partner: Annotated[str, Field(max_length=50)] | None = None
    campaign: Text100 | None = None
    product_code: Annotated[str, Field(max_length=50)] | None = None
    branch: (
        Annotated[str, Field(max_length=50, description="condition: the branch the lead is in")] | None
    ) = None
    to_branch: Annotated[str, Field(max_length=50, description="routing rules: where to send")] | None = None
    officers: list[Text100] = Field(
        default_factory=list, max_length=200, description="dealing rules: the pool"
    )


class AssignmentRuleRead(AssignmentRuleWrite):
    """A rule as stored, with the officer a round-robin rule dealt to last."""

    last_dealt_to: str | None = None


class AssignmentRules(BaseModel):
    """The whole ordered list of rules (replaced at once)."""

    model_config = ConfigDict(extra="forbid")

    rules: list[AssignmentRuleWrite] = Field(max_length=100)


class AssignmentRulesRead(BaseModel):
    """The rules in the order they are read."""

    rules: list[AssignmentRuleRead]


class SlaPolicies(BaseModel):
    """First-contact hours by channel; channels not named keep theirs."""

    model_config = ConfigDict(extra="forbid")

    first_contact_hours: dict[Annotated[str, Field(max_length=30)], int] = Field(max_length=10)


class SlaPoliciesRead(BaseModel):
    """Hours from assignment to first contact for every channel, and the default."""

    first_contact_hours: dict[str, int]
    default_hours: int
