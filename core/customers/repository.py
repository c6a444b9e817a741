"""Reading customers: one scoped lookup, exact and masked-form search through blind indexes.

Every read goes through ``visible`` so a customer outside the caller's scope is never loaded:
to the caller it does not exist (404), and it is not counted.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, Text, cast, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.access import Actor, scoped
from core.errors import NotFound
from core.pii import blind_index, normalise

from .models import Customer

__all__ = ["COUNT_CAP", "CustomerQuery", "customer_match", "get_visible", "hint_index", "search", "visible"]

COUNT_CAP = 10_000
SORTS = {"created_at": Customer.created_at, "name": Customer.name, "updated_at": Customer.updated_at}
_FULL_ID = re.compile(r"^\d{17}[\dX]$")
_MASKED_ID = re.compile(r"^(\d{6})\*{4,8}(\d{3}[\dX])$")
_FULL_MOBILE = re.compile(r"^1\d{10}$")
_MASKED_MOBILE = re.compile(r"^(1\d{2})\*{4}(\d{4})$")
_USCC = re.compile(r"^[0-9A-HJ-NP-RTUW-Y]{2}\d{6}[0-9A-HJ-NP-RTUW-Y]{10}$")


def hint_index(field_class: str, clear: str) -> str:
    """The blind index of what a masked form keeps: an ID's first 6 and last 4, a mobile's 3 and 4."""
    value = normalise(field_class, clear)
    kept = value[:6] + value[-4:] if field_class == "id_number" else value[:3] + value[-4:]
    return blind_index(f"{field_class}_hint", kept)


def visible(actor: Actor, permission: str = "customers.read") -> Select[Customer]:
    """Customers the actor reaches through ``permission``."""
    return scoped(select(Customer), actor, permission, owner=Customer.owner_id, branch=Customer.branch_id)


async def get_visible(
    session: AsyncSession, actor: Actor, customer_id: str, permission: str = "customers.read"
) -> Customer:
    """The customer, if the actor reaches it through ``permission``; otherwise 404, as if absent."""
    row = await session.scalar(visible(actor, permission).where(Customer.id == customer_id))
    if row is None:
        raise NotFound("customers.not_found", id=customer_id)
    return row


@dataclass(frozen=True)
class CustomerQuery:
    """Search filters, all optional and combined with AND.

    ``q`` is read by its shape: a full or masked ID number or mobile is looked up through the blind
    indexes, a USCC exactly, anything else as the beginning of the name.
    """

    q: str | None = None
    kind: str | None = None
    status: str | None = "active"
    channel: str | None = None
    owner_id: str | None = None
    branch_id: str | None = None
    tag: str | None = None
    created_from: datetime | None = None
    created_to: datetime | None = None
    sort: str = "-created_at"
    limit: int = 50
    offset: int = 0


def customer_match(q: str) -> Any:
    """The condition ``q`` means on customers, read by its shape (see ``CustomerQuery``)."""
    compact = q.replace(" ", "").replace("-", "").upper()
    if compact.startswith("+86"):
        compact = compact[3:]
    if _FULL_ID.match(compact):
        return Customer.id_number_index == blind_index("id_number", compact)
    if match := _MASKED_ID.match(compact):
        return Customer.id_hint_index == blind_index("id_number_hint", match[1] + match[2])
    if _FULL_MOBILE.match(compact):
        return Customer.mobile_index == blind_index("mobile", compact)
    if match := _MASKED_MOBILE.match(compact):
        return Customer.mobile_hint_index == blind_index("mobile_hint", match[1] + match[2])
    if _USCC.match(compact):
        return Customer.uscc == compact
    # Names match by their beginning, as a range on the name index (both databases use it, whatever
    # the collation): "张" finds 张三 and 张伟, "张三" finds 张三丰.
    prefix = " ".join(q.split())
    return (Customer.name >= prefix) & (Customer.name < prefix + "\U0010ffff")


def _filtered(actor: Actor, query: CustomerQuery) -> Select[Customer]:
    statement = visible(actor)
    conditions: list[Any] = []
    if query.q and query.q.strip():
        conditions.append(customer_match(query.q))
    for column, value in (
        (Customer.kind, query.kind),
        (Customer.status, query.status),
        (Customer.channel, query.channel),
        (Customer.owner_id, query.owner_id),
        (Customer.branch_id, query.branch_id),
    ):
        if value is not None:
            conditions.append(column == value)
    if query.created_from is not None:
        conditions.append(Customer.created_at >= query.created_from)
    if query.created_to is not None:
        conditions.append(Customer.created_at < query.created_to)
    if query.tag:
        # Tags are a short JSON list; matching the quoted tag in its text works on both databases.
        escaped = query.tag.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        conditions.append(cast(Customer.tags, Text).like(f'%"{escaped}"%', escape="\\"))
    return statement.where(*conditions)


async def search(session: AsyncSession, actor: Actor, query: CustomerQuery) -> tuple[Sequence[Customer], int]:
    """One page of matching customers the actor may read, and how many match (``COUNT_CAP + 1``: more)."""
    statement = _filtered(actor, query)
    # Counted up to a cap: past it the number is shown as "10,000+" and counting every row of a
    # large scope on each page would cost more than the page itself.
    capped = statement.with_only_columns(Customer.id).limit(COUNT_CAP + 1).subquery()
    total = await session.scalar(select(func.count()).select_from(capped))
    descending = query.sort.startswith("-")
    column = SORTS[query.sort.lstrip("-")]
    order = [column.desc() if descending else column.asc(), Customer.id.desc() if descending else Customer.id]
    rows = (await session.scalars(statement.order_by(*order).limit(query.limit).offset(query.offset))).all()
    return rows, int(total or 0)
