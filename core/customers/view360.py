"""The 360° view: one call that gathers everything LendHub knows about a customer.

Each bounded context contributes a *section* — relationships here, leads and follow-ups, applications,
documents, and later enrichment, loans and collection cases — and the hub composes the view from
the sections it wires in (``hub.crm``), so adding a context adds a section without this module
knowing about it. Every section reads with the caller's actor: what it returns is scoped and
masked exactly as the context's own endpoints would answer.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.access import Actor
from core.audit import AuditEntry

from .graph import relations_of
from .models import Customer
from .repository import visible

__all__ = ["Section", "View360", "audit_section", "relationships_section"]

Section = Callable[[AsyncSession, Actor, Customer], Awaitable[Any]]
"""An async function giving one part of the view (JSON-ready) for a customer the caller can read."""


@dataclass(frozen=True)
class View360:
    """The sections of the view, in the order they are shown."""

    sections: Mapping[str, Section]

    async def build(self, session: AsyncSession, actor: Actor, customer: Customer) -> dict[str, Any]:
        """Every section for ``customer`` (the caller already passed the customer's read scope)."""
        return {name: await section(session, actor, customer) for name, section in self.sections.items()}


async def relationships_section(
    session: AsyncSession, actor: Actor, customer: Customer
) -> list[dict[str, Any]]:
    """The customer's relations, each naming the other side only when the caller can read it."""
    edges = await relations_of(session, customer.id)
    others = {e.related_id if e.customer_id == customer.id else e.customer_id for e in edges}
    readable = (
        {row.id: row for row in (await session.scalars(visible(actor).where(Customer.id.in_(others)))).all()}
        if others
        else {}
    )
    result = []
    for edge in edges:
        outgoing = edge.customer_id == customer.id
        if not outgoing and edge.kind in ("spouse", "co_borrower"):
            continue  # the mirror edge of a symmetric relation is listed once
        other_id = edge.related_id if outgoing else edge.customer_id
        other = readable.get(other_id)
        result.append(
            {
                "direction": "outgoing" if outgoing else "incoming",
                "kind": edge.kind,
                "customer_id": other_id if other else None,
                "name": other.name if other else None,
                "customer_kind": other.kind if other else None,
                "share_percent": str(edge.share_percent) if edge.share_percent is not None else None,
                "visible": other is not None,
            }
        )
    return result


async def audit_section(session: AsyncSession, actor: Actor, customer: Customer) -> list[dict[str, Any]]:
    """The twenty most recent audit entries about the customer: who did what, when (no values)."""
    rows = (
        await session.scalars(
            select(AuditEntry)
            .where(AuditEntry.target_type == "customer", AuditEntry.target_id == customer.id)
            .order_by(AuditEntry.seq.desc())
            .limit(20)
        )
    ).all()
    return [{"seq": r.seq, "at": r.at.isoformat(), "actor": r.actor, "action": r.action} for r in rows]
