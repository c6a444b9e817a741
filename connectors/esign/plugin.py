"""Registers the e签宝 connector through the same hook third-party plugins use."""

from typing import Any

from plugins.sdk import hookimpl

from .connector import EsignSignature

LENDHUB_HOOK_API = "1.0"


@hookimpl
def register_connectors(register: Any) -> None:
    """Register :class:`EsignSignature`."""
    register(EsignSignature)
