"""The FastAPI application factory.

``create_app`` builds the plugin host at once (plugin routers must be mounted before the app
serves) and leaves every I/O — database, Redis, workers — to the lifespan, which fails start-up
with an error naming the culprit when the database is unreachable.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from starlette.types import Receive, Scope, Send

from plugins.manager import PluginHost, make_plugin_manager

from .api.openapi import install_openapi
from .api.problems import install_problem_handlers
from .api.routes import (
    access,
    applications,
    approvals,
    audit,
    auth,
    connectors,
    customers,
    documents,
    flows,
    follow_ups,
    health,
    imports,
    lead_setup,
    leads,
    plugins,
    products,
    search,
    segments,
)
from .api.security import GuardMiddleware
from .docs_ui import mount_offline_docs
from .gc_tuning import tune_gc_for_serving
from .outbound import router as subscriptions
from .runtime import Runtime
from .settings import Settings, load_settings
from .webhooks import admin as webhook_admin
from .webhooks import ingest as webhook_ingest

__all__ = ["LendHubApp", "create_app"]


class LendHubApp(FastAPI):
    """FastAPI, except that partner webhooks go straight to their endpoint.

    ``POST /webhooks/{source}/{instance}`` skips the middleware stack and routing (see
    ``hub.webhooks.ingest``); every other request, and anything on that path that the route would
    not match, is served by FastAPI as usual.
    """

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve one ASGI connection: a webhook directly, anything else through FastAPI."""
        params = webhook_ingest.ingest_params(scope)
        if params is None:
            await super().__call__(scope, receive, send)
            return
        scope["app"] = self
        scope["path_params"] = params
        await webhook_ingest.serve_ingest(scope, receive, send)


def create_app(settings: Settings | None = None, *, host: PluginHost | None = None) -> FastAPI:
    """A new app; ``settings`` default to the environment, ``host`` to the plugins it names."""
    settings = settings or load_settings()
    if host is None:
        host = make_plugin_manager(
            load_plugins=settings.plugin_allow_list,
            trace=settings.trace_plugins,
            strict=settings.strict_plugins,
        )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        runtime = await Runtime.start(settings, jobs=settings.inprocess_workers, host=host)
        app.state.runtime = runtime
        tune_gc_for_serving(settings.gc_threshold)
        try:
            yield
        finally:
            service = getattr(app.state, "webhook_service", None)
            if service is not None:
                await service.writer.aclose()  # webhooks acknowledged are written before close
            await runtime.aclose()

    app = LendHubApp(title="LendHub", version="0.1.0", lifespan=lifespan, docs_url=None, redoc_url=None)
    mount_offline_docs(app)
    app.state.plugin_host = host
    app.state.settings = settings
    install_problem_handlers(app)
    app.add_middleware(GuardMiddleware, allowed_hosts=settings.allowed_host_list)
    app.include_router(webhook_ingest.router)  # documented here; LendHubApp serves it directly
    app.include_router(health.router)
    app.include_router(auth.router)
    app.include_router(access.router)
    app.include_router(audit.router)
    app.include_router(customers.router)
    app.include_router(documents.router)
    app.include_router(imports.router)
    app.include_router(segments.router)
    app.include_router(search.router)
    app.include_router(leads.router)
    app.include_router(follow_ups.router)
    app.include_router(lead_setup.router)
    app.include_router(plugins.router)
    app.include_router(connectors.router)
    app.include_router(webhook_admin.router)
    app.include_router(subscriptions.router)
    app.include_router(products.router)
    app.include_router(applications.router)
    app.include_router(flows.router)
    app.include_router(approvals.router)
    for registered in host.routers:
        app.include_router(registered.obj)
    install_openapi(app, open_paths={("POST", "/api/auth/token")})
    return app
