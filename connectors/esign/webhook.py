"""e签宝 callbacks as a webhook source: HMAC over timestamp, notify-URL query values and raw body.

The signature is :func:`connectors.esign.client.callback_signature`, the function the simulator
signs with. e签宝 sends no event id and retries a callback up to 16 times, so the id is derived
from what identifies the event (action, flow, signer, status), not from the body's own
``timestamp``; per-flow ordering uses that timestamp (or ``operateTime``).
"""

from __future__ import annotations

import hashlib
import hmac
import json
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
    WebhookEvent,
    WebhookReply,
    WebhookSource,
    WebhookSourceConfig,
)

from . import client

__all__ = ["EsignCallbacks", "EsignWebhookConfig"]

_IDENTITY = ("action", "signFlowId", "signFlowStatus", "customBizNum", "signOrder", "signResult")


class EsignWebhookConfig(WebhookSourceConfig):
    """One e签宝 app's callback settings.

    Args:
        app_secret: the AppSecret that signs callbacks.
        app_id: when set, ``X-Tsign-Open-App-Id`` must name this app.
        tolerance_seconds: how far ``X-Tsign-Open-TIMESTAMP`` may be from now (15 min, as for
            requests); ``0`` turns the window off — e签宝 does not mandate one, and the inbox
            de-duplicates replays anyway.
    """

    # Validation errors must not quote a rejected secret back.
    model_config = ConfigDict(hide_input_in_errors=True)

    app_secret: SecretStr
    app_id: str | None = None
    tolerance_seconds: int = Field(default=900, ge=0)


class EsignCallbacks(WebhookSource):
    """e签宝 sign-flow callbacks (``SIGN_MISSON_COMPLETE``, ``SIGN_FLOW_COMPLETE``, …)."""

    name: ClassVar[str] = "esign"
    description: ClassVar[str] = "e签宝 open API v3 callbacks, HMAC-SHA256 (X-Tsign-Open-SIGNATURE)"
    Config: ClassVar[type[WebhookSourceConfig]] = EsignWebhookConfig
    config: EsignWebhookConfig

    def verify(self, request: InboundRequest, *, now: datetime) -> Sequence[WebhookEvent]:
        """Check app, algorithm, signature and timestamp on the raw body, then read the event."""
        headers = request.headers
        timestamp = headers.get("x-tsign-open-timestamp", "").strip()
        given = headers.get("x-tsign-open-signature", "").strip()
        if not timestamp:
            raise SignatureInvalid("the X-Tsign-Open-TIMESTAMP header is missing")
        if not given:
            raise SignatureInvalid("the X-Tsign-Open-SIGNATURE header is missing")
        algorithm = headers.get("x-tsign-open-signature-algorithm", client.CALLBACK_ALGORITHM)
        if algorithm.strip().lower() != client.CALLBACK_ALGORITHM:
            raise SignatureInvalid("X-Tsign-Open-SIGNATURE-ALGORITHM is not hmac-sha256")
        app_id = self.config.app_id
        if app_id is not None and headers.get("x-tsign-open-app-id", "").strip() != app_id:
            raise SignatureInvalid("X-Tsign-Open-App-Id does not name this app")
        secret = self.config.app_secret.get_secret_value()
        expected = client.callback_signature(secret, timestamp, dict(request.query), request.body)
        if not hmac.compare_digest(expected.encode(), given.lower().encode()):
            raise SignatureInvalid("X-Tsign-Open-SIGNATURE does not match the body")
        if not timestamp.isascii() or not timestamp.isdigit() or len(timestamp) > 15:
            raise SignatureInvalid("X-Tsign-Open-TIMESTAMP is not epoch milliseconds")
        limit = self.config.tolerance_seconds
        if limit and abs(int(timestamp) / 1000 - now.timestamp()) > limit:
            raise TimestampOutOfTolerance(f"X-Tsign-Open-TIMESTAMP is more than {limit} s from now")
        payload = _json_object(request.body)
        action = payload.get("action")
        if not isinstance(action, str) or not action:
            raise Unparsable("the callback has no 'action'")
        flow_id = payload.get("signFlowId")
        if flow_id:
            signer = payload.get("psnAccount") or payload.get("organization")
            identity = [payload.get(key) for key in _IDENTITY] + [signer]
            basis = json.dumps(identity, ensure_ascii=False, sort_keys=True, default=str).encode()
        else:
            basis = request.body
        version = _millis(payload.get("timestamp")) or _millis(payload.get("operateTime"))
        return [
            WebhookEvent(
                event_id=hashlib.sha256(basis).hexdigest()[:32],
                event_type=action,
                payload=payload,
                object_id=str(flow_id) if flow_id else None,
                object_version=version,
                occurred_at=None if version is None else datetime.fromtimestamp(version / 1000, UTC),
            )
        ]

    def reply(
        self, request: InboundRequest, events: Sequence[WebhookEvent], *, now: datetime
    ) -> WebhookReply:
        """Any 2xx stops e签宝's retries; this is the body its documentation recommends."""
        return WebhookReply(status=200, body=b'{"code":"200","msg":"success"}')


def _json_object(raw: bytes) -> dict[str, Any]:
    try:
        value = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise Unparsable("the callback body is not JSON") from None
    if not isinstance(value, dict):
        raise Unparsable("the callback body is not a JSON object")
    return value


def _millis(value: Any) -> int | None:
    """Epoch milliseconds as sent (a number or digits); anything else orders nothing."""
    if isinstance(value, int) and not isinstance(value, bool) and 0 < value < 10**15:
        return value
    if isinstance(value, str) and value.isascii() and value.isdigit() and 0 < len(value) < 16:
        return int(value) or None
    return None
