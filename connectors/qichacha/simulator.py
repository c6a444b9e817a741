"""A sandbox 企查查: the V4 envelope, the Token/Timespan check, Status codes and the sandbox subjects.

Like the vendor it answers with HTTP 200 and puts the outcome in ``Status`` (a string), checking in
this order:

* ``key`` unknown or missing → ``101`` KEY无效;
* :data:`~plugins.sdk.sandbox.EXHAUSTED_CREDENTIAL` as ``key`` → ``112`` 剩余使用量不足;
* ``Timespan`` missing, not a number, or further than ``max_skew`` seconds from the sandbox's
  clock → ``115`` 身份验证错误或已过期;
* ``Token`` ≠ UPPER(MD5(key + Timespan + SecretKey)) → ``107`` 签名错误;
* more than ``rate_limit_per_second`` calls in a second → ``122`` 超过系统并发限制;
* a missing ``searchKey``/``keyword`` → ``202`` 参数错误; one shorter than 2 characters → ``213``;
  an unknown path → ``105`` 接口已下线;
* a subject it does not know → ``201`` 查询无结果.

Faults (latency, 5xx, 429, timeout, HTML) come from the :class:`~plugins.sdk.FaultInjector`.
"""

from __future__ import annotations

import hashlib
import itertools
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from plugins.sdk import FaultInjector
from plugins.sdk.sandbox import EXHAUSTED_CREDENTIAL

from . import sandbox_data as data

__all__ = ["SANDBOX_APP_KEY", "SANDBOX_CONFIG", "SANDBOX_SECRET_KEY", "QichachaSimulator", "create_app"]

SANDBOX_APP_KEY = "sandbox-qcc-appkey-0001"
SANDBOX_SECRET_KEY = "sandbox-qcc-secret-7d1f"
SANDBOX_CONFIG: dict[str, object] = {"app_key": SANDBOX_APP_KEY, "secret_key": SANDBOX_SECRET_KEY}
"""Connector config values (all but ``base_url``) the simulator accepts by default."""

MESSAGES = {
    "200": "【有效请求】查询成功",
    "201": "【有效请求】查询无结果",
    "202": "【无效请求】参数错误",
    "213": "【无效请求】参数长度不能小于2",
    "101": "【无效请求】KEY无效",
    "105": "【无效请求】接口已下线",
    "107": "【无效请求】被禁止的IP或签名错误",
    "112": "【无效请求】剩余使用量不足或已过期",
    "115": "【无效请求】身份验证错误或已过期",
    "122": "【无效请求】超过系统并发限制",
}


