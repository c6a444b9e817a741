"""百行征信's side of the wire: Basic auth, RSA field encryption, the envelope and its codes.

Transport per vendors.md §1.2 (confidence M): ``POST /api/v1/credit/report`` with HTTP Basic
``account:password``; ``name``, ``pid`` and ``mobile`` each encrypted with 百行's RSA public key and
base64-encoded; JSON in and out. The answer carries ``errorCode``/``errorMessage`` beside the
report sections, and each section is itself a JSON string. Only ``ERR-20001`` (Not Authorized) is
attested; the other codes below are LendHub's reading of the vendor's conventions (low confidence)
and every one can be re-mapped in config.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from decimal import Decimal
from typing import Any, Literal

import httpx
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

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
    "SUCCESS_CODES",
    "Padding",
    "basic_auth",
    "build_report_body",
    "classify_envelope",
    "encrypt_field",
    "load_public_key",
    "rsa_padding",
]

Padding = Literal["pkcs1v15", "oaep-sha256"]

SUCCESS_CODES = frozenset({"", "0", "0000", "SUCCESS"})
"""``errorCode`` values (or its absence) that mean the query succeeded."""

ERROR_CLASSES: dict[str, type[ConnectorError]] = {
    "auth": AuthError,
    "invalid": InvalidRequest,
    "not_found": NotFound,
    "quota": QuotaExhausted,
    "rate_limited": RateLimited,
    "transient": TransientError,
    "contract": VendorContractError,
}

DEFAULT_CODES: dict[str, str] = {
    "ERR-10001": "invalid",  # 参数错误 / 必填字段缺失
    "ERR-10002": "invalid",  # 解密失败: the RSA key or padding in config does not match 百行's
    "ERR-20001": "auth",  # Not Authorized (attested)
    "ERR-20002": "quota",  # 余额不足 / 查询次数已用完
    "ERR-20003": "rate_limited",  # 查询频率超限
    "ERR-30001": "not_found",  # 查无此人 (百行 usually answers empty sections instead)
    "ERR-50001": "transient",  # 系统繁忙
}


def load_public_key(pem: str) -> rsa.RSAPublicKey:
    """Parse the PEM public key 百行 issued; ValueError when it is not an RSA public key."""
    key = serialization.load_pem_public_key(pem.strip().encode("ascii"))
    if not isinstance(key, rsa.RSAPublicKey):
        raise ValueError("the key is not an RSA public key")
    return key


def rsa_padding(name: Padding) -> padding.AsymmetricPadding:
    """The padding scheme by config name; Java's ``RSA/ECB/PKCS1Padding`` is ``pkcs1v15``."""
    if name == "oaep-sha256":
        return padding.OAEP(
            mgf=padding.MGF1(algorithm=hashes.SHA256()), algorithm=hashes.SHA256(), label=None
        )
    return padding.PKCS1v15()


def encrypt_field(key: rsa.RSAPublicKey, value: str, scheme: Padding = "pkcs1v15") -> str:
    """Base64 of the RSA encryption of one UTF-8 field value."""
    return base64.b64encode(key.encrypt(value.encode("utf-8"), rsa_padding(scheme))).decode("ascii")


def basic_auth(account: str, password: str) -> str:
    """The ``Authorization`` header value: ``Basic base64(account:password)``."""
    return "Basic " + base64.b64encode(f"{account}:{password}".encode()).decode("ascii")


def build_report_body(
    *,
    key: rsa.RSAPublicKey,
    scheme: Padding,
    req_id: str,
    name: str,
    pid: str,
    mobile: str | None,
    query_reason: str,
    guarantee_type: str,
    loan_purpose: str,
    custom_type: str,
    apply_amount: Decimal,
) -> dict[str, Any]:
    """The 个人信用报告查询 request with name, ID number and mobile encrypted."""
    body: dict[str, Any] = {
        "reqID": req_id,
        "name": encrypt_field(key, name, scheme),
        "pid": encrypt_field(key, pid, scheme),
        "queryReason": query_reason,
        "guaranteeType": guarantee_type,
        "loanPurpose": loan_purpose,
        "customType": custom_type,
        "applyAmount": str(apply_amount),
    }
    if mobile:
        body["mobile"] = encrypt_field(key, mobile, scheme)
    return body


def _envelope(response: httpx.Response) -> dict[str, Any] | None:
    try:
        data = response.json()
    except ValueError:
        return None
    if isinstance(data, dict) and "errorCode" in data:
        return data
    return None


def classify_envelope(
    response: httpx.Response, codes: Mapping[str, str], *, now: float
) -> ConnectorError | None:
    """Map ``errorCode`` to the error tree; ``None`` for success or a body without the envelope.

    Non-envelope bodies (a load balancer's 503, a proxy's HTML page) are left to the SDK's status
    mapping so they keep their transient or contract class.
    """
    data = _envelope(response)
    if data is None:
        return None
    code = str(data.get("errorCode") or "")
    if code in SUCCESS_CODES:
        return None
    message = f"errorCode {code}: {data.get('errorMessage', '')}"
    kind = codes.get(code)
    if kind is None:
        return VendorContractError(f"unknown {message}", vendor_code=code)
    error_cls = ERROR_CLASSES[kind]
    if error_cls is RateLimited:
        return RateLimited(
            message,
            retry_after=rate_limit_delay(response.headers, now=now),
            vendor_code=code,
        )
    return error_cls(message, vendor_code=code)


def sections(data: Any, names: tuple[str, ...]) -> dict[str, Any]:
    """Decode the report sections (each a JSON string, or already an object); empty ones are ``None``."""
    if not isinstance(data, dict):
        raise ValueError("the answer is not a JSON object")
    out: dict[str, Any] = {}
    for name in names:
        raw = data.get(name)
        if isinstance(raw, str):
            raw = json.loads(raw) if raw.strip() else None
        out[name] = raw or None
    return out
