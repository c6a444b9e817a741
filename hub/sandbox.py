"""``lendhub sandbox``: every registered connector's simulator, served side by side.

Each connector class that names a ``simulator`` gets its own uvicorn server on a loopback port,
all in one process and one event loop. A slug's port is stable: ``first + crc32(slug) % span``
(the next free one on a clash), and a connectors file written before pins the ports it holds, so
installing another connector never moves the others (configured instances would hit the wrong
simulator). A connectors file
(``hub.connectors_file`` format) can be written so the hub points one ``<slug>-sandbox``
instance of each connector at its simulator: that is how ``make run`` works offline.
"""

from __future__ import annotations

import asyncio
import importlib
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import uvicorn
import yaml

from core.integrations.base import Connector

__all__ = [
    "SPAN",
    "SandboxEntry",
    "SandboxError",
    "build_servers",
    "in_process_connectors",
    "pinned_ports",
    "plan_sandbox",
    "serve_all",
    "write_config",
]

HOST = "127.0.0.1"
SPAN = 200
"""Ports a sandbox may use from its first one: room for every connector, few collisions."""


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


def plan_sandbox(
    connectors: Mapping[str, type[Connector]],
    port: int,
    *,
    span: int = SPAN,
    pinned: Mapping[str, int] | None = None,
) -> list[SandboxEntry]:
    """One entry per connector with a simulator, sorted by slug, each on its stable port.

    Args:
        connectors: connector classes by slug.
        port: the first port of the range.
        span: how many ports the range has.
        pinned: ports slugs had before (a written connectors file); kept when still in range.

    Raises:
        SandboxError: a simulator module cannot be imported, or the range is full.
    """
    with_simulator: list[tuple[str, str, Mapping[str, Any]]] = []
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
        with_simulator.append((slug, target, dict(config)))
    if len(with_simulator) > span:
        raise SandboxError(f"{len(with_simulator)} simulators do not fit in {span} ports from {port}")
    taken: dict[str, int] = {}
    for slug, _, _ in with_simulator:  # pinned first, so a new slug cannot take an old one's port
        kept = (pinned or {}).get(slug)
        if kept is not None and port <= kept < port + span and kept not in taken.values():
            taken[slug] = kept
    for slug, _, _ in with_simulator:
        if slug in taken:
            continue
        offset = zlib.crc32(slug.encode("utf-8")) % span
        used = set(taken.values())
        taken[slug] = next(
            port + (offset + step) % span for step in range(span) if port + (offset + step) % span not in used
        )
    return [SandboxEntry(slug, target, taken[slug], config) for slug, target, config in with_simulator]


def pinned_ports(path: Path) -> dict[str, int]:
    """The ports a connectors file written by ``write_config`` gave each slug (empty if none)."""
    if not path.exists():
        return {}
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        ports = {}
        for entry in data.get("connectors", []):
            url = str(entry.get("config", {}).get("base_url", ""))
            ports[str(entry["connector"])] = int(url.rsplit(":", 1)[1].split("/")[0])
        return ports
    except (OSError, yaml.YAMLError, KeyError, IndexError, ValueError, AttributeError, TypeError):
        return {}  # not ours, or hand-edited beyond reading: plan from scratch


def in_process_connectors(connectors: Mapping[str, type[Connector]]) -> list[str]:
    """Slugs of connectors that call no vendor (no simulator, no hosts) and work with their defaults.

    The built-in scorecard is one: it needs no simulator, so the sandbox gives it an instance
    with its default configuration, and ``make run`` has one instance of every connector.
    """
    found = []
    for slug in sorted(connectors):
        cls = connectors[slug]
        if cls.simulator or cls.info.hosts:
            continue
        try:
            cls.Config()
        except Exception:
            continue
        found.append(slug)
    return found


def write_config(entries: list[SandboxEntry], path: Path, *, in_process: Sequence[str] = ()) -> None:
    """Write a connectors file with a ``<slug>-sandbox`` instance per simulator and in-process connector."""
    document = {
        "connectors": [
            *(
                {
                    "name": entry.instance_name,
                    "connector": entry.slug,
                    "enabled": True,
                    "config": {**entry.sandbox_config, "base_url": entry.url},
                }
                for entry in entries
            ),
            *(
                {"name": f"{slug}-sandbox", "connector": slug, "enabled": True, "config": {}}
                for slug in in_process
            ),
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
