"""The feishu source: url_verification (plain and encrypted), encrypted events from the simulator, refusals."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import ValidationError

from connectors.feishu import crypto
from connectors.feishu.simulator import SANDBOX_CONFIG, SANDBOX_INSTANCES, FeishuSimulator
from connectors.feishu.webhook import FeishuEvents, FeishuWebhookConfig
from plugins.sdk import (
    InboundRequest,
    SignatureInvalid,
    TimestampOutOfTolerance,
    Undecryptable,
    Unparsable,
    WebhookRejected,
)

KEY = str(SANDBOX_CONFIG["encrypt_key"])
TOKEN = str(SANDBOX_CONFIG["verification_token"])


def source(**config: Any) -> FeishuEvents:
    values = {"encrypt_key": KEY, "verification_token": TOKEN, **config}
    return FeishuEvents(
        FeishuWebhookConfig.model_validate({k: v for k, v in values.items() if v is not None})
    )


def inbound(
    body: bytes, headers: dict[str, str] | None = None, *, now: datetime | None = None
) -> InboundRequest:
    return InboundRequest("POST", "/webhooks/feishu/main", {}, headers or {}, body, now or datetime.now(UTC))


def simulated(status: str = "APPROVED", **options: Any) -> tuple[InboundRequest, dict[str, Any]]:
    """An approval event encrypted and signed by the 飞书 simulator, exactly as it pushes it."""
    sim = FeishuSimulator(options)
    event = sim.event(sim.instances[SANDBOX_INSTANCES["clean"]], status)
    body, headers = sim.envelope(event)
    return inbound(body, headers), event


def test_card_signature_vector_verifies_then_decryption_fails() -> None:
    headers = {
        "x-lark-request-timestamp": "1700000000",
        "x-lark-request-nonce": "nonce123",
        "x-lark-signature": "5ee498a7d71c7591e4b02672f9acf1fefe24432f7f744a3039ff3767462cce04",
    }
    now = datetime.fromtimestamp(1700000000, UTC)
    with pytest.raises(Undecryptable):  # signature accepted; "abc" is not a ciphertext
        source(encrypt_key="encryptKeyXYZ").verify(inbound(b'{"encrypt":"abc"}', headers, now=now), now=now)


def test_encrypted_challenge_vector_is_answered() -> None:
    vector = (
        "BwcHBwcHBwcHBwcHBwcHByNXyQ5FVaz16hcqxOoxGdFRPlSdQZefBjQpoBC4pGerEviuJ65An0x6JwbCIRwHPmum0oEQGgNdm"
        "RPw+xvnUyk+7D9zeL0BwpBWdrotDDuH"
    )
    src = source(encrypt_key="encryptKeyXYZ", verification_token="vtok")
    reply = src.handshake(inbound(json.dumps({"encrypt": vector}).encode()), now=datetime.now(UTC))
    assert reply is not None and json.loads(reply.body) == {"challenge": "c-123"}


def test_plain_challenge_is_answered_and_its_token_checked() -> None:
    body = json.dumps({"challenge": "ch-9", "token": TOKEN, "type": "url_verification"}).encode()
    reply = source(encrypt_key=None).handshake(inbound(body), now=datetime.now(UTC))
    assert reply is not None and json.loads(reply.body) == {"challenge": "ch-9"}
    wrong = json.dumps({"challenge": "ch-9", "token": "guess", "type": "url_verification"}).encode()
    with pytest.raises(SignatureInvalid):
        source(encrypt_key=None).handshake(inbound(wrong), now=datetime.now(UTC))


def test_events_are_not_handshakes() -> None:
    request, _ = simulated()
    assert source().handshake(request, now=datetime.now(UTC)) is None
    assert source().handshake(inbound(b"garbage"), now=datetime.now(UTC)) is None


@pytest.mark.parametrize("version", ["2.0", "1.0"])
def test_simulator_event_verifies_and_decrypts(version: str) -> None:
    request, event = simulated(event_version=version)
    [found] = source().verify(request, now=datetime.now(UTC))
    if version == "2.0":
        assert found.event_id == event["header"]["event_id"]
        assert found.event_type == "approval.instance.status_changed"
    else:
        assert found.event_id == event["uuid"]
        assert found.event_type == "approval_instance"
    assert found.object_id == SANDBOX_INSTANCES["clean"]
    assert found.object_version == int(event["event"]["operate_time"])
    expected = {k: v for k, v in event.items() if k != "token"}
    if isinstance(expected.get("header"), dict):
        expected["header"] = {k: v for k, v in expected["header"].items() if k != "token"}
    assert found.payload == expected  # the event, minus its verification token
    assert "sandbox-feishu-verification-token" not in json.dumps(found.payload)
    reply = source().reply(request, [found], now=datetime.now(UTC))
    assert reply.status == 200 and json.loads(reply.body) == {"msg": "success"}


def test_plain_events_with_only_a_token() -> None:
    request, event = simulated(encrypt_key="")
    [found] = source(encrypt_key=None).verify(request, now=datetime.now(UTC))
    assert found.event_id == event["header"]["event_id"]


def _resigned(body: bytes, *, ts: int | None = None, key: str = KEY) -> InboundRequest:
    stamp = str(ts if ts is not None else int(datetime.now(UTC).timestamp()))
    headers = {
        "x-lark-request-timestamp": stamp,
        "x-lark-request-nonce": "n",
        "x-lark-signature": crypto.sign(stamp, "n", key, body),
    }
    return inbound(body, headers)


def _encrypted(event: dict[str, Any], key: str = KEY) -> bytes:
    return json.dumps({"encrypt": crypto.encrypt(json.dumps(event).encode(), key)}).encode()


GOOD, GOOD_EVENT = simulated()


def _headers(**changes: str) -> InboundRequest:
    headers = {k: v for k, v in GOOD.headers.items() if k not in changes}
    headers.update({k: v for k, v in changes.items() if v})
    return inbound(GOOD.body, headers)


@pytest.mark.parametrize(
    ("case", "make", "error"),
    [
        ("tampered body", lambda: inbound(GOOD.body.replace(b'"}', b'=="}'), dict(GOOD.headers)), SignatureInvalid),
        ("wrong signature", lambda: _headers(**{"x-lark-signature": "0" * 64}), SignatureInvalid),
        ("signature not hex", lambda: _headers(**{"x-lark-signature": "签" * 64}), SignatureInvalid),
        ("missing signature", lambda: _headers(**{"x-lark-signature": ""}), SignatureInvalid),
        ("missing timestamp", lambda: _headers(**{"x-lark-request-timestamp": ""}), SignatureInvalid),
        ("missing nonce", lambda: _headers(**{"x-lark-request-nonce": ""}), SignatureInvalid),
        ("signed with another key", lambda: _resigned(GOOD.body, key="other"), SignatureInvalid),
        ("stale", lambda: _resigned(GOOD.body, ts=int(datetime.now(UTC).timestamp()) - 301), TimestampOutOfTolerance),
        ("future", lambda: _resigned(GOOD.body, ts=int(datetime.now(UTC).timestamp()) + 301), TimestampOutOfTolerance),
        ("encrypted with another key", lambda: _resigned(_encrypted(GOOD_EVENT, "other")), Undecryptable),
        ("encrypt not base64", lambda: _resigned(b'{"encrypt":"%%%"}'), Undecryptable),
        ("encrypt not a string", lambda: _resigned(b'{"encrypt":5}'), Unparsable),
        ("decrypts to non-json", lambda: _resigned(json.dumps({"encrypt": crypto.encrypt(b"\xff\x00", KEY)}).encode()), Unparsable),
        ("wrong token", lambda: _resigned(_encrypted({**GOOD_EVENT, "header": {**GOOD_EVENT["header"], "token": "x"}})), SignatureInvalid),
        ("no event id", lambda: _resigned(_encrypted({**GOOD_EVENT, "header": {**GOOD_EVENT["header"], "event_id": ""}})), Unparsable),
        ("no event type", lambda: _resigned(_encrypted({**GOOD_EVENT, "header": {"token": TOKEN, "event_id": "e"}})), Unparsable),
        ("challenge posted as event", lambda: _resigned(_encrypted({"type": "url_verification", "token": TOKEN, "challenge": "c"})), Unparsable),
        ("not json", lambda: _resigned(b"not json"), Unparsable),
    ],
)  # fmt: skip
def test_refusals(case: str, make: Any, error: type[WebhookRejected]) -> None:
    with pytest.raises(error) as caught:
        source().verify(make(), now=datetime.now(UTC))
    assert KEY not in str(caught.value) and TOKEN not in str(caught.value)


def test_encrypted_event_without_a_key_is_undecryptable() -> None:
    with pytest.raises(Undecryptable):
        source(encrypt_key=None).verify(inbound(GOOD.body), now=datetime.now(UTC))


def test_config_needs_one_secret() -> None:
    with pytest.raises(ValidationError):
        FeishuWebhookConfig.model_validate({})
