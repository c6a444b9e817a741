"""``lendhub db``: database schema commands."""

from __future__ import annotations

import asyncio

import click

from hub.database import DatabaseUnavailable, mask_url, upgrade_database
from hub.settings import SettingsError, load_settings

__all__ = ["db"]


@click.group("db")
def db() -> None:
    """Manage the database schema."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True, help="Alembic revision to upgrade to.")
def upgrade(revision: str) -> None:
    """Apply migrations to the database named by LENDHUB_DATABASE_URL."""
    try:
        settings = load_settings()
    except SettingsError as exc:
        raise click.ClickException(str(exc)) from None
    try:
        asyncio.run(upgrade_database(settings.database_url, revision))
    except DatabaseUnavailable as exc:
        raise click.ClickException(str(exc)) from None
    except Exception as exc:  # Alembic's own errors (unknown revision, failed DDL)
        raise click.ClickException(
            f"migrating {mask_url(settings.database_url)} failed: {type(exc).__name__}: {exc}"
        ) from None
    click.echo(f"database {mask_url(settings.database_url)} upgraded to {revision}")
