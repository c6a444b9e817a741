"""One plugin's registrations, held apart until the whole plugin has registered cleanly.

A registration hook calls ``register`` once per thing; each callback here validates it, refuses a
bad one (kept as well as raised, so a plugin that swallows the exception is still quarantined)
and stages it. The host commits the staging only if every registration hook of the plugin
succeeded, so a plugin is registered entirely or not at all.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NoReturn

import click
from fastapi import APIRouter

from core.access.permissions import BUILTIN_PERMISSIONS, CODE_PATTERN
from core.flows.extensions import FlowAction, FlowCondition, FlowExtensions
from core.integrations.base import Connector
from plugins.claims import reserved_slug_problem
from plugins.records import PluginRecord, RegistrationError
from plugins.validation import connector_problems, webhook_source_problems

if TYPE_CHECKING:
    from plugins.manager import PluginHost

__all__ = ["BUILTIN_CODES", "Staging"]

BUILTIN_CODES = frozenset(permission.code for permission in BUILTIN_PERMISSIONS)


@dataclass
class Staging:
    """One plugin's registrations, committed to the host only if the whole plugin is healthy."""

    host: PluginHost
    record: PluginRecord
    connectors: dict[str, type[Connector]] = field(default_factory=dict)
    webhook_sources: dict[str, type[Any]] = field(default_factory=dict)
    commands: dict[str, click.Command] = field(default_factory=dict)
    routers: list[APIRouter] = field(default_factory=list)
    permissions: dict[str, str] = field(default_factory=dict)
    flow_extensions: list[FlowCondition | FlowAction] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    contested: tuple[str, list[str]] | None = None  # a slug other plugins claimed too, and who

    def _refuse(self, message: str) -> NoReturn:
        # Kept as well as raised: a plugin that swallows the exception is still quarantined.
        self.errors.append(message)
        raise RegistrationError(message)

    def register_connector(self, cls: type[Connector]) -> None:
        """``register_connectors``: valid metadata, a slug neither reserved nor claimed by another."""
        problems = connector_problems(cls)
        if problems:
            self._refuse("; ".join(problems))
        slug = cls.info.slug
        if slug in self.connectors:
            self._refuse(f"connector slug {slug!r} registered twice")
        if reserved := reserved_slug_problem(slug, builtin=self.record.builtin):
            self._refuse(reserved)
        rivals = self.host.claims.claim(slug, self.record.name)
        if rivals:
            self.contested = (slug, rivals)
            self._refuse(f"connector slug {slug!r} is {self.host.claimed_by(rivals)}")
        self.connectors[slug] = cls

    def register_webhook_source(self, cls: type[Any]) -> None:
        """``register_webhook_sources``: a valid source whose name no other plugin took."""
        problems = webhook_source_problems(cls)
        if problems:
            self._refuse("; ".join(problems))
        name = cls.name
        if name in self.host.webhook_sources or name in self.webhook_sources:
            self._refuse(f"webhook source {name!r} is already registered")
        self.webhook_sources[name] = cls

    def register_command(self, command: Any) -> None:
        """``register_commands``: a named click command no other plugin took."""
        if not isinstance(command, click.Command) or not command.name:
            self._refuse(f"{command!r} is not a named click command")
        if command.name in self.host.commands or command.name in self.commands:
            self._refuse(f"command {command.name!r} is already registered")
        self.commands[command.name] = command

    def register_router(self, router: Any) -> None:
        """``register_routes``: a FastAPI router (its routes declare their own permissions)."""
        if not isinstance(router, APIRouter):
            self._refuse(f"{router!r} is not a fastapi.APIRouter")
        self.routers.append(router)

    def register_permission(self, code: Any, description: Any) -> None:
        """``register_permissions``: a well-formed code, described, that nobody holds yet."""
        if not isinstance(code, str) or not CODE_PATTERN.match(code):
            self._refuse(f"permission code {code!r} must look like 'area.action' (lower case)")
        if not isinstance(description, str) or not description.strip():
            self._refuse(f"permission {code!r} needs a description")
        taken = code in BUILTIN_CODES or code in self.host.permissions or code in self.permissions
        if taken:
            self._refuse(f"permission {code!r} is already registered")
        self.permissions[code] = description.strip()

    def register_flow_extension(self, extension: Any) -> None:
        """``register_flow_extensions``: a well-named condition or action nobody registered yet."""
        if not isinstance(extension, FlowCondition | FlowAction):
            self._refuse(f"{extension!r} is neither a FlowCondition nor a FlowAction")
        registered = self.host.flow_extensions
        trial = FlowExtensions()
        for earlier in (*registered.conditions.values(), *registered.actions.values(), *self.flow_extensions):
            trial.register(earlier)
        try:
            trial.register(extension)
        except (TypeError, ValueError) as exc:
            self._refuse(str(exc))
        self.flow_extensions.append(extension)
