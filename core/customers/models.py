"""Customers and the graph of how they are related.

A person is keyed by their resident ID, an enterprise by its USCC; both may carry a mobile. ID
numbers and mobiles are sealed (``core.pii``) and found only through blind indexes: the full
value's index for exact search, and a *hint* index over the characters a masked form keeps
(``110105********002X`` keeps the first 6 and last 4, ``138****8000`` the first 3 and last 4), so an
officer can search with what a masked screen or a caller shows them without anything being
decrypted. A USCC is public registry data and stays clear. Names stay clear too: officers search
them by fragment all day, and a name alone identifies no one the way an ID number does.

An active person's ID (and an active enterprise's USCC) is unique, by a partial unique index, so
two officers registering the same person at the same moment cannot both succeed; a merged record
keeps its identifiers for the trail and drops out of the index.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import Date, ForeignKey, Index, Integer, Numeric, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, JSONType, TimestampMixin, UTCDateTime, new_id, utcnow
from core.pii import PII, Sealed

__all__ = ["CHANNELS", "Customer", "CustomerKind", "CustomerRelation", "RelationKind"]

CHANNELS = ("online", "partner_referral", "offline", "campaign")


class CustomerKind(StrEnum):
    """A natural person (个人) or an enterprise (企业)."""

    PERSON = "person"
    ENTERPRISE = "enterprise"


class RelationKind(StrEnum):
    """How one customer stands to another; read as "<customer>'s <kind> is <related>"."""

    SPOUSE = "spouse"
    GUARANTOR = "guarantor"
    CO_BORROWER = "co_borrower"
    LEGAL_REPRESENTATIVE = "legal_representative"
    SHAREHOLDER = "shareholder"
    ACTUAL_CONTROLLER = "actual_controller"
    EMPLOYER = "employer"

    @property
    def symmetric(self) -> bool:
        """Whether the relation reads the same both ways (a spouse's spouse, a co-borrower's)."""
        return self in (RelationKind.SPOUSE, RelationKind.CO_BORROWER)


_ACTIVE = text("status = 'active'")


class Customer(TimestampMixin, Base):
    """One borrower, guarantor or related party, owned by an officer in a branch."""

    __tablename__ = "customers"
    __table_args__ = (
        Index(
            "uq_customers_active_id_number",
            "id_number_index",
            unique=True,
            sqlite_where=_ACTIVE,
            postgresql_where=_ACTIVE,
        ),
        Index(
            "uq_customers_active_uscc", "uscc", unique=True, sqlite_where=_ACTIVE, postgresql_where=_ACTIVE
        ),
        # Lists are "newest first within my scope": one index per scope column, in that order.
        Index("ix_customers_owner_created", "owner_id", "created_at"),
        Index("ix_customers_branch_created", "branch_id", "created_at"),
        Index("ix_customers_created", "created_at"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    kind: Mapped[str] = mapped_column(String(20), nullable=False)
    name: Mapped[str] = mapped_column(String(200), nullable=False, index=True)
    id_number: Mapped[PII | None] = mapped_column(Sealed("id_number"))
    id_number_index: Mapped[str | None] = mapped_column(String(64))
    id_hint_index: Mapped[str | None] = mapped_column(String(64), index=True)
    uscc: Mapped[str | None] = mapped_column(String(18))
    mobile: Mapped[PII | None] = mapped_column(Sealed("mobile"))
    mobile_index: Mapped[str | None] = mapped_column(String(64), index=True)
    mobile_hint_index: Mapped[str | None] = mapped_column(String(64), index=True)
    bank_card: Mapped[PII | None] = mapped_column(Sealed("bank_card"))
    bank_card_index: Mapped[str | None] = mapped_column(String(64), index=True)
    address: Mapped[PII | None] = mapped_column(Sealed("address"))
    birth_date: Mapped[date | None] = mapped_column(Date)
    gender: Mapped[str | None] = mapped_column(String(10))
    channel: Mapped[str] = mapped_column(String(30), nullable=False, default="offline")
    channel_partner: Mapped[str | None] = mapped_column(String(100))
    owner_id: Mapped[str] = mapped_column(ForeignKey("users.id"), nullable=False)
    branch_id: Mapped[str] = mapped_column(ForeignKey("branches.id"), nullable=False)
    status: Mapped[str] = mapped_column(String(20), nullable=False, default="active")
    merged_into_id: Mapped[str | None] = mapped_column(ForeignKey("customers.id"))
    tags: Mapped[list[str]] = mapped_column(JSONType, nullable=False, default=list)
    profile: Mapped[dict[str, Any]] = mapped_column(JSONType, nullable=False, default=dict)
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    # When derived data (segment memberships) was last computed; cleared by every change, so a
    # background job finds the customers to recompute by an index instead of comparing columns.
    segments_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)


class CustomerRelation(Base):
    """One edge of the customer graph: ``customer``'s ``kind`` is ``related`` (with a share, for owners)."""

    __tablename__ = "customer_relations"
    __table_args__ = (UniqueConstraint("customer_id", "related_id", "kind"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"), nullable=False, index=True)
    related_id: Mapped[str] = mapped_column(ForeignKey("customers.id"), nullable=False, index=True)
    kind: Mapped[str] = mapped_column(String(30), nullable=False)
    share_percent: Mapped[Decimal | None] = mapped_column(Numeric(7, 4))
    note: Mapped[str] = mapped_column(Text, nullable=False, default="")
    created_by: Mapped[str] = mapped_column(String(200), nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
