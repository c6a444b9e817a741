"""百行 wire details: Basic auth, RSA field encryption, and the errorCode mapping table over respx."""

from __future__ import annotations

import base64
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from pydantic import ValidationError

from connectors.baihang import client
from connectors.baihang.connector import BaihangConfig, BaihangCreditBureau
from connectors.baihang.simulator import SANDBOX_CONFIG, SANDBOX_PRIVATE_KEY, SANDBOX_PUBLIC_KEY
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

BASE = "https://zxpt.baihangcredit.com:8443"
URL = f"{BASE}/api/v1/credit/report"
FIXTURE = Path(__file__).parent / "fixtures" / "baihang_report_clean.json"


def private_key() -> rsa.RSAPrivateKey:
    key = serialization.load_pem_private_key(SANDBOX_PRIVATE_KEY.encode(), password=None)
    assert isinstance(key, rsa.RSAPrivateKey)
    return key


def test_basic_auth_header() -> None:
    # printf 'XXXX_A0001:secret' | base64
    assert client.basic_auth("XXXX_A0001", "secret") == "Basic WFhYWF9BMDAwMTpzZWNyZXQ="


@pytest.mark.parametrize("scheme", ["pkcs1v15", "oaep-sha256"])
def test_encrypted_field_decrypts_with_the_private_key(scheme: client.Padding) -> None:
    public = client.load_public_key(SANDBOX_PUBLIC_KEY)
    token = client.encrypt_field(public, "张三", scheme)
    raw = base64.b64decode(token)
    assert len(raw) == 256  # one 2048-bit RSA block
    assert private_key().decrypt(raw, client.rsa_padding(scheme)).decode() == "张三"


def test_encryption_is_randomised() -> None:
    public = client.load_public_key(SANDBOX_PUBLIC_KEY)
    assert client.encrypt_field(public, "110105199003070017") != client.encrypt_field(
        public, "110105199003070017"
    )


def test_report_body_encrypts_name_pid_mobile_only() -> None:
    body = client.build_report_body(
        key=client.load_public_key(SANDBOX_PUBLIC_KEY), scheme="pkcs1v15", req_id="r1", name="张三",
        pid=CLEAN_BORROWER.id_number, mobile=CLEAN_BORROWER.mobile, query_reason="1", guarantee_type="1",
        loan_purpose="99", custom_type="99", apply_amount=Decimal("-1"),
    )  # fmt: skip
    text = json.dumps(body, ensure_ascii=False)
    assert "张三" not in text and CLEAN_BORROWER.id_number not in text and CLEAN_BORROWER.mobile not in text
    assert body["applyAmount"] == "-1" and body["reqID"] == "r1"
    padding = client.rsa_padding("pkcs1v15")
    assert private_key().decrypt(base64.b64decode(body["mobile"]), padding).decode() == CLEAN_BORROWER.mobile


def test_config_refuses_a_key_that_is_not_an_rsa_public_key() -> None:
    with pytest.raises(ValidationError, match="rsa_public_key"):
        BaihangConfig(base_url=BASE, account="A", password="p", rsa_public_key="-----BEGIN nothing-----")  # type: ignore[arg-type]


def make(recorder: MemoryCallRecorder | None = None, **overrides: Any) -> BaihangCreditBureau:
    async def no_sleep(_: float) -> None:
        return None

    config = BaihangCreditBureau.Config(
        base_url=BASE, **{**SANDBOX_CONFIG, "backoff_initial": 0.0, **overrides}
    )
    return BaihangCreditBureau(config, recorder=recorder, sleep=no_sleep)


def subject() -> PersonSubject:
    return PersonSubject(name=CLEAN_BORROWER.name, id_number=CLEAN_BORROWER.id_number)


def err(code: str, message: str = "") -> dict[str, str]:
    return {"errorCode": code, "errorMessage": message}


@pytest.mark.parametrize(
    ("status", "body", "error", "attempts"),
    [
        (401, err("ERR-20001", "Not Authorized"), AuthError, 1),
        (200, err("ERR-20001", "Not Authorized"), AuthError, 1),
        (200, err("ERR-10001", "参数错误"), InvalidRequest, 1),
        (200, err("ERR-10002", "解密失败"), InvalidRequest, 1),
        (200, err("ERR-20002", "余额不足"), QuotaExhausted, 1),
        (200, err("ERR-20003", "查询频率超限"), RateLimited, 3),
        (200, err("ERR-30001", "查无此人"), NotFound, 1),
        (200, err("ERR-50001", "系统繁忙"), TransientError, 3),
        (200, err("ERR-99999", "新错误"), VendorContractError, 1),
        (502, {"message": "bad gateway"}, TransientError, 3),
        (403, {"message": "forbidden"}, AuthError, 1),
        (200, {"errorCode": "0000", "reportHeader": "not json"}, VendorContractError, 1),
        (200, "<html>维护中</html>", VendorContractError, 1),
    ],
)
@respx.mock
async def test_error_mapping(status: int, body: Any, error: type[ConnectorError], attempts: int) -> None:
    response = (
        httpx.Response(status, text=body) if isinstance(body, str) else httpx.Response(status, json=body)
    )
    route = respx.post(URL).mock(return_value=response)
    recorder = MemoryCallRecorder()
    connector = make(recorder)
    with pytest.raises(error) as caught:
        await connector.fetch_report(subject(), authorization_id="AUTH-1")
    assert route.call_count == attempts
    assert [r.attempt for r in recorder.records] == list(range(1, attempts + 1))
    if isinstance(body, dict) and str(body.get("errorCode", "0000")).startswith("ERR"):
        assert caught.value.vendor_code == body["errorCode"]
    await connector.aclose()


@respx.mock
async def test_request_carries_basic_auth_and_idempotent_req_id() -> None:
    route = respx.post(URL).mock(
        return_value=httpx.Response(200, json=json.loads(FIXTURE.read_text("utf-8")))
    )
    connector = make()
    await connector.fetch_report(subject(), authorization_id="AUTH-1")
    sent = route.calls.last.request
    assert sent.headers["authorization"] == client.basic_auth(
        str(SANDBOX_CONFIG["account"]), str(SANDBOX_CONFIG["password"])
    )
    body = json.loads(sent.content)
    assert sent.headers["idempotency-key"] == body["reqID"] and "mobile" not in body
    await connector.aclose()


@respx.mock
async def test_check_connection_treats_parameter_error_as_accepted_credentials() -> None:
    respx.post(URL).mock(return_value=httpx.Response(200, json=err("ERR-10001", "参数错误")))
    connector = make()
    await connector.check_connection()
    await connector.aclose()


@respx.mock
async def test_check_connection_raises_on_other_invalid_request() -> None:
    respx.post(URL).mock(return_value=httpx.Response(200, json=err("ERR-10002", "解密失败")))
    connector = make()
    with pytest.raises(InvalidRequest):
        await connector.check_connection()
    await connector.aclose()


@respx.mock
async def test_error_codes_are_configurable() -> None:
    respx.post(URL).mock(return_value=httpx.Response(200, json=err("ERR-40404")))
    connector = make(error_codes={"ERR-40404": "not_found"})
    with pytest.raises(NotFound):
        await connector.fetch_report(subject(), authorization_id="AUTH-1")
    await connector.aclose()
