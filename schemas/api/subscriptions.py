"""HTTP contracts of partner webhook subscriptions, their deliveries and attempts.

A secret appears in exactly two answers: ``SubscriptionCreated`` and ``SecretRotated``; it is
never readable again afterwards.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from .common import Flag

__all__ = [
    "AttemptRead",
    "DeliveryRead",
    "RedeliveryRead",
    "SecretRotate",
    "SecretRotated",
    "SubscriptionCreate",
    "SubscriptionCreated",
    "SubscriptionRead",
    "SubscriptionUpdate",
]

_NAME = r"^[a-z][a-z0-9]*(?:[-_][a-z0-9]+)*$"


class SubscriptionCreate(BaseModel):
    """A new partner endpoint.

    ``event_types`` holds exact types (``loan_disbursed``), prefixes ending in ``*``
    (``loan.*``, ``application_*``) or ``*`` for everything.
    """

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100, pattern=_NAME)
    url: str = Field(min_length=1, max_length=2000, description="http(s) URL; private targets refused")
    event_types: list[str] = Field(min_length=1, max_length=100)
    enabled: Flag = True
    description: str | None = Field(default=None, max_length=500)


class SubscriptionUpdate(BaseModel):
    """Fields to change; those left out stay. ``enabled: false`` disables with ``reason``."""

    model_config = ConfigDict(extra="forbid")

    url: str | None = Field(default=None, min_length=1, max_length=2000)
    event_types: list[str] | None = Field(default=None, min_length=1, max_length=100)
    enabled: Flag | None = None
    reason: str | None = Field(default=None, max_length=500, description="why it is disabled")
    description: str | None = Field(default=None, max_length=500)


class SubscriptionRead(BaseModel):
    """A subscription as shown back; its secrets are never included."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    name: str
    url: str
    description: str | None
    event_types: list[str]
    enabled: bool
    disabled_at: datetime | None
    disabled_reason: str | None
    consecutive_failures: int
    rotating: bool = Field(description="two secrets sign each request until previous_secret_expires_at")
    previous_secret_expires_at: datetime | None
    created_at: datetime
    updated_at: datetime


class SubscriptionCreated(SubscriptionRead):
    """The new subscription with its signing secret, shown this once."""

    secret: str = Field(description="whsec_… secret for the partner's verifier; not shown again")


class SecretRotate(BaseModel):
    """How long the previous secret keeps signing after a rotation."""

    model_config = ConfigDict(extra="forbid")

    overlap_hours: float = Field(default=24.0, ge=0, le=720)


class SecretRotated(BaseModel):
    """The new secret, shown this once; the previous one signs too until the expiry."""

    name: str
    secret: str
    previous_secret_expires_at: datetime | None


class DeliveryRead(BaseModel):
    """One event on its way to one subscription."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    subscription_id: str
    event_id: str
    event_type: str
    msg_id: str = Field(description="the webhook-id header, the same on every retry")
    status: str = Field(description="pending | failed (retry scheduled) | delivered | dead")
    attempts: int
    next_attempt_at: datetime | None
    last_status_code: int | None
    last_error: str | None
    delivered_at: datetime | None
    created_at: datetime
    updated_at: datetime


class AttemptRead(BaseModel):
    """One HTTP attempt; ``finished_at`` is empty if the worker died during it."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    delivery_id: str
    attempt: int
    url: str
    target_ip: str | None
    status_code: int | None
    latency_ms: float | None
    error: str | None
    response_excerpt: str | None
    started_at: datetime
    finished_at: datetime | None


class RedeliveryRead(BaseModel):
    """A queued manual attempt."""

    delivery_id: str
    job_id: str
    status: str
