"""Domain events: what plugins learn about the lifecycle, one envelope for every kind.

A service writes a ``DomainEvent`` to the outbox in the same transaction as the change it
describes; a worker later hands it to the event hooks of ``core.hookspecs``. Delivery is at
least once, so ``id`` is the idempotency key every consumer keys its side effects on.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal
from uuid import UUID, uuid4

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

__all__ = ["EVENT_SCHEMA_VERSION", "DomainEvent", "SubscriptionDisabled"]

EVENT_SCHEMA_VERSION = 1
"""Version of the envelope and payload shapes; bumped when a payload changes incompatibly."""


class DomainEvent(BaseModel):
    """One thing that happened to a subject, as the outbox stores and the workers deliver it.

    The envelope is shared by every event type so the outbox, the dispatcher and the trace log
    handle them alike; what differs lives in ``payload``, documented per hook.

    Args:
        id: unique per event and stable across redeliveries; consumers deduplicate on it.
        type: the event type, equal to the hook name (``loan_disbursed``).
        occurred_at: when the change was committed, timezone-aware.
        subject_type: the kind of record it concerns (``application``, ``loan``, ``contract``).
        subject_id: that record's id, as a string so any key type fits.
        payload: the event's facts; ids and amounts, never unmasked PII.
        version: the payload's schema version, ``EVENT_SCHEMA_VERSION`` when it was written.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: UUID = Field(default_factory=uuid4)
    type: str = Field(min_length=1, pattern=r"^[a-z][a-z0-9_]*$")
    occurred_at: AwareDatetime = Field(default_factory=lambda: datetime.now(UTC))
    subject_type: str = Field(min_length=1)
    subject_id: str = Field(min_length=1)
    payload: dict[str, Any] = Field(default_factory=dict)
    version: int = Field(default=EVENT_SCHEMA_VERSION, ge=1)


class SubscriptionDisabled(BaseModel):
    """Payload of ``webhook_subscription_disabled``: which subscription stopped, why and by whom.

    Args:
        subscription_id: the subscription's id.
        name: its name.
        url: where it delivered (subscription URLs carry no credentials).
        cause: ``gone`` (the endpoint answered 410), ``failing`` (too many failed attempts in a
            row) or ``operator`` (someone disabled it through the API or CLI).
        automatic: true when the hub disabled it (``gone`` or ``failing``), false for an operator.
        reason: the reason in words, as shown in the admin API.
        consecutive_failures: failed attempts in a row when it was disabled.
        last_status: the HTTP status of the last attempt, ``None`` when it got no answer.
        last_error: what went wrong on the last attempt, if anything.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    subscription_id: str
    name: str
    url: str
    cause: Literal["gone", "failing", "operator"]
    automatic: bool
    reason: str
    consecutive_failures: int = Field(ge=0)
    last_status: int | None = None
    last_error: str | None = None
