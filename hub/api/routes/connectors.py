"""Connector instances over HTTP: list, add, replace, enable/disable, check, confirm a new owner."""

from __future__ import annotations

from dataclasses import asdict

from fastapi import APIRouter, status

from core import audit
from core.access import Actor
from plugins.instance_owners import OwnerNotConfirmed, confirm_owner
from plugins.instances import (
    DuplicateInstance,
    InstanceError,
    OwnerChanged,
    SecretsRequired,
    UnknownConnector,
    UnknownInstance,
)
from plugins.ownership import owner_change
from schemas.api.connectors import (
    ConnectorCheckRead,
    ConnectorInstanceCreate,
    ConnectorInstanceRead,
    ConnectorInstanceUpdate,
    ConnectorOwnerConfirm,
    ConnectorOwnerConfirmed,
)

from ...deps import RuntimeDep, SessionDep
from ..problems import ProblemError
from ..security import require

__all__ = ["router"]

router = APIRouter(prefix="/api/connectors", tags=["connectors"])


def _problem(exc: InstanceError) -> ProblemError:
    if isinstance(exc, UnknownInstance):
        return ProblemError(404, "connector-instance-not-found", "Connector instance not found", str(exc))
    if isinstance(exc, DuplicateInstance):
        return ProblemError(409, "connector-instance-exists", "Connector instance exists", str(exc))
    if isinstance(exc, SecretsRequired):
        return ProblemError(
            422,
            "connector-secrets-required",
            "Secrets must be given again for a new host",
            exc.message,
            problems=exc.problems,
            secret_fields=exc.fields,
        )
    if isinstance(exc, OwnerChanged):
        return ProblemError(409, "connector-owner-changed", "Connector owner changed", str(exc))
    if isinstance(exc, OwnerNotConfirmed):
        return ProblemError(409, "connector-owner-not-confirmed", "Owner not confirmed", str(exc))
    if isinstance(exc, UnknownConnector):
        return ProblemError(422, "unknown-connector", "Unknown connector", exc.message, problems=exc.problems)
    return ProblemError(
        422, "invalid-connector-config", "Invalid connector config", exc.message, problems=exc.problems
    )


@router.get("", dependencies=[require("connectors.read")])
async def list_instances(runtime: RuntimeDep, session: SessionDep) -> list[ConnectorInstanceRead]:
    """Every configured instance, secrets masked."""
    rows = await runtime.instances.list(session)
    return [ConnectorInstanceRead.model_validate(runtime.instances.describe(row)) for row in rows]


@router.post("", status_code=status.HTTP_201_CREATED)
async def add_instance(
    body: ConnectorInstanceCreate,
    runtime: RuntimeDep,
    session: SessionDep,
    actor: Actor = require("connectors.manage"),
) -> ConnectorInstanceRead:
    """Configure a new instance; its secrets are encrypted at rest and never echoed."""
    try:
        row = await runtime.instances.add(
            session, name=body.name, connector=body.connector, config=body.config, enabled=body.enabled
        )
    except InstanceError as exc:
        raise _problem(exc) from None
    described = runtime.instances.describe(row)
    await audit.record(
        session,
        actor,
        "connectors.create",
        target_type="connector_instance",
        target_id=row.name,
        after=described,
    )
    return ConnectorInstanceRead.model_validate(described)


@router.get("/{name}", dependencies=[require("connectors.read")])
async def get_instance(name: str, runtime: RuntimeDep, session: SessionDep) -> ConnectorInstanceRead:
    """One instance, secrets masked."""
    try:
        row = await runtime.instances.get(session, name)
    except InstanceError as exc:
        raise _problem(exc) from None
    return ConnectorInstanceRead.model_validate(runtime.instances.describe(row))


@router.put("/{name}")
async def replace_instance(
    name: str,
    body: ConnectorInstanceUpdate,
    runtime: RuntimeDep,
    session: SessionDep,
    actor: Actor = require("connectors.manage"),
) -> ConnectorInstanceRead:
    """Replace an instance's whole config; fields not given take their defaults.

    Secrets not given (or given as ``***``) keep their stored values only while the base URL's
    scheme, host and port stay the same; a move to another host must give every secret again,
    or the answer is 422 ``connector-secrets-required`` naming them, and nothing changes.
    """
    try:
        row = await runtime.instances.get(session, name)
        before = runtime.instances.describe(row)
        row = await runtime.instances.add(
            session,
            name=name,
            connector=row.connector_slug,
            config=body.config,
            enabled=body.enabled,
            replace=True,
        )
    except InstanceError as exc:
        raise _problem(exc) from None
    after = runtime.instances.describe(row)
    await audit.record(
        session,
        actor,
        "connectors.replace",
        target_type="connector_instance",
        target_id=name,
        before=before,
        after=after,
    )
    return ConnectorInstanceRead.model_validate(after)


@router.post("/{name}/check")
async def check_instance(
    name: str, runtime: RuntimeDep, session: SessionDep, actor: Actor = require("connectors.check")
) -> ConnectorCheckRead:
    """Try the credentials against the vendor (or its simulator) and say what is wrong.

    An instance whose connector changed owner is refused with 409 and nothing is sent: its
    credentials are for the owner it was configured with.
    """
    try:
        row = await runtime.instances.get(session, name)
        if change := owner_change(row, runtime.host):
            raise OwnerChanged(change)
    except InstanceError as exc:
        raise _problem(exc) from None
    result = await runtime.instances.check(session, name)
    await audit.record(
        session,
        actor,
        "connectors.check",
        target_type="connector_instance",
        target_id=name,
        after={"ok": result.ok},
    )
    return ConnectorCheckRead.model_validate(asdict(result))


@router.post("/{name}/confirm-owner")
async def confirm_instance_owner(
    name: str,
    runtime: RuntimeDep,
    session: SessionDep,
    body: ConnectorOwnerConfirm | None = None,
    actor: Actor = require("connectors.manage"),
) -> ConnectorOwnerConfirmed:
    """Pin the instance to the distribution providing its connector now, and say what changed.

    409 when its owner did not change, or when ``distribution`` is given and is not the one that
    provides the connector now.
    """
    expected = body.distribution if body is not None else None
    try:
        confirmed = await confirm_owner(session, runtime.instances, name, expected=expected)
    except InstanceError as exc:
        raise _problem(exc) from None
    await audit.record(
        session,
        actor,
        "connectors.confirm_owner",
        target_type="connector_instance",
        target_id=confirmed.instance,
        before={"owner": confirmed.previous},
        after={"owner": confirmed.owner, "enabled": confirmed.enabled},
    )
    return ConnectorOwnerConfirmed(
        name=confirmed.instance,
        connector=confirmed.connector,
        previous=confirmed.previous,
        owner=confirmed.owner,
        enabled=confirmed.enabled,
        detail=confirmed.describe(),
    )
