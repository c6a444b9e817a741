"""Registers the 飞书 approval connector through the same hook as any third-party plugin."""

from typing import Any

from plugins.sdk import hookimpl

from .connector import FeishuApproval

LENDHUB_HOOK_API = "1.0"


@hookimpl
def register_connectors(register: Any) -> None:
    """Register :class:`FeishuApproval`."""
    register(FeishuApproval)
