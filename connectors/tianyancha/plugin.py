"""Registers the 天眼查 connectors with LendHub."""

from collections.abc import Callable

from plugins.sdk import Connector, hookimpl

from .connector import TianyanchaBusinessRegistry, TianyanchaLitigation

LENDHUB_HOOK_API = "1.0"


@hookimpl
def register_connectors(register: Callable[[type[Connector]], None]) -> None:
    """Register both 天眼查 classes: litigation and business registry."""
    register(TianyanchaLitigation)
    register(TianyanchaBusinessRegistry)
