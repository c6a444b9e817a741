"""The customer graph: relations between customers, and merging two records of one customer.

Relations feed later checks — group exposure, related-party lending, conflicts of interest in
approval — so they are stored once, by kind, and read in both directions. A symmetric kind (spouse,
co-borrower) is stored as two edges so either side finds it the same way.

Merging keeps history: the duplicate is marked ``merged`` and points at the survivor, and every
row of any table that references a customer (found from the table metadata, so a context added
later is moved too) is re-pointed at the survivor in the same transaction — except derived rows a
table marks ``info={"customer_merge": "delete"}`` (segment memberships), which are recomputed.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core import audit
from core.access import Actor
from core.db import Base
from core.errors import Conflict, Invalid

from .models import Customer, CustomerRelation, RelationKind
from .repository import get_visible

__all__ = ["merge", "relate", "relations_of", "unrelate"]

_ENTERPRISE_SIDE = {
    RelationKind.LEGAL_REPRESENTATIVE: "enterprise",
    RelationKind.SHAREHOLDER: "enterprise",
    RelationKind.ACTUAL_CONTROLLER: "enterprise",
}


async def relate(
    session: AsyncSession,
    actor: Actor,
    customer_id: str,
    related_id: str,
    kind: str,
    *,
    share_percent: Decimal | None = None,
    note: str = "",
) -> CustomerRelation:
    """Record that ``customer``'s ``kind`` is ``related``; both must be visible to the caller."""
    try:
        relation = RelationKind(kind)
    except ValueError:
        raise Invalid(
            "customers.relation_unknown",
            errors=[{"field": "kind", "code": "customers.relation_unknown"}],
            known=", ".join(k.value for k in RelationKind),
        ) from None
    if customer_id == related_id:
        raise Invalid(
            "customers.relation_self", errors=[{"field": "related_id", "code": "customers.relation_self"}]
        )
    customer = await get_visible(session, actor, customer_id, "customers.write")
    related = await get_visible(session, actor, related_id)
    if _ENTERPRISE_SIDE.get(relation) == "enterprise" and customer.kind != "enterprise":
        raise Invalid(
            "customers.relation_needs_enterprise",
            errors=[{"field": "kind", "code": "customers.relation_needs_enterprise"}],
            kind=kind,
        )
    if relation is RelationKind.SPOUSE and "enterprise" in (customer.kind, related.kind):
        raise Invalid(
            "customers.relation_needs_persons",
            errors=[{"field": "kind", "code": "customers.relation_needs_persons"}],
            kind=kind,
        )
    if share_percent is not None and (
        relation is not RelationKind.SHAREHOLDER or not Decimal(0) < share_percent <= Decimal(100)
    ):
        raise Invalid(
            "customers.share_invalid", errors=[{"field": "share_percent", "code": "customers.share_invalid"}]
        )
    existing = await session.scalar(
        select(CustomerRelation).where(
            CustomerRelation.customer_id == customer_id,
            CustomerRelation.related_id == related_id,
            CustomerRelation.kind == relation.value,
        )
    )
    if existing is not None:
        raise Conflict("customers.relation_exists", kind=kind)
    edge = CustomerRelation(
        customer_id=customer_id,
        related_id=related_id,
        kind=relation.value,
        share_percent=share_percent,
        note=note.strip()[:500],
        created_by=actor.audit_name,
    )
    session.add(edge)
    if relation.symmetric:
        session.add(
            CustomerRelation(
                customer_id=related_id,
                related_id=customer_id,
                kind=relation.value,
                note=edge.note,
                created_by=actor.audit_name,
            )
        )
    await session.flush()
    await audit.record(
        session,
        actor,
        "customers.relate",
        target_type="customer",
        target_id=customer_id,
        after={
            "related_id": related_id,
            "kind": relation.value,
            "share_percent": str(share_percent) if share_percent is not None else None,
        },
    )
    return edge


