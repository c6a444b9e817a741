"""``lendhub plugins [--json]``: which plugins loaded, which were quarantined and why.

The command builds the plugin host exactly as the server does, from the same settings, so
what it prints is what ``lendhub serve`` would run with.
"""

from __future__ import annotations

import json
import logging

import click

from hub.settings import SettingsError, load_settings
from plugins.info import plugin_report
from plugins.manager import PluginLoadError, make_plugin_manager
from schemas.api.plugins import PluginInfo

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
        lines += [
            f"    connector {c.slug}: {c.capability}, {c.vendor} {c.vendor_api_version}, {c.support_level}"
            for c in info.connectors
        ]
    return "\n".join(lines)


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
        raise click.ClickException(f"{exc} (LENDHUB_STRICT_PLUGINS is set)") from None
    report = plugin_report(host)
    if as_json:
        click.echo(
            json.dumps([info.model_dump(mode="json") for info in report], indent=2, ensure_ascii=False)
        )
    else:
        click.echo(render_table(report))
        for note in host.notes:
            click.echo(f"note: {note}", err=True)
