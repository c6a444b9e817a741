"""Registers the kit bureau."""

from typing import Any

from plugins.sdk import hookimpl

from .connector import KitBureau

LENDHUB_HOOK_API = "1.0"


@hookimpl
def register_connectors(register: Any) -> None:
    """Register the kit bureau."""
    register(KitBureau)
