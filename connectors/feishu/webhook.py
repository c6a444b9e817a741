"""飞书 event subscription as a webhook source: ``url_verification``, AES-256-CBC, X-Lark-Signature.

Reuses :mod:`connectors.feishu.crypto` (the simulator encrypts and signs with it). With an
Encrypt Key configured every event must carry a valid ``X-Lark-Signature`` over the raw body
and a fresh ``X-Lark-Request-Timestamp``, checked before anything is decrypted; the
Verification Token inside the event is checked when configured. The challenge of
``url_verification`` (plain or encrypted) is answered by :meth:`FeishuEvents.handshake`:
飞书 does not sign it, so the token (or the successful decryption) is what proves it.
"""

from __future__ import annotations

import hmac
import json
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, ClassVar

from pydantic import ConfigDict, Field, model_validator

from plugins.sdk import (
    InboundRequest,
    SecretStr,
    SignatureInvalid,
    TimestampOutOfTolerance,
    Undecryptable,
    Unparsable,
    WebhookEvent,
    WebhookReply,
    WebhookSource,
    WebhookSourceConfig,
)

from . import crypto

__all__ = ["FeishuEvents", "FeishuWebhookConfig"]

_HEX64 = re.compile(r"^[0-9a-fA-F]{64}$")


class FeishuWebhookConfig(WebhookSourceConfig):
    """One 飞书 app's event subscription; at least one of the two secrets is required.

    Args:
        encrypt_key: the Encrypt Key: events are encrypted and signed with it.
        verification_token: the Verification Token carried inside every event.
        tolerance_seconds: how far ``X-Lark-Request-Timestamp`` may be from now.
    """

    # Validation errors must not quote a rejected secret back.
    model_config = ConfigDict(hide_input_in_errors=True)

    encrypt_key: SecretStr | None = None
    verification_token: SecretStr | None = None
    tolerance_seconds: int = Field(default=300, ge=1)

    @model_validator(mode="after")
    def _one_secret(self) -> FeishuWebhookConfig:
        if self.encrypt_key is None and self.verification_token is None:
            raise ValueError("set encrypt_key or verification_token: otherwise anyone could post events")
        return self


class FeishuEvents(WebhookSource):
    """飞书 event subscription (v2 ``schema: "2.0"`` and v1 ``event_callback`` envelopes)."""

    name: ClassVar[str] = "feishu"
    description: ClassVar[str] = "飞书 event subscription: url_verification, AES-256-CBC, X-Lark-Signature"
    Config: ClassVar[type[WebhookSourceConfig]] = FeishuWebhookConfig
    config: FeishuWebhookConfig

    def _encrypt_key(self) -> str | None:
        return self.config.encrypt_key.get_secret_value() if self.config.encrypt_key else None

    def _open(self, body: bytes) -> dict[str, Any]:
        """Decrypt when encrypted and parse; the token is checked apart (:meth:`_check_token`)."""
        envelope = _json_object(body, what="the body")
        if "encrypt" in envelope:
            key = self._encrypt_key()
            if key is None:
                raise Undecryptable("the event is encrypted but no encrypt_key is configured")
            if not isinstance(envelope["encrypt"], str):
                raise Unparsable("'encrypt' is not a string")
            try:
                plain = crypto.decrypt(envelope["encrypt"], key)
            except crypto.EventCryptoError as exc:
                raise Undecryptable(str(exc)) from None
            event = _json_object(plain, what="the decrypted event")
        else:
            event = envelope
        return event

    def _check_token(self, event: Mapping[str, Any]) -> None:
        expected = self.config.verification_token
        if expected is not None:
            header = event.get("header")
            token = header.get("token") if isinstance(header, dict) else event.get("token")
            given = token.encode() if isinstance(token, str) else b""
            if not hmac.compare_digest(given, expected.get_secret_value().encode()):
                raise SignatureInvalid("the event's verification token does not match")

    def handshake(self, request: InboundRequest, *, now: datetime) -> WebhookReply | None:
        """Answer ``url_verification`` with ``{"challenge": …}``; ``None`` for anything else.

        A request that does not open here is left to :meth:`verify`, which reports why.
        """
        try:
            event = self._open(request.body)
        except (Undecryptable, Unparsable):
            return None
        if event.get("type") != "url_verification":
            return None
        self._check_token(event)
        challenge = event.get("challenge")
        if not isinstance(challenge, str):
            raise Unparsable("url_verification without a challenge string")
        return WebhookReply(status=200, body=json.dumps({"challenge": challenge}).encode())

    def _check_signature(self, headers: Mapping[str, str], body: bytes, key: str, now: datetime) -> None:
        timestamp = headers.get("x-lark-request-timestamp", "").strip()
        nonce = headers.get("x-lark-request-nonce", "")
        signature = headers.get("x-lark-signature", "").strip()
        for name, value in (("Timestamp", timestamp), ("Nonce", nonce), ("Signature", signature)):
            if not value:
                header = "X-Lark-Signature" if name == "Signature" else f"X-Lark-Request-{name}"
                raise SignatureInvalid(f"the {header} header is missing")
        if not _HEX64.match(signature):
            raise SignatureInvalid("X-Lark-Signature is not 64 hex digits")
        try:
            crypto.verify_signature(timestamp, nonce, key, body, signature)
        except crypto.EventCryptoError as exc:
            raise SignatureInvalid(str(exc)) from None
        if not timestamp.isascii() or not timestamp.isdigit() or len(timestamp) > 12:
            raise SignatureInvalid("X-Lark-Request-Timestamp is not Unix seconds")
        limit = self.config.tolerance_seconds
        if abs(int(timestamp) - now.timestamp()) > limit:
            raise TimestampOutOfTolerance(f"X-Lark-Request-Timestamp is more than {limit} s from now")

    def verify(self, request: InboundRequest, *, now: datetime) -> Sequence[WebhookEvent]:
        """Check the signature (with an Encrypt Key), decrypt, check the token, read the event."""
        key = self._encrypt_key()
        if key is not None:
            self._check_signature(request.headers, request.body, key, now)
        event = self._open(request.body)
        self._check_token(event)
        if event.get("type") == "url_verification":
            raise Unparsable("url_verification is a handshake, not an event")
        return [_event(event)]

    def reply(
        self, request: InboundRequest, events: Sequence[WebhookEvent], *, now: datetime
    ) -> WebhookReply:
        """飞书 needs HTTP 200 within seconds; its SDK answers ``{"msg": "success"}``."""
        return WebhookReply(status=200, body=b'{"msg":"success"}')


