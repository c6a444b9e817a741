"""Registers the 企查查 connectors with LendHub."""

from collections.abc import Callable

from plugins.sdk import Connector, hookimpl

from .connector import QichachaBusinessRegistry, QichachaLitigation

LENDHUB_HOOK_API = "1.0"


@hookimpl
def register_connectors(register: Callable[[type[Connector]], None]) -> None:
    """Register both 企查查 classes: litigation and business registry."""
    register(QichachaLitigation)
    register(QichachaBusinessRegistry)
