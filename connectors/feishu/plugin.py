"""Registers the 飞书 approval connector and its callback source through the same hook as any plugin."""

from typing import Any

from plugins.sdk import hookimpl

from .connector import FeishuApproval
from .webhook import FeishuEvents

LENDHUB_HOOK_API = "1.0"


@hookimpl
def register_connectors(register: Any) -> None:
    """Register :class:`FeishuApproval`."""
    register(FeishuApproval)


@hookimpl
def register_webhook_sources(register: Any) -> None:
    """Register :class:`FeishuEvents`, which verifies this vendor's callbacks."""
    register(FeishuEvents)
