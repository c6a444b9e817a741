"""Every route under /api declares a permission and is refused without credentials or without it.

The walk is over the app's real route table, so a route added later without a lock fails here.
"""

from __future__ import annotations

import re

from accesshub import access_hub
from fastapi.routing import APIRoute

from core.access import Actor
from core.access import service as access
from hub.api.security import Require
from hub.app import create_app
from hub.settings import load_settings
from plugins.manager import make_plugin_manager

OPEN = {("POST", "/api/auth/token")}


def _walk(routes):
    for route in routes:
        if isinstance(route, APIRoute):
            yield route
        elif hasattr(route, "original_router"):  # FastAPI >= 0.165 wraps included routers
            yield from _walk(route.original_router.routes)


def _api_routes():
    app = create_app(load_settings(), host=make_plugin_manager(load_entrypoints=False))
    found = [(m, r) for r in _walk(app.routes) if r.path.startswith("/api/") for m in sorted(r.methods)]
    documented = {
        (method.upper(), path)
        for path, ops in app.openapi()["paths"].items()
        if path.startswith("/api/")
        for method in ops
    }
    assert documented <= {(m, r.path) for m, r in found}, "routes the walk missed"
    return found


def _declared(route: APIRoute) -> list[str]:
    found = []
    stack = list(route.dependant.dependencies)
    while stack:
        dep = stack.pop()
        if isinstance(dep.call, Require):
            found.append(dep.call.permission)
        stack.extend(dep.dependencies)
    return found


ROUTES = [(method, route.path, _declared(route)) for method, route in _api_routes()]


def test_every_api_route_but_sign_in_declares_exactly_one_registered_permission():
    from core.access import PermissionRegistry

    registry = PermissionRegistry()
    assert len(ROUTES) > 30
    for method, path, declared in ROUTES:
        if (method, path) in OPEN:
            assert declared == []
            continue
        assert len(declared) == 1, f"{method} {path} declares {declared}"
        assert declared[0] in registry, f"{method} {path} declares unregistered {declared[0]}"


def _concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "x", path)


async def test_every_route_refuses_anonymous_callers_and_callers_without_its_permission(
    database_url, engine, tmp_path
):
    """One app for all routes: each is tried anonymously and with a role holding every other code."""
    failures = []
    async with access_hub(database_url, tmp_path) as (client, runtime):
        op = Actor.operator("t")
        tokens = {}
        async with runtime.sessions() as session, session.begin():
            for code in sorted({declared[0] for _, _, declared in ROUTES if declared}):
                others = {p.code: "all" for p in runtime.permissions if p.code != code}
                name = "without_" + code.replace(".", "_")
                await access.save_role(
                    session, op, runtime.permissions, name=name, grants=others, create=True
                )
                _, tokens[code] = await access.create_token(session, op, name=name, roles=[name])
        for method, path, declared in ROUTES:
            if (method, path) in OPEN:
                continue
            body = {} if method != "GET" else None
            anonymous = await client.request(method, _concrete(path), json=body)
            if anonymous.status_code != 401 or not anonymous.headers.get("www-authenticate", "").startswith(
                "Bearer"
            ):
                failures.append(f"{method} {path}: anonymous got {anonymous.status_code}")
                continue
            if not anonymous.headers["content-type"].startswith("application/problem+json"):
                failures.append(f"{method} {path}: 401 is not problem+json")
            headers = {"Authorization": f"Bearer {tokens[declared[0]]}"}
            refused = await client.request(method, _concrete(path), json=body, headers=headers)
            if refused.status_code != 403 or declared[0] not in refused.json().get("detail", ""):
                failures.append(f"{method} {path}: without {declared[0]} got {refused.status_code}")
    assert failures == []
