"""The 飞书 side only: hosts, paths, request bodies and vendor codes → SDK errors.

飞书 answers ``{"code", "msg", "data"}``; ``code == 0`` is success. Failures come with HTTP 200 or
with a 4xx/429 status and the same envelope, so :func:`classify_body` reads the code whatever the
status and falls back to the status only when the body carries no code.
"""

from __future__ import annotations

import hashlib
import json
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
from schemas.canonical.oa import ApprovalRequest

__all__ = [
    "CREATE_PATH",
    "INSTANCE_PATH",
    "PRODUCTION_HOSTS",
    "TOKEN_INVALID_CODES",
    "TOKEN_PATH",
    "UUID_CONFLICT",
    "classify_body",
    "create_body",
    "dedupe_uuid",
    "parse_token",
]

PRODUCTION_HOSTS = ("open.feishu.cn", "open.larksuite.com")
TOKEN_PATH = "/open-apis/auth/v3/tenant_access_token/internal"
CREATE_PATH = "/open-apis/approval/v4/instances"
INSTANCE_PATH = "/open-apis/approval/v4/instances/{instance_id}"

TOKEN_INVALID_CODES = frozenset({99991663, 99991677})
"""The tenant access token is invalid or expired: fetch a new one and try once more."""
UUID_CONFLICT = 60012
"""The ``uuid`` was used before: the instance exists, read it by its uuid instead."""

RATE_LIMITED_CODES = frozenset({99991400})
QUOTA_CODES = frozenset({99991403})  # 基础免费版 monthly API call quota, sent with HTTP 429
AUTH_CODES = frozenset({10003, 10014, 99991661, 99991663, 99991664, 99991672, 99991677, 1390009})
NOT_FOUND_CODES = frozenset({1390003})
INVALID_CODES = frozenset({1390001, 1390002, 1390004, 1390013, 1390015, UUID_CONFLICT})
TRANSIENT_CODES = frozenset({1395001})

RATE_LIMIT_RESET_HEADER = "x-ogw-ratelimit-reset"


def _retry_after(headers: Mapping[str, str]) -> float | None:
    for name in (RATE_LIMIT_RESET_HEADER, "retry-after"):
        raw = headers.get(name)
        if raw is not None:
            try:
                return max(0.0, float(raw))
            except ValueError:
                continue
    return None


def classify_body(status: int, body: Any, headers: Mapping[str, str]) -> ConnectorError | None:
    """Map a 飞书 answer to an error, ``None`` for success or when the body carries no code.

    Args:
        status: the HTTP status.
        body: the parsed JSON body (anything: non-envelope bodies defer to the status table).
        headers: response headers, for the rate-limit reset.
    """
    if not isinstance(body, dict) or not isinstance(body.get("code"), int) or isinstance(body["code"], bool):
        return None
    code = body["code"]
    if code == 0:
        return None
    msg = str(body.get("msg", ""))[:200]
    kw: dict[str, Any] = {"vendor_code": str(code)}
    text = f"飞书 code {code}: {msg}"
    if code in QUOTA_CODES:
        return QuotaExhausted(text, **kw)
    if code in RATE_LIMITED_CODES:
        return RateLimited(text, retry_after=_retry_after(headers), **kw)
    if code in AUTH_CODES:
        return AuthError(text, **kw)
    if code in NOT_FOUND_CODES:
        return NotFound(text, **kw)
    if code in INVALID_CODES:
        return InvalidRequest(text, **kw)
    if code in TRANSIENT_CODES or status >= 500:
        return TransientError(text, **kw)
    if status == 429:
        return RateLimited(text, retry_after=_retry_after(headers), **kw)
    if status in (401, 403):
        return AuthError(text, **kw)
    return InvalidRequest(text, **kw)


def parse_token(body: Any) -> tuple[str, float]:
    """The token and its lifetime in seconds from a successful token answer."""
    token = body.get("tenant_access_token") if isinstance(body, dict) else None
    expire = body.get("expire") if isinstance(body, dict) else None
    if not isinstance(token, str) or not token or not isinstance(expire, int | float):
        raise VendorContractError("飞书 token answer lacks tenant_access_token/expire")
    return token, float(expire)


def dedupe_uuid(idempotency_key: str) -> str:
    """The instance ``uuid`` for an idempotency key: the key itself when 飞书 accepts it (≤ 64 chars)."""
    if 0 < len(idempotency_key) <= 64:
        return idempotency_key
    return hashlib.sha256(idempotency_key.encode()).hexdigest()


def create_body(
    request: ApprovalRequest,
    *,
    uuid: str,
    user_id_type: str,
    field_types: Mapping[str, str],
) -> dict[str, Any]:
    """The ``POST /approval/v4/instances`` body; ``form`` is a JSON *string*, as 飞书 requires."""
    widgets = [
        {"id": field_id, "type": field_types.get(field_id, "input"), "value": value}
        for field_id, value in request.form.items()
    ]
    body: dict[str, Any] = {
        "approval_code": request.template_code,
        ("open_id" if user_id_type == "open_id" else "user_id"): request.initiator,
        "form": json.dumps(widgets, ensure_ascii=False, separators=(",", ":")),
        "uuid": uuid,
    }
    if request.department_id:
        body["department_id"] = request.department_id
    if request.approvers:
        key = "node_approver_open_id_list" if user_id_type == "open_id" else "node_approver_user_id_list"
        body[key] = [{"key": step.node_key, "value": list(step.user_ids)} for step in request.approvers]
    return body
