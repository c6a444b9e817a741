"""What a webhook source is: how LendHub verifies, decrypts and parses one partner's pushes.

A plugin registers source classes with ``register_webhook_sources``; an operator configures named
instances of them (secrets sealed at rest, several active at once for rotation). For each request
to ``POST /webhooks/{source}/{instance}`` the hub, on the raw bytes and before anything is stored:

1. calls :meth:`WebhookSource.handshake` — a vendor's URL-verification challenge is answered here
   and never reaches the inbox;
2. calls :meth:`WebhookSource.verify`, which raises a :class:`WebhookRejected` subclass (each maps
   to one HTTP status and a problem+json reason) or returns the events the request carries;
3. writes the raw request and the events to the inbox in one transaction, deduplicated on
   ``(source, instance, event_id)``;
4. answers with :meth:`WebhookSource.reply` (钉钉 and 企业微信 expect an encrypted "success").

Sources are pure: no I/O, no database, no clock except the ``now`` they are given, so replaying
a stored request later re-runs exactly the same code on exactly the same bytes.

    WebhookRejected                         never raised directly
    ├── SignatureInvalid          401       missing, malformed or wrong signature
    ├── TimestampOutOfTolerance   401       replay protection: too old or too new
    ├── Undecryptable             400       the encrypted envelope cannot be opened
    └── Unparsable                400       verified, but not the shape the source expects
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict

__all__ = [
    "InboundRequest",
    "SignatureInvalid",
    "TimestampOutOfTolerance",
    "Undecryptable",
    "Unparsable",
    "WebhookEvent",
    "WebhookRejected",
    "WebhookReply",
    "WebhookSource",
    "WebhookSourceConfig",
    "sign_standard_webhook",
    "standard_webhook_key",
]


class WebhookRejected(Exception):
    """A request the hub refuses; ``status`` is the HTTP answer, the message the problem detail.

    Messages name what is wrong (which header, which check) and never echo secrets or payloads.
    """

    status: ClassVar[int] = 400
    slug: ClassVar[str] = "webhook-rejected"


class SignatureInvalid(WebhookRejected):
    """Missing, malformed or wrong signature."""

    status = 401
    slug = "webhook-signature-invalid"


class TimestampOutOfTolerance(WebhookRejected):
    """The signed timestamp is outside the tolerance: a replay, or a badly wrong clock."""

    status = 401
    slug = "webhook-timestamp-out-of-tolerance"


class Undecryptable(WebhookRejected):
    """The encrypted envelope cannot be decrypted with the configured key."""

    status = 400
    slug = "webhook-undecryptable"


class Unparsable(WebhookRejected):
    """The body verified but is not the shape the source expects."""

    status = 400
    slug = "webhook-unparsable"


@dataclass(frozen=True)
class InboundRequest:
    """One HTTP request exactly as received; ``headers`` keys are lower-case."""

    method: str
    path: str
    query: Mapping[str, str]
    headers: Mapping[str, str]
    body: bytes
    received_at: datetime


@dataclass(frozen=True)
class WebhookEvent:
    """One event a verified request carries.

    Args:
        event_id: the partner's id for the event, stable across its retries: the dedupe key.
        event_type: the partner's type (``SIGN_FLOW_COMPLETE``, ``approval.instance.status_changed``).
        payload: the decrypted, parsed event.
        object_id: the object the event is about (a flow, an approval instance), for ordering.
        object_version: orders events of one object (a sequence or timestamp); an event older than
            the newest one processed for its object is recorded but does not overwrite it.
        occurred_at: when the partner says it happened.
    """

    event_id: str
    event_type: str
    payload: Mapping[str, Any]
    object_id: str | None = None
    object_version: int | None = None
    occurred_at: datetime | None = None


@dataclass(frozen=True)
class WebhookReply:
    """The 2xx answer the partner expects once the events are safely in the inbox."""

    status: int = 200
    body: bytes = b'{"status":"accepted"}'  # JSON, as the content type says (an empty body is not)
    content_type: str = "application/json"
    headers: Mapping[str, str] = field(default_factory=dict)


class WebhookSourceConfig(BaseModel):
    """Base of a source instance's config; secrets are ``SecretStr`` and may be several (rotation).

    Args:
        tolerance_seconds: how far a signed timestamp may be from now, both ways.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    tolerance_seconds: int = 300


class WebhookSource:
    """Base class of a webhook source; subclasses set ``name`` and ``Config`` and implement ``verify``.

    Args:
        config: the validated instance config.
        instance: the instance name, the last segment of the webhook URL.
    """

    name: ClassVar[str]
    """Unique slug, the first segment of ``/webhooks/{source}/{instance}``."""
    Config: ClassVar[type[WebhookSourceConfig]] = WebhookSourceConfig
    description: ClassVar[str] = ""

    def __init__(self, config: WebhookSourceConfig, *, instance: str = "default") -> None:
        self.config = config
        self.instance = instance

    def handshake(self, request: InboundRequest, *, now: datetime) -> WebhookReply | None:
        """Answer a URL-verification challenge (飞书 ``url_verification``); ``None`` for an event."""
        return None

    def verify(self, request: InboundRequest, *, now: datetime) -> Sequence[WebhookEvent]:
        """Verify the raw request and return its events; raise a WebhookRejected subclass if not.

        Must work on ``request.body`` exactly as received: never parse and re-serialise before
        checking a signature.
        """
        raise NotImplementedError

    def reply(
        self, request: InboundRequest, events: Sequence[WebhookEvent], *, now: datetime
    ) -> WebhookReply:
        """The answer after the events are stored: ``{"status": "accepted"}`` unless the vendor wants more."""
        return WebhookReply()


def standard_webhook_key(secret: str) -> bytes:
    """The HMAC key of a Standard Webhooks ``whsec_`` secret (base64 after the prefix)."""
    raw = secret.removeprefix("whsec_")
    try:
        return base64.b64decode(raw + "=" * (-len(raw) % 4), validate=True)
    except ValueError as exc:
        raise ValueError("a Standard Webhooks secret is 'whsec_' followed by base64") from exc


def sign_standard_webhook(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """The ``v1,<base64>`` signature of Standard Webhooks 1.0 over ``id.timestamp.body``."""
    signed = msg_id.encode() + b"." + str(timestamp).encode() + b"." + body
    digest = hmac.new(standard_webhook_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()
