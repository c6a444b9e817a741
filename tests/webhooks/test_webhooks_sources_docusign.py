"""The built-in docusign source: Connect JSON SIM events with N HMAC headers."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import ValidationError

from plugins.sdk import InboundRequest, SignatureInvalid, Unparsable, WebhookRejected, docusign_signature
from plugins.webhook_sources import DocuSignConfig, DocuSignConnect

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
KEY_OLD, KEY_NEW = "connect-key-old", "connect-key-new"


def payload(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "event": "envelope-completed",
        "apiVersion": "v2.1",
        "uri": "/restapi/v2.1/accounts/acc-1/envelopes/env-1",
        "retryCount": 0,
        "configurationId": 10501,
        "generatedDateTime": "2026-03-01T11:58:30.1234567Z",
        "data": {"accountId": "acc-1", "userId": "u-1", "envelopeId": "env-1"},
    }
    data.update(overrides)
    return data


def request(raw: bytes, *keys: str) -> InboundRequest:
    headers = {f"x-docusign-signature-{n}": docusign_signature(key, raw) for n, key in enumerate(keys, 1)}
    headers["x-authorization-digest"] = "HMACSHA256"
    return InboundRequest("POST", "/webhooks/docusign/main", {}, headers, raw, NOW)


def source(*keys: str) -> DocuSignConnect:
    return DocuSignConnect(DocuSignConfig.model_validate({"hmac_keys": list(keys) or [KEY_NEW]}))


def test_event_with_two_signature_headers_during_rotation() -> None:
    raw = json.dumps(payload()).encode()
    [event] = source(KEY_NEW).verify(request(raw, KEY_OLD, KEY_NEW), now=NOW)
    assert event.event_type == "envelope-completed"
    assert event.object_id == "env-1"
    assert event.occurred_at == datetime(2026, 3, 1, 11, 58, 30, 123456, tzinfo=UTC)
    assert event.object_version == int(event.occurred_at.timestamp() * 1_000_000)
    # Either key configured alone verifies the same delivery.
    assert source(KEY_OLD).verify(request(raw, KEY_OLD, KEY_NEW), now=NOW)[0].event_id == event.event_id


def test_connect_retries_keep_the_event_id_and_events_differ() -> None:
    first = source().verify(request(json.dumps(payload()).encode(), KEY_NEW), now=NOW)[0]
    retry = source().verify(request(json.dumps(payload(retryCount=3)).encode(), KEY_NEW), now=NOW)[0]
    assert first.event_id == retry.event_id
    sent = source().verify(request(json.dumps(payload(event="envelope-sent")).encode(), KEY_NEW), now=NOW)[0]
    later = source().verify(
        request(json.dumps(payload(generatedDateTime="2026-03-01T11:59:00Z")).encode(), KEY_NEW), now=NOW
    )[0]
    assert len({first.event_id, sent.event_id, later.event_id}) == 3
    assert later.object_version is not None and first.object_version is not None
    assert later.object_version > first.object_version


def test_an_explicit_event_id_is_used() -> None:
    raw = json.dumps(payload(eventId="evt-123")).encode()
    assert source().verify(request(raw, KEY_NEW), now=NOW)[0].event_id == "evt-123"


RAW = json.dumps(payload()).encode()


@pytest.mark.parametrize(
    ("case", "req", "error"),
    [
        ("no signature headers", InboundRequest("POST", "/", {}, {}, RAW, NOW), SignatureInvalid),
        ("wrong key", request(RAW, "stranger"), SignatureInvalid),
        ("tampered", InboundRequest("POST", "/", {}, dict(request(RAW, KEY_NEW).headers), RAW.replace(b"env-1", b"env-2"), NOW), SignatureInvalid),
        ("not json", request(b"<xml/>", KEY_NEW), Unparsable),
        ("no event", request(json.dumps({"data": {}}).encode(), KEY_NEW), Unparsable),
        ("bad generatedDateTime", request(json.dumps(payload(generatedDateTime="noon")).encode(), KEY_NEW), Unparsable),
    ],
)  # fmt: skip
def test_refusals(case: str, req: InboundRequest, error: type[WebhookRejected]) -> None:
    with pytest.raises(error):
        source().verify(req, now=NOW)


def test_config_needs_a_key_and_hides_it() -> None:
    with pytest.raises(ValidationError):
        DocuSignConfig.model_validate({"hmac_keys": []})
    assert KEY_NEW not in repr(DocuSignConfig.model_validate({"hmac_keys": [KEY_NEW]}))
