"""What a connector declares sensitive, and session tokens by default, never reach the call log."""

from __future__ import annotations

import json
import logging
from typing import ClassVar

import httpx
import pytest
import respx
from sdk_helpers import DemoConnector, Factory

from plugins.sdk import ConnectorError, InvalidRequest, MemoryCallRecorder
from plugins.sdk.calllog import Masker

REPORT = "https://api.demo.test/v1/reports"
NAME, OTHER_NAME = "张三", "王五"
ENCODED_NAME = "%E5%BC%A0%E4%B8%89"
SESSION = "c0ffee5e55i0n1d"
PARTNER_TOKEN = "ptk-runtime-91b2"  # fetched at run time: not a config secret the SDK knows


class LitigationLike(DemoConnector):
    sensitive_fields: ClassVar[tuple[str, ...]] = ("keyword", "name", "iname")
    sensitive_headers: ClassVar[tuple[str, ...]] = ("X-Partner-Id",)


class WithAddress(LitigationLike):
    sensitive_fields: ClassVar[tuple[str, ...]] = ("address",)


def everything(recorder: MemoryCallRecorder) -> str:
    return "\n".join(repr(r) for r in recorder.records)


async def test_declared_fields_and_params_are_masked_with_their_values_everywhere(
    make: Factory, router: respx.MockRouter, recorder: MemoryCallRecorder
) -> None:
    answer = {
        "items": [
            {"iname": OTHER_NAME, "title": f"{NAME}与示例银行借款合同纠纷", "caseNo": "(2023)京0105民初1号"}
        ]
    }
    router.post(url__startswith=REPORT).mock(return_value=httpx.Response(200, json=answer))
    await make(LitigationLike).request(
        "POST", "/reports", operation="search", params={"keyword": NAME, "page": "1"}, json={"name": NAME}
    )
    text = everything(recorder)
    assert NAME not in text and OTHER_NAME not in text and ENCODED_NAME not in text
    record = recorder.records[0]
    assert "keyword=***" in record.url and "page=1" in record.url
    assert json.loads(record.request_body or "") == {"name": "***"}
    assert "(2023)京0105民初1号" in (record.response_body or "")  # the rest stays readable


async def test_session_tokens_and_credential_headers_are_masked_by_default(
    make: Factory, router: respx.MockRouter, recorder: MemoryCallRecorder, caplog: pytest.LogCaptureFixture
) -> None:
    router.post(url__startswith=REPORT).mock(
        return_value=httpx.Response(
            200,
            json={
                "KDSVCSessionId": SESSION,
                "Context": {"session_id": SESSION},
                "echo": f"token {PARTNER_TOKEN} and cookie kdservice-sessionid={SESSION} accepted",
            },
        )
    )
    with caplog.at_level(logging.DEBUG):
        await make().request(
            "POST",
            "/reports",
            operation="save",
            headers={"X-Partner-Token": PARTNER_TOKEN, "Cookie": f"kdservice-sessionid={SESSION}"},
            json={"ok": True},
        )
    text = everything(recorder) + caplog.text
    assert SESSION not in text and PARTNER_TOKEN not in text
    assert '"KDSVCSessionId": "***"' in (recorder.records[0].response_body or "")


async def test_declared_headers_are_masked_in_logs_and_their_values_in_the_call_log(
    make: Factory, router: respx.MockRouter, recorder: MemoryCallRecorder, caplog: pytest.LogCaptureFixture
) -> None:
    router.get(url__startswith=REPORT).mock(return_value=httpx.Response(200, json={"partner": "P-778812"}))
    with caplog.at_level(logging.DEBUG):
        await make(LitigationLike).request(
            "GET", "/reports", operation="x", headers={"X-Partner-Id": "P-778812"}
        )
    assert "P-778812" not in everything(recorder) + caplog.text
    assert "'x-partner-id': '***'" in caplog.text


