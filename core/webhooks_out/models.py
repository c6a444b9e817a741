"""Tables of outbound webhook delivery: partner subscriptions, deliveries and their attempts.

A *subscription* is a partner's URL, the event types it wants and its signing secret(s), sealed
at rest. Fan-out turns one outbox event into one *delivery* per matching subscription; a
delivery keeps its ``msg_id`` (the ``webhook-id`` header) across every retry, so the partner can
deduplicate on it. Each HTTP try is an *attempt* row, written before the request goes out, so a
worker killed mid-request still leaves a trace (an attempt with no ``finished_at``).
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Boolean, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, JSONType, TimestampMixin, UTCDateTime, new_id, utcnow

__all__ = ["DeliveryStatus", "WebhookDelivery", "WebhookDeliveryAttempt", "WebhookSubscription"]


class DeliveryStatus(enum.StrEnum):
    """Where a delivery is.

    ``pending`` waits for its first (or a manually requested) attempt; ``failed`` means the last
    attempt failed and another is scheduled at ``next_attempt_at``; ``delivered`` (a 2xx) and
    ``dead`` (schedule exhausted, 410, target refused, subscription disabled or gone) are final
    until an operator asks for a redelivery.
    """

    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"
    DEAD = "dead"


class WebhookSubscription(TimestampMixin, Base):
    """A partner endpoint that receives signed events of the types it subscribed to.

    ``secrets_ciphertext`` seals ``{"current": "whsec_…", "previous": "whsec_…"?}``; while a
    rotation is in progress both sign each request, until ``previous_secret_expires_at`` or an
    explicit retire.
    """

    __tablename__ = "webhook_subscriptions"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(100), unique=True, nullable=False)
    url: Mapped[str] = mapped_column(Text, nullable=False)
    description: Mapped[str | None] = mapped_column(Text)
    event_types: Mapped[list[str]] = mapped_column(JSONType, nullable=False, default=list)
    secrets_ciphertext: Mapped[str] = mapped_column(Text, nullable=False)
    previous_secret_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    enabled: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    disabled_reason: Mapped[str | None] = mapped_column(Text)
    consecutive_failures: Mapped[int] = mapped_column(Integer, nullable=False, default=0)


class WebhookDelivery(TimestampMixin, Base):
    """One outbox event on its way to one subscription.

    ``job_id`` names the only ``webhook.deliver`` job allowed to act on the delivery: a
    redelivery or a rescheduled retry replaces it, so a stale job finds itself fenced out.
    """

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        UniqueConstraint("subscription_id", "outbox_id", name="uq_webhook_deliveries_subscription_event"),
        Index("ix_webhook_deliveries_subscription_created", "subscription_id", "created_at"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    subscription_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("webhook_subscriptions.id", ondelete="CASCADE"), nullable=False
    )
    outbox_id: Mapped[str] = mapped_column(String(36), nullable=False)
    event_id: Mapped[str] = mapped_column(String(36), nullable=False)
    event_type: Mapped[str] = mapped_column(String(100), nullable=False)
    msg_id: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default=DeliveryStatus.PENDING.value)
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_status_code: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    job_id: Mapped[str | None] = mapped_column(String(36))


class WebhookDeliveryAttempt(Base):
    """One HTTP request of a delivery; ``finished_at`` is empty if the worker died during it."""

    __tablename__ = "webhook_delivery_attempts"
    __table_args__ = (UniqueConstraint("delivery_id", "attempt", name="uq_webhook_delivery_attempts_number"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    delivery_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("webhook_deliveries.id", ondelete="CASCADE"), nullable=False, index=True
    )
    attempt: Mapped[int] = mapped_column(Integer, nullable=False)
    url: Mapped[str] = mapped_column(Text, nullable=False)
    target_ip: Mapped[str | None] = mapped_column(String(64))
    status_code: Mapped[int | None] = mapped_column(Integer)
    latency_ms: Mapped[float | None] = mapped_column(Float)
    error: Mapped[str | None] = mapped_column(Text)
    response_excerpt: Mapped[str | None] = mapped_column(Text)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
