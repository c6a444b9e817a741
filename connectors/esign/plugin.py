"""Registers the e签宝 connector and its callback source through the same hook third-party plugins use."""

from typing import Any

from plugins.sdk import hookimpl

from .connector import EsignSignature
from .webhook import EsignCallbacks

LENDHUB_HOOK_API = "1.0"


@hookimpl
def register_connectors(register: Any) -> None:
    """Register :class:`EsignSignature`."""
    register(EsignSignature)


@hookimpl
def register_webhook_sources(register: Any) -> None:
    """Register :class:`EsignCallbacks`, which verifies this vendor's callbacks."""
    register(EsignCallbacks)
