"""Reading applications: one scoped lookup, filtered and counted pages, the history of one.

Every read goes through ``visible``: an application outside the caller's scope is never loaded,
listed or counted — to the caller it does not exist (404). The scope is the application's own
``owner_id``/``branch_id``, copied from the customer when it was created.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.access import Actor, scoped
from core.customers import Customer
from core.customers.repository import COUNT_CAP, customer_match
from core.errors import NotFound

from .models import Application, ApplicationTransition

__all__ = ["COUNT_CAP", "SORTS", "ApplicationQuery", "get_visible", "history", "reaches", "search", "visible"]

SORTS: dict[str, Any] = {
    "created_at": Application.created_at,
    "updated_at": Application.updated_at,
    "submitted_at": Application.submitted_at,
    "amount": Application.amount,
}


def visible(actor: Actor, permission: str = "applications.read") -> Select[Application]:
    """Applications the actor reaches through ``permission``."""
    return scoped(
        select(Application), actor, permission, owner=Application.owner_id, branch=Application.branch_id
    )


async def reaches(session: AsyncSession, actor: Actor, application_id: str, permission: str) -> bool:
    """Whether ``actor``'s scope for ``permission`` reaches the application (one indexed lookup)."""
    found = await session.scalar(
        visible(actor, permission).with_only_columns(Application.id).where(Application.id == application_id)
    )
    return found is not None


async def get_visible(
    session: AsyncSession,
    actor: Actor,
    application_id: str,
    permission: str = "applications.read",
    *,
    for_update: bool = False,
) -> Application:
    """The application, if the actor reaches it through ``permission``; otherwise 404, as if absent."""
    statement = visible(actor, permission).where(Application.id == application_id)
    if for_update:
        statement = statement.with_for_update()
    row = await session.scalar(statement)
    if row is None:
        raise NotFound("applications.not_found", id=application_id)
    return row


@dataclass(frozen=True)
class ApplicationQuery:
    """List filters, all optional and combined with AND; ``created_to`` is exclusive."""

    q: str | None = None
    status: str | None = None
    product_id: str | None = None
    channel: str | None = None
    owner_id: str | None = None
    customer_id: str | None = None
    lead_id: str | None = None
    created_from: datetime | None = None
    created_to: datetime | None = None
    sort: str = "-created_at"
    limit: int = 50
    offset: int = 0


def _filtered(actor: Actor, query: ApplicationQuery) -> Select[Application]:
    conditions: list[Any] = [
        column == value
        for column, value in (
            (Application.status, query.status),
            (Application.product_id, query.product_id),
            (Application.channel, query.channel),
            (Application.owner_id, query.owner_id),
            (Application.customer_id, query.customer_id),
            (Application.lead_id, query.lead_id),
        )
        if value is not None
    ]
    if query.created_from is not None:
        conditions.append(Application.created_at >= query.created_from)
    if query.created_to is not None:
        conditions.append(Application.created_at < query.created_to)
    if query.q and query.q.strip():  # by the applicant: name, full or masked ID or mobile, USCC
        applicants = select(Customer.id).where(customer_match(query.q))
        conditions.append(Application.customer_id.in_(applicants))
    return visible(actor).where(*conditions)


async def search(
    session: AsyncSession, actor: Actor, query: ApplicationQuery
) -> tuple[Sequence[Application], int]:
    """One page of matching applications the actor may read, and how many match (``COUNT_CAP + 1``: more)."""
    statement = _filtered(actor, query)
    capped = statement.with_only_columns(Application.id).limit(COUNT_CAP + 1).subquery()
    total = await session.scalar(select(func.count()).select_from(capped))
    descending = query.sort.startswith("-")
    column = SORTS[query.sort.lstrip("-")]
    order = [
        column.desc().nulls_last() if descending else column.asc().nulls_last(),
        Application.id.desc() if descending else Application.id,
    ]
    rows = (await session.scalars(statement.order_by(*order).limit(query.limit).offset(query.offset))).all()
    return rows, int(total or 0)


async def history(session: AsyncSession, application_id: str) -> Sequence[ApplicationTransition]:
    """Every status change of the application, oldest first (the caller checked it may read it)."""
    statement = (
        select(ApplicationTransition)
        .where(ApplicationTransition.application_id == application_id)
        .order_by(ApplicationTransition.at, ApplicationTransition.id)
    )
    return (await session.scalars(statement)).all()
