"""The wire side of the LendHub scoring protocol v1: signing, JSON encoding, error codes.

Signing scheme (what a lender's service must verify)::

    X-LendHub-Key-Id:    <key_id>
    X-LendHub-Timestamp: <unix seconds, decimal integer>
    X-LendHub-Signature: v1=<lower-case hex HMAC-SHA256(signing_secret, timestamp + "." + raw body)>

The body is signed as the exact bytes sent (UTF-8 JSON); a ``GET`` signs the empty body, so the
message is ``timestamp + "."``. The service should refuse timestamps more than 300 s from its
clock and compare signatures in constant time; a header may carry several space-separated
``v1=`` values during a key rotation. Errors come back as ``{"error": {"code", "message"}}``,
usually with a matching HTTP status but possibly inside HTTP 200, so :func:`error_from_body`
checks both.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Collection, Mapping
from decimal import Decimal
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

from .mapping import MISSING, get_path
from .models import ErrorKind

__all__ = [
    "KEY_ID_HEADER",
    "SIGNATURE_HEADER",
    "TIMESTAMP_HEADER",
    "encode_json",
    "error_from_body",
    "sign",
    "signed_headers",
]

KEY_ID_HEADER = "X-LendHub-Key-Id"
TIMESTAMP_HEADER = "X-LendHub-Timestamp"
SIGNATURE_HEADER = "X-LendHub-Signature"
SIGNATURE_VERSION = "v1"


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """Hex HMAC-SHA256 of ``timestamp + "." + body`` under ``secret`` (the ``v1`` scheme)."""
    message = timestamp.encode("ascii") + b"." + body
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def signed_headers(*, key_id: str, secret: str, timestamp: int, body: bytes) -> dict[str, str]:
    """The three authentication headers for one request."""
    stamp = str(timestamp)
    return {
        KEY_ID_HEADER: key_id,
        TIMESTAMP_HEADER: stamp,
        SIGNATURE_HEADER: f"{SIGNATURE_VERSION}={sign(secret, stamp, body)}",
    }


def _encode(value: Any) -> str:
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError("NaN and infinity are not JSON")
        # Plain notation: some services' JSON parsers choke on exponents like 1E+3.
        return format(value, "f")
    if isinstance(value, int | str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, Mapping):
        items = (f"{json.dumps(str(k), ensure_ascii=False)}:{_encode(v)}" for k, v in value.items())
        return "{" + ",".join(items) + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(_encode(v) for v in value) + "]"
    raise TypeError(f"cannot encode {type(value).__name__} as JSON")


def encode_json(value: Any) -> bytes:
    """Compact UTF-8 JSON with ``Decimal`` as exact JSON numbers (never through float)."""
    return _encode(value).encode("utf-8")


def _make_error(
    kind: ErrorKind, code: str, message: str, response: httpx.Response, now: float
) -> ConnectorError:
    text = f"service error {code}: {message}" if message else f"service error {code}"
    kw: dict[str, Any] = {"vendor_code": code, "status_code": response.status_code}
    if kind is ErrorKind.AUTH:
        return AuthError(text, **kw)
    if kind is ErrorKind.QUOTA:
        return QuotaExhausted(text, **kw)
    if kind is ErrorKind.NOT_FOUND:
        return NotFound(text, **kw)
    if kind is ErrorKind.INVALID:
        return InvalidRequest(text, **kw)
    if kind is ErrorKind.RATE_LIMITED:
        retry_after = rate_limit_delay(response.headers, now=now)
        return RateLimited(text, retry_after=retry_after, **kw)
    return TransientError(text, **kw)


def error_from_body(
    response: httpx.Response,
    *,
    code_path: str,
    codes: Mapping[str, ErrorKind],
    now: float,
    success_codes: Collection[str] = ("0",),
) -> ConnectorError | None:
    """The typed error a service answer carries, or ``None`` to let the status table decide.

    Args:
        response: the service's answer.
        code_path: where the error code sits (``error.code``).
        codes: known codes → error kind.
        success_codes: codes that mean the answer is a success.
        now: wall-clock seconds, for an HTTP-date ``Retry-After``.

    Returns:
        The mapped error for a known code. An unknown code inside HTTP 200 is a
        VendorContractError (the answer is neither a decision nor a documented error); an unknown
        code with an error status, or a body that is not a JSON object, defers to the status table.
    """
    if "json" not in response.headers.get("content-type", ""):
        return None
    try:
        body = json.loads(response.content)
    except ValueError:
        return None
    if not isinstance(body, dict):
        return None
    code = get_path(body, code_path)
    if code is MISSING or code is None or isinstance(code, dict | list):
        return None
    code = str(code)
    if code in success_codes:
        return None
    message = get_path(body, code_path.rsplit(".", 1)[0] + ".message") if "." in code_path else MISSING
    message_text = message if isinstance(message, str) else ""
    kind = codes.get(code)
    if kind is not None:
        return _make_error(kind, code, message_text[:200], response, now)
    if response.is_success:
        return VendorContractError(
            f"undocumented error code {code} in a {response.status_code} answer",
            vendor_code=code,
            status_code=response.status_code,
        )
    return None
