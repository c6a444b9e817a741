"""DocuSign Connect (JSON SIM) with HMAC: ``X-DocuSign-Signature-N`` over the raw body.

DocuSign sends one header per active Connect key (up to 100), so keys rotate without downtime;
any header matching any configured key is enough. Connect carries no timestamp header, so
replays are stopped by the inbox's dedupe on the event id, not by a clock window. The event id
is derived from what is stable across Connect's retries (``retryCount`` is not):
the envelope, the event, the recipient and ``generatedDateTime``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime
from typing import ClassVar

from pydantic import ConfigDict, Field

from plugins.sdk import (
    InboundRequest,
    SecretStr,
    Unparsable,
    WebhookEvent,
    WebhookSource,
    WebhookSourceConfig,
    verify_docusign,
)

from ._payload import dig, json_object, to_datetime

__all__ = ["DocuSignConfig", "DocuSignConnect"]


class DocuSignConfig(WebhookSourceConfig):
    """One Connect configuration's HMAC keys; several while rotating (DocuSign allows 100)."""

    # Validation errors must not quote a rejected secret back.
    model_config = ConfigDict(hide_input_in_errors=True)

    hmac_keys: list[SecretStr] = Field(min_length=1, max_length=100)


class DocuSignConnect(WebhookSource):
    """DocuSign eSignature Connect: envelope and recipient events, HMAC-verified."""

    name: ClassVar[str] = "docusign"
    description: ClassVar[str] = "DocuSign Connect JSON SIM events, X-DocuSign-Signature-N HMAC"
    Config: ClassVar[type[WebhookSourceConfig]] = DocuSignConfig
    config: DocuSignConfig

    def verify(self, request: InboundRequest, *, now: datetime) -> Sequence[WebhookEvent]:
        """Check the HMAC headers on the raw body, then read the JSON SIM envelope."""
        verify_docusign(
            request.headers,
            request.body,
            keys=[key.get_secret_value() for key in self.config.hmac_keys],
        )
        payload = json_object(request.body)
        event = payload.get("event")
        if not isinstance(event, str) or not event:
            raise Unparsable("the body has no 'event' string")
        envelope_id = dig(payload, "data.envelopeId")
        generated = payload.get("generatedDateTime")
        occurred_at = to_datetime(generated)
        if generated is not None and occurred_at is None:
            raise Unparsable("generatedDateTime is not an ISO 8601 time")
        recipient = dig(payload, "data.recipientId")
        basis = "|".join(str(part or "") for part in (envelope_id, event, recipient, generated))
        if envelope_id is None and generated is None:
            # Nothing stable to derive from: the body itself, which Connect resends unchanged.
            basis = hashlib.sha256(request.body).hexdigest()
        event_id = str(payload.get("eventId") or hashlib.sha256(basis.encode()).hexdigest()[:32])
        return [
            WebhookEvent(
                event_id=event_id,
                event_type=event,
                payload=payload,
                object_id=None if envelope_id is None else str(envelope_id),
                object_version=None if occurred_at is None else int(occurred_at.timestamp() * 1_000_000),
                occurred_at=occurred_at,
            )
        ]
