"""The dingtalk source: events encrypted by the simulator, check_url, the encrypted success reply, refusals."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from pydantic import ValidationError

from connectors.dingtalk import crypto
from connectors.dingtalk.simulator import SANDBOX_CONFIG, DingTalkSimulator
from connectors.dingtalk.webhook import DingTalkEvents, DingTalkWebhookConfig
from plugins.sdk import (
    InboundRequest,
    SignatureInvalid,
    TimestampOutOfTolerance,
    Undecryptable,
    Unparsable,
    WebhookRejected,
)

TOKEN, AES_KEY, APP_KEY = (str(SANDBOX_CONFIG[k]) for k in ("callback_token", "aes_key", "app_key"))
SIM = DingTalkSimulator({})  # plays 钉钉: encrypts and signs with the app's token and key

INSTANCE_FINISH = {
    "EventType": "bpms_instance_change",
    "type": "finish",
    "result": "agree",
    "processInstanceId": "proc-1",
    "corpId": "dingsandboxcorp",
    "processCode": "PROC-LENDHUB-LOAN-0001",
    "title": "张三提交的贷款审批",
    "staffId": "manager01",
    "createTime": 1772362800000,
    "finishTime": 1772366400000,
}


def source(**config: Any) -> DingTalkEvents:
    values = {"callback_token": TOKEN, "aes_key": AES_KEY, "owner_key": APP_KEY, **config}
    return DingTalkEvents(DingTalkWebhookConfig.model_validate(values))


def pushed(event: dict[str, Any], sim: DingTalkSimulator = SIM) -> InboundRequest:
    query, body = sim.signed(event)
    return InboundRequest(
        "POST",
        "/webhooks/dingtalk/main",
        query,
        {"content-type": "application/json"},
        body,
        datetime.now(UTC),
    )


def now() -> datetime:
    return datetime.now(UTC)


def test_official_vector_check_url_is_answered() -> None:
    vector_encrypt = (
        "0vJiX6vliEpwG3U45CtXqi+m8PXbQRARJ8p8BbDuD1EMTDf0jKpQ79QS93qEk7XHpP6u+oTTrd15NRPvNvmBKyDCYxxOK"
        "+HZeKju4yhELOFchzNukR+t8SB/qk4ROMu3"
    )
    query = {
        "msg_signature": "03044561471240d4a14bb09372dfcfd4fd0e40cb",
        "timestamp": "1608001896814",
        "nonce": "WL4PK6yA",
    }
    request = InboundRequest("POST", "/", query, {}, json.dumps({"encrypt": vector_encrypt}).encode(), now())
    src = DingTalkEvents(
        DingTalkWebhookConfig(
            callback_token="mryue",  # type: ignore[arg-type]
            aes_key="Yue0EfdN5900c1ce5cf6A152c63DDe1808a60c5ecd7",  # type: ignore[arg-type]
            owner_key="ding6ccabc44d2c8d38b",  # type: ignore[arg-type]
            tolerance_seconds=10**9,
        )
    )
    reply = src.handshake(request, now=datetime.fromtimestamp(1608001896, UTC))
    assert reply is not None
    answer = json.loads(reply.body)
    box = crypto.CallbackCrypto(
        "mryue", "Yue0EfdN5900c1ce5cf6A152c63DDe1808a60c5ecd7", "ding6ccabc44d2c8d38b"
    )
    box.verify(answer["msg_signature"], answer["timeStamp"], answer["nonce"], answer["encrypt"])
    assert box.decrypt(answer["encrypt"]) == "success"
    assert src.verify(request, now=datetime.fromtimestamp(1608001896, UTC)) == []


def test_simulator_check_url_gets_a_reply_the_simulator_accepts() -> None:
    request = pushed({"EventType": "check_url"})
    reply = source().handshake(request, now=now())
    assert reply is not None
    assert SIM.reply_ok(httpx.Response(reply.status, content=reply.body))


def test_instance_event_verifies_and_orders_by_time() -> None:
    request = pushed(INSTANCE_FINISH)
    assert source().handshake(request, now=now()) is None
    [event] = source().verify(request, now=now())
    assert event.event_type == "bpms_instance_change"
    assert event.object_id == "proc-1"
    assert event.object_version == 1772366400000
    assert event.payload["result"] == "agree"
    # Same id as the connector's own ApprovalStatusChanged, and stable across re-encrypted retries.
    change, _ = _open_with_connector(request)
    assert change is not None and event.event_id == change.event_id
    assert source().verify(pushed(INSTANCE_FINISH), now=now())[0].event_id == event.event_id
    start = source().verify(pushed({**INSTANCE_FINISH, "type": "start", "finishTime": None}), now=now())[0]
    assert start.event_id != event.event_id and start.object_version is not None
    assert start.object_version < event.object_version


def _open_with_connector(request: InboundRequest) -> Any:
    from connectors.dingtalk.connector import DingTalkApproval, DingTalkConfig

    config = DingTalkConfig(app_key=APP_KEY, app_secret="s", callback_token=TOKEN, aes_key=AES_KEY)  # type: ignore[arg-type]
    return DingTalkApproval(config).open_callback(request.query, request.body)


def test_task_events_get_a_content_id_and_no_object() -> None:
    task = {
        "EventType": "bpms_task_change",
        "type": "finish",
        "result": "agree",
        "processInstanceId": "proc-1",
        "staffId": "u1",
        "createTime": 1,
    }
    [event] = source().verify(pushed(task), now=now())
    assert event.object_id is None and len(event.event_id) == 32
    assert source().verify(pushed(task), now=now())[0].event_id == event.event_id


def test_reply_is_the_encrypted_success_the_simulator_accepts() -> None:
    request = pushed(INSTANCE_FINISH)
    reply = source().reply(request, source().verify(request, now=now()), now=now())
    assert reply.status == 200
    assert SIM.reply_ok(httpx.Response(200, content=reply.body))


def _query(**changes: str) -> InboundRequest:
    good = pushed(INSTANCE_FINISH)
    query = {k: v for k, v in {**good.query, **changes}.items() if v}
    return InboundRequest("POST", "/", query, {}, good.body, now())


def _stale(offset_ms: int) -> InboundRequest:
    encrypt = SIM.crypto.encrypt(json.dumps(INSTANCE_FINISH))
    ts = str(int(time.time() * 1000) + offset_ms)
    query = {"msg_signature": crypto.signature(TOKEN, ts, "n", encrypt), "timestamp": ts, "nonce": "n"}
    return InboundRequest("POST", "/", query, {}, json.dumps({"encrypt": encrypt}).encode(), now())


def _signed_plain(message: str, *, box: crypto.CallbackCrypto | None = None) -> InboundRequest:
    encrypt = (box or SIM.crypto).encrypt(message)
    ts = str(int(time.time() * 1000))
    query = {"signature": crypto.signature(TOKEN, ts, "n", encrypt), "timestamp": ts, "nonce": "n"}
    return InboundRequest("POST", "/", query, {}, json.dumps({"encrypt": encrypt}).encode(), now())


@pytest.mark.parametrize(
    ("case", "make", "error"),
    [
        ("wrong signature", lambda: _query(msg_signature="0" * 40), SignatureInvalid),
        ("non-ascii signature", lambda: _query(msg_signature="签名"), SignatureInvalid),
        ("missing signature", lambda: _query(msg_signature=""), SignatureInvalid),
        ("missing nonce", lambda: _query(nonce=""), SignatureInvalid),
        ("timestamp changed", lambda: _query(timestamp="1"), SignatureInvalid),
        ("stale", lambda: _stale(-301_000), TimestampOutOfTolerance),
        ("future", lambda: _stale(301_000), TimestampOutOfTolerance),
        ("other app (owner key)", lambda: pushed(INSTANCE_FINISH, DingTalkSimulator({"app_key": "intruder"})), Undecryptable),
        ("other aes key", lambda: _signed_plain("{}", box=crypto.CallbackCrypto(TOKEN, "A" * 43, APP_KEY)), Undecryptable),
        ("body not json", lambda: InboundRequest("POST", "/", {}, {}, b"encrypt=1", now()), Unparsable),
        ("body without encrypt", lambda: InboundRequest("POST", "/", {}, {}, b'{"data": 1}', now()), Unparsable),
        ("decrypted not json", lambda: _signed_plain("success"), Unparsable),
        ("decrypted not an object", lambda: _signed_plain("[1]"), Unparsable),
        ("no EventType", lambda: _signed_plain('{"type": "x"}'), Unparsable),
        ("instance change without id", lambda: _signed_plain(json.dumps({**INSTANCE_FINISH, "processInstanceId": None})), Unparsable),
        ("instance change with absurd time", lambda: _signed_plain(json.dumps({**INSTANCE_FINISH, "finishTime": 10**30})), Unparsable),
    ],
)  # fmt: skip
def test_refusals(case: str, make: Any, error: type[WebhookRejected]) -> None:
    request = make()
    with pytest.raises(error) as caught:
        source().verify(request, now=now())
    assert AES_KEY not in str(caught.value) and "贷款审批" not in str(caught.value)
    assert source().handshake(request, now=now()) is None  # refusals are left to verify


def test_config_validation() -> None:
    with pytest.raises(ValidationError):
        DingTalkWebhookConfig.model_validate(
            {"callback_token": TOKEN, "aes_key": "short", "owner_key": APP_KEY}
        )
