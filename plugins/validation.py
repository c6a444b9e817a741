"""The checks a plugin and its registrations must pass before the host accepts them.

Kept apart from the loading machinery so the conformance kit and ``lendhub connector new`` can
run the very same checks on a connector class before it is ever installed.
"""

from __future__ import annotations

import re

from pydantic import BaseModel

from core import hookspecs
from core.integrations.base import Connector, ConnectorInfo
from core.integrations.ports import PORTS
from plugins.sdk.webhooks import WebhookSource, WebhookSourceConfig

__all__ = ["connector_problems", "hook_api_problem", "webhook_source_problems"]


def hook_api_problem(declared: object) -> str | None:
    """Say why a declared hook-API version is incompatible with this host, or ``None`` if it fits.

    The major must equal the host's; the minor may not be newer (the plugin could rely on a
    hook or argument this host lacks). ``"1"`` means ``"1.0"``.
    """
    host_major, host_minor = (int(part) for part in hookspecs.HOOK_API_VERSION.split("."))
    match = re.fullmatch(r"(\d+)(?:\.(\d+))?", str(declared).strip()) if declared is not None else None
    if match is None:
        return f"{hookspecs.HOOK_API_ATTRIBUTE}={declared!r} is not a MAJOR.MINOR version"
    major, minor = int(match.group(1)), int(match.group(2) or 0)
    if major != host_major or minor > host_minor:
        return (
            f"declares hook API {major}.{minor}, incompatible with this host's "
            f"{hookspecs.HOOK_API_VERSION} (same major, minor ≤ {host_minor} required)"
        )
    return None


def connector_problems(cls: object) -> list[str]:
    """Everything that stops ``cls`` from being a usable connector class."""
    if not (isinstance(cls, type) and issubclass(cls, Connector)):
        return [f"{cls!r} is not a Connector subclass"]
    ports = [cap for cap, port in PORTS.items() if issubclass(cls, port)]
    if len(ports) != 1:
        names = ", ".join(sorted(PORTS[cap].__name__ for cap in ports)) or "none"
        return [f"{cls.__qualname__} must subclass exactly one capability port (found: {names})"]
    found: list[str] = []
    info = getattr(cls, "info", None)
    if not isinstance(info, ConnectorInfo):
        found.append(f"{cls.__qualname__}.info is not a ConnectorInfo")
    else:
        found += [f"{cls.__qualname__}.info: {problem}" for problem in info.problems()]
        if info.capability != ports[0]:
            found.append(
                f"{cls.__qualname__}.info.capability is {info.capability!r} "
                f"but the class implements {PORTS[ports[0]].__name__} ({ports[0].value})"
            )
    config = getattr(cls, "Config", None)
    if not (isinstance(config, type) and issubclass(config, BaseModel)):
        found.append(f"{cls.__qualname__}.Config is not a pydantic model")
    # Ports mark their methods @abstractmethod but are not ABCMeta classes, so Python itself
    # would happily instantiate a connector that forgot one; check it here instead.
    missing = sorted(name for name in dir(cls) if getattr(getattr(cls, name), "__isabstractmethod__", False))
    if missing:
        found.append(f"{cls.__qualname__} does not implement {', '.join(missing)}")
    return found


def webhook_source_problems(cls: object) -> list[str]:
    """Everything that stops ``cls`` from being a usable webhook source class.

    The ``name`` becomes a URL segment (``/webhooks/{name}/{instance}``), hence the slug rule.
    """
    name = getattr(cls, "name", None)
    if not isinstance(cls, type) or not isinstance(name, str) or not name.strip():
        return [f"webhook source {cls!r} must be a class with a non-empty 'name' string"]
    found: list[str] = []
    if not re.fullmatch(r"[a-z][a-z0-9]*(?:[-_][a-z0-9]+)*", name):
        found.append(f"webhook source name {name!r} must be a slug: lower-case letters, digits, '-' or '_'")
    if not issubclass(cls, WebhookSource):
        return [*found, f"webhook source {cls.__qualname__} is not a plugins.sdk.WebhookSource subclass"]
    config = getattr(cls, "Config", None)
    if not (isinstance(config, type) and issubclass(config, WebhookSourceConfig)):
        found.append(f"{cls.__qualname__}.Config is not a plugins.sdk.WebhookSourceConfig subclass")
    return found
