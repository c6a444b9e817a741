"""``lendhub sandbox [--port 9100] [--fault SPEC] [--write-config PATH]``: serve every simulator.

Builds the plugin host from settings exactly as the server does, so every connector the hub would
run — built-in or installed — gets its simulator served. Ctrl-C stops them all.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import click

from hub.sandbox import (
    SandboxError,
    build_servers,
    in_process_connectors,
    pinned_ports,
    plan_sandbox,
    serve_all,
    write_config,
)
from hub.settings import SettingsError, load_settings
from plugins.manager import PluginLoadError, make_plugin_manager
from plugins.sdk.simulation import parse_fault

__all__ = ["sandbox"]


def _check_fault(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    if value is not None:
        try:
            parse_fault(value)
        except ValueError as exc:
            raise click.BadParameter(str(exc)) from None
    return value


@click.command(name="sandbox")
@click.option(
    "--port", default=9100, show_default=True, type=click.IntRange(1, 65335), help="First of 200 ports."
)
@click.option(
    "--fault", default=None, callback=_check_fault, help="A standing fault for every simulator: 503, 429:2, …"
)
@click.option(
    "--write-config",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write a connectors file pointing one <slug>-sandbox instance at each simulator.",
)
@click.option("--dry-run", is_flag=True, help="Only plan the ports and write --write-config, then exit.")
def sandbox(port: int, fault: str | None, config_path: Path | None, dry_run: bool) -> None:
    """Serve every registered connector's vendor simulator, each on its own stable loopback port."""
    try:
        settings = load_settings()
        host = make_plugin_manager(load_plugins=settings.plugin_allow_list, strict=settings.strict_plugins)
    except (SettingsError, PluginLoadError) as exc:
        raise click.ClickException(str(exc)) from None
    connectors = {slug: registered.obj for slug, registered in host.connectors.items()}
    try:
        pinned = pinned_ports(config_path) if config_path is not None else {}
        entries = plan_sandbox(connectors, port, pinned=pinned)
        if not entries:
            raise click.ClickException("no registered connector has a simulator")
        if config_path is not None:
            write_config(entries, config_path, in_process=in_process_connectors(connectors))
        width = max(len(entry.slug) for entry in entries)
        for entry in entries:
            click.echo(f"{entry.slug.ljust(width)}  {entry.url}")
        if config_path is not None:
            click.echo(f"connectors file: {config_path}")
        if dry_run:
            return
        servers = build_servers(entries, fault=fault)
    except SandboxError as exc:
        raise click.ClickException(str(exc)) from None
    try:
        asyncio.run(serve_all(servers))
    except KeyboardInterrupt:
        click.echo("sandbox stopped")
