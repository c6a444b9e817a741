"""The ``lendhub`` command: built-in commands plus those plugins register.

Plugin commands are attached when ``main`` runs, from the same plugin host the server would use;
a plugin command never replaces a built-in one of the same name.
"""

from __future__ import annotations

import logging
import os

import click

from core.jobs.handlers import JobHandlers
from hub.jobs import build_job_handlers
from hub.outbound import LazyClient, register_outbound_handlers
from hub.secrets import load_secret_box
from hub.settings import Settings, SettingsError, load_settings
from plugins.manager import PluginLoadError, make_plugin_manager

from . import (
    access,
    connector_new,
    connectors,
    db,
    flows,
    grants,
    imports,
    plugins,
    sandbox,
    security,
    serve,
    webhook_subscriptions,
    webhooks,
    worker,
)

__all__ = ["cli", "main"]

log = logging.getLogger(__name__)


def _handlers(settings: Settings) -> JobHandlers:
    host = make_plugin_manager(
        load_plugins=settings.plugin_allow_list, trace=settings.trace_plugins, strict=settings.strict_plugins
    )
    handlers = build_job_handlers(host, settings)
    register_outbound_handlers(
        handlers, settings=settings, box=load_secret_box(settings), http_factory=LazyClient()
    )
    return handlers


@click.group()
@click.version_option(package_name="lendhub")
@click.option("--debug", is_flag=True, help="Show full tracebacks for start-up and configuration errors.")
def cli(debug: bool) -> None:
    """LendHub: a CRM for lenders, built around a pluggable integration hub."""
    if debug:
        os.environ["LENDHUB_DEBUG"] = "1"  # commands (and serve's factory) read it where they fail
        logging.basicConfig(level=logging.DEBUG)


_BUILTIN_COMMANDS = (
    serve.serve,
    serve.secret_key,
    db.db,
    plugins.plugins,
    connectors.connectors,
    connector_new.connector,
    sandbox.sandbox,
    webhooks.webhooks,
    access.branches,
    access.users,
    grants.roles,
    grants.tokens,
    security.audit,
    security.keys,
    imports.import_group,
    flows.flows,
)
webhooks.webhooks.add_command(webhook_subscriptions.subscriptions)
for _command in (*_BUILTIN_COMMANDS, worker.make_worker_command(_handlers)):
    cli.add_command(_command)


def _attach_plugin_commands() -> None:
    try:
        settings = load_settings()
        host = make_plugin_manager(load_plugins=settings.plugin_allow_list, strict=False)
    except (SettingsError, PluginLoadError):
        return  # the built-in command that runs next reports it properly
    for name, registered in host.commands.items():
        if name in cli.commands:
            log.warning("plugin %s: command %r shadows a built-in one; ignored", registered.plugin, name)
            continue
        cli.add_command(registered.obj, name)


def main() -> None:
    """Console-script entry point."""
    _attach_plugin_commands()
    cli()
