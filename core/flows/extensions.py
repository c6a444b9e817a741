"""Conditions and actions plugins add to flows, through the ``register_flow_extensions`` hook.

A *condition* is a named value a flow's conditions read as ``checks.<name>`` — a blacklist hit, a
policy deviation — computed by the plugin from the application's facts when a condition that
names it is evaluated. An *action* is a named step a stage runs when it is entered
(``on_enter: [oa.notify]``): it runs in a worker, after the stage entry is committed, at least
once, so it must be idempotent on ``(application_id, stage, round)``.

Names are checked when a flow is saved: a flow that names a condition or an action no plugin
registered is refused, so a typo never reaches an applicant.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["ActionCall", "FlowAction", "FlowCondition", "FlowExtensions"]

NAME = re.compile(r"^[a-z][a-z0-9_]{0,49}$")
ACTION = re.compile(r"^[a-z][a-z0-9_.-]{0,99}$")


@dataclass(frozen=True)
class FlowCondition:
    """``checks.<name>``: ``evaluate(facts)`` gets the condition values (``core.flows.context``)."""

    name: str
    description: str
    evaluate: Callable[[Mapping[str, Any]], Any]


@dataclass(frozen=True)
class ActionCall:
    """What an action is run with: the application, the stage entered, the round, the flow."""

    application_id: str
    stage: str
    round: int
    flow_key: str
    flow_version: int


@dataclass(frozen=True)
class FlowAction:
    """``on_enter: [<name>]``: ``run(call)`` may be ``async``."""

    name: str
    description: str
    run: Callable[[ActionCall], Awaitable[None] | None]


class FlowExtensions:
    """The conditions and actions registered by plugins (and built-ins), refused when malformed."""

    def __init__(self) -> None:
        self.conditions: dict[str, FlowCondition] = {}
        self.actions: dict[str, FlowAction] = {}

    def register(self, extension: FlowCondition | FlowAction) -> None:
        """Add one; ``ValueError`` for a bad name or one taken, ``TypeError`` for anything else."""
        if isinstance(extension, FlowCondition):
            if not NAME.match(extension.name) or not callable(extension.evaluate):
                raise ValueError(f"condition name {extension.name!r} must match {NAME.pattern}")
            if extension.name in self.conditions:
                raise ValueError(f"condition {extension.name!r} is registered already")
            self.conditions[extension.name] = extension
        elif isinstance(extension, FlowAction):
            if not ACTION.match(extension.name) or not callable(extension.run):
                raise ValueError(f"action name {extension.name!r} must match {ACTION.pattern}")
            if extension.name in self.actions:
                raise ValueError(f"action {extension.name!r} is registered already")
            self.actions[extension.name] = extension
        else:
            raise TypeError("register a FlowCondition or a FlowAction")

    def checks(self, names: set[str], facts: Mapping[str, Any]) -> dict[str, Any]:
        """The values of the conditions ``names`` for ``facts`` (unknown names are left out)."""
        return {
            name: self.conditions[name].evaluate(facts) for name in sorted(names) if name in self.conditions
        }

    async def run(self, name: str, call: ActionCall) -> None:
        """Run action ``name`` (``KeyError`` if no plugin registered it)."""
        result = self.actions[name].run(call)
        if inspect.isawaitable(result):
            await result
