"""Liveness and readiness, for load balancers and orchestrators.

``/healthz`` says the process answers; it touches nothing else, so a slow database never gets a
healthy process restarted. ``/readyz`` checks what serving needs — the database, Redis when
configured — and reports every connector breaker, quarantined plugin and connector instance whose
owner changed. Those degrade one vendor, not the hub, so they are reported but do not fail
readiness.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

__all__ = ["router"]

router = APIRouter(tags=["health"])


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """The process is up and its event loop answers."""
    return {"status": "ok"}


@router.get("/readyz", response_model=None)
async def readyz(request: Request) -> JSONResponse:
    """Ready to serve: 200 when every required dependency answers, 503 naming the one that does not."""
    report: dict[str, Any] = await request.app.state.runtime.readiness()
    return JSONResponse(report, status_code=200 if report["status"] != "unavailable" else 503)
