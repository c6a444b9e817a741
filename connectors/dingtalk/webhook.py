"""钉钉 HTTP event callbacks as a webhook source: SHA-1 ``msg_signature``, AES-256-CBC, encrypted reply.

Reuses the WeChat-style crypto of :mod:`connectors.dingtalk.crypto` (the simulator's too). 钉钉
expects every delivery — including the ``check_url`` that registers the URL, answered by
:meth:`DingTalkEvents.handshake` — to be answered with ``"success"`` encrypted and signed for
the app; anything else makes it retry. Events carry no id: a ``bpms_instance_change`` gets the
id :func:`connectors.dingtalk.mapping.event_to_status_change` derives (instance, kind, result),
any other event the SHA-256 of its decrypted text, which 钉钉's retries repeat.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, ClassVar

from pydantic import ConfigDict, Field

from plugins.sdk import (
    InboundRequest,
    SecretStr,
    SignatureInvalid,
    TimestampOutOfTolerance,
    Unparsable,
    VendorContractError,
    WebhookEvent,
    WebhookRejected,
    WebhookReply,
    WebhookSource,
    WebhookSourceConfig,
)

from . import crypto, mapping

__all__ = ["DingTalkEvents", "DingTalkWebhookConfig"]


class DingTalkWebhookConfig(WebhookSourceConfig):
    """One 钉钉 app's event subscription.

    Args:
        callback_token: the 签名 Token.
        aes_key: the 43-character EncodingAESKey.
        owner_key: the key every message is encrypted for: the AppKey (企业内部应用), the corpId
            (注册回调) or the suiteKey (第三方应用).
        tolerance_seconds: how far the signed ``timestamp`` (milliseconds) may be from now.
    """

    # Validation errors must not quote a rejected secret back.
    model_config = ConfigDict(hide_input_in_errors=True)

    callback_token: SecretStr
    aes_key: SecretStr = Field(min_length=43, max_length=43)
    owner_key: SecretStr
    tolerance_seconds: int = Field(default=300, ge=1)


class DingTalkEvents(WebhookSource):
    """钉钉 event subscription over HTTP (``bpms_instance_change``, ``bpms_task_change``, …)."""

    name: ClassVar[str] = "dingtalk"
    description: ClassVar[str] = "钉钉 HTTP event callbacks: SHA-1 signature, AES-256-CBC, encrypted reply"
    Config: ClassVar[type[WebhookSourceConfig]] = DingTalkWebhookConfig
    config: DingTalkWebhookConfig

    def _crypto(self) -> crypto.CallbackCrypto:
        return crypto.CallbackCrypto(
            self.config.callback_token.get_secret_value(),
            self.config.aes_key.get_secret_value(),
            self.config.owner_key.get_secret_value(),
        )

    def _open(self, request: InboundRequest, *, now: datetime) -> tuple[str, dict[str, Any]]:
        """Verify signature and timestamp, decrypt, parse: the plaintext and the event."""
        try:
            envelope = json.loads(request.body)
        except (ValueError, UnicodeDecodeError):
            raise Unparsable('the body is not JSON {"encrypt": …}') from None
        encrypt = envelope.get("encrypt") if isinstance(envelope, dict) else None
        if not isinstance(encrypt, str) or not encrypt:
            raise Unparsable('the body is not {"encrypt": "<base64>"}')
        query = request.query
        signature = query.get("msg_signature") or query.get("signature") or ""
        timestamp, nonce = query.get("timestamp", ""), query.get("nonce", "")
        if not signature or not timestamp or not nonce:
            raise SignatureInvalid("msg_signature (or signature), timestamp and nonce are required")
        box = self._crypto()
        try:
            box.verify(signature, timestamp, nonce, encrypt)
        except crypto.CallbackCryptoError as exc:
            raise exc.rejection() from None
        if not timestamp.isascii() or not timestamp.isdigit() or len(timestamp) > 15:
            raise SignatureInvalid("the timestamp query parameter is not epoch milliseconds")
        limit = self.config.tolerance_seconds
        if abs(int(timestamp) / 1000 - now.timestamp()) > limit:
            raise TimestampOutOfTolerance(f"timestamp is more than {limit} s from now")
        try:
            message = box.decrypt(encrypt)
        except crypto.CallbackCryptoError as exc:
            raise exc.rejection() from None
        try:
            event = json.loads(message)
        except ValueError:
            raise Unparsable("the decrypted message is not JSON") from None
        if not isinstance(event, dict):
            raise Unparsable("the decrypted message is not a JSON object")
        return message, event

    def handshake(self, request: InboundRequest, *, now: datetime) -> WebhookReply | None:
        """Answer ``check_url`` with the encrypted ``success``; ``None`` for a real event.

        A request that does not open is left to :meth:`verify`, which refuses it with the reason.
        """
        try:
            _, event = self._open(request, now=now)
        except WebhookRejected:
            return None
        if event.get("EventType") != "check_url":
            return None
        return self.reply(request, (), now=now)

    def verify(self, request: InboundRequest, *, now: datetime) -> Sequence[WebhookEvent]:
        """Verify, decrypt and read one event (``check_url`` carries none)."""
        message, event = self._open(request, now=now)
        event_type = event.get("EventType")
        if event_type == "check_url":
            return []
        if not isinstance(event_type, str) or not event_type:
            raise Unparsable("the decrypted event has no EventType")
        event_id = hashlib.sha256(message.encode()).hexdigest()[:32]
        object_id: str | None = None
        version: int | None = None
        if event_type == "bpms_instance_change":
            try:
                change = mapping.event_to_status_change(event)
            except (VendorContractError, OverflowError, OSError, ValueError):
                raise Unparsable("bpms_instance_change lacks processInstanceId, type or a time") from None
            if change is not None:
                event_id, object_id = change.event_id, change.instance_id
                version = int(change.occurred_at.timestamp() * 1000)
        return [
            WebhookEvent(
                event_id=event_id,
                event_type=event_type,
                payload=event,
                object_id=object_id,
                object_version=version,
                occurred_at=None if version is None else datetime.fromtimestamp(version / 1000, UTC),
            )
        ]

    def reply(
        self, request: InboundRequest, events: Sequence[WebhookEvent], *, now: datetime
    ) -> WebhookReply:
        """``{"msg_signature", "timeStamp", "nonce", "encrypt"}`` with ``success`` encrypted."""
        answer = self._crypto().reply("success", str(int(now.timestamp() * 1000)), secrets.token_hex(4))
        return WebhookReply(status=200, body=json.dumps(answer).encode())
