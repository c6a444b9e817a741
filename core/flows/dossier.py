"""The frozen dossier: a hash of the case file as it stood when someone decided.

An approval is bound to what the approver saw (§4.4 of the lending reference: "the approval is
bound to a frozen snapshot of the dossier"). Each decision stores the SHA-256 of a canonical JSON
of the application's terms and form values, its documents (by content hash), its risk signals and
the decisions before it. Anyone holding the same records recomputes the same hash, so a later
change to any of them — a swapped document, an edited income — shows as a different dossier.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.applications.models import Application
from core.applications.records import audit_view
from core.documents.models import Document

from .evaluate import signals_of
from .models import FlowDecision

__all__ = ["dossier", "dossier_hash"]


async def dossier(session: AsyncSession, application: Application) -> dict[str, Any]:
    """What a decision is bound to, as plain JSON values."""
    documents = (
        await session.execute(
            select(Document.doc_type, Document.sha256)
            .where(
                ((Document.owner_kind == "application") & (Document.owner_record_id == application.id))
                | (
                    (Document.owner_kind == "customer")
                    & (Document.owner_record_id == application.customer_id)
                )
            )
            .order_by(Document.doc_type, Document.sha256)
        )
    ).all()
    decisions = (
        await session.execute(
            select(FlowDecision.stage, FlowDecision.round, FlowDecision.decision, FlowDecision.decided_by)
            .where(FlowDecision.application_id == application.id)
            .order_by(FlowDecision.at, FlowDecision.id)
        )
    ).all()
    return {
        "application": {**audit_view(application), "values": application.values or {}, "id": application.id},
        "flow": f"{application.flow_key}@{application.flow_version}",
        "documents": [list(row) for row in documents],
        "signals": await signals_of(session, application.id),
        "decisions": [list(row) for row in decisions],
    }


async def dossier_hash(session: AsyncSession, application: Application) -> str:
    """SHA-256 (hex) of the canonical JSON of :func:`dossier`."""
    text = json.dumps(
        await dossier(session, application),
        sort_keys=True,
        ensure_ascii=False,
        separators=(",", ":"),
        default=str,
    )
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
