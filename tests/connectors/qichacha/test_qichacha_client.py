"""企查查 Token signing and Status codes → the error tree, with the attempts each one costs (respx)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
import respx

from connectors.qichacha.client import STATUS_CODES, sign
from connectors.qichacha.connector import QichachaBusinessRegistry, QichachaLitigation
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

BASE = "https://api.qichacha.com"
DETAILS = f"{BASE}/ECIV4/GetBasicDetailsByName"
APP_KEY = "unit-app-key-123456"
SECRET = "unit-secret-key-654321"
NOW = 1_715_250_000.7


def make(cls: type[Any], sleeps: list[float], **overrides: Any) -> Any:
    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)

    values = {
        "app_key": APP_KEY,
        "secret_key": SECRET,
        "backoff_initial": 0.01,
        "max_attempts": 3,
        **overrides,
    }
    return cls(cls.Config(**values), recorder=MemoryCallRecorder(), sleep=sleep, clock=lambda: NOW)


def status(code: str, message: str = "x") -> httpx.Response:
    return httpx.Response(
        200, json={"Status": code, "Message": message, "OrderNumber": "", "Paging": None, "Result": None}
    )


# -- the signature ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "timespan", "secret", "token"),
    [
        # vendors.md gives the formula but no published vector; these pin the formula's output.
        ("AppKey123456", "1715250000", "SecretKey789", "DED0E31038ADD3534FA60790E9AB0645"),
        (
            "sandbox-qcc-appkey-0001",
            "1700000000",
            "sandbox-qcc-secret-7d1f",
            "D560643630C512D905070FC5084CA49A",
        ),
    ],
)
def test_token_is_upper_md5_of_key_timespan_secret(key: str, timespan: str, secret: str, token: str) -> None:
    assert sign(key, timespan, secret) == token


@respx.mock
async def test_request_carries_key_timespan_and_token_but_the_call_log_does_not() -> None:
    route = respx.get(DETAILS).mock(return_value=status("201", "【有效请求】查询无结果"))
    connector = make(QichachaBusinessRegistry, [])
    with pytest.raises(NotFound):
        await connector.company_profile(CompanySubject(uscc="91440300MA5F0000X1"))
    sent = route.calls.last.request
    assert sent.url.params["key"] == APP_KEY and sent.url.params["keyword"] == "91440300MA5F0000X1"
    assert sent.headers["Timespan"] == "1715250000"
    assert sent.headers["Token"] == sign(APP_KEY, "1715250000", SECRET)
    rows = " ".join(f"{r.url} {r.request_body} {r.response_body}" for r in connector.recorder.records)
    assert APP_KEY not in rows and SECRET not in rows
    await connector.aclose()


# -- Status codes -------------------------------------------------------------------------------

EXPECTED = {
    AuthError: ["101", "103", "104", "107", "111", "114", "115", "119", "214"],
    QuotaExhausted: ["102", "109", "112", "116", "123"],
    RateLimited: ["106", "108", "120", "122"],
    InvalidRequest: [
        "105",
        "113",
        "117",
        "118",
        "121",
        "202",
        "207",
        "208",
        "209",
        "213",
        "215",
        "223",
        "224",
    ],
    TransientError: ["199", "203", "205"],
}
ATTEMPTS = {AuthError: 1, QuotaExhausted: 1, RateLimited: 3, InvalidRequest: 1, TransientError: 3}
STATUS_TABLE = [
    (status(code), error, ATTEMPTS[error]) for error, codes in EXPECTED.items() for code in codes
] + [
    (status("110", "相同查询连续出错"), RateLimited, 1),  # asks for 2 hours: beyond max_retry_after
    (status("999"), VendorContractError, 1),
    (httpx.Response(200, json={"Result": {}}), VendorContractError, 1),
    (httpx.Response(200, json={"Status": "200", "Result": []}), VendorContractError, 1),
    (
        httpx.Response(200, text="<html>502</html>", headers={"content-type": "text/html"}),
        VendorContractError,
        1,
    ),
    (httpx.Response(401, json={}), AuthError, 1),
    (httpx.Response(503, json={}), TransientError, 3),
    (httpx.Response(429, json={}, headers={"Retry-After": "0"}), RateLimited, 3),
]


def test_every_documented_failure_code_is_mapped() -> None:
    assert {code: cls for cls, codes in EXPECTED.items() for code in codes} | {
        "110": RateLimited
    } == STATUS_CODES


@pytest.mark.parametrize(("answer", "error", "attempts"), STATUS_TABLE)
@respx.mock
async def test_status_mapping(answer: httpx.Response, error: type[ConnectorError], attempts: int) -> None:
    route = respx.get(DETAILS).mock(return_value=answer)
    connector = make(QichachaBusinessRegistry, [])
    with pytest.raises(error) as caught:
        await connector.company_profile(CompanySubject(name="某公司"))
    assert type(caught.value) is error
    assert route.call_count == attempts
    assert [r.attempt for r in connector.recorder.records] == list(range(1, attempts + 1))
    await connector.aclose()


@respx.mock
async def test_throttle_status_waits_the_configured_time_and_keeps_the_code() -> None:
    respx.get(DETAILS).mock(side_effect=[status("122", "超过系统并发限制"), status("201")])
    sleeps: list[float] = []
    connector = make(QichachaBusinessRegistry, sleeps, rate_limited_retry_after=0.5)
    with pytest.raises(NotFound):
        await connector.company_profile(CompanySubject(name="某公司"))
    assert sleeps == [0.5]
    await connector.aclose()


@respx.mock
async def test_no_data_on_every_list_is_an_empty_record() -> None:
    route = respx.get(url__startswith=BASE).mock(return_value=status("201"))
    connector = make(QichachaLitigation, [])
    record = await connector.search("张三")
    assert record.is_clean and route.call_count == 4
    assert all(c.request.url.params["isExactlySame"] == "true" for c in route.calls)
    await connector.aclose()


@respx.mock
async def test_pages_follow_total_records() -> None:
    item = {"Anno": "(2022)粤0305执1号", "Executegov": "某法院"}

    def page(n: int, items: list[dict[str, Any]]) -> httpx.Response:
        paging = {"PageSize": 1, "PageIndex": n, "TotalRecords": 2}
        return httpx.Response(200, json={"Status": "200", "Message": "", "Paging": paging, "Result": items})

    route = respx.get(f"{BASE}/CourtV4/SearchShiXin").mock(side_effect=[page(1, [item]), page(2, [item])])
    respx.get(url__startswith=BASE).mock(return_value=status("201"))
    connector = make(QichachaLitigation, [], page_size=1)
    record = await connector.search("某人")
    assert len(record.dishonest) == 2
    assert [c.request.url.params["pageIndex"] for c in route.calls] == ["1", "2"]
    await connector.aclose()


def test_default_base_url_is_https_and_plain_http_to_the_vendor_is_refused() -> None:
    config = QichachaLitigation.Config(app_key=APP_KEY, secret_key=SECRET)
    assert config.base_url == "https://api.qichacha.com"
    with pytest.raises(ValueError, match="allow_insecure_http"):
        QichachaLitigation.Config(app_key=APP_KEY, secret_key=SECRET, base_url="http://api.qichacha.com")