async def test_a_subclass_adds_to_what_its_bases_declare(
    make: Factory, router: respx.MockRouter, recorder: MemoryCallRecorder
) -> None:
    router.post(url__startswith=REPORT).mock(
        return_value=httpx.Response(200, json={"iname": OTHER_NAME, "address": "北京市朝阳区示例路1号"})
    )
    await make(WithAddress).request("POST", "/reports", operation="x", json={"q": 1})
    body = recorder.records[0].response_body or ""
    assert OTHER_NAME not in body and "示例路" not in body


async def test_json_inside_json_strings_is_masked_too(
    make: Factory, router: respx.MockRouter, recorder: MemoryCallRecorder
) -> None:
    section = json.dumps({"address": "北京市朝阳区示例路1号", "iname": OTHER_NAME}, ensure_ascii=False)
    router.post(url__startswith=REPORT).mock(return_value=httpx.Response(200, json={"section": section}))
    await make(WithAddress).request("POST", "/reports", operation="x", json={"q": 1})
    body = recorder.records[0].response_body or ""
    assert "示例路" not in body and OTHER_NAME not in body
    assert json.loads(json.loads(body)["section"]) == {"address": "***", "iname": "***"}


def test_declared_fields_are_masked_in_bodies_that_are_not_json() -> None:
    masker = Masker(fields=("name", "address"))
    truncated = '{"name": "张三", "address": "北京市\\"示例\\"路", "n": 1, "x": "cut off here'
    masked = masker.body(truncated, "application/json") or ""
    assert "张三" not in masked and "示例" not in masked and '"n": 1' in masked
    form = masker.body("name=%E5%BC%A0%E4%B8%89&page=2", "application/x-www-form-urlencoded") or ""
    assert ENCODED_NAME not in form and "page=2" in form


async def test_vendor_error_messages_lose_the_values_sent(
    make: Factory, router: respx.MockRouter, recorder: MemoryCallRecorder
) -> None:
    class Picky(LitigationLike):
        def classify(self, response: httpx.Response) -> ConnectorError | None:
            return InvalidRequest(f"no such subject {NAME}")

    router.get(url__startswith=REPORT).mock(return_value=httpx.Response(200, json={}))
    with pytest.raises(InvalidRequest) as caught:
        await make(Picky).request("GET", "/reports", operation="x", params={"keyword": NAME})
    assert NAME not in str(caught.value)


def test_is_sensitive_name_covers_sessions() -> None:
    from plugins.sdk.calllog import is_sensitive_name

    for name in ("KDSVCSessionId", "ASP.NET_SessionId", "session", "jsapi_ticket", "X-Partner-Token"):
        assert is_sensitive_name(name), name
    for name in ("idempotency_key", "caseNo", "page"):
        assert not is_sensitive_name(name), name


class WithPassports(DemoConnector):
    sensitive_patterns: ClassVar[tuple[str, ...]] = (r"\bE\d{8}\b",)  # a PRC passport number


class WithMorePatterns(WithPassports):
    sensitive_patterns: ClassVar[tuple[str, ...]] = (r"\bCUST-\d{6}\b",)


async def test_declared_patterns_mask_personal_data_the_built_ins_do_not_know(
    make: Factory, router: respx.MockRouter, recorder: MemoryCallRecorder
) -> None:
    router.post(url__startswith=REPORT).mock(
        return_value=httpx.Response(
            200, json={"holder": "passport E12345678", "ref": "CUST-004711", "n": 12345678}
        )
    )
    await make(WithMorePatterns).request(
        "POST", "/reports", operation="search", params={"q": "E87654321"}, json={"passport": "E12345678"}
    )
    text = everything(recorder)
    assert "E12345678" not in text and "E87654321" not in text and "CUST-004711" not in text
    assert "12345678" in (recorder.records[0].response_body or "")  # a plain number is left alone


def test_a_masker_without_patterns_leaves_such_values_readable() -> None:
    assert "E12345678" in Masker().text("passport E12345678")
    assert "E12345678" not in Masker(patterns=[r"\bE\d{8}\b"]).text("passport E12345678")
