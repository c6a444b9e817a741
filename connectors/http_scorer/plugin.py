"""Registers the HTTP scorer through the same hook as any third-party connector."""

from collections.abc import Callable

from plugins.sdk import Connector, hookimpl

from .connector import HttpScorer

LENDHUB_HOOK_API = "1.0"


@hookimpl
def register_connectors(register: Callable[[type[Connector]], None]) -> None:
    """Register :class:`HttpScorer`."""
    register(HttpScorer)
