"""OPTIONS and 405 name every method a path serves, not just the first route's."""

from __future__ import annotations

import httpx
import pytest

from hub.app import create_app
from hub.settings import load_settings
from plugins.manager import make_plugin_manager


@pytest.fixture
async def client():
    app = create_app(load_settings(), host=make_plugin_manager(load_entrypoints=False))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1") as c:
        yield c


async def test_options_lists_every_method_of_the_path(client):
    response = await client.options("/api/webhooks/subscriptions/crm")
    assert response.status_code == 204
    assert response.headers["allow"] == "DELETE, GET, OPTIONS, PATCH"


async def test_a_wrong_method_is_a_405_problem_naming_every_allowed_method(client):
    response = await client.put("/api/webhooks/subscriptions/crm")
    assert response.status_code == 405
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["allow"] == "DELETE, GET, OPTIONS, PATCH"
    assert (await client.delete("/api/connectors")).headers["allow"] == "GET, OPTIONS, POST"


async def test_options_on_an_unknown_path_is_404(client):
    assert (await client.options("/api/nothing-here")).status_code == 404
