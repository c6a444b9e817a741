"""The ingest endpoint's two doors: the app's direct path and the declared FastAPI route.

``LendHubApp`` sends ``POST /webhooks/{source}/{instance}`` straight to ``serve_ingest``; the
route declared in ``ingest_router`` calls the same handler after FastAPI's routing. Both must
answer alike, anything the route would not match must still reach FastAPI, and an unexpected
error must still be a 500 problem with nothing stored.
"""

from __future__ import annotations

import logging

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select
from webhooks_inbox_support import event_body, running_hub, sign

from core.webhooks import WebhookInboxEvent
from hub.webhooks import ingest_router
from hub.webhooks.ingest import ingest_params


def _scope(path: str, method: str = "POST", **extra: object) -> dict[str, object]:
    return {"type": "http", "method": method, "path": path, "root_path": "", **extra}


@pytest.mark.parametrize(
    ("scope", "expected"),
    [
        (_scope("/webhooks/standard-webhooks/bench"), {"source": "standard-webhooks", "instance": "bench"}),
        (_scope("/api/webhooks/a/b", root_path="/api"), {"source": "a", "instance": "b"}),
        (_scope("/webhooks/a/b", method="GET"), None),
        (_scope("/webhooks/a/b", method="PUT"), None),
        (_scope("/webhooks/a/b/"), None),
        (_scope("/webhooks/a/b/c"), None),
        (_scope("/webhooks/a"), None),
        (_scope("/webhooks//b"), None),
        (_scope("/webhooks/a/"), None),
        (_scope("/webhooksx/a/b"), None),
        (_scope("/api/webhooks/a/b"), None),
        ({"type": "websocket", "path": "/webhooks/a/b"}, None),
        ({"type": "lifespan"}, None),
    ],
)
def test_ingest_params_match_exactly_what_the_route_matches(scope, expected):
    assert ingest_params(scope) == expected


async def _inbox_rows(runtime) -> int:
    async with runtime.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(WebhookInboxEvent)) or 0)


async def test_declared_route_serves_like_the_direct_path(engine, database_url, tmp_path):
    async with running_hub(database_url, tmp_path) as (client, runtime):
        hub_app = client._transport.app  # type: ignore[attr-defined]
        routed = FastAPI()  # a plain FastAPI app: the route is reached through routing only
        routed.state.runtime = runtime
        routed.state.webhook_service = hub_app.state.webhook_service
        routed.include_router(ingest_router)
        transport = httpx.ASGITransport(app=routed)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as other:
            body = event_body("routed-1")
            first = await other.post("/webhooks/stub-hmac/partner", content=body, headers=sign(body))
            again = await client.post("/webhooks/stub-hmac/partner", content=body, headers=sign(body))
            refused = await other.post("/webhooks/stub-hmac/partner", content=body, headers={})
        assert first.status_code == again.status_code == 200
        assert first.json() == again.json() == {"ok": True, "events": 1}
        assert refused.status_code == 401
        assert refused.headers["content-type"] == "application/problem+json"
        assert await _inbox_rows(runtime) == 1


async def test_other_methods_and_shapes_reach_fastapi(engine, database_url, tmp_path):
    async with running_hub(database_url, tmp_path) as (client, runtime):
        body = event_body("shape-1")
        get = await client.get("/webhooks/stub-hmac/partner")
        put = await client.put("/webhooks/stub-hmac/partner", content=body, headers=sign(body))
        deeper = await client.post("/webhooks/stub-hmac/partner/extra", content=body, headers=sign(body))
        assert get.status_code == put.status_code == 405
        assert deeper.status_code == 404
        assert await _inbox_rows(runtime) == 0


async def test_unexpected_error_is_a_500_problem_and_stores_nothing(engine, database_url, tmp_path, caplog):
    body = b'{"challenge" is not JSON'  # the stub's handshake parses it and fails
    async with running_hub(database_url, tmp_path) as (client, runtime):
        with caplog.at_level(logging.ERROR, logger="lendhub.webhooks.ingest"):
            response = await client.post("/webhooks/stub-hmac/partner", content=body, headers=sign(body))
        assert response.status_code == 500
        assert response.headers["content-type"] == "application/problem+json"
        problem = response.json()
        assert problem["type"].endswith("/internal-error")
        assert "challenge" not in response.text  # names no internals
        assert any(r.exc_info for r in caplog.records), "the traceback is logged"
        assert await _inbox_rows(runtime) == 0
        ok = event_body("after-500")
        assert (
            await client.post("/webhooks/stub-hmac/partner", content=ok, headers=sign(ok))
        ).status_code == 200
