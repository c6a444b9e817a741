"""Serve an ASGI app (a vendor simulator) on a loopback port in a background thread.

Used by the conformance suite and by tests that talk to simulators over real HTTP. uvicorn runs in
its own thread with its own event loop, so synchronous tests and ``asyncio.run`` both work.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import uvicorn

from plugins.sdk import FaultInjector

__all__ = ["ServedApp", "free_port", "serve_app"]


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class ServedApp:
    """An app being served.

    Attributes:
        url: its base URL, ``http://127.0.0.1:<port>``.
        app: the ASGI app (a :class:`FaultInjector` for simulators).
    """

    url: str
    app: Any

    @property
    def injector(self) -> FaultInjector:
        """The simulator's fault injector; ``TypeError`` when the factory did not wrap its app."""
        if not isinstance(self.app, FaultInjector):
            raise TypeError(
                f"the simulator factory returned {type(self.app).__name__}; wrap the app: "
                "return FaultInjector(app, standing=options.get('fault'))"
            )
        return self.app

    def push(self, *specs: str, path_filter: str = "") -> None:
        """Queue faults for the next requests whose path contains ``path_filter``."""
        self.injector.plan.push(*specs, path_filter=path_filter)

    def clear_faults(self) -> None:
        """Drop queued and standing faults (a no-op for apps without an injector)."""
        if isinstance(self.app, FaultInjector):
            self.app.plan.clear()


@contextmanager
def serve_app(app: Any, *, port: int | None = None) -> Iterator[ServedApp]:
    """Serve ``app`` with uvicorn on 127.0.0.1 until the block ends.

    Args:
        app: any ASGI app.
        port: the port; a free one when ``None``.

    Yields:
        The served app with its URL.
    """
    port = port or free_port()
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_level="warning", lifespan="off", timeout_graceful_shutdown=2
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name=f"simulator:{port}", daemon=True)
    thread.start()
    waited = threading.Event()
    for _ in range(500):
        if server.started or not thread.is_alive():
            break
        waited.wait(0.01)
    if not server.started:
        server.should_exit = True
        thread.join(timeout=5)
        raise RuntimeError(f"the app did not start on 127.0.0.1:{port}")
    try:
        yield ServedApp(f"http://127.0.0.1:{port}", app)
    finally:
        # Requests a test left hanging (an injected timeout) are abandoned, not waited for.
        server.should_exit = server.force_exit = True
        thread.join(timeout=10)
