"""A local S3-compatible server (moto, in a subprocess, on loopback) for the S3 store's tests."""

from __future__ import annotations

import subprocess
import sys
import uuid
from collections.abc import Iterator

import httpx
import pytest
from netsupport import free_port, wait_http


@pytest.fixture(scope="session")
def s3_server() -> Iterator[str]:
    """The base URL of a moto S3 server, up for the whole session and stopped at its end."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_http(f"{url}/moto-api/", process, within=30)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture
def s3_bucket(s3_server: str) -> str:
    """A new, empty bucket on the server (moto takes unsigned bucket creation)."""
    name = f"docs-{uuid.uuid4().hex[:12]}"
    httpx.put(f"{s3_server}/{name}").raise_for_status()
    return name
