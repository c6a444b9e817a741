"""The tables of the durable inbox: source instances, raw requests, events, ordering, refusals.

One accepted HTTP request is one ``webhook_requests`` row (the raw bytes, kept for replay) and
one ``webhook_inbox`` row per event it carries. The unique constraint on
``(source, instance, event_id)`` is what makes a partner's retry harmless: the database, not a
cache, decides that an event was seen before.

A partner's body and the payload parsed from it carry whatever personal data the partner sends
(a borrower's name, ID number, mobile), so both are sealed with the PII key ring (field class
``payload``) and never stored in clear; the keys, ids, types and versions the inbox works on
stay plain.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, JSONType, TimestampMixin, UTCDateTime, new_id, utcnow
from core.pii import SealedBytes, SealedJSON

__all__ = [
    "InboxStatus",
    "WebhookInboxEvent",
    "WebhookObjectVersion",
    "WebhookRefusalCount",
    "WebhookRequest",
    "WebhookSourceInstance",
]

PAYLOAD = "payload"
"""The PII field class of partner bodies and payloads (``core.access.permissions.PII_FIELD_CLASSES``)."""


class InboxStatus(enum.StrEnum):
    """Where an inbox event is in its life.

    ``received`` is stored and waits for a worker; ``processing`` was taken by a worker at least
    once and waits for a retry (``last_error`` says why); ``processed``, ``superseded`` (older
    than what was already processed for its object, not dispatched), ``dead`` (retries
    exhausted) and ``discarded`` (an operator gave up on it, with a reason) are final until a
    replay.
    """

    RECEIVED = "received"
    PROCESSING = "processing"
    PROCESSED = "processed"
    SUPERSEDED = "superseded"
    DEAD = "dead"
    DISCARDED = "discarded"


class WebhookSourceInstance(TimestampMixin, Base):
    """A configured instance of a webhook source: ``/webhooks/{source}/{name}``.

    ``config`` holds only the non-secret fields; every secret (lists of them too, for rotation)
    is sealed into ``secrets_ciphertext`` by the hub's secret box.
    """

    __tablename__ = "webhook_source_instances"
    __table_args__ = (UniqueConstraint("source", "name", name="uq_webhook_source_instances_source_name"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    source: Mapped[str] = mapped_column(String(100), nullable=False)
    name: Mapped[str] = mapped_column(String(100), nullable=False)
    enabled: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    config: Mapped[dict[str, Any]] = mapped_column(JSONType, nullable=False, default=dict)
    secrets_ciphertext: Mapped[str | None] = mapped_column(Text)


class WebhookRequest(Base):
    """One accepted HTTP request exactly as received: what a replay verifies again.

    ``headers`` has secret-bearing headers (``Authorization``, cookies) masked; their real
    values are sealed in ``sealed_headers`` so a replay can still present them to the source.
    ``body`` is the exact bytes received, sealed (it loads as the clear bytes).
    """

    __tablename__ = "webhook_requests"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    source: Mapped[str] = mapped_column(String(100), nullable=False)
    instance: Mapped[str] = mapped_column(String(100), nullable=False)
    method: Mapped[str] = mapped_column(String(10), nullable=False)
    path: Mapped[str] = mapped_column(Text, nullable=False)
    query: Mapped[dict[str, Any]] = mapped_column(JSONType, nullable=False, default=dict)
    headers: Mapped[dict[str, Any]] = mapped_column(JSONType, nullable=False, default=dict)
    sealed_headers: Mapped[str | None] = mapped_column(Text)
    body: Mapped[bytes] = mapped_column(SealedBytes(PAYLOAD), nullable=False)
    verification: Mapped[dict[str, Any]] = mapped_column(JSONType, nullable=False, default=dict)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)


class WebhookInboxEvent(TimestampMixin, Base):
    """One verified event, deduplicated on ``(source, instance, event_id)``, processed by a worker."""

    __tablename__ = "webhook_inbox"
    __table_args__ = (
        UniqueConstraint("source", "instance", "event_id", name="uq_webhook_inbox_source_instance_event"),
        Index("ix_webhook_inbox_status_created", "status", "created_at"),
        Index("ix_webhook_inbox_source_created", "source", "created_at"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    request_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("webhook_requests.id", ondelete="CASCADE"), nullable=False, index=True
    )
    source: Mapped[str] = mapped_column(String(100), nullable=False)
    instance: Mapped[str] = mapped_column(String(100), nullable=False)
    event_id: Mapped[str] = mapped_column(String(200), nullable=False)
    event_type: Mapped[str] = mapped_column(String(200), nullable=False)
    payload: Mapped[dict[str, Any]] = mapped_column(SealedJSON(PAYLOAD), nullable=False, default=dict)
    object_id: Mapped[str | None] = mapped_column(String(200))
    object_version: Mapped[int | None] = mapped_column(BigInteger)
    occurred_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(String(16), nullable=False, default=InboxStatus.RECEIVED.value)
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    replays: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    discard_reason: Mapped[str | None] = mapped_column(Text)


class WebhookObjectVersion(Base):
    """The newest ``object_version`` processed per object, so an older status never wins."""

    __tablename__ = "webhook_object_versions"

    source: Mapped[str] = mapped_column(String(100), primary_key=True)
    instance: Mapped[str] = mapped_column(String(100), primary_key=True)
    object_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger, nullable=False)
    event_id: Mapped[str] = mapped_column(String(200), nullable=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)


class WebhookRefusalCount(Base):
    """How many requests were refused, per source, instance and reason (the problem slug)."""

    __tablename__ = "webhook_refusals"

    source: Mapped[str] = mapped_column(String(100), primary_key=True)
    instance: Mapped[str] = mapped_column(String(100), primary_key=True)
    reason: Mapped[str] = mapped_column(String(100), primary_key=True)
    count: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    last_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)
