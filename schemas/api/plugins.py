"""What ``lendhub plugins --json`` prints and ``GET /api/plugins`` returns.

Integrators read it to see which plugins loaded, which were quarantined and why, and which
connectors each one brings. Capability and support level are plain strings here because
``schemas`` stays pure and must not import the domain's enums.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["ConnectorSummary", "InstanceOwnerChange", "InstanceSummary", "PluginInfo", "PluginStatus"]

PluginStatus = Literal["loaded", "quarantined"]


class InstanceOwnerChange(BaseModel):
    """The connector of an instance is provided by someone other than the owner it was pinned to.

    The instance is unusable until an integrator confirms the new owner
    (``lendhub connectors confirm-owner NAME`` or ``POST /api/connectors/{name}/confirm-owner``).

    Args:
        configured: the pinned owner and the versions of it accepted, e.g.
            ``lendhub-acme 0.3.1 (>=0.3.1,<0.4)``.
        current: the distribution and version providing the connector now.
        detected_at: when a start-up first recorded the change, if one has.
    """

    model_config = ConfigDict(frozen=True)

    configured: str
    current: str
    detected_at: datetime | None = None


class InstanceSummary(BaseModel):
    """A configured instance of a connector and the state of its circuit breaker.

    Args:
        name: the instance name.
        enabled: whether an operator enabled it.
        breaker: ``closed``, ``open``, ``half_open``; ``disabled``, ``misconfigured`` or
            ``owner_changed`` otherwise.
        detail: the breaker snapshot or the configuration problem.
        owner: the owner the instance is pinned to (``None`` before its first start-up pinned it).
        owner_change: set when another owner provides its connector now.
    """

    model_config = ConfigDict(frozen=True)

    name: str
    enabled: bool
    breaker: str
    detail: dict[str, object] = Field(default_factory=dict)
    owner: str | None = None
    owner_change: InstanceOwnerChange | None = None


class ConnectorSummary(BaseModel):
    """One connector class a plugin registered.

    Args:
        slug: the unique slug connector instances are configured with.
        name: human name.
        capability: capability slug (``credit_bureau`` ...).
        vendor: vendor name as integrators know it.
        vendor_api_version: the vendor API version the connector speaks.
        support_level: ``official``, ``partner`` or ``community``.
        instances: its configured instances, when the report was made with database access.
    """

    model_config = ConfigDict(frozen=True)

    slug: str
    name: str
    capability: str
    vendor: str
    vendor_api_version: str
    support_level: str
    instances: list[InstanceSummary] = Field(default_factory=list)


class PluginInfo(BaseModel):
    """One plugin as the host sees it after start-up.

    Args:
        name: the plugin's name in the manager (entry-point name, or dotted module for built-ins).
        distribution: the installed distribution that provides it, if known.
        version: that distribution's version, if known.
        builtin: shipped inside LendHub rather than installed separately.
        status: ``loaded``, or ``quarantined`` when it was refused at start-up.
        reason: why it was quarantined; ``None`` when loaded.
        hook_api: the hook-API version the plugin declared, ``None`` when it declared none.
        notes: non-fatal remarks from loading (e.g. no hook-API declaration).
        hooks: names of the hooks it implements.
        connectors: connectors it provides (empty when quarantined).
        webhook_sources: names of the webhook sources it provides.
        commands: names of the CLI commands it provides.
    """

    model_config = ConfigDict(frozen=True)

    name: str
    distribution: str | None = None
    version: str | None = None
    builtin: bool = False
    status: PluginStatus
    reason: str | None = None
    hook_api: str | None = None
    notes: list[str] = Field(default_factory=list)
    hooks: list[str] = Field(default_factory=list)
    connectors: list[ConnectorSummary] = Field(default_factory=list)
    webhook_sources: list[str] = Field(default_factory=list)
    commands: list[str] = Field(default_factory=list)
