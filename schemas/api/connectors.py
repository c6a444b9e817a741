"""HTTP contracts for connector instances."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

__all__ = [
    "ConnectorCheckRead",
    "ConnectorInstanceCreate",
    "ConnectorInstanceRead",
    "ConnectorInstanceUpdate",
]


class ConnectorInstanceCreate(BaseModel):
    """A new instance: which connector, under what name, with what config (secrets included)."""

    name: str = Field(min_length=1, max_length=100, pattern=r"^[a-z][a-z0-9]*(?:[-_][a-z0-9]+)*$")
    connector: str = Field(min_length=1, max_length=100)
    enabled: bool = True
    config: dict[str, Any] = Field(default_factory=dict)


class ConnectorInstanceUpdate(BaseModel):
    """The whole replacement config: fields left out take their defaults.

    Secrets left out (or sent as ``***``) keep their stored values only while ``base_url`` keeps
    its scheme, host and port; moving to another host needs every secret again.
    """

    enabled: bool = True
    config: dict[str, Any] = Field(default_factory=dict)


class ConnectorInstanceRead(BaseModel):
    """An instance as shown back: secrets appear only as ``***``."""

    name: str
    connector: str
    capability: str | None
    vendor: str | None
    available: bool = Field(description="false when no loaded plugin provides the connector")
    enabled: bool
    config: dict[str, Any]
    created_at: datetime
    updated_at: datetime


class ConnectorCheckRead(BaseModel):
    """The outcome of trying an instance's credentials against the vendor."""

    name: str
    ok: bool
    detail: str
    error_class: str | None = None
    latency_ms: float
