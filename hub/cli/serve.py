"""``lendhub serve`` and ``lendhub secret-key``."""

from __future__ import annotations

import click

from core.secretbox import generate_key
from hub.settings import SettingsError, load_settings

__all__ = ["secret_key", "serve"]


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--reload", is_flag=True, help="Restart on code changes (development).")
def serve(host: str, port: int, reload: bool) -> None:
    """Serve the API (and, by default, in-process workers)."""
    import uvicorn

    try:
        load_settings()  # fail here, naming the variable, rather than inside uvicorn's traceback
    except SettingsError as exc:
        raise click.ClickException(str(exc)) from None
    uvicorn.run("hub.app:create_app", factory=True, host=host, port=port, reload=reload)


@click.command("secret-key")
def secret_key() -> None:
    """Print a new key for LENDHUB_SECRET_KEY (prepend it to the list to rotate)."""
    click.echo(generate_key())
