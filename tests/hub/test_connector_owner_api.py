"""An instance's connector changes owner between two starts: what /readyz, the API and check say.

The hub is started twice on one database: first with ``demo-vendor`` 1.0 providing the connector
the instance is configured with, then with ``demo-fork`` 2.0 providing the same slug instead.
The vendor simulator counts requests, so "nothing was sent" is checked, not assumed.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest
from authsupport import authorise
from demo_vendor import GOOD_KEY, DemoPlugin, Simulator, serve

from hub.app import create_app
from hub.settings import load_settings
from plugins.manager import make_plugin_manager


@pytest.fixture
def simulator() -> Iterator[tuple[Simulator, str]]:
    sim = Simulator()
    with serve(sim.app) as url:
        yield sim, url


@asynccontextmanager
async def hub(
    database_url: str, tmp_path: Path, distribution: str, version: str
) -> AsyncIterator[httpx.AsyncClient]:
    host = make_plugin_manager(load_entrypoints=False)
    host.add_plugin("demo", DemoPlugin(), distribution=distribution, version=version)
    settings = load_settings(
        database_url=database_url, secret_key_file=tmp_path / "k", inprocess_workers=False
    )
    app = create_app(settings, host=host)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
            await authorise(client, app.state.runtime)
            yield client


async def test_an_owner_change_degrades_readyz_is_refused_by_check_and_confirmed_over_http(
    engine, database_url, tmp_path, simulator
):
    sim, url = simulator
    async with hub(database_url, tmp_path, "demo-vendor", "1.0") as client:
        created = await client.post(
            "/api/connectors",
            json={
                "name": "demo-main",
                "connector": "demo-bureau",
                "config": {"base_url": url, "api_key": GOOD_KEY},
            },
        )
        assert created.status_code == 201, created.text
        owner = created.json()["owner"]
        assert (owner["distribution"], owner["versions"], owner["pinned_how"]) == (
            "demo-vendor",
            ">=1.0,<2",
            "configured",
        )

    async with hub(database_url, tmp_path, "demo-fork", "2.0") as client:
        ready = (await client.get("/readyz")).json()
        assert ready["status"] == "degraded"
        change = ready["connector_owner_changes"]["demo-main"]
        assert (change["connector"], change["configured"], change["current"]) == (
            "demo-bureau",
            "demo-vendor 1.0 (>=1.0,<2)",
            "demo-fork 2.0",
        )
        assert change["detected_at"]
        assert ready["breakers"]["demo-main"]["state"] == "owner_changed"

        [plugin] = [p for p in (await client.get("/api/plugins")).json() if p["name"] == "demo"]
        [instance] = plugin["connectors"][0]["instances"]
        assert instance["owner_change"]["current"] == "demo-fork 2.0"

        checked = await client.post("/api/connectors/demo-main/check")
        assert checked.status_code == 409
        assert checked.json()["type"].endswith("connector-owner-changed")
        assert "now provided by demo-fork 2.0, not demo-vendor 1.0 (>=1.0,<2)" in checked.json()["detail"]
        replaced = await client.put("/api/connectors/demo-main", json={"config": {"base_url": url}})
        assert replaced.status_code == 409
        assert sim.hits == 0

        wrong = await client.post(
            "/api/connectors/demo-main/confirm-owner", json={"distribution": "demo-other"}
        )
        assert wrong.status_code == 409 and "not demo-other" in wrong.json()["detail"]
        confirmed = await client.post(
            "/api/connectors/demo-main/confirm-owner", json={"distribution": "demo-fork"}
        )
        assert confirmed.status_code == 200, confirmed.text
        assert confirmed.json() | {"detail": None} == {
            "name": "demo-main",
            "connector": "demo-bureau",
            "previous": "demo-vendor 1.0 (>=1.0,<2)",
            "owner": "demo-fork 2.0 (>=2.0,<3)",
            "enabled": True,
            "detail": None,
        }
        again = await client.post("/api/connectors/demo-main/confirm-owner")
        assert again.status_code == 409 and "no owner change to confirm" in again.json()["detail"]

        assert (await client.post("/api/connectors/demo-main/check")).json()["ok"] is True
        assert sim.hits == 1
        ready = (await client.get("/readyz")).json()
        assert ready["connector_owner_changes"] == {}
        assert ready["status"] == "ok", ready
