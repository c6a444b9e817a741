"""``/docs`` works offline: the page and every asset it loads are served by the hub itself."""

from __future__ import annotations

import re

import httpx

from hub.app import create_app
from hub.settings import load_settings
from plugins.manager import make_plugin_manager


async def test_docs_page_loads_only_local_assets():
    app = create_app(load_settings(), host=make_plugin_manager(load_entrypoints=False))
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1"
    ) as client:
        page = await client.get("/docs")
        assert page.status_code == 200
        urls = re.findall(r"""(?:src|href)=["']([^"']+)["']|url: ?['"]([^'"]+)['"]""", page.text)
        urls = [a or b for a, b in urls]
        assert urls and all(url.startswith("/") for url in urls), urls  # nothing from a CDN
        for url in urls:
            assert (await client.get(url)).status_code == 200, url
        assert (await client.get("/redoc")).status_code == 404
