"""金蝶 answers → the error tree (parametrised table over respx), and re-login on session loss."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx
from kingdee_helpers import disbursement

from connectors.kingdee import client
from connectors.kingdee.connector import KingdeeConfig, KingdeeLedger
from connectors.kingdee.simulator import SANDBOX_CONFIG
from plugins.sdk import (
    AuthError,
    ConnectorError,
    InvalidRequest,
    MemoryCallRecorder,
    NotFound,
    QuotaExhausted,
    RateLimited,
    TransientError,
)

FIXTURES = Path(__file__).parent / "fixtures"
BASE = "https://api.kingdee.com"
LOGIN = f"{BASE}/K3Cloud/{client.VALIDATE_USER}.common.kdsvc"
QUERY = f"{BASE}/K3Cloud/{client.EXECUTE_BILL_QUERY}.common.kdsvc"
SAVE = f"{BASE}/K3Cloud/{client.SAVE}.common.kdsvc"


def load(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


async def no_sleep(_: float) -> None:
    return None


def status(msg_code: int, message: str = "x") -> dict[str, Any]:
    errors = [{"FieldName": "", "Message": message, "DIndex": 0}]
    return {
        "Result": {
            "ResponseStatus": {"IsSuccess": False, "ErrorCode": 500, "Errors": errors, "MsgCode": msg_code}
        }
    }


def make(recorder: MemoryCallRecorder | None = None) -> KingdeeLedger:
    config = KingdeeConfig(**SANDBOX_CONFIG, base_url=BASE, backoff_initial=0.0, backoff_max=0.0)
    return KingdeeLedger(config, recorder=recorder, sleep=no_sleep)


def login_ok() -> httpx.Response:
    return httpx.Response(
        200, json=load("login_ok.json"), headers={"set-cookie": "kdservice-sessionid=S1; Path=/"}
    )


@pytest.mark.parametrize(
    ("answer", "error", "attempts"),
    [
        (load("save_unbalanced.json"), InvalidRequest, 1),
        (status(2, "没有权限"), AuthError, 1),
        (status(7, "许可错误"), QuotaExhausted, 1),
        (status(9, "科目编码不存在"), InvalidRequest, 1),
        (status(10, "未找到对应数据"), NotFound, 1),
        (status(4, "服务器异常"), TransientError, 3),
        (status(13, "网控冲突"), TransientError, 3),
        (status(14, "调用限制"), RateLimited, 3),
        (status(99, "unknown"), InvalidRequest, 1),
    ],
)
async def test_save_answers_map_to_error_classes(
    answer: Any, error: type[ConnectorError], attempts: int
) -> None:
    recorder = MemoryCallRecorder()
    connector = make(recorder)
    with respx.mock() as mock:
        mock.post(LOGIN).mock(return_value=login_ok())
        mock.post(QUERY).mock(return_value=httpx.Response(200, json=[]))
        mock.post(SAVE).mock(return_value=httpx.Response(200, json=answer))
        with pytest.raises(error):
            await connector.post_voucher(disbursement())
    assert len([r for r in recorder.records if r.operation == "save_voucher"]) == attempts
    await connector.aclose()


@pytest.mark.parametrize(
    ("fixture", "error"),
    [("login_wrong_password.json", AuthError), ("login_license.json", QuotaExhausted)],
)
async def test_login_refusals_map_to_error_classes(fixture: str, error: type[ConnectorError]) -> None:
    connector = make()
    with respx.mock() as mock:
        route = mock.post(LOGIN).mock(return_value=httpx.Response(200, json=load(fixture)))
        with pytest.raises(error):
            await connector.post_voucher(disbursement())
    assert route.call_count == 1
    await connector.aclose()


async def test_session_loss_logs_in_once_and_replays() -> None:
    connector = make()
    with respx.mock() as mock:
        login = mock.post(LOGIN).mock(return_value=login_ok())
        mock.post(QUERY).mock(
            side_effect=[
                httpx.Response(200, json=load("query_session_lost.json")),
                httpx.Response(200, json=[]),
            ]
        )
        mock.post(SAVE).mock(
            side_effect=[
                httpx.Response(200, json=load("save_session_lost.json")),
                httpx.Response(200, json=load("save_ok.json")),
            ]
        )
        receipt = await connector.post_voucher(disbursement())
    assert receipt.voucher_id == "100023" and login.call_count == 3
    assert all(
        c.request.headers["cookie"] == "kdservice-sessionid=S1" for c in mock.calls if c.request.url != LOGIN
    )
    await connector.aclose()


async def test_session_lost_twice_in_a_row_gives_up() -> None:
    connector = make()
    with respx.mock() as mock:
        login = mock.post(LOGIN).mock(return_value=login_ok())
        mock.post(QUERY).mock(return_value=httpx.Response(200, json=load("query_session_lost.json")))
        with pytest.raises(client.SessionLost):
            await connector.post_voucher(disbursement())
    assert login.call_count == 2
    await connector.aclose()


async def test_duplicate_refusal_is_answered_by_the_existing_voucher() -> None:
    connector = make()
    with respx.mock() as mock:
        mock.post(LOGIN).mock(return_value=login_ok())
        mock.post(QUERY).mock(
            side_effect=[httpx.Response(200, json=[]), httpx.Response(200, json=load("query_rows.json"))]
        )
        mock.post(SAVE).mock(return_value=httpx.Response(200, json=load("save_duplicate.json")))
        receipt = await connector.post_voucher(disbursement())
    assert receipt.replayed and receipt.voucher_id == "100023"
    await connector.aclose()


async def test_password_is_masked_in_the_call_log() -> None:
    recorder = MemoryCallRecorder()
    connector = make(recorder)
    with respx.mock() as mock:
        mock.post(LOGIN).mock(return_value=login_ok())
        mock.post(QUERY).mock(return_value=httpx.Response(200, json=load("query_rows.json")))
        await connector.post_voucher(disbursement())
    assert str(SANDBOX_CONFIG["password"]) not in repr(recorder.records)
    await connector.aclose()
