"""Registers the PBOC connector with LendHub through the same hook as any third-party plugin."""

from collections.abc import Callable

from plugins.sdk import Connector, hookimpl

from .connector import PbocCreditBureau

LENDHUB_HOOK_API = "1.0"


@hookimpl
def register_connectors(register: Callable[[type[Connector]], None]) -> None:
    """Register :class:`PbocCreditBureau`."""
    register(PbocCreditBureau)
