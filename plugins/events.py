"""Deliver a domain event to every plugin, one plugin at a time, so one failure stays local.

pluggy's normal call stops at the first exception, which would let one broken plugin starve
the rest. The outbox worker calls ``deliver_event`` instead: each implementation runs on its
own, its awaitable (if any) is awaited, and a failure is logged with the plugin's name and
returned, so the worker can retry just that plugin later. Delivery is at least once, which is
why implementations must be idempotent on ``event.id``.
"""

from __future__ import annotations

import inspect
import logging
from dataclasses import dataclass
from uuid import UUID

from core.hookspecs import EVENT_HOOKS
from plugins.manager import PluginHost
from schemas.events import DomainEvent

__all__ = ["PluginFailure", "deliver_event"]

log = logging.getLogger("lendhub.plugins.events")


@dataclass(frozen=True)
class PluginFailure:
    """One plugin's implementation of an event hook raised.

    Args:
        plugin: the plugin's name.
        hook: the event hook.
        event_id: the event that failed, for the retry.
        error: ``ExceptionType: message``, for logs and the dead-letter view.
        exception: the exception itself, for callers that re-raise or classify it.
    """

    plugin: str
    hook: str
    event_id: UUID
    error: str
    exception: BaseException


async def deliver_event(host: PluginHost, hook_name: str, event: DomainEvent) -> list[PluginFailure]:
    """Call every implementation of ``hook_name`` with ``event``, isolating each plugin.

    Implementations run in pluggy's call order, sequentially, so side effects stay ordered and
    the trace log reads top to bottom.

    Args:
        host: the plugin host; only its loaded plugins are registered, quarantined ones never run.
        hook_name: one of ``core.hookspecs.EVENT_HOOKS``.
        event: the event to deliver.

    Returns:
        One ``PluginFailure`` per implementation that raised; empty when all succeeded.

    Raises:
        ValueError: ``hook_name`` is not an event hook.
    """
    if hook_name not in EVENT_HOOKS:
        raise ValueError(f"{hook_name!r} is not an event hook; expected one of {', '.join(EVENT_HOOKS)}")
    pm = host.pm
    caller = getattr(pm.hook, hook_name)
    failures: list[PluginFailure] = []
    # get_hookimpls() lists in reverse call order; pluggy calls the last one first.
    for impl in reversed(caller.get_hookimpls()):
        others = [plugin for plugin in pm.get_plugins() if plugin is not impl.plugin]
        try:
            for result in pm.subset_hook_caller(hook_name, remove_plugins=others)(event=event):
                if inspect.isawaitable(result):
                    await result
        except Exception as exc:
            log.exception("plugin %s failed in %s for event %s", impl.plugin_name, hook_name, event.id)
            failures.append(
                PluginFailure(
                    plugin=impl.plugin_name,
                    hook=hook_name,
                    event_id=event.id,
                    error=f"{type(exc).__name__}: {exc}",
                    exception=exc,
                )
            )
    return failures
