"""``GET /api/audit``: the audit trail for auditors, filtered, newest first, scoped in SQL."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from core.access import Actor
from core.audit import AuditQuery, query_audit
from schemas.api.access import AuditEntryRead
from schemas.api.common import Timestamp

from ...deps import SessionDep
from ..paging import MAX_SEQ, Limit
from ..security import require

__all__ = ["router"]

router = APIRouter(prefix="/api/audit", tags=["audit"])


@router.get("")
async def list_audit(
    session: SessionDep,
    actor: Actor = require("audit.read"),
    who: Annotated[str | None, Query(alias="actor", max_length=200)] = None,
    action: Annotated[str | None, Query(max_length=100, description="exact, or a prefix ending in *")] = None,
    target_type: Annotated[str | None, Query(max_length=100)] = None,
    target_id: Annotated[str | None, Query(max_length=200)] = None,
    since: Timestamp | None = None,
    until: Timestamp | None = None,
    before_seq: Annotated[
        int | None, Query(ge=1, le=MAX_SEQ, description="page: entries older than this seq")
    ] = None,
    limit: Limit = 100,
) -> list[AuditEntryRead]:
    """Entries by actor, action, target and time, newest first; page with ``before_seq``."""
    query = AuditQuery(
        actor=who,
        action=action,
        target_type=target_type,
        target_id=target_id,
        since=since,
        until=until,
        before_seq=before_seq,
        limit=limit,
    )
    rows = await query_audit(session, actor, query)
    return [AuditEntryRead.model_validate(row, from_attributes=True) for row in rows]