async def unrelate(session: AsyncSession, actor: Actor, customer_id: str, related_id: str, kind: str) -> None:
    """Remove a relation (both edges of a symmetric one)."""
    await get_visible(session, actor, customer_id, "customers.write")
    pairs = [(customer_id, related_id)]
    if kind in (RelationKind.SPOUSE, RelationKind.CO_BORROWER):
        pairs.append((related_id, customer_id))
    removed = 0
    for left, right in pairs:
        result = await session.execute(
            delete(CustomerRelation).where(
                CustomerRelation.customer_id == left,
                CustomerRelation.related_id == right,
                CustomerRelation.kind == kind,
            )
        )
        removed += result.rowcount or 0  # type: ignore[attr-defined]
    if not removed:
        raise Invalid(
            "customers.relation_missing",
            errors=[{"field": "kind", "code": "customers.relation_missing"}],
            kind=kind,
        )
    await audit.record(
        session,
        actor,
        "customers.unrelate",
        target_type="customer",
        target_id=customer_id,
        before={"related_id": related_id, "kind": kind},
    )


async def relations_of(session: AsyncSession, customer_id: str) -> Sequence[CustomerRelation]:
    """Every edge leaving or entering the customer (callers mask what the reader may not see)."""
    statement = (
        select(CustomerRelation)
        .where((CustomerRelation.customer_id == customer_id) | (CustomerRelation.related_id == customer_id))
        .order_by(CustomerRelation.created_at, CustomerRelation.id)
    )
    return (await session.scalars(statement)).all()


async def merge(session: AsyncSession, actor: Actor, duplicate_id: str, survivor_id: str) -> Customer:
    """Fold ``duplicate`` into ``survivor``: references move, the duplicate stays as a merged trail."""
    if duplicate_id == survivor_id:
        raise Invalid("customers.merge_self", errors=[{"field": "into", "code": "customers.merge_self"}])
    duplicate = await get_visible(session, actor, duplicate_id, "customers.merge")
    survivor = await get_visible(session, actor, survivor_id, "customers.merge")
    for record in (duplicate, survivor):
        if record.status != "active":
            raise Conflict("customers.merged", into=record.merged_into_id)
    if duplicate.kind != survivor.kind:
        raise Conflict("customers.merge_kinds", left=duplicate.kind, right=survivor.kind)
    # Relations the survivor already has would become duplicates (or self-loops): drop those first.
    own = {(r.customer_id, r.related_id, r.kind) for r in await relations_of(session, survivor_id)}
    for edge in await relations_of(session, duplicate_id):
        left = survivor_id if edge.customer_id == duplicate_id else edge.customer_id
        right = survivor_id if edge.related_id == duplicate_id else edge.related_id
        if left == right or (left, right, edge.kind) in own:
            await session.delete(edge)
        own.add((left, right, edge.kind))
    await session.flush()
    moved: dict[str, int] = {}
    for table in Base.metadata.sorted_tables:
        for column in table.columns:
            if table.name == "customers" or not any(
                fk.column.table.name == "customers" for fk in column.foreign_keys
            ):
                continue
            if table.info.get("customer_merge") == "delete":  # derived data, recomputed for the survivor
                await session.execute(delete(table).where(column == duplicate_id))
                continue
            result = await session.execute(
                update(table).where(column == duplicate_id).values({column.name: survivor_id})
            )
            if result.rowcount:  # type: ignore[attr-defined]
                moved[f"{table.name}.{column.name}"] = result.rowcount  # type: ignore[attr-defined]
    await session.execute(
        update(Customer).where(Customer.merged_into_id == duplicate_id).values(merged_into_id=survivor_id)
    )
    duplicate.status = "merged"
    duplicate.merged_into_id = survivor_id
    duplicate.version += 1
    survivor.tags = sorted(set(survivor.tags or []) | set(duplicate.tags or []))
    survivor.version += 1
    survivor.segments_at = duplicate.segments_at = None
    await session.flush()
    await audit.record(
        session,
        actor,
        "customers.merge",
        target_type="customer",
        target_id=duplicate_id,
        after={"into": survivor_id, "moved": moved},
    )
    await audit.record(
        session,
        actor,
        "customers.merge_into",
        target_type="customer",
        target_id=survivor_id,
        after={"from": duplicate_id, "moved": moved},
    )
    return survivor
