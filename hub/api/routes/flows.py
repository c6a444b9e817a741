"""Approval flows over HTTP: save, publish, read with versions, dry run, diagram; authority and staff links.

Flows are defined only through data: a draft version is saved from a JSON definition or YAML/JSON
source (errors name the path and, for source, the line), then published. ``flows.read`` lets
reviewers and managers see flows, diagrams and dry runs; ``flows.manage`` changes them.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, status
from sqlalchemy import func, select

from core.access import Actor
from core.flows import authority as controls
from core.flows.diagram import mermaid
from core.flows.dryrun import dry_run
from core.flows.models import FlowVersion
from core.flows.source import load_source
from core.flows.versions import flow_of, publish, published_version, save_draft, version_of, versions_of
from schemas.api.flows import (
    AuthorityLimitItem,
    AuthorityLimits,
    DryRunRequest,
    FlowCreate,
    FlowRead,
    FlowVersionRead,
    PublishRequest,
    StaffLink,
)

from ...deps import SessionDep
from ..security import require

__all__ = ["router"]

router = APIRouter(prefix="/api", tags=["flows"])

VersionNumber = Annotated[int, Path(ge=1, le=2**31 - 1, description="a version number")]


def _version(row: FlowVersion, *, document: bool = False, created: bool | None = None) -> FlowVersionRead:
    return FlowVersionRead(
        key=row.flow_key,
        version=row.version,
        name=row.name,
        status=row.status,
        digest=row.digest,
        created_by=row.created_by,
        created_at=row.created_at,
        published_by=row.published_by,
        published_at=row.published_at,
        document=row.document if document else None,
        created=created,
    )


@router.post("/flows", status_code=status.HTTP_201_CREATED)
async def create_flow(
    body: FlowCreate, session: SessionDep, actor: Actor = require("flows.manage")
) -> FlowVersionRead:
    """Save a draft version (the same document as the newest version saves nothing: ``created`` false)."""
    if body.source is not None:
        document, lines = load_source(body.source, body.format)
        row, created = await save_draft(session, actor, document, body.source, lines)
    else:
        row, created = await save_draft(session, actor, body.definition)
    return _version(row, document=True, created=created)


@router.get("/flows")
async def list_flows(session: SessionDep, actor: Actor = require("flows.read")) -> list[FlowRead]:
    """Every flow key with its published version number (versions themselves: ``GET /api/flows/{key}``)."""
    keys = (
        await session.execute(
            select(FlowVersion.flow_key, func.max(FlowVersion.version))
            .group_by(FlowVersion.flow_key)
            .order_by(FlowVersion.flow_key)
        )
    ).all()
    out = []
    for key, newest in keys:
        published = await published_version(session, key)
        latest = await version_of(session, key, newest)
        out.append(
            FlowRead(
                key=key, name=latest.name, published=published.version if published else None, versions=[]
            )
        )
    return out


@router.get("/flows/{key}")
async def get_flow(key: str, session: SessionDep, actor: Actor = require("flows.read")) -> FlowRead:
    """The flow with every version; the published and the newest carry their documents."""
    rows = await versions_of(session, key)
    published = next((row for row in rows if row.status == "published"), None)
    return FlowRead(
        key=key,
        name=rows[-1].name,
        published=published.version if published else None,
        versions=[_version(row, document=row is rows[-1] or row is published) for row in rows],
    )


@router.get("/flows/{key}/versions/{number}")
async def get_flow_version(
    key: str, number: VersionNumber, session: SessionDep, actor: Actor = require("flows.read")
) -> FlowVersionRead:
    """One version with its document."""
    return _version(await version_of(session, key, number), document=True)


@router.post("/flows/{key}/publish")
async def publish_flow(
    key: str, session: SessionDep, body: PublishRequest | None = None, actor: Actor = require("flows.manage")
) -> FlowVersionRead:
    """Publish a version (the newest by default): new applications start on it, running ones keep theirs."""
    row = await publish(session, actor, key, body.version if body else None)
    return _version(row)


async def _flow_version(session: SessionDep, key: str, number: int | None) -> FlowVersion:
    if number is not None:
        return await version_of(session, key, number)
    return await published_version(session, key) or (await versions_of(session, key))[-1]


@router.post("/flows/{key}/dry-run")
async def dry_run_flow(
    key: str, body: DryRunRequest, session: SessionDep, actor: Actor = require("flows.read")
) -> dict[str, Any]:
    """The path an application (or typed-in values) would take, stage by stage, and why; writes nothing."""
    row = await _flow_version(session, key, body.version)
    result = await dry_run(
        session, actor, flow_of(row), application_id=body.application_id, values=body.values
    )
    return {"key": key, "version": row.version, **result}


@router.get("/flows/{key}/diagram")
async def flow_diagram(
    key: str,
    session: SessionDep,
    version: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
    actor: Actor = require("flows.read"),
) -> dict[str, Any]:
    """The flow as Mermaid ``flowchart`` text (the published version unless ``version`` is given)."""
    row = await _flow_version(session, key, version)
    return {"key": key, "version": row.version, "mermaid": mermaid(flow_of(row))}


def _limit(row: Any) -> AuthorityLimitItem:
    return AuthorityLimitItem(
        subject_kind=row.subject_kind,
        subject=row.subject,
        product_code=row.product_code,
        max_exposure=str(row.max_exposure),
    )


@router.get("/authority-limits")
async def get_limits(session: SessionDep, actor: Actor = require("flows.read")) -> AuthorityLimits:
    """The authority table: who may approve up to what cumulative exposure, per product."""
    return AuthorityLimits(limits=[_limit(row) for row in await controls.read_limits(session)])


@router.put("/authority-limits")
async def put_limits(
    body: AuthorityLimits, session: SessionDep, actor: Actor = require("flows.manage")
) -> AuthorityLimits:
    """Replace the authority table (checked whole; audited with before and after)."""
    specs = [
        controls.LimitSpec(
            item.subject_kind, item.subject.strip().lower(), item.max_exposure, item.product_code
        )
        for item in body.limits
    ]
    return AuthorityLimits(
        limits=[_limit(row) for row in await controls.replace_limits(session, actor, specs)]
    )


@router.put("/users/{username}/customer")
async def link_staff(
    username: str, body: StaffLink, session: SessionDep, actor: Actor = require("flows.manage")
) -> dict[str, str]:
    """Record which customer a member of staff is, so they are kept out of their relatives' approvals."""
    row = await controls.link_staff(session, actor, username, body.customer_id)
    return {"username": username, "customer_id": row.customer_id}


@router.delete("/users/{username}/customer", status_code=status.HTTP_204_NO_CONTENT)
async def unlink_staff(username: str, session: SessionDep, actor: Actor = require("flows.manage")) -> None:
    """Forget which customer a member of staff is."""
    await controls.unlink_staff(session, actor, username)
