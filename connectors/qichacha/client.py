"""企查查 open API, the vendor side only: URLs, the Token signature, the envelope and its Status codes.

Every call carries ``key=<AppKey>`` in the query and two headers::

    Timespan: <unix seconds>
    Token:    UPPER(MD5(AppKey + Timespan + SecretKey))

Every answer is HTTP 200 with ``{"Status": "200", "Message": …, "OrderNumber": …, "Paging": …,
"Result": …}``; ``Status`` is a string. ``201`` (查询无结果) is the vendor's "nothing on file", not a
failure: :func:`classify_response` lets it through and the caller decides what empty means.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

import httpx
from pydantic import Field

from plugins.sdk import (
    AuthError,
    ConnectorError,
    HttpConnector,
    HttpConnectorConfig,
    InvalidRequest,
    QuotaExhausted,
    RateLimited,
    SecretStr,
    TransientError,
    VendorContractError,
)

__all__ = [
    "HOSTS",
    "NO_DATA",
    "OK",
    "STATUS_CODES",
    "Page",
    "QichachaClient",
    "QichachaConfig",
    "classify_response",
    "sign",
]

HOSTS = ("api.qichacha.com", "i.yjapi.com")
OK = "200"
NO_DATA = "201"
WAIT_AFTER_REPEATED_ERRORS = 7200.0
"""``110`` says: the same query failed repeatedly, wait two hours."""

_AUTH = {"101", "103", "104", "107", "111", "114", "115", "119", "214"}
_QUOTA = {"102", "109", "112", "116", "123"}
_RATE = {"106", "108", "110", "120", "122"}
_INVALID = {"105", "113", "117", "118", "121", "202", "207", "208", "209", "213", "215", "223", "224"}
_TRANSIENT = {"199", "203", "205"}

STATUS_CODES: dict[str, type[ConnectorError]] = {
    **dict.fromkeys(_AUTH, AuthError),
    **dict.fromkeys(_QUOTA, QuotaExhausted),
    **dict.fromkeys(_RATE, RateLimited),
    **dict.fromkeys(_INVALID, InvalidRequest),
    **dict.fromkeys(_TRANSIENT, TransientError),
}
"""Vendor ``Status`` → error class. ``107`` (forbidden IP or bad signature) and ``115`` (identity
check failed or Timespan expired) are auth errors: a stale clock is a configuration fault, retrying
with the same clock fails the same way. Undocumented codes are VendorContractError."""


def sign(app_key: str, timespan: str, secret_key: str) -> str:
    """The ``Token`` header: upper-case hex MD5 of AppKey + Timespan + SecretKey."""
    return hashlib.md5(f"{app_key}{timespan}{secret_key}".encode()).hexdigest().upper()


class QichachaConfig(HttpConnectorConfig):
    """Settings of a 企查查 instance; one config serves both the litigation and registry classes.

    Args:
        app_key: the AppKey (sent as the ``key`` query parameter; masked in the call log).
        secret_key: the SecretKey, only ever hashed into ``Token``.
        page_size: items per page of list endpoints.
        max_pages: pages fetched per list before stopping (each page is billed).
        exact_match: send ``isExactlySame=true`` so 张三 does not match 张三丰.
        rate_limited_retry_after: seconds to wait after a throttle Status, which has no Retry-After.
        probe_keyword: company looked up by ``check_connection``.
        dishonest_path: 失信被执行人.
        executed_path: 被执行人.
        judgment_path: 裁判文书 list (LOW confidence on item fields).
        restriction_path: 限制高消费核查 (LOW confidence on the path for persons).
        basic_details_path: 工商详情 with shareholders and changes.
    """

    base_url: str = "https://api.qichacha.com"
    app_key: SecretStr
    secret_key: SecretStr
    page_size: int = Field(default=20, ge=1, le=50)
    max_pages: int = Field(default=5, ge=1, le=50)
    exact_match: bool = True
    rate_limited_retry_after: float = Field(default=1.0, ge=0)
    probe_keyword: str = "中国银行股份有限公司"
    dishonest_path: str = "/CourtV4/SearchShiXin"
    executed_path: str = "/CourtV4/SearchZhiXing"
    judgment_path: str = "/JudgeDocV4/SearchJudgmentDoc"
    restriction_path: str = "/SumptuaryCheck/GetList"
    basic_details_path: str = "/ECIV4/GetBasicDetailsByName"


def classify_response(response: httpx.Response, *, rate_limited_retry_after: float) -> ConnectorError | None:
    """Map a 企查查 ``Status`` inside HTTP 200 onto the error tree; ``None`` to let it through."""
    if response.status_code != 200:
        return None
    try:
        body = response.json()
    except ValueError:
        return None
    if not isinstance(body, dict) or "Status" not in body:
        return VendorContractError("answer has no Status envelope")
    status = str(body["Status"]).strip()
    if status in (OK, NO_DATA):
        return None
    message = f"Status {status}: {body.get('Message') or ''}"
    error_class = STATUS_CODES.get(status)
    if error_class is None:
        return VendorContractError(f"undocumented {message}", vendor_code=status)
    if error_class is RateLimited:
        wait = WAIT_AFTER_REPEATED_ERRORS if status == "110" else rate_limited_retry_after
        return RateLimited(message, retry_after=wait, vendor_code=status)
    return error_class(message, vendor_code=status)


@dataclass(frozen=True)
class Page:
    """One page of a list endpoint: ``Paging.TotalRecords`` and the items."""

    total: int
    items: list[dict[str, Any]] = field(default_factory=list)


def _items(result: Any) -> list[dict[str, Any]]:
    """Items of a list ``Result``: a list, or ``{"VerifyResult", "Data": [...]}`` for 核查 endpoints."""
    if result is None:
        return []
    if isinstance(result, dict):
        result = result.get("Data") or []
    if not isinstance(result, list):
        raise VendorContractError("Result is neither a list nor a {VerifyResult, Data} object")
    return [item for item in result if isinstance(item, dict)]


class QichachaClient:
    """Speaks 企查查 through a connector's resilient :meth:`HttpConnector.request`.

    Args:
        connector: the connector whose road (egress, breaker, retries, call log) calls travel;
            its clock stamps ``Timespan``.
        config: the instance config.
    """

    def __init__(self, connector: HttpConnector, config: QichachaConfig) -> None:
        self.connector = connector
        self.config = config

    def _headers(self) -> dict[str, str]:
        timespan = str(int(self.connector.clock()))
        token = sign(
            self.config.app_key.get_secret_value(), timespan, self.config.secret_key.get_secret_value()
        )
        return {"Token": token, "Timespan": timespan}

    async def get(self, path: str, *, operation: str, params: dict[str, Any]) -> dict[str, Any] | None:
        """GET one endpoint; the whole envelope, or ``None`` for ``201`` no data."""
        response = await self.connector.request(
            "GET",
            path,
            operation=operation,
            params={"key": self.config.app_key.get_secret_value(), **params},
            headers=self._headers(),
        )
        body: dict[str, Any] = self.connector.response_json(response)
        if str(body["Status"]).strip() == NO_DATA:
            return None
        return body

    async def list_all(self, path: str, *, operation: str, search_key: str) -> list[dict[str, Any]]:
        """Every item of a list endpoint, page by page, up to ``max_pages`` pages."""
        items: list[dict[str, Any]] = []
        for page_index in range(1, self.config.max_pages + 1):
            params: dict[str, Any] = {
                "searchKey": search_key,
                "pageIndex": page_index,
                "pageSize": self.config.page_size,
            }
            if self.config.exact_match:
                params["isExactlySame"] = "true"
            body = await self.get(path, operation=operation, params=params)
            if body is None:
                break
            page_items = _items(body.get("Result"))
            paging = body.get("Paging") or {}
            total = int(paging.get("TotalRecords") or len(page_items)) if isinstance(paging, dict) else 0
            items.extend(page_items)
            if not page_items or len(items) >= total:
                break
        return items

    async def dishonest(self, search_key: str) -> list[dict[str, Any]]:
        """失信被执行人 items."""
        return await self.list_all(self.config.dishonest_path, operation="dishonest", search_key=search_key)

    async def executed(self, search_key: str) -> list[dict[str, Any]]:
        """被执行人 items."""
        return await self.list_all(self.config.executed_path, operation="executed", search_key=search_key)

    async def judgments(self, search_key: str) -> list[dict[str, Any]]:
        """裁判文书 items."""
        return await self.list_all(self.config.judgment_path, operation="judgments", search_key=search_key)

    async def restrictions(self, search_key: str) -> list[dict[str, Any]]:
        """限制高消费 items."""
        return await self.list_all(
            self.config.restriction_path, operation="restrictions", search_key=search_key
        )

    async def basic_details(self, keyword: str) -> dict[str, Any] | None:
        """工商详情 ``Result``, ``None`` when the registry has no such company."""
        body = await self.get(
            self.config.basic_details_path, operation="basic_details", params={"keyword": keyword}
        )
        if body is None:
            return None
        result = body.get("Result")
        if not isinstance(result, dict):
            raise VendorContractError("basic_details: Result is not an object", connector=self.connector.slug)
        return result
