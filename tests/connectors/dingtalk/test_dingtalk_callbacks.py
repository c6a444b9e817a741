"""The simulator pushes callbacks signed and encrypted like 钉钉 and insists on the encrypted reply."""

from __future__ import annotations

import json
import time

import pytest
from dingtalk_helpers import make_connector, serve
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from waiting import wait_for

from connectors.dingtalk import crypto
from connectors.dingtalk.connector import DingTalkApproval
from connectors.dingtalk.simulator import SANDBOX_CONFIG, SANDBOX_PROCESS_CODE, create_app
from plugins.sdk.sandbox import DELINQUENT_BORROWER
from schemas.canonical.oa import ApprovalRequest, ApprovalStatus, ApprovalStatusChanged


def receiver(
    connector: DingTalkApproval, received: list[ApprovalStatusChanged], *, honest: bool = True
) -> Starlette:
    async def hook(request: Request) -> Response:
        try:
            change, reply = connector.open_callback(dict(request.query_params), await request.body())
        except crypto.CallbackCryptoError as exc:
            return JSONResponse({"error": str(exc), "code": exc.code}, status_code=400)
        if change is not None:
            received.append(change)
        return JSONResponse(reply if honest else {"msg": "success"})

    return Starlette(routes=[Route("/webhooks/dingtalk", hook, methods=["POST"])])


async def test_callbacks_are_verified_decrypted_and_acknowledged() -> None:
    received: list[ApprovalStatusChanged] = []
    with serve(receiver(make_connector("https://unused.invalid")[0], received)) as hook_url:
        app = create_app(callback_url=f"{hook_url}/webhooks/dingtalk")
        with serve(app) as url:
            connector, _ = make_connector(url)
            created = await connector.create_instance(
                ApprovalRequest(
                    template_code=SANDBOX_PROCESS_CODE,
                    initiator="u1",
                    form={"借款人证件号": DELINQUENT_BORROWER.id_number},
                    idempotency_key="cb-1",
                )
            )
            sim = app.app.state.simulator
            await wait_for(lambda: len(sim.deliveries) >= 4 and all(d["delivered"] for d in sim.deliveries))
            await connector.aclose()
    assert [(e.instance_id, e.status) for e in received] == [
        (created.instance_id, ApprovalStatus.PENDING),
        (created.instance_id, ApprovalStatus.REJECTED),
    ]
    kinds = [d["event"]["EventType"] for d in sim.deliveries]
    assert kinds == ["bpms_instance_change", "bpms_task_change", "bpms_task_change", "bpms_instance_change"]
    assert all(d["delivered"] and d["attempts"] == 1 for d in sim.deliveries)


async def test_simulator_retries_when_the_reply_is_not_the_encrypted_success() -> None:
    received: list[ApprovalStatusChanged] = []
    connector = make_connector("https://unused.invalid")[0]
    with serve(receiver(connector, received, honest=False)) as hook_url:
        app = create_app(callback_url=f"{hook_url}/webhooks/dingtalk", callback_retry_delay=0.01)
        sim = app.app.state.simulator
        record = await sim.push({"EventType": "check_url"})
    assert record["attempts"] == 3 and not record["delivered"] and record["responses"] == [200, 200, 200]


def genuine() -> tuple[dict[str, str], bytes]:
    sim = create_app().app.state.simulator
    event = {
        "EventType": "bpms_instance_change",
        "type": "finish",
        "result": "agree",
        "processInstanceId": "p-1",
        "processCode": SANDBOX_PROCESS_CODE,
        "createTime": 1717200000000,
        "finishTime": 1717203600000,
    }
    query, body = sim.signed(event)
    return query, body


def test_receiver_accepts_a_genuine_callback_and_replies_encrypted_success() -> None:
    connector = make_connector("https://unused.invalid")[0]
    change, reply = connector.open_callback(*genuine())
    assert change is not None and change.status is ApprovalStatus.APPROVED and change.instance_id == "p-1"
    box = crypto.CallbackCrypto(
        str(SANDBOX_CONFIG["callback_token"]), str(SANDBOX_CONFIG["aes_key"]), str(SANDBOX_CONFIG["app_key"])
    )
    box.verify(reply["msg_signature"], reply["timeStamp"], reply["nonce"], reply["encrypt"])
    assert box.decrypt(reply["encrypt"]) == "success"


@pytest.mark.parametrize(
    ("tamper", "code"), [("signature", -40001), ("stale", -40001), ("body", -40001), ("owner", -40005)]
)
def test_receiver_refuses_forged_stale_or_foreign_callbacks(tamper: str, code: int) -> None:
    connector = make_connector("https://unused.invalid")[0]
    query, body = genuine()
    if tamper == "signature":
        query["msg_signature"] = "0" * 40
    elif tamper == "stale":
        sim_box = crypto.CallbackCrypto(
            str(SANDBOX_CONFIG["callback_token"]), str(SANDBOX_CONFIG["aes_key"]), "x"
        )
        encrypt = json.loads(body)["encrypt"]
        query["timestamp"] = str(int((time.time() - 3600) * 1000))
        query["msg_signature"] = crypto.signature(sim_box.token, query["timestamp"], query["nonce"], encrypt)
    elif tamper == "body":
        body = json.dumps({"encrypt": json.loads(body)["encrypt"][:-8] + "AAAAAAA="}).encode()
    else:
        connector = make_connector("https://unused.invalid", app_key="another-app")[0]
    with pytest.raises(crypto.CallbackCryptoError) as caught:
        connector.open_callback(query, body)
    assert caught.value.code == code


def test_crypto_matches_the_official_test_vector() -> None:
    encrypted = (
        "0vJiX6vliEpwG3U45CtXqi+m8PXbQRARJ8p8BbDuD1EMTDf0jKpQ79QS93qEk7XHpP6u+oTTrd15NRPvNvmBKyDCYxxOK"
        "+HZeKju4yhELOFchzNukR+t8SB/qk4ROMu3"
    )
    box = crypto.CallbackCrypto(
        "mryue", "Yue0EfdN5900c1ce5cf6A152c63DDe1808a60c5ecd7", "ding6ccabc44d2c8d38b"
    )
    assert (
        crypto.signature("mryue", "1608001896814", "WL4PK6yA", encrypted)
        == "03044561471240d4a14bb09372dfcfd4fd0e40cb"
    )
    box.verify("03044561471240d4a14bb09372dfcfd4fd0e40cb", "1608001896814", "WL4PK6yA", encrypted)
    assert box.decrypt(encrypted) == '{"EventType":"check_url"}'
    assert box.decrypt(box.encrypt("success")) == "success"
