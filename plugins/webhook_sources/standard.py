"""Standard Webhooks sources: ``v1`` (HMAC-SHA256, ``whsec_``) and ``v1a`` (ed25519, ``whpk_``).

For partners that push leads or repayments and sign as the spec (or Svix) does. The event id
is ``webhook-id`` (stable across the partner's retries); the type, object and version come from
the JSON body at configurable dotted paths, so a partner's envelope needs no code.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from datetime import datetime
from typing import Any, ClassVar

from pydantic import ConfigDict, Field, field_validator

from plugins.sdk import (
    InboundRequest,
    SecretStr,
    Unparsable,
    WebhookEvent,
    WebhookSource,
    WebhookSourceConfig,
    verify_standard_webhook,
)
from plugins.sdk.webhooks import standard_webhook_key

from ._payload import dig, json_object, to_datetime, to_version

__all__ = [
    "StandardWebhooks",
    "StandardWebhooksConfig",
    "StandardWebhooksV1a",
    "StandardWebhooksV1aConfig",
]


class _EnvelopeConfig(WebhookSourceConfig):
    """Where the partner's JSON envelope keeps what the inbox needs.

    Args:
        tolerance_seconds: how far ``webhook-timestamp`` may be from now, both ways (5 min).
        event_type_path: dotted path of the event type (required in the body).
        object_id_path: dotted path of the object's id; ``None`` for no per-object ordering.
        object_version_path: dotted path of what orders one object's events (an integer or a time).
        occurred_at_path: dotted path of when the event happened.
    """

    # Validation errors must not quote a rejected secret back.
    model_config = ConfigDict(hide_input_in_errors=True)

    tolerance_seconds: int = Field(default=300, ge=1, le=7 * 86400)
    event_type_path: str = "type"
    object_id_path: str | None = "data.id"
    object_version_path: str | None = "timestamp"
    occurred_at_path: str | None = "timestamp"


class StandardWebhooksConfig(_EnvelopeConfig):
    """A ``v1`` instance: the partner's ``whsec_`` secrets, two at once while rotating."""

    secrets: list[SecretStr] = Field(min_length=1, max_length=10)

    @field_validator("secrets")
    @classmethod
    def _secrets_decode(cls, value: list[SecretStr]) -> list[SecretStr]:
        for index, secret in enumerate(value):
            try:
                key = standard_webhook_key(secret.get_secret_value().strip())
            except ValueError:
                raise ValueError(f"secrets[{index}] is not 'whsec_' followed by base64") from None
            if len(key) < 16:
                raise ValueError(f"secrets[{index}] is shorter than 16 bytes")
        return value


class StandardWebhooksV1aConfig(_EnvelopeConfig):
    """A ``v1a`` instance: the partner's trusted ed25519 ``whpk_`` public keys."""

    public_keys: list[str] = Field(min_length=1, max_length=10)

    @field_validator("public_keys")
    @classmethod
    def _keys_decode(cls, value: list[str]) -> list[str]:
        for index, key in enumerate(value):
            if not key.startswith("whpk_"):
                raise ValueError(f"public_keys[{index}] does not start with 'whpk_'")
            raw = key.removeprefix("whpk_")
            try:
                decoded = base64.b64decode(raw + "=" * (-len(raw) % 4), validate=True)
            except (binascii.Error, ValueError):
                raise ValueError(f"public_keys[{index}] is not base64 after 'whpk_'") from None
            if len(decoded) != 32:
                raise ValueError(f"public_keys[{index}] is not a 32-byte ed25519 key")
        return value


class _StandardBase(WebhookSource):
    config: _EnvelopeConfig

    def _secrets(self) -> Sequence[str]:
        return ()

    def _public_keys(self) -> Sequence[str]:
        return ()

    def verify(self, request: InboundRequest, *, now: datetime) -> Sequence[WebhookEvent]:
        """Verify the signature and timestamp on the raw body, then read the envelope."""
        message = verify_standard_webhook(
            request.headers,
            request.body,
            now=now,
            secrets=self._secrets(),
            public_keys=self._public_keys(),
            tolerance_seconds=self.config.tolerance_seconds,
        )
        payload = json_object(request.body)
        event_type = dig(payload, self.config.event_type_path)
        if not isinstance(event_type, str) or not event_type:
            raise Unparsable(f"the body has no string at {self.config.event_type_path!r} (the event type)")
        object_id: Any = dig(payload, self.config.object_id_path)
        if isinstance(object_id, dict | list | bool):
            raise Unparsable(f"{self.config.object_id_path!r} (the object id) is not a scalar")
        version_path = self.config.object_version_path
        return [
            WebhookEvent(
                event_id=message.msg_id,
                event_type=event_type,
                payload=payload,
                object_id=None if object_id is None else str(object_id),
                object_version=to_version(dig(payload, version_path), field=repr(version_path)),
                occurred_at=to_datetime(dig(payload, self.config.occurred_at_path)),
            )
        ]


class StandardWebhooks(_StandardBase):
    """Standard Webhooks 1.0 ``v1``: HMAC-SHA256 with ``whsec_`` secrets (Svix signs the same)."""

    name: ClassVar[str] = "standard-webhooks"
    description: ClassVar[str] = "Standard Webhooks v1 (HMAC-SHA256, whsec_ secrets); Svix-compatible"
    Config: ClassVar[type[WebhookSourceConfig]] = StandardWebhooksConfig
    config: StandardWebhooksConfig

    def _secrets(self) -> Sequence[str]:
        return [secret.get_secret_value().strip() for secret in self.config.secrets]


class StandardWebhooksV1a(_StandardBase):
    """Standard Webhooks 1.0 ``v1a``: ed25519, verified with the partner's ``whpk_`` public keys."""

    name: ClassVar[str] = "standard-webhooks-v1a"
    description: ClassVar[str] = "Standard Webhooks v1a (ed25519, whpk_ public keys)"
    Config: ClassVar[type[WebhookSourceConfig]] = StandardWebhooksV1aConfig
    config: StandardWebhooksV1aConfig

    def _public_keys(self) -> Sequence[str]:
        return list(self.config.public_keys)
