"""e签宝 end to end: the connector against its simulator over loopback HTTP.

Magic subjects, every injected fault (retries visible in the call log), the gateway refusing a
wrong secret, a stale timestamp and a tampered body, and callbacks verified by a receiver.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from esign_helpers import flow_request, make_connector, serve
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from waiting import wait_for

from connectors.esign import client
from connectors.esign.simulator import SANDBOX_APP_ID, SANDBOX_APP_SECRET, EsignSimulator
from plugins.manager import make_plugin_manager
from plugins.sdk import (
    AuthError,
    FaultInjector,
    InvalidRequest,
    NotFound,
    QuotaExhausted,
    RateLimited,
    TransientError,
    VendorContractError,
)
from plugins.sdk.sandbox import (
    ACTIVE_COMPANY,
    CLEAN_BORROWER,
    DELINQUENT_BORROWER,
    DISHONEST_DEBTOR,
    EXHAUSTED_CREDENTIAL,
    UNKNOWN_PERSON,
    SandboxPerson,
)
from schemas.canonical.esignature import Signer, SignerStatus, SignFlowStatus


def signer(person: SandboxPerson) -> Signer:
    return Signer(name=person.name, id_number=person.id_number, mobile=person.mobile)


class Receiver:
    """A LendHub-side webhook endpoint that verifies e签宝's signature on the raw bytes."""

    def __init__(self) -> None:
        self.verified: list[dict[str, Any]] = []
        self.refused = 0
        self.fail_first = 0
        self.app = Starlette(routes=[Route("/webhooks/esign", self.receive, methods=["POST"])])

    async def receive(self, request: Request) -> JSONResponse:
        raw = await request.body()
        query = dict(request.query_params)
        if not client.verify_callback(
            SANDBOX_APP_SECRET, dict(request.headers), raw, query=query, now_ms=int(time.time() * 1000)
        ):
            self.refused += 1
            return JSONResponse({"code": "401", "msg": "bad signature"}, status_code=401)
        if self.fail_first:
            self.fail_first -= 1
            return JSONResponse({"code": "500", "msg": "try later"}, status_code=500)
        self.verified.append(json.loads(raw))
        return JSONResponse({"code": "200", "msg": "success"})


@pytest.fixture
def receiver() -> Iterator[tuple[Receiver, str]]:
    rec = Receiver()
    with serve(rec.app) as url:
        yield rec, f"{url}/webhooks/esign?tenant=acme&belong=lendhub"


@pytest.fixture
def sim(receiver: tuple[Receiver, str]) -> Iterator[tuple[EsignSimulator, FaultInjector, str]]:
    simulator = EsignSimulator(callback_url=receiver[1], callback_retry_delay=0.02)
    injector = FaultInjector(simulator.app)
    with serve(injector) as url:
        yield simulator, injector, url


async def sign_all(url: str, flow_id: str) -> None:
    async with httpx.AsyncClient() as http:
        (await http.post(f"{url}/sandbox/flows/{flow_id}/sign-all")).raise_for_status()


async def test_clean_borrower_signs_and_the_signed_callback_verifies(sim: Any, receiver: Any) -> None:
    _, _, url = sim
    rec, _ = receiver
    connector, _ = make_connector(url)
    flow = await connector.create_flow(flow_request(signer(CLEAN_BORROWER)))
    assert flow.status is SignFlowStatus.SIGNING
    link = await connector.signing_url(flow.flow_id, signer=signer(CLEAN_BORROWER))
    assert link.startswith(url)
    with pytest.raises(InvalidRequest) as early:
        await connector.document_urls(flow.flow_id)
    assert early.value.vendor_code == "1437518"
    await sign_all(url, flow.flow_id)
    done = await connector.get_flow(flow.flow_id)
    assert done.status is SignFlowStatus.COMPLETED
    assert done.signers[0].status is SignerStatus.SIGNED
    assert [s for s, _ in done.history] == [
        SignFlowStatus.DRAFT,
        SignFlowStatus.SIGNING,
        SignFlowStatus.COMPLETED,
    ]
    assert list(await connector.document_urls(flow.flow_id)) == ["loan-contract.pdf"]
    await wait_for(lambda: any(e["action"] == "SIGN_FLOW_COMPLETE" for e in rec.verified))
    actions = [e["action"] for e in rec.verified]
    assert "SIGN_MISSON_COMPLETE" in actions
    final = next(e for e in rec.verified if e["action"] == "SIGN_FLOW_COMPLETE")
    assert final["signFlowId"] == flow.flow_id and final["signFlowStatus"] == "2"
    assert rec.refused == 0
    await connector.aclose()


