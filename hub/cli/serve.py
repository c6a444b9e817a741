"""``lendhub serve`` and ``lendhub secret-key``."""

from __future__ import annotations

import asyncio

import click

from core.secretbox import generate_key
from hub.database import DatabaseUnavailable
from hub.schema import prepare_database
from hub.secrets import load_all_keys
from hub.settings import SettingsError, load_settings
from plugins.manager import PluginLoadError, make_plugin_manager

from .common import one_line

__all__ = ["secret_key", "serve"]


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--reload", is_flag=True, help="Restart on code changes (development).")
def serve(host: str, port: int, reload: bool) -> None:
    """Serve the API (and, by default, in-process workers)."""
    import uvicorn

    # Fail here, in one line naming the variable or the database's problem, rather than in a
    # traceback from inside uvicorn's start-up.
    try:
        settings = load_settings()
        load_all_keys(settings)
        if settings.strict_plugins:  # the app factory would refuse inside uvicorn, with a traceback
            make_plugin_manager(load_plugins=settings.plugin_allow_list, strict=True)
        note = asyncio.run(prepare_database(settings))
    except (SettingsError, DatabaseUnavailable, PluginLoadError) as exc:
        raise one_line(exc, str(exc)) from None
    if note:
        click.echo(note, err=True)
    uvicorn.run("hub.app:create_app", factory=True, host=host, port=port, reload=reload)


@click.command("secret-key")
def secret_key() -> None:
    """Print a new key for LENDHUB_SECRET_KEY (prepend it to the list to rotate)."""
    click.echo(generate_key())
