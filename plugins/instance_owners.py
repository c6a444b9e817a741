"""Owner changes of connector instances: recorded at start-up, confirmed by an integrator.

The rules are in ``plugins.ownership``; refusing to use an instance whose owner changed is done
where it is used (``ConnectorInstances.connector``). This module writes what the database keeps:

- ``reconcile_owners`` runs when a process starts. It pins rows from before owners were pinned to
  whoever provides their connector now (``first_use``), records a newly detected owner change on
  the row (so reports can say since when), and clears one whose pinned owner is back.
- ``confirm_owner`` is the integrator's decision: pin the instance to its connector's current
  provider. It says what changed, old owner → new owner.

Like every service, neither commits: the caller owns the unit of work.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from core import audit
from core.access import Actor
from core.db import utcnow
from core.models import ConnectorInstance
from plugins.discovery import normalize
from plugins.instances import ConnectorInstances, InstanceError
from plugins.ownership import (
    Owner,
    OwnerChange,
    accepted_versions,
    current_owner,
    owner_change,
    pin_owner,
    pinned_owner,
)

__all__ = ["OwnerConfirmation", "OwnerNotConfirmed", "confirm_owner", "reconcile_owners"]

log = logging.getLogger("lendhub.plugins.owners")


class OwnerNotConfirmed(InstanceError):
    """Nothing to confirm, or not the owner the integrator expected; the instance is unchanged."""


@dataclass(frozen=True)
class OwnerConfirmation:
    """What ``confirm_owner`` changed.

    Args:
        instance: the instance name.
        connector: its connector slug.
        previous: the owner it was pinned to, with its accepted versions (``not pinned`` if none).
        owner: the owner it is pinned to now, with its accepted versions.
        enabled: whether an operator enabled it (confirming does not enable a disabled one).
    """

    instance: str
    connector: str
    previous: str
    owner: str
    enabled: bool

    def describe(self) -> str:
        """One sentence: old owner → new owner, and whether the instance is usable now."""
        state = "it is in use again" if self.enabled else "it stays disabled until an operator enables it"
        return (
            f"connector instance {self.instance!r} ({self.connector}): owner confirmed, "
            f"{self.previous} → {self.owner}; {state}"
        )


def _with_range(owner: Owner) -> str:
    versions = accepted_versions(owner)
    return f"{owner} ({versions})" if versions else str(owner)


async def reconcile_owners(session: AsyncSession, instances: ConnectorInstances) -> list[OwnerChange]:
    """Bring every row's owner record up to date with this process's plugins; the changes found."""
    host = instances.host
    changes: list[OwnerChange] = []
    for row in await instances.list(session):
        owner = current_owner(host, row.connector_slug)
        if owner is None:
            continue  # nobody provides it here: unavailable, not an owner change; pin it later
        if pinned_owner(row) is None:
            pin_owner(row, owner, "first_use")
            log.info("connector instance %s pinned to %s on first use", row.name, _with_range(owner))
            continue
        change = owner_change(row, host)
        if change is None:
            if row.owner_state == "changed":
                _restore(row, owner)
            continue
        if row.owner_state != "changed" or (
            row.owner_claimant_distribution,
            row.owner_claimant_version,
        ) != (owner.distribution, owner.version):
            change = _record_change(row, owner, change)
            await audit.record(
                session,
                Actor.system("plugin-owners"),
                "connectors.owner_changed",
                target_type="connector_instance",
                target_id=row.name,
                before={"owner": change.configured},
                after={"claimant": change.current, "connector": row.connector_slug},
            )
        changes.append(change)
    await session.flush()
    return changes


def _record_change(row: ConnectorInstance, owner: Owner, change: OwnerChange) -> OwnerChange:
    """An owner change seen for the first time (or a different claimant than the one recorded)."""
    row.owner_state = "changed"
    row.owner_claimant_distribution, row.owner_claimant_version = owner.distribution, owner.version
    row.owner_changed_at = utcnow()
    log.warning("%s", change.describe())
    return OwnerChange(
        change.instance, change.connector, change.configured, change.current, row.owner_changed_at
    )


def _restore(row: ConnectorInstance, owner: Owner) -> None:
    row.owner_state = "pinned"
    row.owner_claimant_distribution = row.owner_claimant_version = None
    row.owner_changed_at = None
    log.warning("connector instance %s: its pinned owner %s provides its connector again", row.name, owner)


async def confirm_owner(
    session: AsyncSession, instances: ConnectorInstances, name: str, *, expected: str | None = None
) -> OwnerConfirmation:
    """Pin instance ``name`` to the distribution that provides its connector now.

    Args:
        session: the caller's unit of work.
        instances: the instances service of this process (its plugins decide the new owner).
        name: the instance.
        expected: the distribution the integrator means to trust; when given and the connector is
            provided by another one, nothing changes. Guards against confirming a provider that
            changed again since the integrator looked.

    Raises:
        UnknownInstance: no such instance.
        UnknownConnector: no loaded plugin provides its connector, so there is no owner to pin.
        OwnerNotConfirmed: the owner did not change, or is not ``expected``.

    The caller writes the audit entry: it knows who confirmed (the API's actor, the operator).
    """
    row = await instances.get(session, name)
    instances.connector_class(row.connector_slug)  # UnknownConnector naming the loaded ones
    owner = current_owner(instances.host, row.connector_slug)
    assert owner is not None  # connector_class found the slug
    change = owner_change(row, instances.host)
    if change is None and pinned_owner(row) is not None:
        raise OwnerNotConfirmed(
            f"connector instance {name!r} is pinned to {owner}, which provides {row.connector_slug!r} "
            "now; there is no owner change to confirm"
        )
    if expected is not None and normalize(expected) != normalize(owner.distribution):
        raise OwnerNotConfirmed(
            f"connector {row.connector_slug!r} is provided by {owner}, not {expected}; "
            f"instance {name!r} was left as it was"
        )
    previous = change.configured if change is not None else "not pinned"
    pin_owner(row, owner, "confirmed")
    await session.flush()
    log.warning("connector instance %s: owner confirmed, %s → %s", name, previous, _with_range(owner))
    return OwnerConfirmation(name, row.connector_slug, previous, _with_range(owner), row.enabled)