def _event(event: dict[str, Any]) -> WebhookEvent:
    """A v2 or v1 envelope as the inbox's event: id, type, and the approval instance for ordering."""
    body = event.get("event")
    body = body if isinstance(body, dict) else {}
    if event.get("schema") == "2.0":
        header = event.get("header")
        header = header if isinstance(header, dict) else {}
        event_id, event_type = header.get("event_id"), header.get("event_type")
        created = _millis(header.get("create_time"))
    else:
        event_id, event_type = event.get("uuid"), body.get("type") or event.get("type")
        created = None
    if not isinstance(event_id, str) or not event_id:
        raise Unparsable("the event has no id (header.event_id or uuid)")
    if not isinstance(event_type, str) or not event_type:
        raise Unparsable("the event has no type (header.event_type or event.type)")
    instance = body.get("instance_code")
    operated = _millis(body.get("operate_time")) or _millis(body.get("instance_operate_time"))
    when = operated or created
    return WebhookEvent(
        event_id=event_id,
        event_type=event_type,
        payload=_without_token(event),
        object_id=instance if isinstance(instance, str) and instance else None,
        object_version=when,
        occurred_at=None if when is None else datetime.fromtimestamp(when / 1000, UTC),
    )


def _without_token(event: Mapping[str, Any]) -> dict[str, Any]:
    """The event minus its Verification Token: a credential has no place in the inbox or plugins."""
    cleaned = {k: v for k, v in event.items() if k != "token"}
    header = cleaned.get("header")
    if isinstance(header, dict):
        cleaned["header"] = {k: v for k, v in header.items() if k != "token"}
    return cleaned


def _json_object(raw: bytes, *, what: str) -> dict[str, Any]:
    try:
        value = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise Unparsable(f"{what} is not JSON") from None
    if not isinstance(value, dict):
        raise Unparsable(f"{what} is not a JSON object")
    return value


def _millis(value: Any) -> int | None:
    """飞书 millisecond timestamps arrive as strings or numbers; anything else orders nothing."""
    if isinstance(value, int) and not isinstance(value, bool) and 0 < value < 10**15:
        return value
    if isinstance(value, str) and value.isascii() and value.isdigit() and 0 < len(value) < 16:
        return int(value) or None
    return None
