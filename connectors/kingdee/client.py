"""金蝶云星空 (Kingdee K3 Cloud) WebAPI, the vendor side only: services, session, answers, codes.

Every call is a ``POST`` of JSON to ``<root>/<service>.common.kdsvc``. The session comes from
``AuthService.ValidateUser`` and lives in the ``kdservice-sessionid`` / ``ASP.NET_SessionId``
cookies. Failures arrive inside HTTP 200 as ``Result.ResponseStatus.IsSuccess = false`` with a
``MsgCode``; a lost session is ``MsgCode 1`` / ``ErrorCode 500`` "会话信息已丢失，请重新登录", on
which the client logs in again and replays. ``ExecuteBillQuery`` answers a bare 2-D array, and
wraps its errors in one (``[[{"Result": ...}]]``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx

from plugins.sdk import (
    AuthError,
    ConnectorError,
    InvalidRequest,
    NotFound,
    QuotaExhausted,
    RateLimited,
    TransientError,
    VendorContractError,
)

__all__ = [
    "EXECUTE_BILL_QUERY",
    "HOSTS",
    "MSG_CODE_ERRORS",
    "SAVE",
    "SESSION_COOKIES",
    "SESSION_LOST_TEXT",
    "VALIDATE_USER",
    "DuplicateVoucher",
    "SessionLost",
    "classify_body",
    "login_body",
    "query_rows",
    "save_result",
    "service_path",
    "session_cookie",
]

HOSTS = ("api.kingdee.com", "ierp.kingdee.com")
"""Kingdee's public cloud gateways; private deployments add their own host through ``base_url``."""

VALIDATE_USER = "Kingdee.BOS.WebApi.ServicesStub.AuthService.ValidateUser"
SAVE = "Kingdee.BOS.WebApi.ServicesStub.DynamicFormService.Save"
EXECUTE_BILL_QUERY = "Kingdee.BOS.WebApi.ServicesStub.DynamicFormService.ExecuteBillQuery"
SESSION_COOKIES = ("kdservice-sessionid", "ASP.NET_SessionId")
SESSION_LOST_TEXT = "会话信息已丢失"


class SessionLost(AuthError):
    """The server forgot our session (timeout, restart, another login); log in again once."""


class DuplicateVoucher(InvalidRequest):
    """Save refused: a voucher with this external id already exists (uniqueness rule)."""


# ResponseStatus.MsgCode → error tree (Kingdee's MsgCode enumeration; M confidence).
MSG_CODE_ERRORS: dict[int, type[ConnectorError]] = {
    1: SessionLost,  # 上下文丢失 / 会话过期
    2: AuthError,  # 没有权限
    3: InvalidRequest,  # 操作标识为空
    4: TransientError,  # 异常 (server-side exception)
    5: InvalidRequest,  # 单据标识为空
    6: TransientError,  # 数据库操作失败
    7: QuotaExhausted,  # 许可错误
    8: InvalidRequest,  # 参数错误
    9: InvalidRequest,  # 指定字段/值不存在 (unknown account or dimension number)
    10: NotFound,  # 未找到对应数据
    11: InvalidRequest,  # 验证失败 (unbalanced voucher, closed period, ...)
    12: InvalidRequest,  # 不可操作
    13: TransientError,  # 网控冲突 (a concurrent edit holds the lock)
    14: RateLimited,  # 调用限制
    15: AuthError,  # 禁止管理员登录
}


def service_path(root: str, service: str) -> str:
    """``/K3Cloud/<service>.common.kdsvc``."""
    return f"{root.rstrip('/')}/{service}.common.kdsvc"


def login_body(acct_id: str, username: str, password: str, lcid: int) -> dict[str, Any]:
    """``ValidateUser`` body in the positional ``parameters`` form the official clients send."""
    return {
        "format": 1,
        "useragent": "ApiClient",
        "rid": {},
        "parameters": [acct_id, username, password, lcid],
        "v": "1.0",
    }


def session_cookie(response: httpx.Response) -> str:
    """The ``Cookie`` header value that carries the session, from a login answer."""
    jar = {name: response.cookies.get(name) for name in SESSION_COOKIES}
    parts = [f"{name}={value}" for name, value in jar.items() if value]
    if not parts:
        body = response.json()
        session_id = body.get("KDSVCSessionId") if isinstance(body, dict) else None
        if not session_id:
            raise VendorContractError("金蝶 login answered no session cookie and no KDSVCSessionId")
        parts = [f"kdservice-sessionid={session_id}"]
    return "; ".join(parts)


def _status_error(status: Mapping[str, Any]) -> ConnectorError | None:
    if status.get("IsSuccess") is True:
        return None
    errors = status.get("Errors") or []
    messages = "; ".join(str(e.get("Message", "")) for e in errors if isinstance(e, Mapping))
    try:
        msg_code = int(status.get("MsgCode") or 0)
    except (TypeError, ValueError):
        msg_code = 0
    code = str(msg_code or status.get("ErrorCode", ""))
    text = f"金蝶 MsgCode {msg_code} ErrorCode {status.get('ErrorCode')}: {messages}"
    if SESSION_LOST_TEXT in messages:
        return SessionLost(text, vendor_code="1")
    if any("唯一" in str(e.get("Message", "")) for e in errors if isinstance(e, Mapping)):
        return DuplicateVoucher(text, vendor_code=code)
    cls = MSG_CODE_ERRORS.get(msg_code, InvalidRequest)
    return cls(text, vendor_code=code)


def _login_error(body: Mapping[str, Any]) -> ConnectorError | None:
    if body.get("LoginResultType") == 1:
        return None
    message = str(body.get("Message") or "")
    text = f"金蝶 login refused (LoginResultType {body.get('LoginResultType')}): {message}"
    if body.get("MessageCode") == "CheckLicenseFail" or "许可" in message:
        return QuotaExhausted(text, vendor_code=str(body.get("MessageCode") or ""))
    return AuthError(text, vendor_code=str(body.get("MessageCode") or ""))


def classify_body(body: Any) -> ConnectorError | None:
    """The error carried by a 2xx answer of any service, ``None`` when it succeeded."""
    if isinstance(body, Mapping):
        if "LoginResultType" in body:
            return _login_error(body)
        result = body.get("Result")
        if isinstance(result, Mapping) and isinstance(result.get("ResponseStatus"), Mapping):
            return _status_error(result["ResponseStatus"])
        return None
    if isinstance(body, list) and body and isinstance(body[0], list) and body[0]:
        first = body[0][0]
        if isinstance(first, Mapping):
            return classify_body(first)
    return None


def save_result(body: Any) -> tuple[str, str]:
    """``(Id, Number)`` of a successful ``Save`` answer."""
    result = body.get("Result") if isinstance(body, Mapping) else None
    if not isinstance(result, Mapping):
        raise VendorContractError("金蝶 Save answer has no Result")
    entities = (result.get("ResponseStatus") or {}).get("SuccessEntitys") or []
    first = entities[0] if entities else result
    voucher_id, number = first.get("Id"), first.get("Number")
    if voucher_id in (None, "", 0):
        raise VendorContractError("金蝶 Save answer has no Id")
    return str(voucher_id), str(number or "")


def query_rows(body: Any) -> list[list[Any]]:
    """The rows of an ``ExecuteBillQuery`` answer (a bare 2-D array)."""
    if not isinstance(body, list) or any(not isinstance(row, list) for row in body):
        raise VendorContractError("金蝶 ExecuteBillQuery answer is not a 2-D array")
    return body
