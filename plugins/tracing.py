"""Hook-call tracing for ``LENDHUB_TRACE_PLUGINS``: every call logged, secrets masked.

Tracing exists to debug a misbehaving plugin in a real deployment, where arguments carry
connector configurations and events; so everything logged passes through ``redact`` first.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from typing import Any

import pluggy
from pydantic import BaseModel, SecretBytes, SecretStr

__all__ = ["MASK", "install_tracing", "redact"]

trace_log = logging.getLogger("lendhub.plugins.trace")

MASK = "**********"
_SECRET_KEY = re.compile(r"key|secret|token|passw|credential|authorization", re.IGNORECASE)


def redact(value: Any, _depth: int = 0) -> Any:
    """A copy of ``value`` safe to log: secrets and secret-looking keys masked, objects summarised.

    Masks ``SecretStr``/``SecretBytes`` anywhere, and the value of every mapping key that looks
    like a credential (``api_key``, ``secret``, ``token``, ``password`` ...). Errs towards
    masking: an idempotency key is hidden too, which costs a little debugging comfort only.
    """
    if _depth > 6:
        return "…"
    if isinstance(value, SecretStr | SecretBytes):
        return MASK
    if isinstance(value, BaseModel):
        return redact(dict(value), _depth + 1)
    if isinstance(value, Mapping):
        return {
            key: MASK if _SECRET_KEY.search(str(key)) else redact(item, _depth + 1)
            for key, item in value.items()
        }
    if isinstance(value, list | tuple | set | frozenset):
        return [redact(item, _depth + 1) for item in value]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, type) or callable(value):
        return f"<{getattr(value, '__qualname__', type(value).__qualname__)}>"
    return str(value)


def install_tracing(pm: pluggy.PluginManager) -> None:
    """Log each hook call on ``lendhub.plugins.trace``: hook, plugins, arguments and outcome."""

    def before(hook_name: str, impls: Sequence[pluggy.HookImpl], kwargs: Mapping[str, Any]) -> None:
        plugins = [impl.plugin_name for impl in impls]
        trace_log.info("hook %s → %s args=%s", hook_name, plugins, redact(kwargs))

    def after(
        outcome: pluggy.Result[Any],
        hook_name: str,
        impls: Sequence[pluggy.HookImpl],
        kwargs: Mapping[str, Any],
    ) -> None:
        if outcome.exception is not None:
            trace_log.info("hook %s raised %s", hook_name, type(outcome.exception).__name__)
        else:
            trace_log.info("hook %s returned %s", hook_name, redact(outcome.get_result()))

    pm.add_hookcall_monitoring(before, after)
