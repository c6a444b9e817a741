"""天眼查 open API, the vendor side only: URLs, the token header, the envelope and its error codes.

Every answer is HTTP 200 with ``{"error_code": 0, "reason": "ok", "result": {...}}``; failures
travel in ``error_code``. ``300000`` (经查无结果) is not a failure but the vendor's way of saying
"nothing on file", so :func:`classify_response` lets it through and the caller decides what an
empty answer means (an empty litigation record, or NotFound for a company lookup).
"""

from __future__ import annotations

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
    "ERROR_CODES",
    "HOSTS",
    "NO_DATA",
    "OK",
    "Page",
    "TianyanchaClient",
    "TianyanchaConfig",
    "classify_response",
]

HOSTS = ("open.api.tianyancha.com",)
OK = 0
NO_DATA = 300000

ERROR_CODES: dict[int, tuple[type[ConnectorError], str]] = {
    300001: (TransientError, "请求失败"),
    300002: (AuthError, "账号失效/停用"),
    300003: (AuthError, "账号过期"),
    300004: (RateLimited, "访问频率过快"),
    300005: (AuthError, "无权限访问此api"),
    300006: (QuotaExhausted, "余额不足"),
    300007: (QuotaExhausted, "剩余次数不足"),
    300008: (InvalidRequest, "缺少必要参数"),
    300009: (AuthError, "账号信息有误"),
    300010: (InvalidRequest, "URL不存在"),
}
"""Vendor error code → error class and the vendor's meaning; any other non-zero code is a contract
breach (VendorContractError), because we cannot know whether retrying helps."""


class TianyanchaConfig(HttpConnectorConfig):
    """Settings of a 天眼查 instance; one config serves both the litigation and registry classes.

    Args:
        token: the API token, sent raw in ``Authorization`` (no ``Bearer``).
        page_size: items per page; the vendor caps it at 20.
        max_pages: pages fetched per list before stopping (each page is billed).
        rate_limited_retry_after: seconds to wait after ``300004``, which carries no Retry-After.
        probe_keyword: company looked up by ``check_connection`` (an empty answer proves the token).
        lawsuit_path: 法律诉讼 (``/2.0``; the vendor also serves ``/3.0``).
        dishonest_path: 失信人.
        executed_path: 被执行人.
        restriction_path: 限制消费令.
        baseinfo_path: 企业基本信息 (normal).
        holder_path: 企业股东.
        change_path: 变更记录.
    """

    base_url: str = "https://open.api.tianyancha.com"
    token: SecretStr
    page_size: int = Field(default=20, ge=1, le=20)
    max_pages: int = Field(default=5, ge=1, le=50)
    rate_limited_retry_after: float = Field(default=1.0, ge=0)
    probe_keyword: str = "中国银行股份有限公司"
    lawsuit_path: str = "/services/open/jr/lawSuit/2.0"
    dishonest_path: str = "/services/open/jr/dishonest/2.0"
    executed_path: str = "/services/open/jr/zhixinginfo/2.0"
    restriction_path: str = "/services/open/jr/consumptionRestriction/2.0"
    baseinfo_path: str = "/services/open/ic/baseinfo/normal"
    holder_path: str = "/services/open/ic/holder/2.0"
    change_path: str = "/services/open/ic/changeinfo/2.0"


def classify_response(response: httpx.Response, *, rate_limited_retry_after: float) -> ConnectorError | None:
    """Map a 天眼查 ``error_code`` inside HTTP 200 onto the error tree; ``None`` to let it through.

    Non-200 answers and bodies that are not JSON are left to the SDK's status mapping (which makes
    an HTML page on 200 a VendorContractError).
    """
    if response.status_code != 200:
        return None
    try:
        body = response.json()
    except ValueError:
        return None
    if not isinstance(body, dict) or "error_code" not in body:
        return VendorContractError("answer has no error_code envelope")
    try:
        code = int(body["error_code"])
    except (TypeError, ValueError):
        return VendorContractError(f"error_code {body['error_code']!r} is not a number")
    if code in (OK, NO_DATA):
        return None
    reason = str(body.get("reason") or "")
    known = ERROR_CODES.get(code)
    if known is None:
        return VendorContractError(f"undocumented error_code {code}: {reason}", vendor_code=str(code))
    error_class, meaning = known
    message = f"error_code {code} {meaning}: {reason}"
    if error_class is RateLimited:
        return RateLimited(message, retry_after=rate_limited_retry_after, vendor_code=str(code))
    return error_class(message, vendor_code=str(code))


