"""Loopback helpers for tests that start real servers (``lendhub serve``, the sandbox) in processes."""

from __future__ import annotations

import random
import socket
import subprocess
import time

import httpx

__all__ = ["free_port", "free_port_block", "wait_http"]


def free_port() -> int:
    """A port nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def free_port_block(size: int) -> int:
    """The first of ``size`` free ports below the ephemeral range.

    The sandbox serves its simulators on a block of ports above ``--port``; a block taken from the
    ephemeral range can be claimed meanwhile by any outgoing connection or by a ``free_port()``
    (the hub's, once, in CI), and the simulator that lost its port exits.
    """
    rng = random.Random()
    for _ in range(50):
        base = rng.randrange(20000, 32000 - size)
        if all(_bindable(port) for port in range(base, base + size)):
            return base
    raise RuntimeError(f"no block of {size} free ports between 20000 and 32000")


def _bindable(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def wait_http(url: str, process: subprocess.Popen[bytes], within: float = 60) -> None:
    """Wait until ``url`` answers 200, failing early if ``process`` died."""
    deadline = time.monotonic() + within
    while True:
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        assert process.poll() is None and time.monotonic() < deadline, f"{url} did not come up"
        time.sleep(0.1)
