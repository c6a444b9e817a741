"""天眼查 error codes and HTTP statuses → the error tree, with the attempts each one costs (respx)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
import respx

from connectors.tianyancha.connector import TianyanchaBusinessRegistry, TianyanchaLitigation
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
from schemas.canonical import CompanySubject

BASE = "https://open.api.tianyancha.com"
TOKEN = "unit-test-token-123456"
BASEINFO = f"{BASE}/services/open/ic/baseinfo/normal"


def make(cls: type[Any], sleeps: list[float]) -> Any:
    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)

    config = cls.Config(token=TOKEN, backoff_initial=0.01, backoff_max=0.02, max_attempts=3)
    return cls(config, recorder=MemoryCallRecorder(), sleep=sleep)


def vendor(code: int, reason: str = "x") -> httpx.Response:
    return httpx.Response(200, json={"error_code": code, "reason": reason})


ERROR_TABLE = [
    # (answer, error class, attempts)
    (vendor(300001, "请求失败"), TransientError, 3),
    (vendor(300002, "账号失效"), AuthError, 1),
    (vendor(300003, "账号过期"), AuthError, 1),
    (vendor(300004, "访问频率过快"), RateLimited, 3),
    (vendor(300005, "无权限访问此api"), AuthError, 1),
    (vendor(300006, "余额不足"), QuotaExhausted, 1),
    (vendor(300007, "剩余次数不足"), QuotaExhausted, 1),
    (vendor(300008, "缺少必要参数"), InvalidRequest, 1),
    (vendor(300009, "账号信息有误"), AuthError, 1),
    (vendor(300010, "URL不存在"), InvalidRequest, 1),
    (vendor(399999, "新错误"), VendorContractError, 1),
    (httpx.Response(200, json={"error_code": "oops"}), VendorContractError, 1),
    (httpx.Response(200, json={"result": {}}), VendorContractError, 1),
    (httpx.Response(200, json={"error_code": 0, "reason": "ok"}), VendorContractError, 1),
    (
        httpx.Response(200, text="<html>gateway</html>", headers={"content-type": "text/html"}),
        VendorContractError,
        1,
    ),
    (httpx.Response(401, json={"message": "unauthorized"}), AuthError, 1),
    (httpx.Response(403, json={}), AuthError, 1),
    (httpx.Response(402, json={}), QuotaExhausted, 1),
    (httpx.Response(500, json={}), TransientError, 3),
    (httpx.Response(503, json={}), TransientError, 3),
    (httpx.Response(429, json={}, headers={"Retry-After": "0"}), RateLimited, 3),
]


@pytest.mark.parametrize(("answer", "error", "attempts"), ERROR_TABLE)
@respx.mock
async def test_error_mapping(answer: httpx.Response, error: type[ConnectorError], attempts: int) -> None:
    route = respx.get(BASEINFO).mock(return_value=answer)
    sleeps: list[float] = []
    connector = make(TianyanchaBusinessRegistry, sleeps)
    with pytest.raises(error) as caught:
        await connector.company_profile(CompanySubject(name="某公司"))
    assert type(caught.value) is error
    assert route.call_count == attempts
    assert [r.attempt for r in connector.recorder.records] == list(range(1, attempts + 1))
    assert TOKEN not in str(caught.value)
    await connector.aclose()


@respx.mock
async def test_vendor_code_is_kept_on_the_error() -> None:
    respx.get(BASEINFO).mock(return_value=vendor(300006, "余额不足"))
    connector = make(TianyanchaBusinessRegistry, [])
    with pytest.raises(QuotaExhausted) as caught:
        await connector.company_profile(CompanySubject(name="某公司"))
    assert caught.value.vendor_code == "300006"
    assert "余额不足" in caught.value.message
    await connector.aclose()


@respx.mock
async def test_rate_limited_code_waits_the_configured_time() -> None:
    respx.get(BASEINFO).mock(side_effect=[vendor(300004), httpx.Response(200, json={"error_code": 300000})])
    sleeps: list[float] = []
    connector = make(TianyanchaBusinessRegistry, sleeps)
    with pytest.raises(NotFound):
        await connector.company_profile(CompanySubject(name="某公司"))
    assert sleeps == [1.0]
    await connector.aclose()


@respx.mock
async def test_no_data_is_an_empty_litigation_record_not_an_error() -> None:
    route = respx.get(url__startswith=f"{BASE}/services/open/jr/").mock(
        return_value=vendor(300000, "经查无结果")
    )
    connector = make(TianyanchaLitigation, [])
    record = await connector.search("张三")
    assert record.is_clean
    assert route.call_count == 4  # 法律诉讼, 失信人, 被执行人, 限制消费令: one attempt each
    assert all(r.error_class is None for r in connector.recorder.records)
    await connector.aclose()


@respx.mock
async def test_token_goes_raw_in_authorization_and_never_to_the_call_log() -> None:
    route = respx.get(BASEINFO).mock(return_value=vendor(300000))
    connector = make(TianyanchaBusinessRegistry, [])
    with pytest.raises(NotFound):
        await connector.company_profile(CompanySubject(uscc="91440300MA5F0000X1"))
    sent = route.calls.last.request
    assert sent.headers["Authorization"] == TOKEN
    assert sent.url.params["keyword"] == "91440300MA5F0000X1"
    assert all(TOKEN not in (r.url + str(r.response_body)) for r in connector.recorder.records)
    await connector.aclose()


@respx.mock
async def test_pages_are_followed_until_total() -> None:
    item = {"caseNo": "(2023)京0105民初1号", "casePersons": []}
    route = respx.get(f"{BASE}/services/open/jr/lawSuit/2.0").mock(
        side_effect=[
            httpx.Response(
                200, json={"error_code": 0, "reason": "ok", "result": {"total": 3, "items": [item, item]}}
            ),
            httpx.Response(
                200, json={"error_code": 0, "reason": "ok", "result": {"total": 3, "items": [item]}}
            ),
        ]
    )
    respx.get(url__startswith=f"{BASE}/services/open/jr/").mock(return_value=vendor(300000))
    connector = make(TianyanchaLitigation, [])
    record = await connector.search("某公司")
    assert len(record.cases) == 3
    assert [c.request.url.params["pageNum"] for c in route.calls] == ["1", "2"]
    assert route.calls[0].request.url.params["pageSize"] == "20"
    await connector.aclose()


@respx.mock
async def test_unexpected_item_shape_is_a_contract_error() -> None:
    respx.get(f"{BASE}/services/open/jr/lawSuit/2.0").mock(
        return_value=httpx.Response(
            200,
            json={
                "error_code": 0,
                "reason": "ok",
                "result": {"total": 1, "items": [{"caseNo": "x", "judgeTime": "not a date"}]},
            },
        )
    )
    respx.get(url__startswith=f"{BASE}/services/open/jr/").mock(return_value=vendor(300000))
    connector = make(TianyanchaLitigation, [])
    with pytest.raises(VendorContractError):
        await connector.search("某公司")
    await connector.aclose()


def test_default_base_url_is_https_and_plain_http_to_the_vendor_is_refused() -> None:
    assert TianyanchaLitigation.Config(token=TOKEN).base_url == "https://open.api.tianyancha.com"
    with pytest.raises(ValueError, match="allow_insecure_http"):
        TianyanchaLitigation.Config(token=TOKEN, base_url="http://open.api.tianyancha.com")
