"""Which distribution may serve a connector instance: the one that provided its class when configured.

A connector instance names a slug, and whoever provides that slug receives the instance's
decrypted credentials. The registry rules (``plugins.claims``) stop two installed plugins from
fighting over a slug, but not a change of provider between two starts: the rightful package
uninstalled or failing to import, and another one registering the slug unopposed. So each instance
is pinned to the *owner* that provided its class when it was configured, and to a version range
of that owner:

- a third-party owner accepts its own later releases up to the next breaking one (``>=0.3.1,<0.4``
  for 0.3.1, ``>=1.2.0,<2`` for 1.2.0), because a vendor's major release may change what it does
  with the credentials, and an older release may predate a fix;
- a built-in owner (distribution ``lendhub``) accepts any version: upgrading LendHub is the
  operator's deliberate act, and built-in slugs are reserved for built-ins anyway;
- a plugin registered without a distribution (tests, embedding) is identified as
  ``plugin:<name>``, which no installed distribution can be called.

Any other provider is an *owner change*: the instance is unusable (``OwnerChanged``), shown in
``lendhub plugins``, ``/api/plugins`` and ``/readyz``, until an integrator confirms the new owner.
When the pinned owner provides the slug again, the instance resumes by itself. Each process judges
with the plugins it loaded.

This module holds the rules and no I/O; ``plugins.instance_owners`` applies them to the database.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version

from core.db import utcnow
from core.models import ConnectorInstance
from plugins.discovery import SELF_DISTRIBUTION, normalize
from plugins.manager import PluginHost

__all__ = [
    "Owner",
    "OwnerChange",
    "PinHow",
    "accepted_versions",
    "current_owner",
    "describe_owner",
    "owner_change",
    "pin_owner",
    "pinned_owner",
]

PinHow = Literal["configured", "first_use", "confirmed"]
"""How an instance came to be pinned: when it was configured, at the first start after owners
were introduced (rows that existed before), or by an integrator confirming a new owner."""


@dataclass(frozen=True)
class Owner:
    """A provider of connector classes: a distribution and its version (``None`` when unknown)."""

    distribution: str
    version: str | None = None

    def __str__(self) -> str:
        return f"{self.distribution} {self.version}" if self.version else self.distribution

    @property
    def builtin(self) -> bool:
        """LendHub itself."""
        return normalize(self.distribution) == SELF_DISTRIBUTION


@dataclass(frozen=True)
class OwnerChange:
    """An instance whose connector is now provided by someone other than its pinned owner.

    Args:
        instance: the instance name.
        connector: its connector slug.
        configured: the pinned owner with its accepted versions, e.g. ``lendhub-acme 0.3.1
            (>=0.3.1,<0.4)``; ``not pinned`` for a row from before owners were pinned.
        current: the owner providing the slug now.
        detected_at: when a start-up first recorded the change, if one did.
    """

    instance: str
    connector: str
    configured: str
    current: str
    detected_at: datetime | None = None

    def describe(self) -> str:
        """One sentence for errors and logs: what changed, and what to do about it."""
        return (
            f"connector instance {self.instance!r} is disabled: its connector {self.connector!r} is now "
            f"provided by {self.current}, not {self.configured} it was configured with; nothing is "
            f"sent to the new provider until an integrator confirms it with "
            f"`lendhub connectors confirm-owner {self.instance}`"
        )


def current_owner(host: PluginHost, slug: str) -> Owner | None:
    """Who provides ``slug`` in this process; ``None`` when no loaded plugin does."""
    entry = host.connectors.get(slug)
    if entry is None:
        return None
    record = host.plugins[entry.plugin]
    if record.distribution is None:
        return Owner(f"plugin:{record.name}", record.version)
    return Owner(record.distribution, record.version)


def accepted_versions(owner: Owner) -> str:
    """The PEP 440 range of ``owner``'s releases an instance pinned to it accepts ('' = any)."""
    if owner.builtin or owner.version is None:
        return ""
    try:
        version = Version(owner.version)
    except InvalidVersion:
        return f"=={owner.version}"
    major, minor = (*version.release, 0)[:2]
    upper = f"{major + 1}" if major > 0 else f"0.{minor + 1}"
    return f">={version},<{upper}"


def pinned_owner(row: ConnectorInstance) -> Owner | None:
    """The owner ``row`` is pinned to; ``None`` for a row from before owners were pinned."""
    if row.owner_state is None or row.owner_distribution is None:
        return None
    return Owner(row.owner_distribution, row.owner_version)


def _configured(row: ConnectorInstance) -> str:
    owner = pinned_owner(row)
    if owner is None:
        return "not pinned"
    return f"{owner} ({row.owner_versions})" if row.owner_versions else str(owner)


def _accepts(row: ConnectorInstance, owner: Owner) -> bool:
    if normalize(owner.distribution) != normalize(row.owner_distribution or ""):
        return False
    if not row.owner_versions:
        return True
    if owner.version is None:
        return False
    try:
        return SpecifierSet(row.owner_versions).contains(owner.version, prereleases=True)
    except (InvalidSpecifier, InvalidVersion):
        return False


def owner_change(row: ConnectorInstance, host: PluginHost) -> OwnerChange | None:
    """How the provider of ``row``'s connector differs from its pinned owner, or ``None``.

    ``None`` too when nobody provides the slug (the instance is unavailable, a different problem)
    and for a row not pinned yet (pinned at the next start-up, ``first_use``).
    """
    owner = current_owner(host, row.connector_slug)
    if owner is None or pinned_owner(row) is None or _accepts(row, owner):
        return None
    return OwnerChange(row.name, row.connector_slug, _configured(row), str(owner), row.owner_changed_at)


def pin_owner(row: ConnectorInstance, owner: Owner, how: PinHow) -> None:
    """Pin ``row`` to ``owner`` and the versions of it accepted from now on; clear any change."""
    row.owner_distribution = owner.distribution
    row.owner_version = owner.version
    row.owner_versions = accepted_versions(owner)
    row.owner_state = "pinned"
    row.owner_pinned_at = utcnow()
    row.owner_pinned_how = how
    row.owner_claimant_distribution = row.owner_claimant_version = None
    row.owner_changed_at = None


def describe_owner(row: ConnectorInstance, host: PluginHost) -> dict[str, object]:
    """The pin and any change, as the API and CLI show an instance."""
    change = owner_change(row, host)
    return {
        "owner": {
            "distribution": row.owner_distribution,
            "version": row.owner_version,
            "versions": row.owner_versions,
            "pinned_at": row.owner_pinned_at,
            "pinned_how": row.owner_pinned_how,
        }
        if row.owner_state is not None
        else None,
        "owner_change": None
        if change is None
        else {"configured": change.configured, "current": change.current, "detected_at": change.detected_at},
    }