async def test_callback_delivery_is_retried_until_accepted(sim: Any, receiver: Any) -> None:
    simulator, _, url = sim
    rec, _ = receiver
    rec.fail_first = 2
    connector, _ = make_connector(url)
    flow = await connector.create_flow(flow_request(signer(CLEAN_BORROWER), key="retry-callback"))
    await connector.revoke_flow(flow.flow_id, reason="客户取消")
    await wait_for(lambda: bool(rec.verified))
    assert rec.verified[0]["signFlowStatus"] == "3"
    assert simulator.deliveries[0]["attempts"] == 3 and simulator.deliveries[0]["delivered"]
    await connector.aclose()


async def test_a_callback_signed_with_another_secret_is_refused(receiver: Any) -> None:
    rec, callback_url = receiver
    impostor = EsignSimulator(
        app_secret="not-the-real-secret",
        callback_url=callback_url,
        callback_retries=1,
        callback_retry_delay=0.01,
    )
    with serve(impostor.app) as url:
        connector, _ = make_connector(url, app_secret="not-the-real-secret")
        flow = await connector.create_flow(flow_request(signer(CLEAN_BORROWER)))
        await connector.revoke_flow(flow.flow_id, reason="test")
        await wait_for(lambda: rec.refused >= 1)
        assert rec.verified == []
        await connector.aclose()


@pytest.mark.parametrize(
    ("person", "status"),
    [
        (DISHONEST_DEBTOR, SignFlowStatus.REJECTED),
        (DELINQUENT_BORROWER, SignFlowStatus.EXPIRED),
        (UNKNOWN_PERSON, SignFlowStatus.SIGNING),
    ],
)
async def test_magic_subjects_end_their_flows_as_documented(
    sim: Any, person: SandboxPerson, status: SignFlowStatus
) -> None:
    _, _, url = sim
    connector, _ = make_connector(url)
    flow = await connector.create_flow(flow_request(signer(person), key=f"magic-{person.key}"))
    await sign_all(url, flow.flow_id)
    assert (await connector.get_flow(flow.flow_id)).status is status
    await connector.aclose()


async def test_organisation_signer_signs_after_the_borrower(sim: Any) -> None:
    _, _, url = sim
    connector, _ = make_connector(url)
    org = Signer(
        name="李经理",
        mobile="17000000009",
        org_name=ACTIVE_COMPANY.name,
        org_id_number=ACTIVE_COMPANY.uscc,
        sign_order=2,
    )
    flow = await connector.create_flow(flow_request(signer(CLEAN_BORROWER), org, key="two-party"))
    assert [s.status for s in flow.signers] == [SignerStatus.SIGNING, SignerStatus.WAITING]
    await sign_all(url, flow.flow_id)
    done = await connector.get_flow(flow.flow_id)
    assert done.status is SignFlowStatus.COMPLETED and done.signers[1].org_name == ACTIVE_COMPANY.name
    await connector.aclose()


async def test_exhausted_app_gets_the_balance_error(sim: Any) -> None:
    _, _, url = sim
    connector, _ = make_connector(url, app_id=EXHAUSTED_CREDENTIAL)
    with pytest.raises(QuotaExhausted) as caught:
        await connector.create_flow(flow_request(signer(CLEAN_BORROWER)))
    assert caught.value.vendor_code == "1435405"
    await connector.aclose()


async def test_unknown_flow_is_not_found_and_check_connection_passes(sim: Any) -> None:
    _, _, url = sim
    connector, _ = make_connector(url)
    with pytest.raises(NotFound):
        await connector.get_flow("no-such-flow")
    await connector.check_connection()
    bad, _ = make_connector(url, app_secret="wrong-secret-123")
    with pytest.raises(AuthError):
        await bad.check_connection()
    await connector.aclose()
    await bad.aclose()


async def test_create_flow_is_idempotent_on_the_key(sim: Any) -> None:
    simulator, _, url = sim
    connector, _ = make_connector(url)
    first, second = await asyncio.gather(
        connector.create_flow(flow_request(signer(CLEAN_BORROWER), key="same")),
        connector.create_flow(flow_request(signer(CLEAN_BORROWER), key="same")),
    )
    assert first.flow_id == second.flow_id and len(simulator.flows) == 1
    other = await connector.create_flow(flow_request(signer(CLEAN_BORROWER), key="other"))
    assert other.flow_id != first.flow_id
    await connector.aclose()


