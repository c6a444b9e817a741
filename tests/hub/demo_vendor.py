"""A tiny vendor for hub tests: a connector plugin and its simulator, served over loopback HTTP."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, ClassVar

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from plugins.sdk import (
    Capability,
    ConnectorInfo,
    CreditBureau,
    HttpConnector,
    HttpConnectorConfig,
    SecretStr,
    SupportLevel,
    hookimpl,
)
from schemas.canonical import CreditReport, PersonSubject

GOOD_KEY = "demo-key-7f3a9c"


class DemoConfig(HttpConnectorConfig):
    api_key: SecretStr
    member_code: str = "M001"


class DemoBureau(HttpConnector, CreditBureau):
    info: ClassVar[ConnectorInfo] = ConnectorInfo(
        slug="demo-bureau",
        name="Demo bureau",
        capability=Capability.CREDIT_BUREAU,
        vendor="Demo",
        vendor_api_version="v1",
        hosts=("api.demo-bureau.example",),
        support_level=SupportLevel.COMMUNITY,
    )
    Config: ClassVar[type[DemoConfig]] = DemoConfig  # type: ignore[misc]
    config: DemoConfig

    def _headers(self) -> dict[str, str]:
        return {"X-Api-Key": self.config.api_key.get_secret_value()}

    async def check_connection(self) -> None:
        await self.request("GET", "/v1/ping", operation="ping", headers=self._headers())

    async def fetch_report(self, subject: PersonSubject, *, authorization_id: str) -> CreditReport:
        response = await self.request(
            "POST",
            "/v1/reports",
            operation="fetch_report",
            json={"name": subject.name, "id_number": subject.id_number, "auth": authorization_id},
            headers=self._headers(),
            idempotency_key=authorization_id,
        )
        body = self.response_json(response)
        return CreditReport(report_id=body["report_id"], subject=subject, generated_at=datetime.now(UTC))


class DemoPlugin:
    LENDHUB_HOOK_API = "1.0"

    @hookimpl
    def register_connectors(self, register: Any) -> None:
        register(DemoBureau)


class Simulator:
    """The vendor side: checks the key; ``mode`` injects faults (``html``, ``503``)."""

    def __init__(self) -> None:
        self.mode = "ok"
        self.hits = 0
        self.app = Starlette(
            routes=[Route("/v1/ping", self.ping), Route("/v1/reports", self.report, methods=["POST"])]
        )

    def _refuse(self, request: Request) -> Response | None:
        self.hits += 1
        if self.mode == "html":
            return HTMLResponse("<html><body>Gateway login</body></html>")
        if self.mode == "503":
            return JSONResponse({"error": "busy"}, status_code=503)
        if request.headers.get("x-api-key") != GOOD_KEY:
            return JSONResponse({"error": "invalid api key"}, status_code=401)
        return None

    async def ping(self, request: Request) -> Response:
        return self._refuse(request) or JSONResponse({"ok": True})

    async def report(self, request: Request) -> Response:
        refused = self._refuse(request)
        if refused is not None:
            return refused
        body = await request.json()
        return JSONResponse({"report_id": f"R-{body['id_number'][-4:]}"})


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def serve(app: Any) -> Iterator[str]:
    """Serve ``app`` on a loopback port in a thread; yields its base URL."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in range(200):
        if server.started:
            break
        threading.Event().wait(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=5)
