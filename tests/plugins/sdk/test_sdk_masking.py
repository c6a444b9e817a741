"""Secrets and PII never reach the call log or the logs."""

from __future__ import annotations

import logging

import httpx
import pytest
import respx
from sdk_helpers import API_KEY, Factory

from plugins.sdk import MemoryCallRecorder, mask_headers, mask_pii, mask_secrets
from plugins.sdk.calllog import Masker

REPORT = "https://api.demo.test/v1/reports"
ID_NUMBER = "11010519491231002X"
MOBILE = "13812345678"
CARD = "4111111111111111"  # Luhn-valid
APP_SECRET = "s3cr3t/with+chars&="


def all_text(recorder: MemoryCallRecorder) -> str:
    return "\n".join(repr(r) for r in recorder.records)


async def test_config_secrets_never_reach_call_log_or_logs(
    make: Factory, router: respx.MockRouter, recorder: MemoryCallRecorder, caplog: pytest.LogCaptureFixture
) -> None:
    router.post(url__startswith=REPORT).mock(
        side_effect=[
            httpx.Response(503, json={"echo": API_KEY}),
            httpx.Response(200, json={"token": "vendor-session-token", "echo": APP_SECRET}),
        ]
    )
    connector = make(app_secret=APP_SECRET)
    with caplog.at_level(logging.DEBUG):
        await connector.request(
            "POST",
            "/reports",
            operation="fetch_report",
            headers={"Authorization": f"Bearer {API_KEY}", "X-App-Secret": APP_SECRET},
            params={"appkey": API_KEY, "q": APP_SECRET, "page": "1"},
            json={"payload": {"api_key": API_KEY}, "note": f"key is {API_KEY}", "sign": "abc"},
            idempotency_key="idem-1",
        )
    logged = caplog.text + all_text(recorder)
    for secret in (API_KEY, APP_SECRET, "vendor-session-token"):
        assert secret not in logged
    assert "s3cr3t" not in logged
    first = recorder.records[0]
    assert "appkey=***" in first.url and "page=1" in first.url
    assert first.request_body is not None and '"api_key": "***"' in first.request_body
    assert '"sign": "***"' in first.request_body
    assert "'authorization': '***'" in caplog.text  # the header name is logged, its value is not


async def test_pii_is_masked_in_the_call_log(
    make: Factory, router: respx.MockRouter, recorder: MemoryCallRecorder
) -> None:
    router.post(REPORT).mock(
        return_value=httpx.Response(200, json={"idNo": ID_NUMBER, "phone": MOBILE, "card": CARD, "n": 42})
    )
    await make().request(
        "POST",
        "/reports",
        operation="fetch_report",
        json={"name": "张三", "id_number": ID_NUMBER, "mobile": MOBILE},
    )
    text = all_text(recorder)
    for value in (ID_NUMBER, MOBILE, CARD):
        assert value not in text
    record = recorder.records[0]
    assert "110***********002X" in (record.request_body or "")
    assert "138****5678" in (record.response_body or "")
    assert "411*********1111" in (record.response_body or "")
    assert "张三" in (record.request_body or "")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"id {ID_NUMBER}.", "id 110***********002X."),
        ("old id 110105491231002", "old id 110********1002"),
        (f"tel:{MOBILE}", "tel:138****5678"),
        (f"card={CARD}", "card=411*********1111"),
        ("order 1234567890123456", "order 1234567890123456"),  # not Luhn-valid: kept
        ("amount 12345.67", "amount 12345.67"),
        ("no digits here", "no digits here"),
    ],
)
def test_mask_pii(text: str, expected: str) -> None:
    assert mask_pii(text) == expected


def test_mask_secrets_replaces_raw_and_url_encoded_values() -> None:
    masked = mask_secrets(f"a={APP_SECRET} b=s3cr3t%2Fwith%2Bchars%26%3D", [APP_SECRET])
    assert masked == "a=*** b=***"


def test_mask_headers() -> None:
    headers = {
        "Authorization": "Bearer x",
        "Cookie": "s=1",
        "X-Api-Key": "k",
        "X-Access-Token": "t",
        "X-Signature": "sig",
        "Idempotency-Key": "idem-1",
        "Content-Type": "application/json",
    }
    assert mask_headers(headers) == {
        "Authorization": "***",
        "Cookie": "***",
        "X-Api-Key": "***",
        "X-Access-Token": "***",
        "X-Signature": "***",
        "Idempotency-Key": "idem-1",
        "Content-Type": "application/json",
    }


def test_bodies_are_truncated_after_masking() -> None:
    masker = Masker([API_KEY], body_limit=50)
    body = masker.body(("x" * 40 + API_KEY + "y" * 100).encode())
    assert body is not None and body.startswith("x" * 40 + "***") and "truncated" in body
    assert API_KEY[:8] not in body


def test_binary_bodies_become_a_size_note() -> None:
    assert Masker().body(b"\xff\xfe\x00pdf", "application/pdf") == "<binary body: 6 bytes, application/pdf>"


def test_form_bodies_are_key_masked() -> None:
    body = Masker().body(b"user=a&password=hunter2", "application/x-www-form-urlencoded")
    assert body == "user=a&password=***"
