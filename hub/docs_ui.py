"""The OpenAPI UI at ``/docs``, its scripts served from the installed package, not a CDN.

FastAPI's default page loads Swagger UI from jsDelivr, so on an offline machine (the embedded
default, a bank's closed network) ``/docs`` was blank. The ``swagger-ui-bundle`` package ships the
same files; they are mounted under ``/docs/static``. ReDoc, which has no packaged copy, is off.
"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from starlette.staticfiles import StaticFiles
from swagger_ui_bundle import swagger_ui_path

__all__ = ["mount_offline_docs"]

STATIC = "/docs/static"


def mount_offline_docs(app: FastAPI) -> None:
    """Serve ``/docs`` and its assets from the package; the page reads ``/openapi.json``."""
    app.mount(STATIC, StaticFiles(directory=str(swagger_ui_path)), name="docs-static")

    @app.get("/docs", include_in_schema=False)
    async def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=app.openapi_url or "/openapi.json",
            title=f"{app.title} — API",
            swagger_js_url=f"{STATIC}/swagger-ui-bundle.js",
            swagger_css_url=f"{STATIC}/swagger-ui.css",
            swagger_favicon_url=f"{STATIC}/favicon-32x32.png",
        )
