"""``/api/segments``: define segments as rules; list who is in one (within your scope), and why."""

from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy import func, select

from core.access import Actor
from core.customers import Customer
from core.customers.repository import visible
from core.segments import service as segments
from core.segments.models import Segment, SegmentMember
from schemas.api.segments import SegmentRead, SegmentWrite

from ...deps import SessionDep
from ..paging import Limit, Offset
from ..security import require

__all__ = ["router"]

router = APIRouter(prefix="/api/segments", tags=["segments"])


async def _read(session: SessionDep, segment: Segment) -> SegmentRead:
    count = await session.scalar(
        select(func.count()).select_from(SegmentMember).where(SegmentMember.segment_id == segment.id)
    )
    return SegmentRead(
        code=segment.code,
        name=segment.name,
        rule=segment.rule,
        description=segment.description,
        active=segment.active,
        version=segment.version,
        members=int(count or 0),
        updated_at=segment.updated_at,
    )


@router.get("")
async def list_segments(session: SessionDep, actor: Actor = require("customers.read")) -> list[SegmentRead]:
    """Every segment, with its rule and size."""
    rows = (await session.scalars(select(Segment).order_by(Segment.code))).all()
    return [await _read(session, row) for row in rows]


@router.put("/{code}")
async def define_segment(
    code: str, body: SegmentWrite, session: SessionDep, actor: Actor = require("segments.manage")
) -> SegmentRead:
    """Create or change a segment; members are recomputed in the background within seconds."""
    segment = await segments.define(
        session,
        actor,
        code=code,
        name=body.name,
        rule=body.rule,
        description=body.description,
        active=body.active,
    )
    return await _read(session, segment)


@router.get("/{code}/members")
async def segment_members(
    code: str,
    session: SessionDep,
    actor: Actor = require("customers.read"),
    limit: Limit = 50,
    offset: Offset = 0,
) -> list[str]:
    """Ids of the segment's customers that you may read, oldest membership first."""
    segment = await segments.get(session, code)
    statement = (
        visible(actor)
        .with_only_columns(Customer.id)
        .join(SegmentMember, SegmentMember.customer_id == Customer.id)
        .where(SegmentMember.segment_id == segment.id)
        .order_by(SegmentMember.matched_at, Customer.id)
        .limit(limit)
        .offset(offset)
    )
    return list((await session.scalars(statement)).all())
