"""``lendhub plugins [--json]``: which plugins loaded, which were quarantined and why.

The command builds the plugin host exactly as the server does, from the same settings, so
what it prints is what ``lendhub serve`` would run with.
"""

from __future__ import annotations

import asyncio
import json
import logging
from pathlib import Path

import click
from sqlalchemy.engine import make_url

from hub.database import DatabaseUnavailable
from hub.runtime import Runtime
from hub.settings import Settings, SettingsError, load_settings
from plugins.info import plugin_report
from plugins.manager import PluginHost, PluginLoadError, make_plugin_manager
from schemas.api.plugins import InstanceSummary, PluginInfo

__all__ = ["plugins", "render_table"]


def render_table(report: list[PluginInfo]) -> str:
    """The report as a plain-text table, one plugin per line and its details beneath it."""
    rows = [("PLUGIN", "VERSION", "STATUS", "HOOKS")]
    rows += [(info.name, info.version or "-", info.status, ", ".join(info.hooks) or "-") for info in report]
    widths = [max(len(row[column]) for row in rows) for column in range(3)]
    lines = []
    for index, row in enumerate(rows):
        lines.append(
            "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=False)) + "  " + row[3]
        )
        info = report[index - 1] if index else None
        if info is None:
            continue
        if info.reason:
            lines.append(f"    reason: {info.reason}")
        for c in info.connectors:
            vendor = f"{c.vendor} {c.vendor_api_version}"
            lines.append(f"    connector {c.slug}: {c.capability}, {vendor}, {c.support_level}")
            lines += [_instance_line(i) for i in c.instances]
        lines += [
            f"    webhook source {name}: POST /webhooks/{name}/<instance>" for name in info.webhook_sources
        ]
    return "\n".join(lines)


def _instance_line(instance: InstanceSummary) -> str:
    change = instance.owner_change
    if change is None:
        return f"      instance {instance.name}: breaker {instance.breaker}"
    return (
        f"      instance {instance.name}: OWNER CHANGED {change.configured} → {change.current}; "
        f"disabled until `lendhub connectors confirm-owner {instance.name}`"
    )


@click.command(name="plugins")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def plugins(as_json: bool) -> None:
    """List plugins: status, hooks, connectors; quarantined ones with the reason."""
    try:
        settings = load_settings()
    except SettingsError as exc:
        raise click.ClickException(str(exc)) from None
    if settings.trace_plugins:  # the trace is the point of the flag, so show it on stderr
        logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s")
    try:
        host = make_plugin_manager(
            load_plugins=settings.plugin_allow_list,
            trace=settings.trace_plugins,
            strict=settings.strict_plugins,
        )
    except PluginLoadError as exc:
        raise click.ClickException(
            str(exc) if len(exc.refused) > 1 else f"{exc} (LENDHUB_STRICT_PLUGINS is set)"
        ) from None
    instances, problem = _instance_summaries(settings, host)
    report = plugin_report(host, instances)
    if problem:
        host.notes.append(problem)
    if as_json:
        click.echo(
            json.dumps([info.model_dump(mode="json") for info in report], indent=2, ensure_ascii=False)
        )
    else:
        click.echo(render_table(report))
        for note in host.notes:
            click.echo(f"note: {note}", err=True)


def _instance_summaries(
    settings: Settings, host: PluginHost
) -> tuple[dict[str, list[InstanceSummary]], str | None]:
    """Configured instances with breaker state, when the database can be read; else a note why not."""

    async def read() -> dict[str, list[InstanceSummary]]:
        runtime = await Runtime.start(settings, jobs=False, host=host)
        if runtime.schema_note:
            host.notes.append(runtime.schema_note)
        try:
            return await runtime.instance_summaries()
        finally:
            await runtime.aclose()

    url = make_url(settings.database_url)
    if url.get_backend_name() == "sqlite" and url.database and not Path(url.database).exists():
        return {}, "connector instances not shown: no database yet (run `lendhub db upgrade`)"
    try:
        return asyncio.run(read()), None
    except DatabaseUnavailable as exc:  # unreachable, or not at this code's migration (one line)
        return {}, f"connector instances not shown: {exc}"
    except Exception as exc:  # the plugin report stands on its own; instances are extra
        return {}, f"connector instances not shown: {type(exc).__name__}: {str(exc).splitlines()[0][:200]}"
