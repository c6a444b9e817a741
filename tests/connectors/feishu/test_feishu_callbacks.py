"""The simulator pushes approval events encrypted and signed like 飞书; a receiver verifies them."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import pytest
from feishu_helpers import make_connector, serve
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from waiting import wait_for

from connectors.feishu import crypto
from connectors.feishu.connector import FeishuApproval
from connectors.feishu.simulator import SANDBOX_APPROVAL_CODE, SANDBOX_CONFIG, create_app
from plugins.sdk.sandbox import DISHONEST_DEBTOR
from schemas.canonical.oa import ApprovalRequest, ApprovalStatus, ApprovalStatusChanged

KEY = str(SANDBOX_CONFIG["encrypt_key"])


def receiver(connector: FeishuApproval, received: list[ApprovalStatusChanged]) -> Starlette:
    async def hook(request: Request) -> Response:
        try:
            result = connector.open_event(request.headers, await request.body())
        except crypto.EventCryptoError as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        if isinstance(result, dict):
            return JSONResponse(result)
        received.append(result)
        return JSONResponse({"msg": "success"})

    return Starlette(routes=[Route("/webhooks/feishu", hook, methods=["POST"])])


@pytest.mark.parametrize("version", ["2.0", "1.0"])
async def test_status_callbacks_arrive_encrypted_signed_and_verifiable(version: str) -> None:
    received: list[ApprovalStatusChanged] = []
    with serve(receiver(make_connector("https://unused.invalid")[0], received)) as hook_url:
        app = create_app(callback_url=f"{hook_url}/webhooks/feishu", event_version=version)
        with serve(app) as url:
            connector, _ = make_connector(url)
            created = await connector.create_instance(
                ApprovalRequest(
                    template_code=SANDBOX_APPROVAL_CODE,
                    initiator="ou_x",
                    form={"borrower_id": DISHONEST_DEBTOR.id_number},
                    idempotency_key=f"cb-{version}",
                )
            )
            await wait_for(lambda: len(received) >= 2, within=5, what="both callbacks")
            await connector.aclose()
    assert [(e.instance_id, e.status) for e in received] == [
        (created.instance_id, ApprovalStatus.PENDING),
        (created.instance_id, ApprovalStatus.REJECTED),
    ]
    assert all(e.template_code == SANDBOX_APPROVAL_CODE for e in received)
    deliveries = app.app.state.simulator.deliveries
    assert all(d["delivered"] and d["attempts"] == 1 for d in deliveries)


def signed(body: bytes, *, ts: str | None = None, key: str = KEY) -> dict[str, str]:
    ts = ts or str(int(time.time()))
    return {
        "X-Lark-Request-Timestamp": ts,
        "X-Lark-Request-Nonce": "n1",
        "X-Lark-Signature": crypto.sign(ts, "n1", key, body),
    }


def sample_body() -> bytes:
    sim = create_app().app.state.simulator
    from connectors.feishu.simulator import _Instance

    inst = _Instance("CODE-1", "u1", SANDBOX_APPROVAL_CODE, "user_id", "x", "", "[]", time.time(), None)
    return sim.envelope(sim.event(inst, "APPROVED"))[0]


def test_receiver_accepts_a_genuine_event() -> None:
    connector = make_connector("https://unused.invalid")[0]
    body = sample_body()
    change = connector.open_event(signed(body), body)
    assert isinstance(change, ApprovalStatusChanged) and change.status is ApprovalStatus.APPROVED


@pytest.mark.parametrize(
    "tamper",
    ["body", "signature_key", "stale", "token"],
)
def test_receiver_refuses_tampered_stale_or_foreign_events(tamper: str) -> None:
    connector = make_connector("https://unused.invalid")[0]
    body = sample_body()
    headers = signed(body)
    if tamper == "body":
        envelope = json.loads(body)
        envelope["encrypt"] = envelope["encrypt"][:-8] + "AAAAAAA="
        body = json.dumps(envelope).encode()
    elif tamper == "signature_key":
        headers = signed(body, key="another-key")
    elif tamper == "stale":
        headers = signed(body, ts=str(int(time.time()) - 3600))
    else:
        connector = make_connector("https://unused.invalid", verification_token="other")[0]
    with pytest.raises(crypto.EventCryptoError):
        connector.open_event(headers, body)


def test_url_verification_challenge_is_answered() -> None:
    connector = make_connector("https://unused.invalid")[0]
    plain = json.dumps(
        {"challenge": "c-1", "token": SANDBOX_CONFIG["verification_token"], "type": "url_verification"}
    )
    body = json.dumps({"encrypt": crypto.encrypt(plain.encode(), KEY)}).encode()
    assert connector.open_event({}, body) == {"challenge": "c-1"}


def test_signature_and_encryption_match_the_published_vectors() -> None:
    assert (
        crypto.sign("1700000000", "nonce123", "encryptKeyXYZ", b'{"encrypt":"abc"}')
        == "5ee498a7d71c7591e4b02672f9acf1fefe24432f7f744a3039ff3767462cce04"
    )
    plain = json.dumps({"challenge": "c-123", "token": "vtok", "type": "url_verification"}).encode()
    expected = (
        "BwcHBwcHBwcHBwcHBwcHByNXyQ5FVaz16hcqxOoxGdFRPlSdQZefBjQpoBC4pGerEviuJ65An0x6JwbCIRwHPmum0oEQGgNdmRPw"
        "+xvnUyk+7D9zeL0BwpBWdrotDDuH"
    )
    assert crypto.encrypt(plain, "encryptKeyXYZ", iv=b"\x07" * 16) == expected
    assert crypto.decrypt(expected, "encryptKeyXYZ") == plain


def test_simulator_retries_until_the_receiver_answers_200() -> None:
    calls: list[int] = []

    async def flaky(request: Request) -> Response:
        calls.append(1)
        return JSONResponse({}, status_code=500 if len(calls) < 2 else 200)

    async def run(app: Any) -> dict[str, Any]:
        from connectors.feishu.simulator import _Instance

        sim = app.app.state.simulator
        inst = _Instance("CODE-2", "", SANDBOX_APPROVAL_CODE, "user_id", "x", "", "[]", time.time(), None)
        result: dict[str, Any] = await sim.push(inst, "APPROVED")
        return result

    with serve(Starlette(routes=[Route("/hook", flaky, methods=["POST"])])) as hook_url:
        record = asyncio.run(run(create_app(callback_url=f"{hook_url}/hook", callback_retry_delay=0.01)))
    assert record["delivered"] and record["attempts"] == 2 and record["responses"] == [500, 200]
