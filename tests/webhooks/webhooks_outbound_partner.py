"""Test support for outbound webhooks: a partner receiver on loopback and a job runner.

The receiver verifies every request with the official ``standardwebhooks`` library, as a
partner would, and answers from a script (a list of statuses, one per request).
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from standardwebhooks.webhooks import Webhook, WebhookVerificationError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from core.jobs import JobExecutor, JobHandlers, claim_due
from core.outbox import OutboxEvent, add_event, register_outbox_dispatcher
from core.secretbox import SecretBox, generate_key
from core.webhooks_out import WebhookDelivery, WebhookDeliveryAttempt, WebhookSubscription, fan_out
from hub.outbound import register_outbound_handlers
from hub.settings import Settings, load_settings


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes
    verified_with: list[int]
    error: str | None


@dataclass
class Partner:
    """A partner endpoint: verifies with each of ``secrets``; answers ``script`` in turn."""

    secrets: list[str] = field(default_factory=list)
    script: list[Any] = field(default_factory=list)
    received: list[Received] = field(default_factory=list)
    redirect_hits: int = 0
    hold: threading.Event | None = None

    def __post_init__(self) -> None:
        self.app = Starlette(
            routes=[
                Route("/hook", self.hook, methods=["POST"]),
                Route("/elsewhere", self.elsewhere, methods=["POST", "GET"]),
            ]
        )

    async def hook(self, request: Request) -> Response:
        body = await request.body()
        headers = {k.lower(): v for k, v in request.headers.items()}
        verified, error = [], None
        for index, secret in enumerate(self.secrets):
            try:
                Webhook(secret).verify(body, headers)
                verified.append(index)
            except WebhookVerificationError as exc:
                error = str(exc)
        self.received.append(Received(headers, body, verified, error))
        if self.hold is not None and len(self.received) == 1:
            await asyncio.get_running_loop().run_in_executor(None, self.hold.wait, 10)
        step = self.script.pop(0) if self.script else 200
        if isinstance(step, tuple):
            status, extra = step
        else:
            status, extra = step, {}
        if extra.get("sleep"):
            await asyncio.sleep(extra["sleep"])
        if extra.get("location"):
            return Response(status_code=status, headers={"location": extra["location"]})
        return JSONResponse({"ok": status < 300}, status_code=status, headers=extra.get("headers", {}))

    async def elsewhere(self, request: Request) -> Response:
        self.redirect_hits += 1
        return JSONResponse({"ok": True})


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def serve(app: Any, host: str = "127.0.0.1") -> Iterator[str]:
    """Serve ``app`` on a loopback port in a thread; yields its base URL."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 5
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.01)
    try:
        yield f"http://{host}:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=5)


def outbound_settings(**overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "outbound_retry_schedule": "0,0,0",
        "outbound_timeout_seconds": 2.0,
        "outbound_disable_after_failures": 50,
        "outbound_allow_private_targets": "127.0.0.1",
    }
    values.update(overrides)
    return load_settings(**values)


class Runner:
    """Runs due jobs with a real JobExecutor, as a worker would, until none is due."""

    def __init__(
        self, session_factory: async_sessionmaker[AsyncSession], settings: Settings, http: Any
    ) -> None:
        self.box = SecretBox([generate_key()])
        self.session_factory = session_factory
        self.handlers = JobHandlers()
        register_outbound_handlers(self.handlers, settings=settings, box=self.box, http_factory=lambda: http)

        async def dispatch(session: AsyncSession, event: OutboxEvent) -> None:
            await fan_out(session, event)

        register_outbox_dispatcher(self.handlers, dispatch)
        self.executor = JobExecutor(session_factory, self.handlers, owner="test-worker", lease_seconds=5)

    async def run_due(self, rounds: int = 20) -> int:
        ran = 0
        for _ in range(rounds):
            jobs = await claim_due(self.session_factory, "test-worker", 5, 50)
            if not jobs:
                return ran
            for job in jobs:
                await self.executor.execute(job)
                ran += 1
        return ran


async def publish(
    session_factory: async_sessionmaker[AsyncSession], event_type: str, payload: dict[str, Any]
) -> OutboxEvent:
    """Commit an outbox event and its dispatch job (``Runner.run_due`` fans it out)."""
    async with session_factory() as session:
        event = await add_event(
            session, event_type=event_type, subject_type="loan", subject_id="L-1", payload=payload
        )
        await session.commit()
    return event


async def rows(session_factory: async_sessionmaker[AsyncSession], model: Any, **where: Any) -> list[Any]:
    async with session_factory() as session:
        query = select(model).filter_by(**where)
        if model is WebhookDeliveryAttempt:
            query = query.order_by(WebhookDeliveryAttempt.attempt)
        return list((await session.scalars(query)).all())


__all__ = [
    "Partner",
    "Runner",
    "WebhookDelivery",
    "WebhookSubscription",
    "free_port",
    "outbound_settings",
    "publish",
    "rows",
    "serve",
]