class QichachaSimulator:
    """The vendor logic; :func:`create_app` wraps it for serving.

    Args:
        app_key: the AppKey the sandbox account holds.
        secret_key: its SecretKey.
        max_skew: seconds a ``Timespan`` may differ from the sandbox clock (LOW confidence: the
            vendor does not publish its window).
        rate_limit_per_second: answer ``122`` beyond this many calls per second; ``None`` for none.
        clock: wall-clock seconds, compared with ``Timespan``.
    """

    def __init__(
        self,
        *,
        app_key: str = SANDBOX_APP_KEY,
        secret_key: str = SANDBOX_SECRET_KEY,
        max_skew: float = 600.0,
        rate_limit_per_second: float | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.keys = {app_key: secret_key, EXHAUSTED_CREDENTIAL: secret_key}
        self.max_skew = max_skew
        self.rate_limit = rate_limit_per_second
        self.clock = clock
        self.recent: deque[float] = deque()
        self.orders = itertools.count(1)
        self.requests = 0
        # path → (order-number prefix, table or None for 工商详情, query parameter)
        self.routes: dict[str, tuple[str, dict[str, list[dict[str, Any]]] | None, str]] = {
            "/CourtV4/SearchShiXin": ("SHIXIN", data.DISHONEST, "searchKey"),
            "/CourtV4/SearchZhiXing": ("ZHIXING", data.EXECUTED, "searchKey"),
            "/JudgeDocV4/SearchJudgmentDoc": ("JUDGEDOC", data.JUDGMENTS, "searchKey"),
            "/SumptuaryCheck/GetList": ("SUMPTUARY", data.RESTRICTIONS, "searchKey"),
            "/ECIV4/GetBasicDetailsByName": ("ECI", None, "keyword"),
        }
        self.app = Starlette(routes=[Route("/{path:path}", self.handle, methods=["GET"])])

    def _answer(self, status: str, prefix: str = "", result: Any = None, paging: Any = None) -> JSONResponse:
        order = f"{prefix}{time.strftime('%Y%m%d%H%M%S')}{next(self.orders):06d}" if prefix else ""
        return JSONResponse(
            {
                "Status": status,
                "Message": MESSAGES[status],
                "OrderNumber": order,
                "Paging": paging,
                "Result": result,
            }
        )

    def _refusal(self, request: Request) -> str | None:
        key = request.query_params.get("key", "")
        if key not in self.keys:
            return "101"
        if key == EXHAUSTED_CREDENTIAL:
            return "112"
        timespan = request.headers.get("timespan", "")
        if not timespan.isdigit() or abs(self.clock() - int(timespan)) > self.max_skew:
            return "115"
        expected = hashlib.md5(f"{key}{timespan}{self.keys[key]}".encode()).hexdigest().upper()
        if request.headers.get("token", "") != expected:
            return "107"
        if self.rate_limit is not None:
            now = self.clock()
            while self.recent and now - self.recent[0] >= 1.0:
                self.recent.popleft()
            if len(self.recent) >= self.rate_limit:
                return "122"
            self.recent.append(now)
        return None

    async def handle(self, request: Request) -> JSONResponse:
        """Answer one API call the way 企查查 does."""
        self.requests += 1
        route = self.routes.get(request.url.path)
        if route is None:
            return self._answer("105")
        refused = self._refusal(request)
        if refused is not None:
            return self._answer(refused)
        prefix, table, param = route
        search_key = request.query_params.get(param, "").strip()
        if not search_key:
            return self._answer("202")
        if len(search_key) < 2:
            return self._answer("213")
        if table is None:
            company = data.find_company(search_key)
            return self._answer("201", prefix) if company is None else self._answer("200", prefix, company)
        try:
            page_index = max(1, int(request.query_params.get("pageIndex", "1")))
            page_size = max(1, min(50, int(request.query_params.get("pageSize", "10"))))
        except ValueError:
            return self._answer("202")
        items = data.find_items(table, search_key)
        if not items:
            return self._answer("201", prefix)
        start = (page_index - 1) * page_size
        page = items[start : start + page_size]
        paging = {"PageSize": page_size, "PageIndex": page_index, "TotalRecords": len(items)}
        if prefix == "SUMPTUARY":
            # 核查 endpoints wrap the list: {"VerifyResult": 1, "Data": [...]}.
            return self._answer("200", prefix, {"VerifyResult": 1, "Data": page}, paging)
        return self._answer("200", prefix, page, paging)


def create_app(**options: Any) -> FaultInjector:
    """The simulator as an ASGI app with fault injection.

    Args:
        **options: ``app_key`` and ``secret_key`` (the accepted pair), ``max_skew`` (seconds),
            ``rate_limit_per_second`` and ``fault`` (a standing fault spec such as ``"503"``).
    """
    simulator = QichachaSimulator(
        app_key=str(options.get("app_key", SANDBOX_APP_KEY)),
        secret_key=str(options.get("secret_key", SANDBOX_SECRET_KEY)),
        max_skew=float(options.get("max_skew", 600.0)),
        rate_limit_per_second=options.get("rate_limit_per_second"),
    )
    return FaultInjector(simulator.app, standing=options.get("fault"))
