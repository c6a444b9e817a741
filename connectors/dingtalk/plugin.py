"""Registers the 钉钉 approval connector through the same hook as any third-party plugin."""

from typing import Any

from plugins.sdk import hookimpl

from .connector import DingTalkApproval

LENDHUB_HOOK_API = "1.0"


@hookimpl
def register_connectors(register: Any) -> None:
    """Register :class:`DingTalkApproval`."""
    register(DingTalkApproval)
