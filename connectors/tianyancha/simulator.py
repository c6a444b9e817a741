"""A sandbox 天眼查: the open API's envelope, token check, error codes and the sandbox subjects.

Like the vendor it answers every request with HTTP 200 and puts the outcome in ``error_code``:

* ``Authorization`` must carry the token raw (``Bearer …`` is refused): unknown → ``300009``,
  a token starting ``EXPIRED`` → ``300003``, :data:`~plugins.sdk.sandbox.EXHAUSTED_CREDENTIAL`
  → ``300006`` 余额不足;
* more than ``rate_limit_per_second`` calls in a second → ``300004``;
* a missing ``keyword`` or a ``pageSize`` above 20 → ``300008``; an unknown path → ``300010``;
* a subject it does not know (and the keyword ``无结果测试公司``) → ``300000`` 经查无结果.

Faults (latency, 5xx, 429, timeout, HTML) come from the :class:`~plugins.sdk.FaultInjector`
wrapped around the app.
"""

from __future__ import annotations

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

__all__ = ["SANDBOX_CONFIG", "SANDBOX_TOKEN", "TianyanchaSimulator", "create_app"]

SANDBOX_TOKEN = "sandbox-tianyancha-token-0001"
SANDBOX_CONFIG: dict[str, object] = {"token": SANDBOX_TOKEN}
"""Connector config values (all but ``base_url``) the simulator accepts by default."""

NO_RESULT_KEYWORD = "无结果测试公司"
MAX_PAGE_SIZE = 20

REASONS = {
    0: "ok",
    300000: "经查无结果",
    300001: "请求失败",
    300002: "账号失效",
    300003: "账号过期",
    300004: "访问频率过快",
    300005: "无权限访问此api",
    300006: "余额不足",
    300007: "剩余次数不足",
    300008: "缺少必要参数",
    300009: "账号信息有误",
    300010: "URL不存在",
}


def _answer(code: int, result: Any = None) -> JSONResponse:
    body: dict[str, Any] = {"error_code": code, "reason": REASONS[code]}
    if code == 0:
        body["result"] = result
    return JSONResponse(body)


class TianyanchaSimulator:
    """The vendor logic; :func:`create_app` wraps it for serving.

    Args:
        token: the token the sandbox account holds.
        rate_limit_per_second: answer ``300004`` beyond this many calls per second; ``None`` for no limit.
        clock: monotonic seconds, for the rate window.
    """

    def __init__(
        self,
        *,
        token: str = SANDBOX_TOKEN,
        rate_limit_per_second: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.token = token
        self.rate_limit = rate_limit_per_second
        self.clock = clock
        self.recent: deque[float] = deque()
        self.requests = 0
        self.lists: dict[str, dict[str, list[dict[str, Any]]]] = {
            "/services/open/jr/lawSuit/2.0": data.LAWSUITS,
            "/services/open/jr/lawSuit/3.0": data.LAWSUITS,
            "/services/open/jr/dishonest/2.0": data.DISHONEST,
            "/services/open/jr/zhixinginfo/2.0": data.EXECUTED,
            "/services/open/jr/consumptionRestriction/2.0": data.RESTRICTIONS,
            "/services/open/ic/holder/2.0": data.HOLDERS,
            "/services/open/ic/changeinfo/2.0": data.CHANGES,
        }
        self.app = Starlette(routes=[Route("/{path:path}", self.handle, methods=["GET", "POST"])])

    def _refusal(self, request: Request) -> int | None:
        token = request.headers.get("authorization", "")
        if token == EXHAUSTED_CREDENTIAL:
            return 300006
        if token.startswith("EXPIRED"):
            return 300003
        if token != self.token:
            return 300009
        if self.rate_limit is not None:
            now = self.clock()
            while self.recent and now - self.recent[0] >= 1.0:
                self.recent.popleft()
            if len(self.recent) >= self.rate_limit:
                return 300004
            self.recent.append(now)
        return None

    async def handle(self, request: Request) -> JSONResponse:
        """Answer one API call the way 天眼查 does."""
        self.requests += 1
        path = request.url.path
        if path not in self.lists and path != "/services/open/ic/baseinfo/normal":
            return _answer(300010)
        refused = self._refusal(request)
        if refused is not None:
            return _answer(refused)
        keyword = request.query_params.get("keyword", "").strip()
        if not keyword:
            return _answer(300008)
        if path == "/services/open/ic/baseinfo/normal":
            company = data.find_company(keyword)
            return _answer(300000) if company is None or keyword == NO_RESULT_KEYWORD else _answer(0, company)
        try:
            page_num = int(request.query_params.get("pageNum", "1"))
            page_size = int(request.query_params.get("pageSize", str(MAX_PAGE_SIZE)))
        except ValueError:
            return _answer(300008)
        if page_num < 1 or not 1 <= page_size <= MAX_PAGE_SIZE:
            return _answer(300008)
        items = data.find_items(self.lists[path], keyword)
        if not items or keyword == NO_RESULT_KEYWORD:
            return _answer(300000)
        start = (page_num - 1) * page_size
        return _answer(0, {"total": len(items), "items": items[start : start + page_size]})


def create_app(**options: Any) -> FaultInjector:
    """The simulator as an ASGI app with fault injection.

    Args:
        **options: ``token`` (accepted token), ``rate_limit_per_second`` (``300004`` beyond it) and
            ``fault`` (a standing fault spec such as ``"latency:0.2"``).
    """
    simulator = TianyanchaSimulator(
        token=str(options.get("token", SANDBOX_TOKEN)),
        rate_limit_per_second=options.get("rate_limit_per_second"),
    )
    return FaultInjector(simulator.app, standing=options.get("fault"))
