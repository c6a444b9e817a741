"""Segments: named rules over customer facts, and who is in each, with why.

Membership is derived data. A customer whose facts changed (``customers.segments_at`` cleared)
or any customer after a rule changed is recomputed by the ``segments.refresh`` job; each
membership row keeps the rule's text and version and the facts it was judged on, so "why is this
customer in 高价值低风险?" is answered by the row itself, even after the rule changes again.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, JSONType, TimestampMixin, UTCDateTime, new_id, utcnow

__all__ = ["Segment", "SegmentMember"]


class Segment(TimestampMixin, Base):
    """A named CEL rule over a customer's facts (``customer.age >= 30 && "vip" in customer.tags``)."""

    __tablename__ = "segments"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    code: Mapped[str] = mapped_column(String(50), unique=True, nullable=False)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    description: Mapped[str] = mapped_column(Text, nullable=False, default="")
    rule: Mapped[str] = mapped_column(Text, nullable=False)
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)


class SegmentMember(Base):
    """One customer in one segment: the rule version that put them there and the facts it saw."""

    __tablename__ = "segment_members"
    # Derived rows: a merge deletes the duplicate's (the survivor is recomputed) rather than moving them.
    __table_args__ = (UniqueConstraint("segment_id", "customer_id"), {"info": {"customer_merge": "delete"}})

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    segment_id: Mapped[str] = mapped_column(ForeignKey("segments.id", ondelete="CASCADE"), nullable=False)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"), nullable=False, index=True)
    rule: Mapped[str] = mapped_column(Text, nullable=False)
    rule_version: Mapped[int] = mapped_column(Integer, nullable=False)
    facts: Mapped[dict[str, Any]] = mapped_column(JSONType, nullable=False, default=dict)
    matched_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)
