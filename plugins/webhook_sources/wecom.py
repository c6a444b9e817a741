"""企业微信 (WeCom) callbacks: SHA-1 ``msg_signature``, AES-256-CBC, XML, the encrypted reply.

* URL verification: ``GET ?msg_signature&timestamp&nonce&echostr`` — the signature covers
  ``echostr``; the answer is the decrypted echostr in plain text (:meth:`WeComCallbacks.handshake`).
* Events: ``POST ?msg_signature&timestamp&nonce`` with ``<xml><Encrypt>…</Encrypt></xml>``; the
  decrypted message is XML again (``MsgType``, ``Event``, ``ApprovalInfo``…).

企业微信 events carry no id, and retries resend the same message, so the event id is the
SHA-256 of the decrypted message (or its ``MsgId`` for chat messages). XML with a DOCTYPE is
refused before parsing: no entity expansion reaches the parser.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from datetime import datetime
from typing import Any, ClassVar
from xml.etree import ElementTree

from pydantic import ConfigDict, Field

from plugins.sdk import (
    CallbackCrypto,
    CallbackCryptoError,
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

from ._payload import to_datetime, to_version

__all__ = ["WeComCallbacks", "WeComConfig", "xml_to_dict"]


class WeComConfig(WebhookSourceConfig):
    """One 企业微信 app's callback settings.

    Args:
        token: the callback Token.
        encoding_aes_key: the 43-character EncodingAESKey.
        corp_id: the receiveid checked inside every message (the CorpID, or a suite id).
        tolerance_seconds: how far the signed ``timestamp`` (seconds) may be from now.
    """

    # Validation errors must not quote a rejected secret back.
    model_config = ConfigDict(hide_input_in_errors=True)

    token: SecretStr
    encoding_aes_key: SecretStr = Field(min_length=43, max_length=43)
    corp_id: str = Field(min_length=1)


def xml_to_dict(raw: bytes | str, *, what: str) -> dict[str, Any]:
    """Parse a small, flat-ish vendor XML document into nested dicts (repeated tags → lists).

    Raises:
        Unparsable: not XML, or a DOCTYPE/ENTITY declaration (refused, never expanded).
    """
    text = raw if isinstance(raw, bytes) else raw.encode()
    upper = text.upper()
    if b"<!DOCTYPE" in upper or b"<!ENTITY" in upper:
        raise Unparsable(f"{what} declares a DOCTYPE or entity")
    try:
        root = ElementTree.fromstring(text)
    except ElementTree.ParseError:
        raise Unparsable(f"{what} is not XML") from None
    value = _element(root)
    return value if isinstance(value, dict) else {}


def _element(node: ElementTree.Element) -> Any:
    children = list(node)
    if not children:
        return (node.text or "").strip()
    result: dict[str, Any] = {}
    for child in children:
        value = _element(child)
        if child.tag in result:
            existing = result[child.tag]
            result[child.tag] = [*existing, value] if isinstance(existing, list) else [existing, value]
        else:
            result[child.tag] = value
    return result


class WeComCallbacks(WebhookSource):
    """企业微信 callbacks (审批 ``sys_approval_change`` and any other event or message)."""

    name: ClassVar[str] = "wecom"
    description: ClassVar[str] = "企业微信 callbacks: SHA-1 msg_signature, AES-256-CBC, encrypted reply"
    Config: ClassVar[type[WebhookSourceConfig]] = WeComConfig
    config: WeComConfig

    def _crypto(self) -> CallbackCrypto:
        return CallbackCrypto(
            self.config.token.get_secret_value(),
            self.config.encoding_aes_key.get_secret_value(),
            self.config.corp_id,
        )

    def _open(self, request: InboundRequest, encrypt: str, *, now: datetime) -> str:
        query = request.query
        timestamp, nonce = query.get("timestamp", ""), query.get("nonce", "")
        signature = query.get("msg_signature", "")
        if not signature or not timestamp or not nonce:
            raise SignatureInvalid("msg_signature, timestamp and nonce query parameters are required")
        box = self._crypto()
        try:
            box.verify(signature, timestamp, nonce, encrypt)
        except CallbackCryptoError as exc:
            raise exc.rejection() from None
        if not timestamp.isascii() or not timestamp.isdigit():
            raise SignatureInvalid("the timestamp query parameter is not Unix seconds")
        if abs(int(timestamp) - now.timestamp()) > self.config.tolerance_seconds:
            limit = self.config.tolerance_seconds
            raise TimestampOutOfTolerance(f"timestamp is more than {limit} s from now")
        try:
            return box.decrypt(encrypt)
        except CallbackCryptoError as exc:
            raise exc.rejection() from None

    def handshake(self, request: InboundRequest, *, now: datetime) -> WebhookReply | None:
        """Answer the GET URL verification with the decrypted ``echostr``; ``None`` for a POST."""
        if request.method.upper() != "GET":
            return None
        echostr = request.query.get("echostr", "")
        if not echostr:
            raise Unparsable("URL verification without an echostr query parameter")
        plain = self._open(request, echostr, now=now)
        return WebhookReply(status=200, body=plain.encode(), content_type="text/plain")

    def verify(self, request: InboundRequest, *, now: datetime) -> Sequence[WebhookEvent]:
        """Verify and decrypt ``<xml><Encrypt>``, then read the message inside."""
        outer = xml_to_dict(request.body, what="the body")
        encrypt = outer.get("Encrypt")
        if not isinstance(encrypt, str) or not encrypt:
            raise Unparsable("the body has no <Encrypt> element")
        message = self._open(request, encrypt, now=now)
        payload = xml_to_dict(message, what="the decrypted message")
        kind = payload.get("MsgType")
        event_type = payload.get("Event") if kind == "event" else kind
        if not isinstance(event_type, str) or not event_type:
            raise Unparsable("the decrypted message has no MsgType/Event")
        approval = payload.get("ApprovalInfo")
        object_id = approval.get("SpNo") if isinstance(approval, dict) else None
        msg_id = payload.get("MsgId")
        event_id = msg_id if isinstance(msg_id, str) and msg_id else None
        return [
            WebhookEvent(
                event_id=event_id or hashlib.sha256(message.encode()).hexdigest()[:32],
                event_type=event_type,
                payload=payload,
                object_id=object_id if isinstance(object_id, str) and object_id else None,
                object_version=to_version(payload.get("CreateTime") or None, field="CreateTime"),
                occurred_at=to_datetime(payload.get("CreateTime")),
            )
        ]

    def reply(
        self, request: InboundRequest, events: Sequence[WebhookEvent], *, now: datetime
    ) -> WebhookReply:
        """The encrypted ``success``, signed, as 企业微信's passive-reply XML."""
        body = self._crypto().reply_xml("success", str(int(now.timestamp())), secrets.token_hex(8))
        return WebhookReply(status=200, body=body.encode(), content_type="application/xml")
