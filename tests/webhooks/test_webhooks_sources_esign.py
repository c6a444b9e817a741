"""The esign source: callbacks exactly as the e签宝 simulator delivers them, and every refusal."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
import respx

from connectors.esign import client
from connectors.esign.simulator import SANDBOX_APP_ID, SANDBOX_APP_SECRET, EsignSimulator
from connectors.esign.webhook import EsignCallbacks, EsignWebhookConfig
from plugins.sdk import InboundRequest, SignatureInvalid, TimestampOutOfTolerance, Unparsable, WebhookRejected

NOTIFY = "https://lendhub.example/webhooks/esign/main?orderNo=001&belong=pinjie"
QUERY = {"orderNo": "001", "belong": "pinjie"}
NOW_MS = 1772366400000
NOW = datetime.fromtimestamp(NOW_MS / 1000, UTC)

FLOW_COMPLETE = {
    "action": "SIGN_FLOW_COMPLETE",
    "timestamp": NOW_MS - 2000,
    "signFlowId": "flow-1",
    "signFlowTitle": "借款合同",
    "signFlowStatus": "2",
    "statusDescription": "完成",
    "signFlowCreateTime": NOW_MS - 60000,
    "signFlowStartTime": NOW_MS - 50000,
    "signFlowFinishTime": NOW_MS - 2000,
}
MISSION = {
    "action": "SIGN_MISSON_COMPLETE",
    "timestamp": NOW_MS - 3000,
    "signFlowId": "flow-1",
    "customBizNum": "biz-1",
    "signOrder": 1,
    "operateTime": NOW_MS - 3000,
    "signResult": 2,
    "resultDescription": "签署完成",
    "psnAccount": "13800000000",
}


async def delivered(
    payload: dict[str, Any], *, clock_ms: int = NOW_MS, secret: str = SANDBOX_APP_SECRET
) -> InboundRequest:
    """Let the simulator deliver ``payload`` and capture the request it sends, bytes and all."""
    sim = EsignSimulator(
        app_secret=secret, callback_retries=1, callback_retry_delay=0, clock=lambda: clock_ms / 1000
    )
    with respx.mock(assert_all_called=True) as mock:
        route = mock.post(url__startswith="https://lendhub.example/").mock(return_value=httpx.Response(200))
        await sim._deliver(NOTIFY, SANDBOX_APP_ID, payload)
    sent = route.calls.last.request
    headers = {k.lower(): v for k, v in sent.headers.items()}
    query = dict(httpx.QueryParams(sent.url.query))
    return InboundRequest("POST", sent.url.path, query, headers, sent.content, NOW)


def source(**config: Any) -> EsignCallbacks:
    return EsignCallbacks(EsignWebhookConfig.model_validate({"app_secret": SANDBOX_APP_SECRET, **config}))


async def test_simulator_callbacks_verify() -> None:
    request = await delivered(FLOW_COMPLETE)
    assert request.query == QUERY
    [event] = source(app_id=SANDBOX_APP_ID).verify(request, now=NOW)
    assert event.event_type == "SIGN_FLOW_COMPLETE"
    assert event.object_id == "flow-1"
    assert event.object_version == NOW_MS - 2000
    assert event.occurred_at == datetime.fromtimestamp((NOW_MS - 2000) / 1000, UTC)
    assert event.payload["signFlowTitle"] == "借款合同"
    reply = source().reply(request, [event], now=NOW)
    assert reply.status == 200 and json.loads(reply.body) == {"code": "200", "msg": "success"}


async def test_event_ids_ignore_the_delivery_timestamp_and_tell_events_apart() -> None:
    first = source().verify(await delivered(FLOW_COMPLETE), now=NOW)[0]
    again = source().verify(
        await delivered({**FLOW_COMPLETE, "timestamp": NOW_MS - 1000}, clock_ms=NOW_MS + 5), now=NOW
    )[0]
    mission = source().verify(await delivered(MISSION), now=NOW)[0]
    revoked = source().verify(await delivered({**FLOW_COMPLETE, "signFlowStatus": "3"}), now=NOW)[0]
    assert first.event_id == again.event_id
    assert len({first.event_id, mission.event_id, revoked.event_id}) == 3
    assert mission.object_version is not None and first.object_version is not None
    assert mission.object_version < first.object_version


async def test_tolerance_zero_turns_the_window_off() -> None:
    request = await delivered(FLOW_COMPLETE, clock_ms=NOW_MS - 86_400_000)
    assert source(tolerance_seconds=0).verify(request, now=NOW)[0].event_type == "SIGN_FLOW_COMPLETE"
    with pytest.raises(TimestampOutOfTolerance):
        source().verify(request, now=NOW)


def _request(body: bytes, **headers: str) -> InboundRequest:
    ts = headers.pop("ts", str(NOW_MS))
    base = {
        "x-tsign-open-app-id": SANDBOX_APP_ID,
        "x-tsign-open-timestamp": ts,
        "x-tsign-open-signature": client.callback_signature(SANDBOX_APP_SECRET, ts, QUERY, body),
        "x-tsign-open-signature-algorithm": "hmac-sha256",
    }
    base.update({k.replace("_", "-"): v for k, v in headers.items()})
    return InboundRequest("POST", "/", QUERY, {k: v for k, v in base.items() if v}, body, NOW)


RAW = json.dumps(FLOW_COMPLETE, ensure_ascii=False).encode()


@pytest.mark.parametrize(
    ("case", "make", "error"),
    [
        ("tampered body", lambda: InboundRequest("POST", "/", QUERY, dict(_request(RAW).headers), RAW.replace(b'"2"', b'"3"'), NOW), SignatureInvalid),
        ("query dropped", lambda: InboundRequest("POST", "/", {}, dict(_request(RAW).headers), RAW, NOW), SignatureInvalid),
        ("wrong secret", lambda: InboundRequest("POST", "/", QUERY, {**_request(RAW).headers, "x-tsign-open-signature": client.callback_signature("other", str(NOW_MS), QUERY, RAW)}, RAW, NOW), SignatureInvalid),
        ("missing signature", lambda: _request(RAW, x_tsign_open_signature=""), SignatureInvalid),
        ("missing timestamp", lambda: _request(RAW, x_tsign_open_timestamp=""), SignatureInvalid),
        ("non-ascii signature", lambda: _request(RAW, x_tsign_open_signature="签名"), SignatureInvalid),
        ("other algorithm", lambda: _request(RAW, x_tsign_open_signature_algorithm="hmac-sha1"), SignatureInvalid),
        ("other app", lambda: _request(RAW, x_tsign_open_app_id="another-app"), SignatureInvalid),
        ("timestamp not digits", lambda: _request(RAW, ts="1e12"), SignatureInvalid),
        ("stale", lambda: _request(RAW, ts=str(NOW_MS - 901_000)), TimestampOutOfTolerance),
        ("future", lambda: _request(RAW, ts=str(NOW_MS + 901_000)), TimestampOutOfTolerance),
        ("not json", lambda: _request(b"action=SIGN_FLOW_COMPLETE"), Unparsable),
        ("json list", lambda: _request(b"[]"), Unparsable),
        ("no action", lambda: _request(b'{"signFlowId": "f"}'), Unparsable),
    ],
)  # fmt: skip
def test_refusals(case: str, make: Any, error: type[WebhookRejected]) -> None:
    with pytest.raises(error) as caught:
        source(app_id=SANDBOX_APP_ID).verify(make(), now=NOW)
    assert SANDBOX_APP_SECRET not in str(caught.value) and "借款合同" not in str(caught.value)


def test_actions_without_a_flow_are_keyed_by_their_body() -> None:
    body = b'{"action":"AUTH_PASS","psnId":"p-1"}'
    [event] = source().verify(_request(body), now=NOW)
    assert event.event_type == "AUTH_PASS" and event.object_id is None and event.object_version is None