async def test_a_lost_start_answer_is_resumed_not_duplicated(sim: Any) -> None:
    simulator, injector, url = sim
    connector, _ = make_connector(url)
    injector.plan.push("503", path_filter="/start")
    with pytest.raises(TransientError):
        await connector.create_flow(flow_request(signer(CLEAN_BORROWER), key="resume"))
    flow = await connector.create_flow(flow_request(signer(CLEAN_BORROWER), key="resume"))
    assert flow.status is SignFlowStatus.SIGNING and len(simulator.flows) == 1
    await connector.aclose()


@pytest.mark.parametrize(
    ("faults", "outcome", "attempts"),
    [
        (("503", "503"), None, 3),
        (("500",), None, 2),
        (("429:1",), None, 2),
        (("latency:0.2",), None, 1),
        (("timeout:1", "timeout:1", "timeout:1"), TransientError, 3),
        (("malformed",), VendorContractError, 1),
        (("401",), AuthError, 1),
        (("429:60",), RateLimited, 1),
    ],
)
async def test_injected_faults_on_detail(
    sim: Any, faults: tuple[str, ...], outcome: type[Exception] | None, attempts: int
) -> None:
    _, injector, url = sim
    connector, recorder = make_connector(url)
    flow = await connector.create_flow(flow_request(signer(CLEAN_BORROWER), key=f"faults-{faults}"))
    recorder.records.clear()
    injector.plan.push(*faults, path_filter="/detail")
    if outcome is None:
        assert (await connector.get_flow(flow.flow_id)).flow_id == flow.flow_id
    else:
        with pytest.raises(outcome):
            await connector.get_flow(flow.flow_id)
    rows = [r for r in recorder.records if r.operation == "get_flow"]
    assert [r.attempt for r in rows] == list(range(1, attempts + 1))
    await connector.aclose()


def _signed(
    method: str, path: str, body: bytes, *, secret: str = SANDBOX_APP_SECRET, ts: int | None = None
) -> dict[str, str]:
    return client.signed_headers(
        app_id=SANDBOX_APP_ID,
        secret=secret,
        method=method,
        path=path,
        body=body,
        timestamp_ms=ts if ts is not None else int(time.time() * 1000),
    )


@pytest.mark.parametrize(
    ("case", "fragment"),
    [
        ("wrong secret", "INVALID_SIGNATURE"),
        ("stale timestamp", "INVALID_TIMESTAMP"),
        ("tampered body", "INVALID_CONTENT_MD5"),
        ("tampered body and md5", "INVALID_SIGNATURE"),
        ("no auth mode", "TOKEN_CANT_BE_NULL"),
    ],
)
async def test_gateway_refuses_bad_requests_with_its_401_envelope(sim: Any, case: str, fragment: str) -> None:
    _, _, url = sim
    path = "/v3/files/file-upload-url"
    body = json.dumps({"fileName": "a.pdf", "fileSize": 4, "contentMd5": "x"}).encode()
    headers = _signed(
        "POST",
        path,
        body,
        secret="wrong" if case == "wrong secret" else SANDBOX_APP_SECRET,
        ts=int(time.time() * 1000) - 16 * 60 * 1000 if case == "stale timestamp" else None,
    )
    if case.startswith("tampered"):
        body = body.replace(b"a.pdf", b"b.pdf")
        if case == "tampered body and md5":
            headers["Content-MD5"] = client.content_md5(body)
    if case == "no auth mode":
        del headers["X-Tsign-Open-Auth-Mode"]
    async with httpx.AsyncClient() as http:
        answer = await http.post(f"{url}{path}", content=body, headers=headers)
    assert answer.status_code == 401
    payload = answer.json()
    assert payload["success"] is False and payload["code"] == 401 and fragment in payload["message"]


async def test_storage_host_refuses_bytes_that_do_not_match_content_md5(sim: Any) -> None:
    _, _, url = sim
    path = "/v3/files/file-upload-url"
    body = json.dumps(
        {
            "fileName": "a.pdf",
            "fileSize": 4,
            "contentMd5": client.content_md5(b"%PDF"),
            "contentType": "application/octet-stream",
        }
    ).encode()
    async with httpx.AsyncClient() as http:
        answer = (await http.post(f"{url}{path}", content=body, headers=_signed("POST", path, body))).json()
        upload = answer["data"]["fileUploadUrl"]
        bad = await http.put(
            upload,
            content=b"%PDX",
            headers={"Content-MD5": client.content_md5(b"%PDF"), "Content-Type": "application/octet-stream"},
        )
    assert bad.status_code == 400 and bad.json()["errCode"] != 0


def test_plugin_registers_the_connector() -> None:
    from connectors.esign import plugin

    host = make_plugin_manager(load_entrypoints=False)
    host.add_plugin("connectors.esign.plugin", plugin)
    assert "esign" in host.connectors
