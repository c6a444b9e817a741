"""``register_permissions``: plugins add permission codes that roles can grant like LendHub's own."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import APIRouter
from manager_stubs import fresh_host

from core.access import Actor
from core.access import service as access
from hub.api.security import require
from hub.app import create_app
from hub.runtime import permission_registry
from hub.settings import load_settings
from plugins.sdk.markers import hookimpl


class PermissionPlugin:
    def __init__(self, *codes: tuple[Any, Any], router: APIRouter | None = None) -> None:
        self.codes = codes
        self.router = router

    @hookimpl
    def register_permissions(self, register):
        for code, description in self.codes:
            register(code, description)

    @hookimpl
    def register_routes(self, register):
        if self.router is not None:
            register(self.router)


def test_register_permissions_adds_codes_attributed_to_the_plugin() -> None:
    host = fresh_host()
    record = host.add_plugin("acme", PermissionPlugin(("acme_scoring.run", "run the ACME scorecard")))
    assert record.status == "loaded", record.reason
    registry = permission_registry(host)
    permission = registry.get("acme_scoring.run")
    assert (
        permission is not None
        and permission.owner == "acme"
        and permission.description == "run the ACME scorecard"
    )
    assert registry.get("connectors.read") is not None  # LendHub's own codes stay


@pytest.mark.parametrize(
    ("code", "description", "reason"),
    [
        ("connectors.read", "mine now", "already registered"),
        ("NotACode", "x", "must look like"),
        ("acme.run", "", "needs a description"),
        (42, "x", "must look like"),
    ],
)
def test_register_permissions_refuses_bad_or_taken_codes_and_quarantines(code, description, reason) -> None:
    host = fresh_host()
    record = host.add_plugin("acme", PermissionPlugin((code, description)))
    assert record.status == "quarantined" and reason in (record.reason or "")
    assert not host.permissions


def test_register_permissions_second_plugin_cannot_take_a_code() -> None:
    host = fresh_host()
    host.add_plugin("first", PermissionPlugin(("acme.run", "run")))
    second = host.add_plugin("second", PermissionPlugin(("acme.run", "run it too")))
    assert second.status == "quarantined" and "already registered" in (second.reason or "")
    assert host.permissions["acme.run"].plugin == "first"


async def test_register_permissions_plugin_route_is_locked_by_its_own_code(
    database_url, engine, tmp_path
) -> None:
    router = APIRouter()

    @router.get("/api/acme/score", dependencies=[require("acme_scoring.run")])
    async def score() -> dict[str, str]:
        return {"ok": "yes"}

    host = fresh_host()
    host.add_plugin("acme", PermissionPlugin(("acme_scoring.run", "run the ACME scorecard"), router=router))
    app = create_app(
        load_settings(database_url=database_url, secret_key_file=tmp_path / "k", inprocess_workers=False),
        host=host,
    )
    async with app.router.lifespan_context(app):
        runtime = app.state.runtime
        op = Actor.operator("t")
        async with runtime.sessions() as session, session.begin():
            await access.save_role(
                session,
                op,
                runtime.permissions,
                name="scorer",
                grants={"acme_scoring.run": "all"},
                create=True,
            )
            _, scorer = await access.create_token(session, op, name="s", roles=["scorer"])
            _, officer = await access.create_token(session, op, name="o", roles=["loan_officer"])
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
            assert (await client.get("/api/acme/score")).status_code == 401
            refused = await client.get("/api/acme/score", headers={"Authorization": f"Bearer {officer}"})
            assert refused.status_code == 403 and "acme_scoring.run" in refused.json()["detail"]
            allowed = await client.get("/api/acme/score", headers={"Authorization": f"Bearer {scorer}"})
            assert allowed.status_code == 200
            listed = await client.get("/api/permissions", headers={"Authorization": f"Bearer {scorer}"})
            assert listed.status_code == 403  # roles.read is not the scorer's
