"""The 钉钉 side only: hosts, paths, request bodies and vendor codes → SDK errors.

The new API (``api.dingtalk.com/v1.0``) answers success with HTTP 200 and ``{"result": …}``, and
failures with a 4xx/5xx status and ``{"code", "message", "requestid"}`` where ``code`` is a word
(``InvalidAuthentication``, ``Forbidden.AccessDenied.QpsLimitForApi``). The old ``errcode`` envelope
(``oapi.dingtalk.com``) is read too, because gateways in front of both answer with it.
"""

from __future__ import annotations

from collections.abc import Collection
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
    "DEFAULT_NOT_FOUND_CODES",
    "DEFAULT_QUOTA_CODES",
    "INSTANCES_PATH",
    "PRODUCTION_HOSTS",
    "TOKEN_INVALID_CODES",
    "TOKEN_PATH",
    "classify_body",
    "create_body",
    "parse_token",
]

PRODUCTION_HOSTS = ("api.dingtalk.com", "oapi.dingtalk.com")
TOKEN_PATH = "/v1.0/oauth2/accessToken"
INSTANCES_PATH = "/v1.0/workflow/processInstances"

TOKEN_INVALID_CODES = frozenset({"InvalidAuthentication", "40014", "42001"})
"""The access token is invalid or expired: fetch a new one and try once more."""
RATE_LIMITED_CODES = frozenset(
    {
        "Forbidden.AccessDenied.QpsLimitForApi",
        "Forbidden.AccessDenied.QpsLimitForAppkeyAndApi",
        "90002",
        "90018",
    }
)
DEFAULT_QUOTA_CODES = ("Forbidden.AccessDenied.ApiCallQuotaExceeded", "88")
"""LOW confidence (not in the contract card): the monthly API-call quota code; configurable."""
DEFAULT_NOT_FOUND_CODES = ("InvalidParameter.ProcessInstanceId.NotFound",)
"""LOW confidence: the code for an unknown process instance id; configurable."""
AUTH_CODES = frozenset(
    {
        "InvalidAuthentication",
        "invalidClientIdOrSecret",
        "Forbidden.AccessDenied.AccessTokenPermissionDenied",
        "Forbidden.AccessDenied.IpNotInWhiteList",
        "40014",
        "42001",
        "40089",
    }
)
QPS_RETRY_AFTER = 1.0
"""钉钉 QPS limits are per second and the answer carries no Retry-After."""


def classify_body(
    status: int,
    body: Any,
    *,
    quota_codes: Collection[str] = DEFAULT_QUOTA_CODES,
    not_found_codes: Collection[str] = DEFAULT_NOT_FOUND_CODES,
) -> ConnectorError | None:
    """Map a 钉钉 answer to an error; ``None`` for success or when the body carries no code.

    Args:
        status: the HTTP status.
        body: the parsed JSON body.
        quota_codes: codes meaning the call quota is used up.
        not_found_codes: codes meaning the instance is unknown.
    """
    if not isinstance(body, dict):
        return None
    if "errcode" in body:
        if body["errcode"] in (0, "0"):
            return None
        code, message = str(body["errcode"]), str(body.get("errmsg", ""))
    elif isinstance(body.get("code"), str) and status >= 400:
        code, message = body["code"], str(body.get("message", ""))
    else:
        return None
    text = f"钉钉 {code}: {message[:200]}"
    kw: dict[str, Any] = {"vendor_code": code}
    if code in quota_codes:
        return QuotaExhausted(text, **kw)
    if code in RATE_LIMITED_CODES:
        return RateLimited(text, retry_after=QPS_RETRY_AFTER, **kw)
    if code in AUTH_CODES:
        return AuthError(text, **kw)
    if code in not_found_codes:
        return NotFound(text, **kw)
    if status >= 500 or status == 408 or code in ("-1", "ServiceUnavailable", "SystemBusy"):
        return TransientError(text, **kw)
    if status == 429:
        return RateLimited(text, retry_after=QPS_RETRY_AFTER, **kw)
    if status in (401, 403):
        return AuthError(text, **kw)
    return InvalidRequest(text, **kw)


def parse_token(body: Any) -> tuple[str, float]:
    """The access token and its lifetime in seconds (new ``accessToken`` or old ``access_token``)."""
    if isinstance(body, dict):
        token = body.get("accessToken", body.get("access_token"))
        expire = body.get("expireIn", body.get("expires_in"))
        if isinstance(token, str) and token and isinstance(expire, int | float):
            return token, float(expire)
    raise VendorContractError("钉钉 token answer lacks accessToken/expireIn")


def create_body(request: ApprovalRequest, *, dept_id: int | None, agent_id: int | None) -> dict[str, Any]:
    """The ``POST /v1.0/workflow/processInstances`` body; form values go by component name."""
    body: dict[str, Any] = {
        "originatorUserId": request.initiator,
        "processCode": request.template_code,
        "formComponentValues": [{"name": name, "value": value} for name, value in request.form.items()],
    }
    dept = request.department_id or (str(dept_id) if dept_id is not None else None)
    if dept is not None:
        # Documented optional, required in practice; 钉钉 takes it as a number.
        body["deptId"] = int(dept) if dept.lstrip("-").isdigit() else dept
    if agent_id is not None:
        body["microappAgentId"] = agent_id
    if request.approvers:
        body["targetSelectActioners"] = [
            {"actionerKey": step.node_key, "actionerUserIds": list(step.user_ids)}
            for step in request.approvers
        ]
    return body
