"""Customers over HTTP: what a caller sends, what a reader gets back (masked unless revealed)."""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from .applications import ApplicationSummary
from .leads import FollowUpRead, LeadRead

__all__ = [
    "CustomerCreate",
    "CustomerCreated",
    "CustomerPage",
    "CustomerRead",
    "CustomerUpdate",
    "MergeRequest",
    "RelationCreate",
    "RelationRead",
    "View360Read",
]

Short = Annotated[str, Field(max_length=300)]
MAX_PROFILE_BYTES = 8192


class _Fields(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Short | None = Field(None, description="a person's full name or an enterprise's registered name")
    id_number: Annotated[str, Field(max_length=40)] | None = Field(
        None, description="18-digit resident ID (persons)", examples=["11010519491231002X"]
    )
    uscc: Annotated[str, Field(max_length=40)] | None = Field(
        None, description="unified social credit code (enterprises)", examples=["91350100M000100Y43"]
    )
    mobile: Annotated[str, Field(max_length=40)] | None = Field(None, examples=["13800138000"])
    bank_card: Annotated[str, Field(max_length=40)] | None = None
    address: Short | None = None
    channel: Annotated[str, Field(max_length=30)] | None = Field(
        None, description="online, partner_referral, offline or campaign"
    )
    channel_partner: Annotated[str, Field(max_length=100)] | None = None
    tags: list[Annotated[str, Field(max_length=50)]] | None = Field(None, max_length=30)
    profile: dict[str, Any] | None = Field(None, description="other non-personal attributes (at most 8 KB)")
    owner: Annotated[str, Field(max_length=100)] | None = Field(
        None, description="username of the officer the customer belongs to (default: the caller)"
    )

    @field_validator("profile")
    @classmethod
    def _small_profile(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        if value is not None and len(json.dumps(value, ensure_ascii=False).encode()) > MAX_PROFILE_BYTES:
            raise ValueError(f"profile is larger than {MAX_PROFILE_BYTES} bytes")
        return value


class CustomerCreate(_Fields):
    """A new person (``id_number`` and ``mobile``) or enterprise (``uscc``)."""

    kind: Annotated[str, Field(max_length=20, description="person or enterprise")]
    name: Short = Field(description="a person's full name or an enterprise's registered name")


class CustomerUpdate(_Fields):
    """Fields to change; ``version`` (from a read) refuses the change if someone changed it since."""

    kind: Annotated[str, Field(max_length=20)] | None = None
    version: int | None = Field(None, ge=1, le=2**31)
    unset: list[Annotated[str, Field(max_length=30)]] = Field(
        default_factory=list, max_length=10, description="optional fields to clear"
    )


class CustomerRead(BaseModel):
    """A customer as the caller may see them: personal fields masked unless revealed."""

    id: str
    kind: str
    name: str
    id_number: str | None = None
    uscc: str | None = None
    mobile: str | None = None
    bank_card: str | None = None
    address: str | None = None
    age: int | None = None
    gender: str | None = None
    birth_date: date | None = Field(None, description="only when the ID number is revealed")
    channel: str
    channel_partner: str | None = None
    owner: str | None = Field(None, description="username of the officer")
    branch: str | None = Field(None, description="branch code")
    status: str
    merged_into: str | None = None
    tags: list[str]
    profile: dict[str, Any]
    version: int
    revealed: list[str] = Field(default_factory=list, description="fields shown in clear in this answer")
    created_at: datetime
    updated_at: datetime


class CustomerCreated(CustomerRead):
    """The new customer, and visible customers sharing its mobile or card (possible duplicates)."""

    possible_duplicates: list[str] = Field(default_factory=list)


class CustomerPage(BaseModel):
    """One page of customers and how many match in all."""

    items: list[CustomerRead]
    total: int = Field(description="how many match, counted up to 10,000")
    total_exact: bool = Field(description="false when more than 10,000 match (show 10,000+)")
    limit: int
    offset: int


class RelationCreate(BaseModel):
    """``<customer>'s <kind> is <related_id>``."""

    model_config = ConfigDict(extra="forbid")

    related_id: Annotated[str, Field(max_length=36)]
    kind: Annotated[str, Field(max_length=30)]
    share_percent: Annotated[str, Field(max_length=12, pattern=r"^\d{1,3}(\.\d{1,4})?$")] | None = None
    note: Annotated[str, Field(max_length=500)] = ""


class RelationRead(BaseModel):
    """One relation as the 360° view shows it; the other side is named only if readable."""

    direction: str
    kind: str
    customer_id: str | None
    name: str | None
    customer_kind: str | None
    share_percent: str | None
    visible: bool


class MergeRequest(BaseModel):
    """Fold the addressed customer (the duplicate) into ``into`` (the survivor)."""

    model_config = ConfigDict(extra="forbid")

    into: Annotated[str, Field(max_length=36)]


class View360Read(BaseModel):
    """The customer, and one member per section the hub wires in (relationships, leads, …)."""

    model_config = ConfigDict(extra="allow")

    customer: CustomerRead
    relationships: list[RelationRead]
    segments: list[dict[str, Any]] = Field(
        default_factory=list, description="segments, each with its rule and facts"
    )
    leads: list[LeadRead] = Field(description="the customer's leads the caller may read, newest first")
    follow_ups: list[FollowUpRead] = Field(
        description="contacts with the customer and their leads, newest first"
    )
    applications: list[ApplicationSummary] = Field(
        description="the customer's applications the caller may read, newest first (at most 20)"
    )
    documents: list[dict[str, Any]] = Field(
        default_factory=list,
        description="live documents of the customer and their applications, newest first",
    )
    recent_audit: list[dict[str, Any]]
