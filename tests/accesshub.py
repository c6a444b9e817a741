"""An app with a real database and plugin host, an admin API token, and helpers to sign in."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx

from core.access import Actor
from core.access import service as access
from hub.app import create_app
from hub.settings import load_settings
from plugins.manager import make_plugin_manager

PASSWORD = "Corr3ct-horse"


@asynccontextmanager
async def access_hub(
    database_url: str, tmp_path: Any, **settings: Any
) -> AsyncIterator[tuple[httpx.AsyncClient, Any]]:
    """The app (no plugins from entry points), its runtime, and a client on an allowed host."""
    settings.setdefault("inprocess_workers", False)
    app = create_app(
        load_settings(database_url=database_url, secret_key_file=tmp_path / "secret.key", **settings),
        host=make_plugin_manager(load_entrypoints=False),
    )
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
            yield client, app.state.runtime


async def make_org(runtime: Any) -> None:
    """HQ → EAST → SH01 → SH01-T1 and BJ01 under HQ; users admin, officers in SH01-T1 and BJ01, a manager of EAST."""
    op = Actor.operator("test")
    async with runtime.sessions() as session, session.begin():
        await access.add_branch(session, op, code="HQ", name="总行", parent=None)
        await access.add_branch(session, op, code="EAST", name="华东区", parent="HQ")
        await access.add_branch(session, op, code="SH01", name="上海分行", parent="EAST")
        await access.add_branch(session, op, code="SH01-T1", name="上海一组", parent="SH01")
        await access.add_branch(session, op, code="BJ01", name="北京分行", parent="HQ")
        for name, roles, branch in [
            ("admin", ["admin"], "HQ"),
            ("li", ["loan_officer"], "SH01-T1"),
            ("wang", ["loan_officer"], "SH01-T1"),
            ("zhao", ["loan_officer"], "BJ01"),
            ("chen", ["branch_manager"], "EAST"),
            ("sun", ["auditor"], "HQ"),
        ]:
            await access.add_user(session, op, username=name, password=PASSWORD, roles=roles, branch=branch)


async def sign_in(client: httpx.AsyncClient, username: str, password: str = PASSWORD) -> httpx.Response:
    """``POST /api/auth/token`` with the password grant."""
    return await client.post("/api/auth/token", data={"username": username, "password": password})


async def bearer(client: httpx.AsyncClient, username: str) -> dict[str, str]:
    """The Authorization header of a fresh access token for ``username``."""
    response = await sign_in(client, username)
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}