@dataclass(frozen=True)
class Page:
    """One page of a list endpoint: the vendor's ``total`` and its ``items``."""

    total: int
    items: list[dict[str, Any]] = field(default_factory=list)


class TianyanchaClient:
    """Speaks 天眼查 through a connector's resilient :meth:`HttpConnector.request`.

    Args:
        connector: the connector whose road (egress, breaker, retries, call log) calls travel.
        config: the instance config.
    """

    def __init__(self, connector: HttpConnector, config: TianyanchaConfig) -> None:
        self.connector = connector
        self.config = config

    async def get(self, path: str, *, operation: str, params: dict[str, Any]) -> Any | None:
        """GET one endpoint; the ``result`` of the envelope, or ``None`` for ``300000`` no data."""
        response = await self.connector.request("GET", path, operation=operation, params=params)
        body = self.connector.response_json(response)
        if int(body["error_code"]) == NO_DATA:
            return None
        if "result" not in body:
            raise VendorContractError(f"{operation}: success without a result", connector=self.connector.slug)
        return body["result"]

    async def page(self, path: str, *, operation: str, keyword: str, page_num: int) -> Page:
        """One page of a ``{"total", "items"}`` list; an empty page for ``300000``."""
        result = await self.get(
            path,
            operation=operation,
            params={"keyword": keyword, "pageNum": page_num, "pageSize": self.config.page_size},
        )
        if result is None:
            return Page(total=0)
        if not isinstance(result, dict) or not isinstance(result.get("items", []), list):
            raise VendorContractError(f"{operation}: result is not a {{total, items}} page")
        items = [item for item in result.get("items") or [] if isinstance(item, dict)]
        return Page(total=int(result.get("total") or len(items)), items=items)

    async def list_all(self, path: str, *, operation: str, keyword: str) -> list[dict[str, Any]]:
        """Every item of a list endpoint, page by page, up to ``max_pages`` pages."""
        items: list[dict[str, Any]] = []
        for page_num in range(1, self.config.max_pages + 1):
            page = await self.page(path, operation=operation, keyword=keyword, page_num=page_num)
            items.extend(page.items)
            if not page.items or len(items) >= page.total:
                break
        return items

    async def lawsuits(self, keyword: str) -> list[dict[str, Any]]:
        """法律诉讼 items (``LawSuit``)."""
        return await self.list_all(self.config.lawsuit_path, operation="lawsuits", keyword=keyword)

    async def dishonest(self, keyword: str) -> list[dict[str, Any]]:
        """失信人 items (``JrDishonest``)."""
        return await self.list_all(self.config.dishonest_path, operation="dishonest", keyword=keyword)

    async def executed(self, keyword: str) -> list[dict[str, Any]]:
        """被执行人 items (``Zhixinginfo``)."""
        return await self.list_all(self.config.executed_path, operation="executed", keyword=keyword)

    async def restrictions(self, keyword: str) -> list[dict[str, Any]]:
        """限制消费令 items (``ConsumptionRestriction``)."""
        return await self.list_all(self.config.restriction_path, operation="restrictions", keyword=keyword)

    async def baseinfo(self, keyword: str) -> dict[str, Any] | None:
        """企业基本信息 (``BaseInfoNormal``), ``None`` when the vendor has no such company."""
        result = await self.get(self.config.baseinfo_path, operation="baseinfo", params={"keyword": keyword})
        if result is not None and not isinstance(result, dict):
            raise VendorContractError("baseinfo: result is not an object", connector=self.connector.slug)
        return result

    async def holders(self, keyword: str) -> list[dict[str, Any]]:
        """企业股东 items (``IcHolder``)."""
        return await self.list_all(self.config.holder_path, operation="holders", keyword=keyword)

    async def changes(self, keyword: str) -> list[dict[str, Any]]:
        """变更记录 items (``Change``)."""
        return await self.list_all(self.config.change_path, operation="changes", keyword=keyword)
