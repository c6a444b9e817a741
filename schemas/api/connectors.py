"""HTTP contracts for connector instances."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from .common import Flag

__all__ = [
    "ConnectorCheckRead",
    "ConnectorInstanceCreate",
    "ConnectorInstanceRead",
    "ConnectorInstanceUpdate",
    "ConnectorOwnerChangeRead",
    "ConnectorOwnerConfirm",
    "ConnectorOwnerConfirmed",
    "ConnectorOwnerRead",
]


class ConnectorInstanceCreate(BaseModel):
    """A new instance: which connector, under what name, with what config (secrets included)."""

    name: str = Field(min_length=1, max_length=100, pattern=r"^[a-z][a-z0-9]*(?:[-_][a-z0-9]+)*$")
    connector: str = Field(min_length=1, max_length=100)
    enabled: Flag = True
    config: dict[str, Any] = Field(default_factory=dict)


class ConnectorInstanceUpdate(BaseModel):
    """The whole replacement config: fields left out take their defaults.

    Secrets left out (or sent as ``***``) keep their stored values only while ``base_url`` keeps
    its scheme, host and port; moving to another host needs every secret again.
    """

    enabled: Flag = True
    config: dict[str, Any] = Field(default_factory=dict)


class ConnectorOwnerRead(BaseModel):
    """The distribution an instance is pinned to: the one that provided its connector class."""

    distribution: str | None
    version: str | None
    versions: str | None = Field(description="PEP 440 range of its releases accepted; empty = any")
    pinned_at: datetime | None
    pinned_how: str | None = Field(description="configured, first_use or confirmed")


class ConnectorOwnerChangeRead(BaseModel):
    """Another distribution provides the connector now; the instance is unusable until confirmed."""

    configured: str
    current: str
    detected_at: datetime | None = None


class ConnectorInstanceRead(BaseModel):
    """An instance as shown back: secrets appear only as ``***``."""

    name: str
    connector: str
    capability: str | None
    vendor: str | None
    available: bool = Field(description="false when no loaded plugin provides the connector")
    enabled: bool
    config: dict[str, Any]
    owner: ConnectorOwnerRead | None = Field(default=None, description="null until first pinned")
    owner_change: ConnectorOwnerChangeRead | None = None
    created_at: datetime
    updated_at: datetime


class ConnectorOwnerConfirm(BaseModel):
    """An integrator's confirmation of an instance's new owner.

    ``distribution``, when given, must be the distribution providing the connector now; otherwise
    nothing changes (it may have changed again since the integrator looked).
    """

    distribution: str | None = None


class ConnectorOwnerConfirmed(BaseModel):
    """What a confirmation changed: the previous owner and the one the instance is pinned to now."""

    name: str
    connector: str
    previous: str
    owner: str
    enabled: bool
    detail: str


class ConnectorCheckRead(BaseModel):
    """The outcome of trying an instance's credentials against the vendor."""

    name: str
    ok: bool
    detail: str
    error_class: str | None = None
    latency_ms: float
