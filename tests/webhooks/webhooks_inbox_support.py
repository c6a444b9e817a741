"""A stub webhook source, a recording plugin and a hub factory for the inbox tests.

The stub signs ``timestamp_ms + "." + body`` with HMAC-SHA256 (hex) under any of its secrets;
its tolerance is in milliseconds so replay tests need no long sleeps. Bodies are JSON: one
event ``{"id", "type", "object_id", "version", "data"}`` or ``{"events": [...]}``; a body of
``{"challenge": x}`` is a handshake; header ``x-stub-encrypted: 1`` demands a base64 body.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
from authsupport import authorise
from pydantic import SecretStr
from waiting import wait_for

from core.webhooks import PROCESS_JOB
from hub.app import create_app
from hub.settings import load_settings
from hub.webhooks import admin_router, ingest_router, register_inbox_handlers
from plugins.manager import PluginHost, make_plugin_manager
from plugins.sdk import (
    InboundRequest,
    SignatureInvalid,
    TimestampOutOfTolerance,
    Undecryptable,
    Unparsable,
    WebhookEvent,
    WebhookReply,
    WebhookSource,
    WebhookSourceConfig,
    hookimpl,
)

__all__ = [
    "SECRET",
    "Recorder",
    "StubConfig",
    "StubPlugin",
    "StubSource",
    "event_body",
    "make_host",
    "running_hub",
    "sign",
    "wait_for",  # re-exported: the inbox tests wait with the shared helper
]

SECRET = "stub-secret-one"


class StubConfig(WebhookSourceConfig):
    secrets: list[SecretStr]
    tolerance_ms: int = 300_000


class StubSource(WebhookSource):
    name = "stub-hmac"
    Config = StubConfig

    def handshake(self, request: InboundRequest, *, now: datetime) -> WebhookReply | None:
        if request.body.startswith(b'{"challenge"'):
            return WebhookReply(
                body=json.dumps({"challenge": json.loads(request.body)["challenge"]}).encode()
            )
        return None

    def verify(self, request: InboundRequest, *, now: datetime) -> Sequence[WebhookEvent]:
        config = self.config
        assert isinstance(config, StubConfig)
        stamp, signature = request.headers.get("x-stub-timestamp"), request.headers.get("x-stub-signature")
        if not stamp or not signature:
            raise SignatureInvalid("missing x-stub-timestamp or x-stub-signature")
        if not stamp.isdigit():
            raise SignatureInvalid("x-stub-timestamp is not an integer")
        signed = stamp.encode() + b"." + request.body
        expected = [
            hmac.new(s.get_secret_value().encode(), signed, hashlib.sha256).hexdigest()
            for s in config.secrets
        ]
        if not any(hmac.compare_digest(signature, e) for e in expected):
            raise SignatureInvalid("no signature matches")
        if abs(now.timestamp() * 1000 - int(stamp)) > config.tolerance_ms:
            raise TimestampOutOfTolerance("x-stub-timestamp is outside the tolerance")
        body = request.body
        if request.headers.get("x-stub-encrypted") == "1":
            try:
                body = base64.b64decode(body, validate=True)
            except (binascii.Error, ValueError):
                raise Undecryptable("the body is not valid base64") from None
        try:
            data = json.loads(body)
            items = data.get("events", [data])
            return [
                WebhookEvent(
                    event_id=str(item["id"]),
                    event_type=str(item["type"]),
                    payload=item.get("data", {}),
                    object_id=item.get("object_id"),
                    object_version=item.get("version"),
                )
                for item in items
            ]
        except (ValueError, KeyError, TypeError, AttributeError):
            raise Unparsable("expected a JSON event with id and type") from None

    def reply(
        self, request: InboundRequest, events: Sequence[WebhookEvent], *, now: datetime
    ) -> WebhookReply:
        return WebhookReply(body=json.dumps({"ok": True, "events": len(events)}).encode())


class StubPlugin:
    LENDHUB_HOOK_API = "1.0"

    @hookimpl
    def register_webhook_sources(self, register: Any) -> None:
        register(StubSource)


class Recorder:
    """Records deliveries; raises for the first ``fail`` calls (per event id) when asked."""

    LENDHUB_HOOK_API = "1.0"

    def __init__(self, fail: int = 0) -> None:
        self.fail = fail
        self.deliveries: list[Any] = []
        self.calls: dict[str, int] = {}

    @hookimpl
    async def webhook_received(self, delivery: Any) -> None:
        key = delivery.event.id
        self.calls[key] = self.calls.get(key, 0) + 1
        if self.calls[key] <= self.fail:
            raise RuntimeError(f"downstream unavailable (call {self.calls[key]})")
        self.deliveries.append(delivery)


def sign(body: bytes, secret: str = SECRET, stamp_ms: int | None = None) -> dict[str, str]:
    stamp = str(stamp_ms if stamp_ms is not None else int(time.time() * 1000))
    digest = hmac.new(secret.encode(), stamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return {"x-stub-timestamp": stamp, "x-stub-signature": digest, "content-type": "application/json"}


def event_body(event_id: str, type_: str = "lead.created", **extra: Any) -> bytes:
    return json.dumps({"id": event_id, "type": type_, "data": {"n": 1}, **extra}).encode()


def make_host(*plugins: object) -> PluginHost:
    host = make_plugin_manager(load_entrypoints=False, builtins=())
    host.add_plugin("stub-source", StubPlugin())
    for n, plugin in enumerate(plugins):
        host.add_plugin(f"plugin-{n}", plugin)
    return host


@asynccontextmanager
async def running_hub(
    database_url: str,
    tmp_path: Path,
    *plugins: object,
    workers: bool = False,
    retry: str = "0,0",
    redis_url: str | None = None,
    max_body: int = 4096,
    config: dict[str, Any] | None = None,
) -> AsyncIterator[tuple[httpx.AsyncClient, Any]]:
    """The hub app with the inbox routers, the stub source and an instance ``stub-hmac/partner``."""
    host = make_host(*plugins)
    settings = load_settings(
        database_url=database_url,
        secret_key_file=tmp_path / "secret.key",
        pii_key_file=tmp_path / "pii.keys",  # a worker process reading the inbox needs the same keys
        inprocess_workers=workers,
        job_lease_seconds=2.0,
        webhook_retry_schedule=retry,
        webhook_max_body_bytes=max_body,
        redis_url=redis_url,
    )
    app = create_app(settings, host=host)
    paths = {getattr(route, "path", None) for route in app.routes}
    if "/webhooks/{source}/{instance}" not in paths:
        app.include_router(ingest_router)
        app.include_router(admin_router)
    async with app.router.lifespan_context(app):
        runtime = app.state.runtime
        if PROCESS_JOB not in runtime.handlers:
            register_inbox_handlers(runtime.handlers, host, retry_delays=settings.webhook_retry_delays)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
            await authorise(client, runtime)
            created = await client.post(
                "/api/webhooks/sources",
                json={"source": "stub-hmac", "name": "partner", "config": config or {"secrets": [SECRET]}},
            )
            assert created.status_code == 201, created.text
            yield client, runtime
