"""What the plugin host records about each plugin and what it registered, and its two errors.

Kept apart from the loading machinery (``plugins.manager``, which re-exports them) because the
reports, the claims on connector slugs and the instance owners all read these records.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Generic, TypeVar

from schemas.api.plugins import PluginStatus

__all__ = ["PluginLoadError", "PluginRecord", "Registered", "RegistrationError"]

T = TypeVar("T")


class PluginLoadError(Exception):
    """A plugin was refused at start-up while the host runs in strict mode.

    Args:
        plugin: the plugin's name.
        reason: why it was refused.
    """

    def __init__(self, plugin: str, reason: str, *, others: list[tuple[str, str]] | None = None) -> None:
        refused = [(plugin, reason), *(others or [])]
        if len(refused) == 1:
            message = f"plugin {plugin!r} refused: {reason}"
        else:
            lines = [f"  {name}: {why}" for name, why in refused]
            message = f"{len(refused)} plugins refused (LENDHUB_STRICT_PLUGINS=1):\n" + "\n".join(lines)
        super().__init__(message)
        self.plugin = plugin
        self.reason = reason
        self.refused = refused


class RegistrationError(ValueError):
    """A ``register`` callback refused an object; the message says what is wrong with it."""


@dataclass(frozen=True)
class Registered(Generic[T]):
    """Something a plugin registered, with the plugin that owns it."""

    plugin: str
    obj: T


@dataclass
class PluginRecord:
    """What the host knows about one plugin, kept whether it loaded or not."""

    name: str
    distribution: str | None = None
    version: str | None = None
    builtin: bool = False
    status: PluginStatus = "loaded"
    reason: str | None = None
    hook_api: str | None = None
    notes: list[str] = field(default_factory=list)
    hooks: list[str] = field(default_factory=list)
    connectors: list[str] = field(default_factory=list)
    webhook_sources: list[str] = field(default_factory=list)
    commands: list[str] = field(default_factory=list)
    plugin: object | None = None
