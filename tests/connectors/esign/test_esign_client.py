"""e签宝 answers → the error tree, as a parametrised table over a mocked transport (respx)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx

from connectors.esign.connector import EsignConfig, EsignSignature
from connectors.esign.simulator import SANDBOX_CONFIG
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

FIXTURES = Path(__file__).parent / "fixtures"
BASE = "https://openapi.esign.cn"


async def no_sleep(_: float) -> None:
    return None


def envelope(code: int, message: str = "x") -> dict[str, Any]:
    return {"code": code, "message": message, "data": None}


@pytest.mark.parametrize(
    ("status", "body", "error", "attempts"),
    [
        (401, json.loads((FIXTURES / "gateway_401.json").read_text()), AuthError, 1),
        (200, json.loads((FIXTURES / "balance_error.json").read_text()), QuotaExhausted, 1),
        (200, envelope(1437169, "流程已过期"), InvalidRequest, 1),
        (200, envelope(1437103, "流程未开启"), InvalidRequest, 1),
        (200, envelope(1437518, "流程未结束"), InvalidRequest, 1),
        (200, envelope(1437100, "签署流程不存在"), NotFound, 1),
        (200, envelope(1437513, "文档未成功转换成pdf"), TransientError, 3),
        (200, envelope(1430429, "请求过于频繁"), RateLimited, 3),
        (200, envelope(1499999, "unknown"), InvalidRequest, 1),
        (200, {"code": "oops", "message": "x"}, VendorContractError, 1),
        (503, {"error": "busy"}, TransientError, 3),
        (429, {"error": "slow down"}, RateLimited, 3),
    ],
)
async def test_vendor_answers_map_to_error_classes(
    status: int, body: dict[str, Any], error: type[ConnectorError], attempts: int
) -> None:
    recorder = MemoryCallRecorder()
    config = EsignConfig(**SANDBOX_CONFIG, base_url=BASE, backoff_initial=0.0, backoff_max=0.0)
    connector = EsignSignature(config, recorder=recorder, sleep=no_sleep)
    with respx.mock(assert_all_called=True) as mock:
        mock.get(f"{BASE}/v3/sign-flow/F1/detail").mock(return_value=httpx.Response(status, json=body))
        with pytest.raises(error) as caught:
            await connector.get_flow("F1")
    assert type(caught.value) is error or isinstance(caught.value, error)
    assert len(recorder.records) == attempts
    await connector.aclose()


async def test_html_answer_is_a_contract_error() -> None:
    config = EsignConfig(**SANDBOX_CONFIG, base_url=BASE)
    connector = EsignSignature(config)
    with respx.mock() as mock:
        mock.get(f"{BASE}/v3/sign-flow/F1/detail").mock(return_value=httpx.Response(200, html="<html/>"))
        with pytest.raises(VendorContractError):
            await connector.get_flow("F1")
    await connector.aclose()


async def test_requests_are_signed_and_the_secret_stays_out_of_the_call_log() -> None:
    recorder = MemoryCallRecorder()
    connector = EsignSignature(EsignConfig(**SANDBOX_CONFIG, base_url=BASE), recorder=recorder)
    detail = json.loads((FIXTURES / "detail_completed.json").read_text(encoding="utf-8"))
    with respx.mock() as mock:
        route = mock.get(f"{BASE}/v3/sign-flow/F1/detail").mock(return_value=httpx.Response(200, json=detail))
        await connector.get_flow("F1")
    sent = route.calls.last.request
    assert sent.headers["X-Tsign-Open-App-Id"] == SANDBOX_CONFIG["app_id"]
    assert sent.headers["X-Tsign-Open-Ca-Signature"]
    assert str(SANDBOX_CONFIG["app_secret"]) not in repr(recorder.records)
    await connector.aclose()
