r"""The front-end gateway's side of the wire: paths, signing, envelope and result codes.

人行征信中心 has no public network API: a lender queries through its licensed front-end processor
(征信前置机), and the HTTP service in front of it is the lender's or its integrator's. LendHub
defines that gateway contract here ("gateway contract v1", documented in the README) and keeps
every path and code table configurable, because each lender's gateway differs in detail:

* ``POST {report_path}`` with a JSON body (member code, operator, query reason, authorization id,
  name, ID type and number) returns ``{"code", "message", "requestId", "report"}`` where
  ``report`` is the second-generation segment document (``PRH``/``PIM``/…/``PDA``/``POQ``).
* ``GET {ping_path}`` checks the member's credentials without querying anyone.
* Every request carries ``X-Member-Code``, ``X-Timestamp`` (Unix seconds), ``X-Nonce`` and
  ``X-Signature`` = lower-hex HMAC-SHA256(secret, string-to-sign) where the string-to-sign is
  ``METHOD \n PATH \n TIMESTAMP \n NONCE \n lower-hex SHA-256(body)``.
* Business results travel in ``code`` inside HTTP 200; credential failures come as HTTP 401 with
  the same envelope.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
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
    rate_limit_delay,
)

__all__ = [
    "DEFAULT_CODES",
    "ERROR_CLASSES",
    "SUCCESS_CODE",
    "build_query_body",
    "classify_envelope",
    "envelope_report",
    "sign",
    "signed_headers",
    "string_to_sign",
]

SUCCESS_CODE = "0000"

ERROR_CLASSES: dict[str, type[ConnectorError]] = {
    "auth": AuthError,
    "invalid": InvalidRequest,
    "not_found": NotFound,
    "quota": QuotaExhausted,
    "rate_limited": RateLimited,
    "transient": TransientError,
    "contract": VendorContractError,
}
"""Error kinds a code table may name (config ``error_codes`` uses these words)."""

DEFAULT_CODES: dict[str, str] = {
    "1001": "auth",  # 签名验证失败
    "1002": "auth",  # 时间戳超出允许范围 (the same signed request would fail again)
    "1003": "auth",  # 机构未开通或已停用
    "2001": "invalid",  # 请求参数错误
    "2002": "invalid",  # 授权信息缺失或无效
    "3001": "quota",  # 查询量已用尽
    "3002": "rate_limited",  # 查询频率超限
    "4001": "not_found",  # 未查得信用报告
    "9001": "transient",  # 征信中心服务暂不可用
    "9002": "transient",  # 前置系统繁忙
}
"""Gateway result codes → error kinds (gateway contract v1; override per lender in config)."""


def string_to_sign(method: str, path: str, timestamp: str, nonce: str, body: bytes) -> str:
    """The exact text the gateway signs: method, path, timestamp, nonce and the body's SHA-256."""
    digest = hashlib.sha256(body).hexdigest()
    return f"{method.upper()}\n{path}\n{timestamp}\n{nonce}\n{digest}"


def sign(secret: str, method: str, path: str, timestamp: str, nonce: str, body: bytes) -> str:
    """Lower-hex HMAC-SHA256 of :func:`string_to_sign` under the member's secret."""
    message = string_to_sign(method, path, timestamp, nonce, body).encode("utf-8")
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def signed_headers(
    *,
    member_code: str,
    secret: str,
    method: str,
    path: str,
    body: bytes,
    now: float,
    nonce: str | None = None,
) -> dict[str, str]:
    """Headers of one signed request; ``nonce`` is random unless a test fixes it."""
    timestamp = str(int(now))
    nonce = nonce or secrets.token_hex(16)
    headers = {
        "X-Member-Code": member_code,
        "X-Timestamp": timestamp,
        "X-Nonce": nonce,
        "X-Signature": sign(secret, method, path, timestamp, nonce, body),
    }
    if body:
        headers["Content-Type"] = "application/json; charset=utf-8"
    return headers


def build_query_body(
    *,
    member_code: str,
    user_code: str,
    query_reason: str,
    authorization_id: str,
    name: str,
    id_number: str,
    request_id: str,
) -> bytes:
    """The report query as the gateway expects it, serialised once so the signature covers it."""
    body = {
        "requestId": request_id,
        "memberCode": member_code,
        "userCode": user_code,
        "queryReason": query_reason,
        "authorizationId": authorization_id,
        "name": name,
        "idType": "10",  # 居民身份证
        "idNumber": id_number,
        "reportFormat": "json",
    }
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _envelope(response: httpx.Response) -> dict[str, Any] | None:
    """The gateway envelope, or ``None`` when the body is not one (a proxy page, an LB error)."""
    try:
        data = response.json()
    except ValueError:
        return None
    if isinstance(data, dict) and isinstance(data.get("code"), str):
        return data
    return None


def classify_envelope(
    response: httpx.Response, codes: Mapping[str, str], *, now: float
) -> ConnectorError | None:
    """Map a gateway result code to the error tree; ``None`` for success or a non-envelope body.

    A body that is not the gateway's envelope is left to the SDK's status mapping, so a bare 503
    from a load balancer stays transient and an HTML page stays a contract error.
    """
    data = _envelope(response)
    if data is None:
        return None
    code = data["code"]
    if code == SUCCESS_CODE:
        return None
    message = f"gateway code {code}: {data.get('message', '')}"
    kind = codes.get(code)
    if kind is None:
        return VendorContractError(f"unknown {message}", vendor_code=code)
    error_cls = ERROR_CLASSES[kind]
    if error_cls is RateLimited:
        retry_after = rate_limit_delay(response.headers, now=now)
        return RateLimited(message, retry_after=retry_after, vendor_code=code)
    return error_cls(message, vendor_code=code)


def envelope_report(data: Any) -> dict[str, Any]:
    """The segment document of a successful answer; ValueError when the envelope lacks it."""
    if not isinstance(data, dict) or data.get("code") != SUCCESS_CODE:
        raise ValueError("not a successful gateway envelope")
    report = data.get("report")
    if not isinstance(report, dict) or "PRH" not in report:
        raise ValueError("successful envelope without a segment report (PRH missing)")
    return report
