"""Registers the 百行征信 connector with LendHub through the same hook as any third-party plugin."""

from collections.abc import Callable

from plugins.sdk import Connector, hookimpl

from .connector import BaihangCreditBureau

LENDHUB_HOOK_API = "1.0"


@hookimpl
def register_connectors(register: Callable[[type[Connector]], None]) -> None:
    """Register :class:`BaihangCreditBureau`."""
    register(BaihangCreditBureau)
