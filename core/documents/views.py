"""The documents part of the customer 360° view."""

from __future__ import annotations

from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.access import Actor
from core.customers import Customer

from .models import Document
from .service import visible_clause

__all__ = ["documents_section"]


async def documents_section(session: AsyncSession, actor: Actor, customer: Customer) -> list[dict[str, Any]]:
    """The customer's live documents and those of their applications the caller may see, newest first."""
    from core.applications.models import Application  # a section reads across contexts; import late

    applications = select(Application.id).where(Application.customer_id == customer.id)
    rows = (
        await session.scalars(
            select(Document)
            .where(
                or_(
                    (Document.owner_kind == "customer") & (Document.owner_record_id == customer.id),
                    (Document.owner_kind == "application") & Document.owner_record_id.in_(applications),
                ),
                Document.deleted_at.is_(None),
                visible_clause(actor),
            )
            .order_by(Document.created_at.desc(), Document.id.desc())
            .limit(50)
        )
    ).all()
    return [
        {
            "id": row.id,
            "owner_kind": row.owner_kind,
            "owner_record_id": row.owner_record_id,
            "doc_type": row.doc_type,
            "filename": row.filename,
            "content_type": row.detected_type,
            "size": row.size,
            "created_at": row.created_at.isoformat(),
        }
        for row in rows
    ]
