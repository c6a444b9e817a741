"""Registers the 钉钉 approval connector and its callback source through the same hook as any plugin."""

from typing import Any

from plugins.sdk import hookimpl

from .connector import DingTalkApproval
from .webhook import DingTalkEvents

LENDHUB_HOOK_API = "1.0"


@hookimpl
def register_connectors(register: Any) -> None:
    """Register :class:`DingTalkApproval`."""
    register(DingTalkApproval)


@hookimpl
def register_webhook_sources(register: Any) -> None:
    """Register :class:`DingTalkEvents`, which verifies this vendor's callbacks."""
    register(DingTalkEvents)
