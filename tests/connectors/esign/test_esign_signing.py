"""e签宝 request and callback signatures, against the contract card's test vector."""

from __future__ import annotations

import json
from pathlib import Path

from connectors.esign import client

FIXTURES = Path(__file__).parent / "fixtures"


def test_request_signature_matches_the_card_vector() -> None:
    body = '{"name":"张三"}'.encode()
    md5 = client.content_md5(body)
    sts = client.string_to_sign("POST", "/v3/test", md5=md5)
    assert md5 == "HjMyrLrHKE0+csnLjzE02Q=="
    assert client.sign("secret", sts) == "Pi/ctktFeIy7qc8pyiBvlc6Rh+CKODXok8iqA3MNDFw="


def test_string_to_sign_keeps_the_empty_date_line_and_drops_empty_headers() -> None:
    sts = client.string_to_sign("get", "/v3/x", md5="")
    assert sts == "GET\n*/*\n\napplication/json; charset=UTF-8\n\n/v3/x"
    with_headers = client.string_to_sign("GET", "/v3/x", md5="", headers="X-A:1")
    assert with_headers.endswith("\n\nX-A:1\n/v3/x")


def test_content_md5_is_empty_for_an_empty_body() -> None:
    assert client.content_md5(b"") == ""


def test_query_parameters_are_sorted_and_not_url_encoded() -> None:
    signed = client.path_and_parameters("/v3/orgs", {"orgName": "上海 示例", "a": "1", "empty": ""})
    assert signed == "/v3/orgs?a=1&empty&orgName=上海 示例"


def test_signed_headers_carry_every_gateway_header() -> None:
    headers = client.signed_headers(
        app_id="7438000001",
        secret="secret",
        method="POST",
        path="/v3/test",
        body='{"name":"张三"}'.encode(),
        timestamp_ms=1710468000000,
    )
    assert headers["X-Tsign-Open-Auth-Mode"] == "Signature"
    assert headers["X-Tsign-Open-Ca-Timestamp"] == "1710468000000"
    assert headers["X-Tsign-Open-Ca-Signature"] == "Pi/ctktFeIy7qc8pyiBvlc6Rh+CKODXok8iqA3MNDFw="
    assert headers["Content-MD5"] == "HjMyrLrHKE0+csnLjzE02Q=="


def test_callback_signature_uses_sorted_query_values_then_body() -> None:
    raw = (FIXTURES / "callback_flow_complete.json").read_bytes()
    query = {"orderNo": "001", "belong": "pinjie"}
    expected = client.callback_signature("secret", "1710471600123", {"x": "pinjie001"}, raw)
    assert client.callback_signature("secret", "1710471600123", query, raw) == expected
    assert expected == expected.lower() and len(expected) == 64


def test_verify_callback_accepts_a_genuine_delivery_and_refuses_tampering() -> None:
    raw = (FIXTURES / "callback_flow_complete.json").read_bytes()
    sig = client.callback_signature("secret", "1710471600123", {}, raw)
    headers = {
        "X-Tsign-Open-TIMESTAMP": "1710471600123",
        "X-Tsign-Open-SIGNATURE": sig,
        "X-Tsign-Open-SIGNATURE-ALGORITHM": "hmac-sha256",
    }
    assert client.verify_callback("secret", headers, raw)
    assert not client.verify_callback("wrong", headers, raw)
    tampered = json.dumps({**json.loads(raw), "signFlowStatus": "3"}).encode()
    assert not client.verify_callback("secret", headers, tampered)
    assert not client.verify_callback("secret", headers, raw, now_ms=1710471600123 + 16 * 60 * 1000)
    assert client.verify_callback("secret", headers, raw, now_ms=1710471600123 + 60 * 1000)
    assert not client.verify_callback("secret", {**headers, "X-Tsign-Open-SIGNATURE-ALGORITHM": "md5"}, raw)
