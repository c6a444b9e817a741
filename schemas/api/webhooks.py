"""HTTP contracts of the webhook admin API, and the delivery the ``webhook_received`` hook gets.

``WebhookDelivery`` lives here (not in ``core``) because plugins see only ``plugins.sdk`` and
``schemas``; it is a frozen, pure model like ``schemas.events.DomainEvent``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from .common import Flag, Timestamp

__all__ = [
    "DiscardRequest",
    "InboxEventDetail",
    "InboxEventRead",
    "InboxPage",
    "InboxRequestRead",
    "RefusalCountRead",
    "ReplayDeadRequest",
    "ReplayDeadResult",
    "ReplayResult",
    "SecretRotated",
    "SourceInstanceCreate",
    "SourceInstanceCreated",
    "SourceInstanceRead",
    "WebhookDelivery",
    "WebhookDeliveryEvent",
]

_NAME = r"^[a-z][a-z0-9]*(?:[-_][a-z0-9]+)*$"


class WebhookDeliveryEvent(BaseModel):
    """The verified event a partner sent, as its webhook source parsed it.

    Args:
        id: the partner's event id, stable across the partner's retries: the idempotency key.
        type: the partner's event type (``SIGN_FLOW_COMPLETE``, ``approval_instance``...).
        payload: the decrypted, parsed event.
        object_id: what the event is about (a sign flow, an approval instance), if the source says.
        object_version: orders events of one object; older ones are never delivered after newer.
        occurred_at: when the partner says it happened.
    """

    model_config = ConfigDict(frozen=True)

    id: str
    type: str
    payload: dict[str, Any] = Field(default_factory=dict)
    object_id: str | None = None
    object_version: int | None = None
    occurred_at: AwareDatetime | None = None


class WebhookDelivery(BaseModel):
    """One inbound event handed to ``webhook_received``: where it came from and what it says.

    Args:
        source: the webhook source slug (``esign``, ``feishu``, ``standard-webhooks``).
        instance: the configured instance (the last URL segment), e.g. the partner's name.
        event: the verified event.
        inbox_id: the inbox row, for logs and the admin API.
        received_at: when the hub accepted the request.
        replay: how many times an operator replayed it (0 on the first delivery).
    """

    model_config = ConfigDict(frozen=True)

    source: str
    instance: str
    event: WebhookDeliveryEvent
    inbox_id: str
    received_at: AwareDatetime
    replay: int = 0


class InboxEventRead(BaseModel):
    """One inbox row as the admin API lists it (payload excluded: it may hold PII)."""

    id: str
    request_id: str
    source: str
    instance: str
    event_id: str
    event_type: str
    object_id: str | None
    object_version: int | None
    occurred_at: datetime | None
    status: str
    attempts: int
    replays: int
    last_error: str | None
    next_attempt_at: datetime | None
    processed_at: datetime | None
    discard_reason: str | None
    created_at: datetime
    updated_at: datetime


class InboxPage(BaseModel):
    """A page of inbox rows; ask again with ``offset + len(items)`` while it is below ``total``."""

    items: list[InboxEventRead]
    total: int
    limit: int
    offset: int


class InboxRequestRead(BaseModel):
    """The raw request behind an inbox row: headers masked, body as text when it is UTF-8."""

    id: str
    method: str
    path: str
    query: dict[str, Any]
    headers: dict[str, Any]
    body_text: str | None
    body_base64: str | None
    body_bytes: int
    verification: dict[str, Any]
    received_at: datetime


class InboxEventDetail(InboxEventRead):
    """One inbox row with its parsed payload and the raw request.

    Unless ``revealed``, every payload value is ``***`` and the raw body is left out.
    """

    payload: dict[str, Any]
    revealed: bool = False
    request: InboxRequestRead


class DiscardRequest(BaseModel):
    """Why an operator gives up on an inbox row."""

    reason: str = Field(min_length=1, max_length=2000)


class ReplayResult(BaseModel):
    """A replay was accepted: the row re-verified from its raw bytes and was queued again."""

    id: str
    status: str
    replays: int


class ReplayDeadRequest(BaseModel):
    """Replay every dead letter of a source (optionally one instance) received since a time."""

    source: str = Field(min_length=1, max_length=100)
    instance: str | None = None
    since: Timestamp
    dry_run: Flag = False
    limit: int = Field(default=1000, ge=1, le=10_000)


class ReplayDeadResult(BaseModel):
    """What a bulk replay did (or, with ``dry_run``, would do)."""

    dry_run: bool
    matched: list[str]
    replayed: list[str]
    failed: dict[str, str]


class SourceInstanceCreate(BaseModel):
    """A new source instance; ``generate_secret`` makes a ``whsec_`` secret (shown once)."""

    source: str = Field(min_length=1, max_length=100)
    name: str = Field(min_length=1, max_length=100, pattern=_NAME)
    enabled: Flag = True
    config: dict[str, Any] = Field(default_factory=dict)
    generate_secret: Flag = False


class SourceInstanceRead(BaseModel):
    """A source instance as shown back: secrets are ``***``; ``secrets_active`` counts them."""

    source: str
    name: str
    enabled: bool
    path: str
    config: dict[str, Any]
    secrets_active: int
    created_at: datetime
    updated_at: datetime


class SourceInstanceCreated(SourceInstanceRead):
    """The answer to creating a source instance; ``secret`` is present only when generated."""

    secret: str | None = None


class SecretRotated(SourceInstanceRead):
    """The answer to a rotation: the new secret, shown this once; the old one still verifies."""

    secret: str


class RefusalCountRead(BaseModel):
    """How many requests were refused for one reason."""

    source: str
    instance: str
    reason: str
    count: int
    last_at: datetime
