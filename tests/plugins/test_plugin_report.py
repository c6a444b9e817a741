"""The plugin report and GET /api/plugins, which serve it over HTTP."""

from __future__ import annotations

from typing import Any

import httpx
from fastapi import FastAPI
from manager_stubs import AcmeLitigation, ConnectorPlugin, fresh_host, make_bureau

from core.access import Actor
from hub.api.routes.plugins import router
from hub.api.security import Require
from plugins.info import plugin_report
from plugins.manager import PluginHost
from plugins.sdk.markers import hookimpl
from schemas.api.plugins import ConnectorSummary


class Broken:
    @hookimpl
    def register_connectors(self, register: Any) -> None:
        raise RuntimeError("no credentials file")


def populated_host() -> PluginHost:
    host = fresh_host()
    host.add_plugin(
        "acme", ConnectorPlugin(make_bureau(), AcmeLitigation), distribution="lendhub-acme", version="0.3.1"
    )
    host.add_plugin("broken", Broken(), distribution="lendhub-broken", version="1.0")
    return host


def test_plugin_report_lists_builtins_loaded_and_quarantined_plugins() -> None:
    report = {info.name: info for info in plugin_report(populated_host())}
    assert list(report) == ["plugins.defaults", "acme", "broken"]

    builtin = report["plugins.defaults"]
    assert (builtin.builtin, builtin.status, builtin.distribution) == (True, "loaded", "lendhub")
    assert builtin.hooks == ["select_connector_instance"]

    acme = report["acme"]
    assert (acme.distribution, acme.version, acme.status, acme.reason) == (
        "lendhub-acme",
        "0.3.1",
        "loaded",
        None,
    )
    assert acme.hook_api == "1.0"
    assert acme.hooks == ["register_connectors"]
    assert acme.connectors == [
        ConnectorSummary(
            slug="acme-bureau",
            name="Acme bureau",
            capability="credit_bureau",
            vendor="Acme",
            vendor_api_version="v2",
            support_level="partner",
        ),
        ConnectorSummary(
            slug="acme-litigation",
            name="Acme courts",
            capability="litigation",
            vendor="Acme",
            vendor_api_version="v1",
            support_level="community",
        ),
    ]

    broken = report["broken"]
    assert broken.status == "quarantined"
    assert broken.reason == "register_connectors raised RuntimeError: no credentials file"
    assert broken.hooks == ["register_connectors"]
    assert broken.connectors == []
    assert broken.notes == ["declares no LENDHUB_HOOK_API; assumed compatible"]


def make_app(host: PluginHost | None) -> FastAPI:
    app = FastAPI()
    app.include_router(router)
    # The route's own logic is under test here; its lock is tested with the others (test_route_locks).
    app.dependency_overrides[Require("plugins.read")] = lambda: Actor.operator("test")
    if host is not None:
        app.state.plugin_host = host
    return app


async def get_plugins(app: FastAPI) -> httpx.Response:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
        return await client.get("/api/plugins")


async def test_get_api_plugins_returns_the_report() -> None:
    host = populated_host()
    response = await get_plugins(make_app(host))
    assert response.status_code == 200
    body = response.json()
    assert body == [info.model_dump(mode="json") for info in plugin_report(host)]
    assert [(p["name"], p["status"]) for p in body] == [
        ("plugins.defaults", "loaded"),
        ("acme", "loaded"),
        ("broken", "quarantined"),
    ]
    assert body[1]["connectors"][0]["slug"] == "acme-bureau"


async def test_get_api_plugins_without_a_host_is_503() -> None:
    response = await get_plugins(make_app(None))
    assert response.status_code == 503


def test_get_api_plugins_is_in_the_openapi_schema() -> None:
    schema = make_app(fresh_host()).openapi()
    assert "/api/plugins" in schema["paths"]
    assert "PluginInfo" in schema["components"]["schemas"]
