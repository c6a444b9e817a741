"""Fixtures for the 飞书 connector tests: the simulator and a callback receiver over loopback HTTP."""

from __future__ import annotations

import socket
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import uvicorn

from connectors.feishu.connector import FeishuApproval
from connectors.feishu.simulator import SANDBOX_CONFIG, create_app
from plugins.sdk import MemoryCallRecorder

FAST = {
    "connect_timeout": 0.5,
    "read_timeout": 0.5,
    "total_timeout": 5.0,
    "backoff_initial": 0.01,
    "backoff_max": 0.05,
}


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
    for _ in range(250):
        if server.started:
            break
        threading.Event().wait(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=5)


def make_connector(base_url: str, **overrides: Any) -> tuple[FeishuApproval, MemoryCallRecorder]:
    recorder = MemoryCallRecorder()
    config = FeishuApproval.Config(**{**SANDBOX_CONFIG, **FAST, "base_url": base_url, **overrides})
    return FeishuApproval(config, recorder=recorder), recorder


@pytest.fixture(scope="module")
def simulator() -> Iterator[tuple[str, Any]]:
    app = create_app()
    with serve(app) as url:
        yield url, app


@pytest.fixture
async def feishu(simulator: tuple[str, Any]) -> AsyncIterator[tuple[FeishuApproval, MemoryCallRecorder, Any]]:
    url, app = simulator
    app.plan.clear()
    connector, recorder = make_connector(url)
    yield connector, recorder, app
    await connector.aclose()
