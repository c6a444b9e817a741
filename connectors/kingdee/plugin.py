"""Registers the 金蝶云星空 connector through the same hook third-party plugins use."""

from typing import Any

from plugins.sdk import hookimpl

from .connector import KingdeeLedger

LENDHUB_HOOK_API = "1.0"


@hookimpl
def register_connectors(register: Any) -> None:
    """Register :class:`KingdeeLedger`."""
    register(KingdeeLedger)
