"""钉钉 codes → SDK errors: a parametrised table, through the real road (respx), with attempt counts."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
import respx

from connectors.dingtalk import client
from connectors.dingtalk.connector import DingTalkApproval
from connectors.dingtalk.simulator import SANDBOX_CONFIG
from plugins.sdk import (
    AuthError,
    InvalidRequest,
    NotFound,
    QuotaExhausted,
    RateLimited,
    TransientError,
    VendorContractError,
)

BASE = "https://api.dingtalk.com"
FAST = {
    "connect_timeout": 0.5,
    "read_timeout": 0.5,
    "total_timeout": 5.0,
    "backoff_initial": 0.0,
    "backoff_max": 0.0,
    "max_retry_after": 0.0,
}


@pytest.mark.parametrize(
    ("status", "body", "error", "attempts"),
    [
        (400, {"code": "InvalidParameter.ProcessInstanceId.NotFound", "message": "不存在"}, NotFound, 1),
        (400, {"code": "InvalidParameter", "message": "bad"}, InvalidRequest, 1),
        (
            403,
            {"code": "Forbidden.AccessDenied.AccessTokenPermissionDenied", "message": "no scope"},
            AuthError,
            1,
        ),
        (403, {"code": "Forbidden.AccessDenied.ApiCallQuotaExceeded", "message": "quota"}, QuotaExhausted, 1),
        (403, {"code": "Forbidden.AccessDenied.QpsLimitForApi", "message": "qps"}, RateLimited, 1),
        (200, {"errcode": 90018, "errmsg": "qps per app"}, RateLimited, 1),
        (200, {"errcode": 40014, "errmsg": "invalid access_token"}, AuthError, 2),
        (200, {"errcode": 60011, "errmsg": "no permission"}, InvalidRequest, 1),
        (500, {"code": "ServiceUnavailable", "message": "busy"}, TransientError, 3),
        (503, {"error": "gateway"}, TransientError, 3),
        (200, "<html>login</html>", VendorContractError, 1),
        (401, {"error": "unauthorised"}, AuthError, 1),
    ],
)
@respx.mock
async def test_vendor_answer_maps_to_error(
    status: int, body: Any, error: type[Exception], attempts: int
) -> None:
    respx.post(f"{BASE}{client.TOKEN_PATH}").mock(
        return_value=httpx.Response(200, json={"accessToken": "a1", "expireIn": 7200})
    )
    if isinstance(body, dict):
        answer = httpx.Response(status, json=body)
    else:
        answer = httpx.Response(status, headers={"content-type": "text/html"}, text=body)
    route = respx.get(f"{BASE}{client.INSTANCES_PATH}").mock(return_value=answer)
    connector = DingTalkApproval(DingTalkApproval.Config(**SANDBOX_CONFIG, **FAST))
    with pytest.raises(error):
        await connector.get_instance("X")
    assert route.call_count == attempts
    await connector.aclose()


@respx.mock
async def test_quota_and_not_found_codes_are_configurable() -> None:
    respx.post(f"{BASE}{client.TOKEN_PATH}").mock(
        return_value=httpx.Response(200, json={"accessToken": "a1", "expireIn": 7200})
    )
    respx.get(f"{BASE}{client.INSTANCES_PATH}").mock(
        return_value=httpx.Response(400, json={"code": "instance.notfound"})
    )
    config = DingTalkApproval.Config(**{**SANDBOX_CONFIG, **FAST, "not_found_codes": ("instance.notfound",)})
    connector = DingTalkApproval(config)
    with pytest.raises(NotFound):
        await connector.get_instance("X")
    await connector.aclose()
