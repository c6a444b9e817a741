"""Gateway signing (with a vector checked by openssl) and the error-mapping table, over respx."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx

from connectors.pboc import client
from connectors.pboc.connector import PbocCreditBureau
from connectors.pboc.simulator import SANDBOX_CONFIG
from plugins.sdk import (
    AuthError,
    ConnectorError,
    InvalidRequest,
    MemoryCallRecorder,
    NotFound,
    QuotaExhausted,
    RateLimited,
    TransientError,
    VendorContractError,
)
from plugins.sdk.sandbox import CLEAN_BORROWER
from schemas.canonical import PersonSubject

BASE = "https://zxqz.gateway.internal/api"
REPORT_URL = f"{BASE}/v1/pboc/personal-report"
FIXTURE = Path(__file__).parent / "fixtures" / "pboc_report_clean.json"

# Computed independently: printf '<string-to-sign>' | openssl dgst -sha256 -hmac '<secret>'
VECTOR = {
    "secret": "pboc-sandbox-secret-7d1f0a93",
    "method": "POST",
    "path": "/v1/pboc/personal-report",
    "timestamp": "1719713700",
    "nonce": "0123456789abcdef0123456789abcdef",
    "body": b'{"requestId":"r1"}',
    "string": "POST\n/v1/pboc/personal-report\n1719713700\n0123456789abcdef0123456789abcdef\n"
    "b3ab8e3803a145bdcd46a026a1d132d2378d9a95b74f59805fb333e072fcfb0f",
    "signature": "fce6c153b850fa81f3461638e24fcc9240f8d06f36c5d4f37568473529c9003e",
}


def test_string_to_sign_matches_vector() -> None:
    v = VECTOR
    assert client.string_to_sign(v["method"], v["path"], v["timestamp"], v["nonce"], v["body"]) == v["string"]


def test_signature_matches_vector() -> None:
    v = VECTOR
    assert (
        client.sign(v["secret"], v["method"], v["path"], v["timestamp"], v["nonce"], v["body"])
        == v["signature"]
    )


def test_signed_headers_carry_member_timestamp_nonce_signature() -> None:
    headers = client.signed_headers(
        member_code="LH1", secret=VECTOR["secret"], method="POST", path=VECTOR["path"],
        body=VECTOR["body"], now=1719713700.9, nonce=VECTOR["nonce"],
    )  # fmt: skip
    assert headers["X-Member-Code"] == "LH1"
    assert headers["X-Timestamp"] == "1719713700"
    assert headers["X-Signature"] == VECTOR["signature"]
    assert headers["Content-Type"].startswith("application/json")


def make(recorder: MemoryCallRecorder | None = None, **overrides: Any) -> PbocCreditBureau:
    async def no_sleep(_: float) -> None:
        return None

    config = PbocCreditBureau.Config(
        base_url=BASE, **{**SANDBOX_CONFIG, "backoff_initial": 0.0, "max_retry_after": 5.0, **overrides}
    )
    return PbocCreditBureau(config, recorder=recorder, sleep=no_sleep)


def subject() -> PersonSubject:
    return PersonSubject(name=CLEAN_BORROWER.name, id_number=CLEAN_BORROWER.id_number)


def envelope(code: str, message: str = "") -> dict[str, str]:
    return {"code": code, "message": message, "requestId": "r"}


@pytest.mark.parametrize(
    ("status", "body", "error", "attempts"),
    [
        (401, envelope("1001", "签名验证失败"), AuthError, 1),
        (401, envelope("1002", "时间戳超出允许范围"), AuthError, 1),
        (401, envelope("1003", "机构未开通或已停用"), AuthError, 1),
        (200, envelope("2001", "请求参数错误"), InvalidRequest, 1),
        (200, envelope("2002", "授权信息缺失或无效"), InvalidRequest, 1),
        (200, envelope("3001", "查询量已用尽"), QuotaExhausted, 1),
        (200, envelope("3002", "查询频率超限"), RateLimited, 3),
        (200, envelope("4001", "未查得信用报告"), NotFound, 1),
        (200, envelope("9001", "征信中心服务暂不可用"), TransientError, 3),
        (200, envelope("9002", "前置系统繁忙"), TransientError, 3),
        (200, envelope("8888", "新错误"), VendorContractError, 1),
        (503, {"error": "busy"}, TransientError, 3),
        (401, {"error": "proxy says no"}, AuthError, 1),
        (200, {"code": "0000", "message": "成功"}, VendorContractError, 1),  # success without report
        (200, "<html>gateway login</html>", VendorContractError, 1),
    ],
)
@respx.mock
async def test_error_mapping(status: int, body: Any, error: type[ConnectorError], attempts: int) -> None:
    if isinstance(body, str):
        route = respx.post(REPORT_URL).mock(return_value=httpx.Response(status, text=body))
    else:
        route = respx.post(REPORT_URL).mock(return_value=httpx.Response(status, json=body))
    recorder = MemoryCallRecorder()
    connector = make(recorder)
    with pytest.raises(error) as caught:
        await connector.fetch_report(subject(), authorization_id="AUTH-1")
    assert route.call_count == attempts
    assert [r.attempt for r in recorder.records] == list(range(1, attempts + 1))
    if isinstance(body, dict) and body.get("code", "0000") != "0000":
        assert caught.value.vendor_code == body["code"]
    await connector.aclose()


@respx.mock
async def test_rate_limit_code_honours_retry_after() -> None:
    sleeps: list[float] = []

    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)

    fixture = json.loads(FIXTURE.read_text("utf-8"))
    respx.post(REPORT_URL).mock(
        side_effect=[
            httpx.Response(200, json=envelope("3002"), headers={"Retry-After": "2"}),
            httpx.Response(200, json=fixture),
        ]
    )
    config = PbocCreditBureau.Config(base_url=BASE, **SANDBOX_CONFIG)
    connector = PbocCreditBureau(config, sleep=sleep)
    report = await connector.fetch_report(subject(), authorization_id="AUTH-1")
    assert report.report_id == "2024063010150012345678"
    assert sleeps == [2.0]
    await connector.aclose()


@respx.mock
async def test_request_is_signed_over_the_exact_body_and_path() -> None:
    fixture = json.loads(FIXTURE.read_text("utf-8"))
    route = respx.post(REPORT_URL).mock(return_value=httpx.Response(200, json=fixture))
    connector = make()
    await connector.fetch_report(subject(), authorization_id="AUTH-1")
    sent = route.calls.last.request
    h = sent.headers
    expected = client.sign(
        str(SANDBOX_CONFIG["secret"]), "POST", "/api/v1/pboc/personal-report", h["x-timestamp"], h["x-nonce"],
        sent.content,
    )  # fmt: skip
    assert h["x-signature"] == expected
    body = json.loads(sent.content)
    assert body["authorizationId"] == "AUTH-1" and body["queryReason"] == "02" and body["idType"] == "10"
    assert h["idempotency-key"] == body["requestId"]
    await connector.aclose()


@respx.mock
async def test_error_codes_are_configurable() -> None:
    respx.post(REPORT_URL).mock(return_value=httpx.Response(200, json=envelope("8888")))
    connector = make(error_codes={"8888": "not_found"})
    with pytest.raises(NotFound):
        await connector.fetch_report(subject(), authorization_id="AUTH-1")
    await connector.aclose()
