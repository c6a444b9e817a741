"""Shared helpers of the e签宝 tests: a loopback server and a connector wired to it."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn

from connectors.esign.connector import EsignConfig, EsignSignature
from connectors.esign.simulator import SANDBOX_CONFIG
from plugins.sdk import MemoryCallRecorder, SharedState
from schemas.canonical.esignature import Signer, SignFlowRequest

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def free_port() -> int:
    """A loopback port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def serve(app: Any) -> Iterator[str]:
    """Serve ``app`` with uvicorn on a loopback port in a thread; yields its base URL."""
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


def make_connector(base_url: str, **overrides: Any) -> tuple[EsignSignature, MemoryCallRecorder]:
    """A connector for the simulator at ``base_url`` with fast timeouts and no real waits."""
    values: dict[str, Any] = {
        **SANDBOX_CONFIG,
        "base_url": base_url,
        "connect_timeout": 1.0,
        "read_timeout": 0.5,
        "total_timeout": 4.0,
        "backoff_initial": 0.01,
        "backoff_max": 0.02,
        "file_poll_interval": 0.01,
        **overrides,
    }
    recorder = MemoryCallRecorder()
    connector = EsignSignature(EsignConfig(**values), state=SharedState.memory(), recorder=recorder)
    return connector, recorder


def flow_request(
    *signers: Signer, key: str = "contract-1", callback_url: str | None = None
) -> SignFlowRequest:
    """A one-document flow for ``signers``."""
    return SignFlowRequest(
        subject="借款合同",
        document_name="loan-contract.pdf",
        document=PDF,
        signers=signers,
        idempotency_key=key,
        callback_url=callback_url,
    )
