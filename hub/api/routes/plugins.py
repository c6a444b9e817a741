"""``GET /api/plugins``: the plugin report over HTTP, the same one ``lendhub plugins`` prints."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request

from plugins.info import plugin_report
from plugins.manager import PluginHost
from schemas.api.plugins import PluginInfo

from ..security import require

__all__ = ["router"]

router = APIRouter(prefix="/api/plugins", tags=["plugins"])


@router.get(
    "",
    response_model=list[PluginInfo],
    summary="List plugins and their connectors",
    dependencies=[require("plugins.read")],
)
async def list_plugins(request: Request) -> list[PluginInfo]:
    """Every plugin the hub tried at start-up, loaded or quarantined with the reason.

    The host is built once in the app's lifespan and kept on ``app.state.plugin_host``; reading
    it here keeps the route free of globals and lets tests hand in their own host.
    """
    host = getattr(request.app.state, "plugin_host", None)
    if not isinstance(host, PluginHost):
        raise HTTPException(status_code=503, detail="the plugin host has not been started")
    runtime = getattr(request.app.state, "runtime", None)
    instances = await runtime.instance_summaries() if runtime is not None else None
    return plugin_report(host, instances)
