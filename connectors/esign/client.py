"""e签宝 open API v3, the vendor side only: paths, request signing, callback signing, codes.

Requests are signed with HMAC-SHA256 over a seven-line string (method, Accept, Content-MD5,
Content-Type, Date, headers, path with sorted parameters); Content-MD5 is the Base64 of the raw
16-byte MD5 of the body. Callbacks carry a lower-case hex HMAC-SHA256 over
``timestamp + sorted notify-URL query values + raw body``. Both are pure functions here so the
connector, the simulator and the webhook receiver share one implementation.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping
from typing import Any

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
    "ACCEPT",
    "CALLBACK_ALGORITHM",
    "CODE_ERRORS",
    "CONTENT_TYPE",
    "FILE_READY_STATUSES",
    "HOSTS",
    "callback_signature",
    "classify_envelope",
    "content_md5",
    "error_for_code",
    "path_and_parameters",
    "sign",
    "signed_headers",
    "string_to_sign",
    "unwrap",
    "verify_callback",
]

HOSTS = ("openapi.esign.cn", "smlopenapi.esign.cn", "esignoss.esign.cn", "smlesignoss.esign.cn")
"""Production and sandbox API gateways, and the object-storage hosts upload URLs point at."""

ACCEPT = "*/*"
CONTENT_TYPE = "application/json; charset=UTF-8"
CALLBACK_ALGORITHM = "hmac-sha256"
FILE_READY_STATUSES = frozenset({2, 5})
"""``fileStatus`` values meaning the uploaded file is ready to be signed."""

# Vendor business codes inside HTTP 200 → the error tree. The 1435/1437 codes are from the
# contract card; 1437100 (flow not found) and 1435002 (bad parameter) are LOW-CONFIDENCE.
CODE_ERRORS: dict[int, type[ConnectorError]] = {
    401: AuthError,  # gateway: signature, timestamp or app id rejected
    1435405: QuotaExhausted,  # 企业账户中电子合同份数不足
    1437169: InvalidRequest,  # 流程已过期
    1437103: InvalidRequest,  # 流程未开启
    1437513: TransientError,  # 文档未成功转换成pdf (still converting)
    1437518: InvalidRequest,  # 流程未结束，不可下载
    1437100: NotFound,  # 签署流程不存在
    1435002: InvalidRequest,  # 参数错误
    1430429: RateLimited,  # 请求过于频繁 (configurable rate-limit code)
}


def content_md5(body: bytes) -> str:
    """``Base64(MD5(body))`` of the raw digest; the empty string for an empty body (GET/DELETE)."""
    if not body:
        return ""
    return base64.b64encode(hashlib.md5(body).digest()).decode("ascii")


def path_and_parameters(path: str, params: Mapping[str, Any] | None = None) -> str:
    """The path with its query parameters sorted by key and not URL-encoded, as e签宝 signs it.

    A parameter with an empty value is signed as the bare key, as the official demo does.
    """
    if not params:
        return path
    parts = [f"{key}={params[key]}" if params[key] not in (None, "") else key for key in sorted(params)]
    return f"{path}?{'&'.join(parts)}"


def string_to_sign(
    method: str,
    path_and_params: str,
    *,
    md5: str,
    accept: str = ACCEPT,
    content_type: str = CONTENT_TYPE,
    date: str = "",
    headers: str = "",
) -> str:
    """The seven-line string e签宝 signs; the Date line stays empty and the headers line is omitted."""
    lines = [method.upper(), accept, md5, content_type, date]
    if headers:
        lines.append(headers)
    lines.append(path_and_params)
    return "\n".join(lines)


def sign(secret: str, message: str) -> str:
    """``Base64(HMAC-SHA256(secret, message))``, the ``X-Tsign-Open-Ca-Signature`` value."""
    digest = hmac.new(secret.encode("utf-8"), message.encode("utf-8"), hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def signed_headers(
    *,
    app_id: str,
    secret: str,
    method: str,
    path: str,
    body: bytes,
    timestamp_ms: int,
    params: Mapping[str, Any] | None = None,
) -> dict[str, str]:
    """Every header a signed v3 request carries."""
    md5 = content_md5(body)
    sts = string_to_sign(method, path_and_parameters(path, params), md5=md5)
    return {
        "X-Tsign-Open-App-Id": app_id,
        "X-Tsign-Open-Auth-Mode": "Signature",
        "X-Tsign-Open-Ca-Timestamp": str(timestamp_ms),
        "X-Tsign-Open-Ca-Signature": sign(secret, sts),
        "Accept": ACCEPT,
        "Content-Type": CONTENT_TYPE,
        "Content-MD5": md5,
    }


def callback_signature(secret: str, timestamp: str, query: Mapping[str, str], raw_body: bytes) -> str:
    """Lower-case hex ``HMAC-SHA256(secret, timestamp + sorted query values + body)``."""
    values = "".join(query[key] for key in sorted(query))
    message = timestamp.encode("utf-8") + values.encode("utf-8") + raw_body
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def verify_callback(
    secret: str,
    headers: Mapping[str, str],
    raw_body: bytes,
    *,
    query: Mapping[str, str] | None = None,
    now_ms: int | None = None,
    tolerance_ms: int = 15 * 60 * 1000,
) -> bool:
    """Whether a callback delivery was signed by e签宝 with ``secret`` (and is fresh).

    Args:
        secret: the app's AppSecret.
        headers: the delivery's headers (any case).
        raw_body: the body exactly as received; re-serialised JSON will not verify.
        query: the notify URL's own query parameters.
        now_ms: the receiver's clock; when given, a timestamp further than ``tolerance_ms``
            away is refused (replay protection the vendor does not mandate but allows).
        tolerance_ms: accepted clock distance.
    """
    lower = {k.lower(): v for k, v in headers.items()}
    timestamp = lower.get("x-tsign-open-timestamp", "")
    given = lower.get("x-tsign-open-signature", "")
    if not timestamp or not given:
        return False
    if lower.get("x-tsign-open-signature-algorithm", CALLBACK_ALGORITHM).lower() != CALLBACK_ALGORITHM:
        return False
    if now_ms is not None:
        try:
            if abs(now_ms - int(timestamp)) > tolerance_ms:
                return False
        except ValueError:
            return False
    expected = callback_signature(secret, timestamp, query or {}, raw_body)
    return hmac.compare_digest(expected, given.lower())


def error_for_code(code: int, message: str) -> ConnectorError:
    """The error-tree member for a non-zero e签宝 ``code``; unknown codes reject the request."""
    cls = CODE_ERRORS.get(code, InvalidRequest)
    text = f"e签宝 code {code}: {message}"
    if cls is RateLimited:
        return RateLimited(text, vendor_code=str(code))
    return cls(text, vendor_code=str(code))


def classify_envelope(status_code: int, body: Any) -> ConnectorError | None:
    """Map a JSON answer of the gateway or the storage host onto the error tree (``None``: fine).

    Only 2xx answers are judged here; other statuses keep the SDK's status mapping.
    """
    if not 200 <= status_code < 300 or not isinstance(body, dict):
        return None
    if "errCode" in body:  # the object-storage upload answer
        code = body.get("errCode")
        if code in (0, "0"):
            return None
        return InvalidRequest(f"e签宝 upload errCode {code}: {body.get('msg', '')}", vendor_code=str(code))
    code = body.get("code")
    if code is None:
        return None
    try:
        number = int(code)
    except (TypeError, ValueError):
        return VendorContractError(f"e签宝 code {code!r} is not a number")
    if number == 0:
        return None
    return error_for_code(number, str(body.get("message", "")))


def unwrap(body: Any) -> dict[str, Any]:
    """The ``data`` of a successful envelope; VendorContractError when it is not an object."""
    if not isinstance(body, dict) or body.get("code") not in (0, "0"):
        raise VendorContractError("e签宝 answer is not a success envelope {code: 0, data: {...}}")
    data = body.get("data")
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise VendorContractError("e签宝 envelope data is not an object")
    return data
