"""No cookie crosses from one connector instance, or one webhook subscription, to another.

Real loopback HTTP: one server sets a session cookie on every answer (as 金蝶 does), another
records the ``Cookie`` header of everything it receives; both listen on 127.0.0.1, where a cookie
jar matches by address and path, not by port, so a jar that keeps anything would leak.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from demo_vendor import GOOD_KEY, DemoPlugin, serve
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from core.webhooks_out.deliveries import PreparedAttempt
from hub.app import create_app
from hub.outbound import LazyClient
from hub.outbound.sender import send_attempt
from hub.outbound.ssrf import AllowList
from hub.settings import load_settings
from plugins.manager import make_plugin_manager
from plugins.sdk import CookielessAsyncClient


@dataclass
class CookieServer:
    """Answers every request with JSON; records the Cookie header; optionally sets a cookie."""

    sets_cookie: bool
    cookies_seen: list[str | None] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.app = Starlette(routes=[Route("/{path:path}", self.any, methods=["GET", "POST"])])

    async def any(self, request: Request) -> Response:
        self.cookies_seen.append(request.headers.get("cookie"))
        response = JSONResponse({"ok": True})
        if self.sets_cookie:
            response.set_cookie("kdservice-sessionid", "session-from-kingdee", path="/")
        return response


@pytest.fixture
def servers() -> Iterator[tuple[CookieServer, str, CookieServer, str]]:
    setter, recorder = CookieServer(sets_cookie=True), CookieServer(sets_cookie=False)
    with serve(setter.app) as setter_url, serve(recorder.app) as recorder_url:
        yield setter, setter_url, recorder, recorder_url


@pytest.fixture
async def runtime(engine, database_url, tmp_path) -> AsyncIterator[Any]:
    host = make_plugin_manager(load_entrypoints=False)
    host.add_plugin("demo-vendor", DemoPlugin(), distribution="demo-vendor", version="1.0")
    settings = load_settings(
        database_url=database_url, secret_key_file=tmp_path / "secret.key", inprocess_workers=False
    )
    app = create_app(settings, host=host)
    async with app.router.lifespan_context(app):
        yield app.state.runtime


def _prepared(url: str) -> PreparedAttempt:
    return PreparedAttempt(
        delivery_id="d1",
        attempt_id="a1",
        attempt=1,
        subscription_id="s1",
        msg_id="msg_1",
        url=url,
        event_type="loan.disbursed",
        body=b'{"type":"loan.disbursed"}',
        secrets=("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",),
    )


async def _add(runtime: Any, name: str, url: str) -> None:
    async with runtime.sessions() as session, session.begin():
        await runtime.instances.add(
            session, name=name, connector="demo-bureau", config={"base_url": url, "api_key": GOOD_KEY}
        )


async def test_shared_client_carries_no_cookie_between_instances_or_to_webhooks(runtime, servers):
    setter, setter_url, recorder, recorder_url = servers
    await _add(runtime, "kingdee-like", setter_url)
    await _add(runtime, "same-host-other-instance", setter_url)
    await _add(runtime, "other-vendor", recorder_url)

    for name in ("kingdee-like", "kingdee-like", "same-host-other-instance", "other-vendor"):
        async with runtime.sessions() as session:
            assert (await runtime.instances.check(session, name)).ok, name
    result = await send_attempt(
        runtime.http, _prepared(f"{recorder_url}/hook"), allow=AllowList(any_address=True), timeout_seconds=5
    )

    assert result.status_code == 200
    assert len(setter.cookies_seen) == 3 and len(recorder.cookies_seen) == 2
    assert setter.cookies_seen == [None, None, None]  # not even the same instance's next call
    assert recorder.cookies_seen == [None, None]  # neither the other vendor nor the partner


async def test_worker_client_carries_no_cookie_between_subscriptions(servers):
    setter, setter_url, recorder, recorder_url = servers
    factory = LazyClient()
    try:
        for url in (f"{setter_url}/hook", f"{setter_url}/hook", f"{recorder_url}/hook"):
            result = await send_attempt(
                factory(), _prepared(url), allow=AllowList(any_address=True), timeout_seconds=5
            )
            assert result.status_code == 200
    finally:
        await factory.aclose()
    assert setter.cookies_seen == [None, None] and recorder.cookies_seen == [None]


async def test_cookieless_client_cannot_be_given_a_jar(servers):
    setter, setter_url, _, _ = servers
    async with CookielessAsyncClient(cookies={"planted": "1"}) as client:
        with pytest.raises(TypeError, match="keeps no cookies"):
            client.cookies = httpx.Cookies({"planted": "2"})
        client.cookies.set("planted", "3")
        await client.get(f"{setter_url}/x")
        await client.get(f"{setter_url}/x")
        assert len(client.cookies) == 0
    assert setter.cookies_seen == [None, None]


async def test_explicit_cookie_header_still_reaches_its_own_request(servers):
    # A connector that needs a session (金蝶) sends it itself, per request.
    _, _, recorder, recorder_url = servers
    async with CookielessAsyncClient() as client:
        await client.get(f"{recorder_url}/x", headers={"Cookie": "kdservice-sessionid=mine"})
        await client.get(f"{recorder_url}/x")
    assert recorder.cookies_seen == ["kdservice-sessionid=mine", None]
