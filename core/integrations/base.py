"""What every connector is, whatever it connects to.

A connector class describes one vendor's implementation of one capability. The hub makes one
instance per enabled configuration ("instance"), so two 百行 accounts are two instances of one
class. The class carries its metadata in ``info`` and the shape of its configuration in
``Config``; registration checks both before anything runs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum
from typing import ClassVar

from pydantic import BaseModel

__all__ = ["SLUG_PATTERN", "Capability", "Connector", "ConnectorInfo", "SupportLevel"]

SLUG_PATTERN = re.compile(r"^[a-z][a-z0-9]*(?:[-_][a-z0-9]+)*$")


class Capability(StrEnum):
    """The outside services lending depends on; the slugs are fixed by the brief."""

    CREDIT_BUREAU = "credit_bureau"
    LITIGATION = "litigation"
    BUSINESS_REGISTRY = "business_registry"
    ESIGNATURE = "esignature"
    FINANCE_LEDGER = "finance_ledger"
    OA_APPROVAL = "oa_approval"
    RISK_MODEL = "risk_model"


class SupportLevel(StrEnum):
    """Who stands behind a connector, shown to integrators in ``lendhub plugins``."""

    OFFICIAL = "official"  # shipped and maintained with LendHub
    PARTNER = "partner"  # maintained by the vendor, passes the conformance kit
    COMMUNITY = "community"  # best effort


@dataclass(frozen=True)
class ConnectorInfo:
    """Metadata a connector class declares; validated when the class is registered.

    Args:
        slug: unique across all plugins, ``<vendor>-<capability>`` by convention.
        name: human name shown in listings.
        capability: which port the class implements.
        vendor: the vendor's name as integrators know it (``百行征信``, ``e签宝``).
        vendor_api_version: the vendor API version the connector speaks.
        hosts: every host the connector may call in production; the egress allow-list.
        support_level: who maintains it.
        docs_url: where an integrator reads how to set it up.
    """

    slug: str
    name: str
    capability: Capability
    vendor: str
    vendor_api_version: str
    hosts: tuple[str, ...] = ()
    support_level: SupportLevel = SupportLevel.COMMUNITY
    docs_url: str = ""
    tags: tuple[str, ...] = field(default=())

    def problems(self) -> list[str]:
        """Everything wrong with this metadata, empty when it is usable."""
        found = []
        if not SLUG_PATTERN.match(self.slug):
            found.append(f"slug {self.slug!r} must be lower-case letters, digits, '-' or '_'")
        if not self.name.strip():
            found.append("name is empty")
        if not isinstance(self.capability, Capability):
            found.append(f"capability {self.capability!r} is not one of {[c.value for c in Capability]}")
        if not self.vendor.strip():
            found.append("vendor is empty")
        if not self.vendor_api_version.strip():
            found.append("vendor_api_version is empty")
        return found


class Connector:
    """Base of every connector class; capability ports in this package subclass it.

    Subclasses set ``info`` and ``Config``. Instances are built by the hub, never by the
    domain, and receive a validated ``Config`` instance plus their instance name.
    """

    info: ClassVar[ConnectorInfo]
    Config: ClassVar[type[BaseModel]]
    simulator: ClassVar[str | None] = None
    """``"package.module:factory"`` of the vendor simulator: a callable returning an ASGI app.
    A dotted string, not an import, so the connector never loads its simulator's web framework."""

    def __init__(self, config: BaseModel, *, instance: str = "default") -> None:
        self.config = config
        self.instance = instance

    async def check_connection(self) -> None:
        """Try the credentials against the vendor; raise a ConnectorError saying what is wrong.

        The default does nothing, for connectors that need no vendor (a built-in scorecard).
        """

    async def aclose(self) -> None:
        """Release what the instance holds; the hub calls it at shutdown."""
