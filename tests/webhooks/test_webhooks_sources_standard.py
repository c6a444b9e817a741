"""The built-in standard-webhooks and standard-webhooks-v1a sources, and the plugin that registers them."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
import standardwebhooks.webhooks
import svix.webhooks
from pydantic import ValidationError

from plugins.manager import DEFAULT_PLUGINS, make_plugin_manager
from plugins.sdk import (
    InboundRequest,
    SignatureInvalid,
    TimestampOutOfTolerance,
    Unparsable,
    WebhookRejected,
    WebhookSource,
    generate_ed25519_keypair,
    generate_standard_webhook_secret,
    sign_standard_webhook,
    sign_standard_webhook_v1a,
)
from plugins.webhook_sources import (
    DocuSignConnect,
    StandardWebhooks,
    StandardWebhooksConfig,
    StandardWebhooksV1a,
    StandardWebhooksV1aConfig,
    WeComCallbacks,
)

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
TS = int(NOW.timestamp())
SECRET, NEXT = generate_standard_webhook_secret(), generate_standard_webhook_secret()
SK, PK = generate_ed25519_keypair()


def body(**overrides: Any) -> bytes:
    payload: dict[str, Any] = {
        "type": "repayment.received",
        "timestamp": "2026-03-01T11:59:00Z",
        "data": {"id": "loan-42", "amount": "1000.00", "sequence": 7},
    }
    payload.update(overrides)
    return json.dumps(payload).encode()


def request(raw: bytes, signature: str, *, msg_id: str = "msg_1", ts: int = TS) -> InboundRequest:
    headers = {"webhook-id": msg_id, "webhook-timestamp": str(ts), "webhook-signature": signature}
    return InboundRequest("POST", "/webhooks/standard-webhooks/partner", {}, headers, raw, NOW)


def source(**config: Any) -> StandardWebhooks:
    return StandardWebhooks(
        StandardWebhooksConfig.model_validate({"secrets": [SECRET], **config}), instance="partner"
    )


def test_event_from_a_partner_signing_with_the_official_library() -> None:
    raw = body()
    signature = standardwebhooks.webhooks.Webhook(SECRET).sign("msg_lib", NOW, raw.decode())
    [event] = source().verify(request(raw, signature, msg_id="msg_lib"), now=NOW)
    assert event.event_id == "msg_lib"
    assert event.event_type == "repayment.received"
    assert event.object_id == "loan-42"
    assert event.object_version == int(datetime(2026, 3, 1, 11, 59, tzinfo=UTC).timestamp() * 1000)
    assert event.occurred_at == datetime(2026, 3, 1, 11, 59, tzinfo=UTC)
    assert event.payload["data"]["amount"] == "1000.00"


def test_svix_signer_and_rotation_with_two_active_secrets() -> None:
    raw = body()
    signature = svix.webhooks.Webhook(NEXT).sign("msg_svix", NOW, raw.decode())
    two = source(secrets=[SECRET, NEXT])
    assert two.verify(request(raw, signature, msg_id="msg_svix"), now=NOW)[0].event_id == "msg_svix"
    with pytest.raises(SignatureInvalid):
        source().verify(request(raw, signature, msg_id="msg_svix"), now=NOW)


def test_configurable_paths_and_integer_versions() -> None:
    raw = json.dumps({"event": {"kind": "lead.created"}, "lead": {"no": 9}, "seq": 12}).encode()
    src = source(
        event_type_path="event.kind",
        object_id_path="lead.no",
        object_version_path="seq",
        occurred_at_path=None,
    )
    [event] = src.verify(request(raw, sign_standard_webhook(SECRET, "msg_1", TS, raw)), now=NOW)
    assert (event.event_type, event.object_id, event.object_version, event.occurred_at) == (
        "lead.created",
        "9",
        12,
        None,
    )
    no_object = source(object_id_path=None, object_version_path=None)
    [event] = no_object.verify(request(body(), sign_standard_webhook(SECRET, "msg_1", TS, body())), now=NOW)
    assert event.object_id is None and event.object_version is None


def test_the_same_delivery_retried_keeps_its_event_id() -> None:
    raw = body()
    first = source().verify(
        request(raw, sign_standard_webhook(SECRET, "msg_r", TS, raw), msg_id="msg_r"), now=NOW
    )
    retry = source().verify(
        request(raw, sign_standard_webhook(SECRET, "msg_r", TS + 60, raw), msg_id="msg_r", ts=TS + 60),
        now=NOW,
    )
    assert first[0].event_id == retry[0].event_id == "msg_r"


def test_v1a_source() -> None:
    src = StandardWebhooksV1a(StandardWebhooksV1aConfig(public_keys=[PK]))
    raw = body()
    [event] = src.verify(
        request(raw, sign_standard_webhook_v1a(SK, "msg_a", TS, raw), msg_id="msg_a"), now=NOW
    )
    assert event.event_id == "msg_a"
    _, stranger = generate_ed25519_keypair()
    with pytest.raises(SignatureInvalid):
        StandardWebhooksV1a(StandardWebhooksV1aConfig(public_keys=[stranger])).verify(
            request(raw, sign_standard_webhook_v1a(SK, "msg_a", TS, raw), msg_id="msg_a"), now=NOW
        )
    with pytest.raises(SignatureInvalid):  # an HMAC signature is no use to a v1a source
        src.verify(request(raw, sign_standard_webhook(SECRET, "msg_a", TS, raw), msg_id="msg_a"), now=NOW)


def _signed(raw: bytes, ts: int = TS) -> InboundRequest:
    return request(raw, sign_standard_webhook(SECRET, "msg_1", ts, raw), ts=ts)


@pytest.mark.parametrize(
    ("case", "req", "error"),
    [
        ("wrong secret", request(body(), sign_standard_webhook(NEXT, "msg_1", TS, body())), SignatureInvalid),
        ("tampered", request(body(type="repayment.reversed"), sign_standard_webhook(SECRET, "msg_1", TS, body())), SignatureInvalid),
        ("replayed after 10 min", _signed(body(), TS - 600), TimestampOutOfTolerance),
        ("not json", _signed(b"amount=1000"), Unparsable),
        ("json array", _signed(b"[1, 2]"), Unparsable),
        ("not utf-8", _signed(b"\xff\xfe{}"), Unparsable),
        ("no type", _signed(json.dumps({"data": {"id": 1}}).encode()), Unparsable),
        ("type not a string", _signed(body(type=5)), Unparsable),
        ("object id not scalar", _signed(body(data={"id": {"x": 1}})), Unparsable),
        ("version garbage", _signed(body(timestamp="yesterday")), Unparsable),
        ("version beyond 64 bits", _signed(body(timestamp=2**64)), Unparsable),
        ("version NaN", _signed(b'{"type":"a","timestamp":NaN}'), Unparsable),
        ("duplicate keys smuggling", _signed(b'{"type":"a","type":"b","timestamp":1}'), None),
    ],
)  # fmt: skip
def test_refusals(case: str, req: InboundRequest, error: type[WebhookRejected] | None) -> None:
    if error is None:  # last one wins, as in every JSON parser the partner might use; still verified
        assert source().verify(req, now=NOW)[0].event_type == "b"
        return
    with pytest.raises(error) as caught:
        source().verify(req, now=NOW)
    assert "1000.00" not in str(caught.value) and SECRET[6:] not in str(caught.value)


@pytest.mark.parametrize(
    ("config", "field"),
    [
        ({"secrets": []}, "secrets"),
        ({"secrets": ["v1,whsec_abc"]}, "secrets[0] is not"),
        ({"secrets": ["whsec_c2hvcnQ="]}, "shorter than 16 bytes"),
        ({"secrets": [SECRET], "tolerance_seconds": 0}, "tolerance_seconds"),
        ({"secrets": [SECRET], "unknown": 1}, "unknown"),
    ],
)
def test_config_refuses_bad_secrets_without_echoing_them(config: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        StandardWebhooksConfig.model_validate(config)
    assert field in str(caught.value)
    assert "c2hvcnQ" not in str(caught.value)


@pytest.mark.parametrize("key", ["whsec_abc", "whpk_!!!", "whpk_" + "A" * 10])
def test_v1a_config_refuses_bad_public_keys(key: str) -> None:
    with pytest.raises(ValidationError):
        StandardWebhooksV1aConfig(public_keys=[key])


def test_secrets_are_masked_in_the_config_repr() -> None:
    assert SECRET not in repr(StandardWebhooksConfig(secrets=[SECRET]))  # type: ignore[list-item]


def test_register_webhook_sources_registers_builtin_and_vendor_sources() -> None:
    host = make_plugin_manager(
        load_entrypoints=False, builtins=(*DEFAULT_PLUGINS, "plugins.webhook_sources.plugin")
    )
    expected = {
        "standard-webhooks": StandardWebhooks,
        "standard-webhooks-v1a": StandardWebhooksV1a,
        "docusign": DocuSignConnect,
        "wecom": WeComCallbacks,
    }
    for name, cls in expected.items():
        registered = host.webhook_sources[name]
        assert registered.obj is cls and registered.plugin == "plugins.webhook_sources.plugin"
        assert issubclass(cls, WebhookSource) and cls.description
    for name in ("esign", "feishu", "dingtalk"):
        assert host.webhook_sources[name].plugin == f"connectors.{name}.plugin"


def test_the_default_2xx_body_is_json_as_its_content_type_says() -> None:
    raw = body()
    signature = standardwebhooks.webhooks.Webhook(SECRET).sign("msg_ok", NOW, raw.decode())
    req = request(raw, signature, msg_id="msg_ok")
    reply = source().reply(req, source().verify(req, now=NOW), now=NOW)
    assert reply.content_type == "application/json"
    assert json.loads(reply.body) == {"status": "accepted"}
