"""The kit vendor's side: an API-key-checked report endpoint, wrapped in the SDK fault injector."""

from __future__ import annotations

from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from plugins.sdk import FaultInjector
from plugins.sdk.sandbox import EXHAUSTED_CREDENTIAL, UNKNOWN_PERSON

SANDBOX_CONFIG: dict[str, object] = {"api_key": "kit-sandbox-key-5f1e"}


def create_app(**options: Any) -> FaultInjector:
    """The simulator; ``api_key`` overrides the accepted key, ``fault`` sets a standing fault."""
    accepted = str(options.get("api_key", SANDBOX_CONFIG["api_key"]))

    async def report(request: Request) -> Response:
        key = request.headers.get("x-api-key")
        if key == EXHAUSTED_CREDENTIAL:
            return JSONResponse({"error": "balance exhausted"}, status_code=402)
        if key != accepted:
            return JSONResponse({"error": "invalid api key"}, status_code=401)
        body = await request.json()
        if body.get("id_number") == UNKNOWN_PERSON.id_number:
            return JSONResponse({"error": "no such subject"}, status_code=404)
        return JSONResponse({"report_id": f"R-{str(body['id_number'])[-4:]}"})

    app = Starlette(routes=[Route("/v1/reports", report, methods=["POST"])])
    return FaultInjector(app, standing=options.get("fault"))
