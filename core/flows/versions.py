"""Saving, publishing and reading flow versions; every change audited.

A saved document becomes the next version of its key as a ``draft``, immutable from then on (a
change is a new version). Saving the same document twice returns the version already saved.
Publishing makes one version the one new applications start on; the version published before
becomes ``superseded``. Running applications keep the version they started on (their
``flow_version``): publishing never touches them.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from core import audit
from core.access import Actor
from core.db import utcnow
from core.errors import Conflict, Invalid, NotFound

from .definition import FLOW_KEY, Flow, compile_flow, flow_errors
from .extensions import FlowExtensions
from .models import FlowVersion
from .source import LineMap, with_lines

__all__ = [
    "EXTENSIONS",
    "check",
    "document_digest",
    "ensure_published",
    "flow_of",
    "install_extensions",
    "publish",
    "published_version",
    "save_draft",
    "version_of",
    "versions_of",
]

#: The conditions and actions of this process (the hub fills it from the plugins at start).
EXTENSIONS = FlowExtensions()


def document_digest(document: Mapping[str, Any]) -> str:
    """SHA-256 of the document in canonical JSON: the same flow, however it was written, one digest."""
    text = json.dumps(document, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def install_extensions(extensions: FlowExtensions) -> None:
    """Make ``extensions`` (the plugin host's) the conditions and actions flows are checked and run with."""
    EXTENSIONS.conditions = dict(extensions.conditions)
    EXTENSIONS.actions = dict(extensions.actions)
    _compiled.cache_clear()


def check(document: Any) -> list[dict[str, Any]]:
    """Field errors of ``document`` against the registered conditions and actions."""
    return flow_errors(document, EXTENSIONS.conditions, EXTENSIONS.actions)


@lru_cache(maxsize=256)
def _compiled(digest: str, text: str) -> Flow:
    return compile_flow(json.loads(text), EXTENSIONS.conditions, EXTENSIONS.actions)


def flow_of(version: FlowVersion) -> Flow:
    """The compiled flow of a saved version (compiled once per process per digest)."""
    return _compiled(version.digest, json.dumps(version.document, ensure_ascii=False))


async def save_draft(
    session: AsyncSession,
    actor: Actor,
    document: Any,
    source: str | None = None,
    lines: LineMap | None = None,
) -> tuple[FlowVersion, bool]:
    """Save ``document`` as the next draft version of its key; ``(version, created)``.

    Raises:
        Invalid: ``flows.invalid`` with every field error (and line, when the YAML loader added it).
        Conflict: ``flows.version_race`` when another save took the number meanwhile (retry).
    """
    errors = check(document)
    if errors:
        errors = with_lines(errors, lines) if lines is not None else errors
        raise Invalid("flows.invalid", errors=errors, count=len(errors))
    key = document["key"]
    digest = document_digest(document)
    latest = await session.scalar(
        select(FlowVersion).where(FlowVersion.flow_key == key).order_by(FlowVersion.version.desc()).limit(1)
    )
    if latest is not None and latest.digest == digest:
        return latest, False
    version = FlowVersion(
        flow_key=key,
        version=(latest.version if latest else 0) + 1,
        name=document["name"],
        status="draft",
        document=dict(document),
        source=source,
        digest=digest,
        created_by=actor.audit_name,
        created_at=utcnow(),
    )
    session.add(version)
    try:
        await session.flush()
    except IntegrityError:
        raise Conflict("flows.version_race", flow=key) from None
    await audit.record(
        session,
        actor,
        "flows.save",
        target_type="flow",
        target_id=f"{key}@{version.version}",
        after={"key": key, "version": version.version, "digest": digest, "stages": len(document["stages"])},
    )
    return version, True


async def versions_of(session: AsyncSession, key: str) -> list[FlowVersion]:
    """Every version of ``key``, oldest first (``flows.not_found`` when there is none)."""
    rows = list(
        (
            await session.scalars(
                select(FlowVersion).where(FlowVersion.flow_key == key).order_by(FlowVersion.version)
            )
        ).all()
    )
    if not rows:
        raise NotFound("flows.not_found", key=key[:100])
    return rows


async def published_version(session: AsyncSession, key: str) -> FlowVersion | None:
    """The version new applications of ``key`` start on, if one is published."""
    return await session.scalar(
        select(FlowVersion).where(FlowVersion.flow_key == key, FlowVersion.status == "published").limit(1)
    )


async def version_of(session: AsyncSession, key: str, number: int) -> FlowVersion:
    """Version ``number`` of ``key`` (``flows.version_not_found``)."""
    row = await session.scalar(
        select(FlowVersion).where(FlowVersion.flow_key == key, FlowVersion.version == number)
    )
    if row is None:
        raise NotFound("flows.version_not_found", key=key[:100], version=number)
    return row


async def publish(session: AsyncSession, actor: Actor, key: str, number: int | None = None) -> FlowVersion:
    """Make version ``number`` (default: the newest) the one new applications of ``key`` start on.

    Publishing the published version again changes nothing. A version older than the published
    one may be published again (a rollback); it is audited like any other publication.
    """
    if not FLOW_KEY.match(key):
        raise NotFound("flows.not_found", key=key[:100])
    if number is None:
        number = await session.scalar(
            select(func.max(FlowVersion.version)).where(FlowVersion.flow_key == key)
        )
        if number is None:
            raise NotFound("flows.not_found", key=key)
    target = await version_of(session, key, number)
    current = await published_version(session, key)
    if current is not None and current.id == target.id:
        return target
    # A flow that names a condition or action no plugin registers any more cannot be published.
    errors = check(target.document)
    if errors:
        raise Invalid("flows.invalid", errors=errors, count=len(errors))
    now = utcnow()
    await session.execute(
        update(FlowVersion)
        .where(FlowVersion.flow_key == key, FlowVersion.status == "published")
        .values(status="superseded")
        .execution_options(synchronize_session="fetch")
    )
    target.status, target.published_by, target.published_at = "published", actor.audit_name, now
    await session.flush()
    await audit.record(
        session,
        actor,
        "flows.publish",
        target_type="flow",
        target_id=f"{key}@{number}",
        before={"published": current.version if current else None},
        after={"published": number, "digest": target.digest},
    )
    return target


async def ensure_published(session: AsyncSession, key: str) -> None:
    """Refuse (422) a product naming a flow key that has no published version."""
    if await published_version(session, key) is None:
        raise Invalid(
            "flows.not_published",
            errors=[{"field": "flow_key", "code": "flows.not_published", "params": {"key": key}}],
            key=key,
        )
