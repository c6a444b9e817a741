"""``lendhub sandbox``: every registered connector's simulator, served side by side.

Each connector class that names a ``simulator`` gets its own uvicorn server on consecutive
loopback ports, in sorted slug order, all in one process and one event loop. A connectors file
(``hub.connectors_file`` format) can be written so the hub points one ``<slug>-sandbox``
instance of each connector at its simulator: that is how ``make run`` works offline.
"""

from __future__ import annotations

import asyncio
import importlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import uvicorn
import yaml

from core.integrations.base import Connector

__all__ = ["SandboxEntry", "SandboxError", "build_servers", "plan_sandbox", "serve_all", "write_config"]

HOST = "127.0.0.1"


class SandboxError(Exception):
    """A simulator cannot be loaded or started; the message names the connector."""


@dataclass(frozen=True)
class SandboxEntry:
    """One simulator to serve.

    Attributes:
        slug: the connector slug.
        target: the ``module:factory`` of its simulator.
        port: where it listens.
        sandbox_config: the simulator module's ``SANDBOX_CONFIG``.
    """

    slug: str
    target: str
    port: int
    sandbox_config: Mapping[str, Any]

    @property
    def url(self) -> str:
        """The simulator's base URL."""
        return f"http://{HOST}:{self.port}"

    @property
    def instance_name(self) -> str:
        """The connector instance ``--write-config`` creates for it."""
        return f"{self.slug}-sandbox"


def _load(target: str) -> tuple[Any, Mapping[str, Any]]:
    module_name, _, factory_name = target.partition(":")
    module = importlib.import_module(module_name)
    factory = getattr(module, factory_name or "create_app")
    config = getattr(module, "SANDBOX_CONFIG", {})
    if not isinstance(config, Mapping):
        raise SandboxError(f"{module_name}.SANDBOX_CONFIG is not a mapping")
    return factory, config


def plan_sandbox(connectors: Mapping[str, type[Connector]], port: int) -> list[SandboxEntry]:
    """One entry per connector with a simulator, sorted by slug, on ports ``port``, ``port + 1``, ….

    Raises:
        SandboxError: a simulator module cannot be imported.
    """
    entries: list[SandboxEntry] = []
    for slug in sorted(connectors):
        target = connectors[slug].simulator
        if not target:
            continue
        try:
            _, config = _load(target)
        except SandboxError:
            raise
        except Exception as exc:
            raise SandboxError(
                f"{slug}: simulator {target!r} cannot be loaded: {type(exc).__name__}: {exc}"
            ) from exc
        entries.append(SandboxEntry(slug, target, port + len(entries), dict(config)))
    return entries


def write_config(entries: list[SandboxEntry], path: Path) -> None:
    """Write a connectors file with one ``<slug>-sandbox`` instance per simulator."""
    document = {
        "connectors": [
            {
                "name": entry.instance_name,
                "connector": entry.slug,
                "enabled": True,
                "config": {**entry.sandbox_config, "base_url": entry.url},
            }
            for entry in entries
        ]
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        "# Written by `lendhub sandbox`: every connector pointed at its simulator.\n"
        + yaml.safe_dump(document, allow_unicode=True, sort_keys=False),
        encoding="utf-8",
    )


def build_servers(entries: list[SandboxEntry], *, fault: str | None = None) -> list[uvicorn.Server]:
    """A uvicorn server per simulator (not yet started); ``fault`` is a standing fault for all."""
    servers = []
    for entry in entries:
        factory, _ = _load(entry.target)
        app = factory(fault=fault) if fault else factory()
        config = uvicorn.Config(app, host=HOST, port=entry.port, log_level="warning", lifespan="off")
        servers.append(uvicorn.Server(config))
    return servers


async def serve_all(servers: list[uvicorn.Server]) -> None:
    """Run every server concurrently until one stops or the task is cancelled (Ctrl-C)."""
    tasks = [asyncio.create_task(server.serve()) for server in servers]
    try:
        await asyncio.gather(*tasks)
    finally:
        for server in servers:
            server.should_exit = True
        await asyncio.gather(*tasks, return_exceptions=True)
