"""``lendhub connector new NAME --capability SLUG [--dir D]``: scaffold a connector plugin package.

The generated package installs with pip, registers through the ``lendhub`` entry point and passes
the conformance suite untouched; its author then replaces the stub wire protocol with the
vendor's. The lead mounts the ``connector`` group on the ``lendhub`` command.
"""

from __future__ import annotations

from pathlib import Path

import click

from core.integrations.base import Capability
from hub.scaffold import ScaffoldError, scaffold

__all__ = ["connector"]


@click.group(name="connector")
def connector() -> None:
    """Tools for connector authors."""


@connector.command(name="new")
@click.argument("name")
@click.option(
    "--capability",
    "capability",
    required=True,
    metavar="SLUG",
    help=f"One of: {', '.join(c.value for c in Capability)}.",
)
@click.option(
    "--dir",
    "directory",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("."),
    show_default=True,
    help="Where to create lendhub-NAME/.",
)
@click.option("--vendor", default=None, help="The vendor's display name (default: NAME title-cased).")
def new(name: str, capability: str, directory: Path, vendor: str | None) -> None:
    """Scaffold lendhub-NAME/: a connector plugin package for one capability."""
    try:
        root = scaffold(name, capability, directory, vendor=vendor)
    except ScaffoldError as exc:
        raise click.UsageError(str(exc)) from None
    click.echo(f"created {root}")
    click.echo("next:")
    click.echo(f"  cd {root} && pip install -e . && pytest")
    click.echo("  then replace the stub protocol in client.py / mapping.py / simulator.py with the vendor's")
