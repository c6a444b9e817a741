"""pytest plugin of the conformance kit, loaded through the ``pytest11`` entry point.

It adds a fixture for serving any ASGI app over loopback HTTP and reports the kit in the session
header. The checks themselves live on :class:`plugins.testing.ConnectorTestSuite`, whose fixtures
are defined on the class, so the suite also runs where this plugin is disabled.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

import pytest

from .server import ServedApp, serve_app


def pytest_report_header(config: pytest.Config) -> str:
    """Say that the kit is active, so a vendor's CI log shows which checks ran."""
    return "lendhub conformance kit: plugins.testing.ConnectorTestSuite"


@pytest.fixture
def lendhub_serve() -> Callable[..., AbstractContextManager[ServedApp]]:
    """A helper that serves an ASGI app on 127.0.0.1 until its ``with`` block ends.

    Use it as ``with lendhub_serve(app) as served:`` and talk to ``served.url``.
    """

    def serve(app: Any, *, port: int | None = None) -> AbstractContextManager[ServedApp]:
        return serve_app(app, port=port)

    return serve
