"""飞书 codes → SDK errors: a parametrised table, through the real road (respx), with attempt counts."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
import respx

from connectors.feishu import client
from connectors.feishu.connector import FeishuApproval
from connectors.feishu.simulator import SANDBOX_CONFIG
from plugins.sdk import (
    AuthError,
    InvalidRequest,
    MemoryCallRecorder,
    NotFound,
    QuotaExhausted,
    RateLimited,
    TransientError,
    VendorContractError,
)

BASE = "https://open.feishu.cn"
FAST = {
    "connect_timeout": 0.5,
    "read_timeout": 0.5,
    "total_timeout": 5.0,
    "backoff_initial": 0.0,
    "backoff_max": 0.0,
}


@pytest.mark.parametrize(
    ("status", "body", "headers", "error", "attempts"),
    [
        (400, {"code": 1390003, "msg": "instance code not found"}, {}, NotFound, 1),
        (400, {"code": 1390001, "msg": "param is invalid"}, {}, InvalidRequest, 1),
        (400, {"code": 1390002, "msg": "approval code not found"}, {}, InvalidRequest, 1),
        (403, {"code": 1390009, "msg": "no operation permission"}, {}, AuthError, 1),
        (400, {"code": 99991672, "msg": "no permission"}, {}, AuthError, 1),
        (
            429,
            {"code": 99991403, "msg": "This month's API call quota has been exceeded"},
            {},
            QuotaExhausted,
            1,
        ),
        (
            400,
            {"code": 99991400, "msg": "request trigger frequency limit"},
            {"x-ogw-ratelimit-reset": "0"},
            RateLimited,
            3,
        ),
        (400, {"code": 1395001, "msg": "There have been some errors"}, {}, TransientError, 3),
        (200, {"code": 1390001, "msg": "param is invalid (HTTP 200)"}, {}, InvalidRequest, 1),
        (500, {"code": 55001, "msg": "internal"}, {}, TransientError, 3),
        (503, {"error": "gateway"}, {}, TransientError, 3),
        (200, "<html>login</html>", {}, VendorContractError, 1),
        (401, {"error": "unauthorised"}, {}, AuthError, 1),
    ],
)
@respx.mock
async def test_vendor_answer_maps_to_error(
    status: int, body: Any, headers: dict[str, str], error: type[Exception], attempts: int
) -> None:
    respx.post(f"{BASE}{client.TOKEN_PATH}").mock(
        return_value=httpx.Response(
            200, json={"code": 0, "msg": "ok", "tenant_access_token": "t-1", "expire": 7200}
        )
    )
    if isinstance(body, dict):
        answer = httpx.Response(status, headers=headers, json=body)
    else:
        answer = httpx.Response(status, headers={**headers, "content-type": "text/html"}, text=body)
    route = respx.get(f"{BASE}/open-apis/approval/v4/instances/X").mock(return_value=answer)
    recorder = MemoryCallRecorder()
    connector = FeishuApproval(FeishuApproval.Config(**SANDBOX_CONFIG, **FAST), recorder=recorder)
    with pytest.raises(error):
        await connector.get_instance("X")
    assert route.call_count == attempts
    await connector.aclose()


@respx.mock
async def test_token_invalid_code_refreshes_once_then_gives_up() -> None:
    token = respx.post(f"{BASE}{client.TOKEN_PATH}").mock(
        return_value=httpx.Response(200, json={"code": 0, "tenant_access_token": "t-1", "expire": 7200})
    )
    route = respx.get(f"{BASE}/open-apis/approval/v4/instances/X").mock(
        return_value=httpx.Response(400, json={"code": 99991663, "msg": "Invalid access token"})
    )
    connector = FeishuApproval(FeishuApproval.Config(**SANDBOX_CONFIG, **FAST))
    with pytest.raises(AuthError):
        await connector.get_instance("X")
    assert (token.call_count, route.call_count) == (2, 2)
    await connector.aclose()


def test_long_idempotency_keys_become_a_64_char_uuid() -> None:
    assert client.dedupe_uuid("short") == "short"
    assert len(client.dedupe_uuid("x" * 100)) == 64
