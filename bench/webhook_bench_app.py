"""The processes bench/webhooks.py starts: the hub with a recording plugin, workers, a baseline.

The recording plugin appends each ``webhook_received`` event id to a file (one short O_APPEND
write per call, atomic across processes), so the bench can count effects per event afterwards:
exactly once is the claim under test, including across a worker killed mid-run.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from typing import Any

from fastapi import FastAPI, Request, Response

from hub.app import create_app
from hub.jobs import build_job_handlers
from hub.outbound import LazyClient, register_outbound_handlers
from hub.secrets import load_secret_box
from hub.settings import load_settings
from hub.workers.runner import run_worker
from plugins.manager import PluginHost, make_plugin_manager
from plugins.sdk import hookimpl


class EffectRecorder:
    """Appends ``<event id>\\n`` to ``LENDHUB_BENCH_EFFECTS`` for every delivered webhook event."""

    LENDHUB_HOOK_API = "1.1"

    def __init__(self, path: str) -> None:
        self.path = path

    @hookimpl
    def webhook_received(self, delivery: Any) -> None:
        line = f"{delivery.event.id}\n".encode()
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, line)
        finally:
            os.close(fd)


def _host() -> PluginHost:
    settings = load_settings()
    host = make_plugin_manager(load_plugins=settings.plugin_allow_list)
    host.add_plugin("bench-recorder", EffectRecorder(os.environ["LENDHUB_BENCH_EFFECTS"]))
    return host


def hub_app() -> FastAPI:
    """The hub exactly as ``lendhub serve`` builds it, plus the recording plugin."""
    return create_app(load_settings(), host=_host())


def baseline_app() -> FastAPI:
    """The floor: an endpoint that reads the body and answers 200, nothing else."""
    app = FastAPI()

    @app.post("/webhooks/{source}/{instance}")
    async def accept(source: str, instance: str, request: Request) -> Response:
        await request.body()
        return Response(status_code=200)

    return app


def worker_main() -> None:
    """A ``lendhub worker`` with the recording plugin among the plugins."""
    settings = load_settings()
    host = _host()
    handlers = build_job_handlers(host, settings)
    register_outbound_handlers(
        handlers, settings=settings, box=load_secret_box(settings), http_factory=LazyClient()
    )

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
        await run_worker(settings, handlers, stop=stop, grace=5.0)

    asyncio.run(main())


if __name__ == "__main__" and sys.argv[1:] == ["worker"]:
    worker_main()
