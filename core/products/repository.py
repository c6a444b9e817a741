"""Queries of the products context: one product by id or code, and filtered, sorted pages of them.

Products are not scoped by branch, so no query here takes the caller: the route's
``products.read`` is the whole lock.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import NotFound

from .models import Product

__all__ = ["SORTS", "ProductQuery", "list_products", "product_by_code", "product_by_id"]

#: Sort keys a list may ask for; ``-key`` sorts descending. Ties break on id (creation order).
SORTS: dict[str, Any] = {
    "code": Product.code,
    "name": Product.name,
    "created_at": Product.created_at,
    "updated_at": Product.updated_at,
    "annual_rate": Product.annual_rate,
    "min_amount": Product.min_amount,
    "max_amount": Product.max_amount,
}


@dataclass(frozen=True)
class ProductQuery:
    """Filters of a product list, all optional.

    Attributes:
        active: only active (``True``) or only deactivated (``False``) products.
        search: a case-insensitive substring of the code or the name.
        sort: a key of :data:`SORTS`, ``-`` in front for descending.
        limit: page size.
        offset: rows to skip.
    """

    active: bool | None = None
    search: str | None = None
    sort: str = "code"
    limit: int = 100
    offset: int = 0


async def product_by_id(session: AsyncSession, product_id: str, *, for_update: bool = False) -> Product:
    """The product with ``product_id``; ``NotFound`` (``products.not_found``) otherwise."""
    statement = select(Product).where(Product.id == product_id)
    if for_update:
        statement = statement.with_for_update()
    product = await session.scalar(statement)
    if product is None:
        raise NotFound("products.not_found", id=product_id)
    return product


async def product_by_code(session: AsyncSession, code: str) -> Product | None:
    """The product with ``code``, or ``None``."""
    return await session.scalar(select(Product).where(Product.code == code))


def _filtered(query: ProductQuery) -> Select[Product]:
    statement = select(Product)
    if query.active is not None:
        statement = statement.where(Product.active.is_(query.active))
    if query.search:
        needle = query.search.strip()
        statement = statement.where(
            or_(
                Product.code.icontains(needle, autoescape=True),
                Product.name.icontains(needle, autoescape=True),
            )
        )
    descending = query.sort.startswith("-")
    column = SORTS[query.sort.lstrip("-")]
    order = column.desc() if descending else column.asc()
    tie = Product.id.desc() if descending else Product.id.asc()
    return statement.order_by(order, tie)


async def list_products(session: AsyncSession, query: ProductQuery) -> list[Product]:
    """One page of products matching ``query``, in its order."""
    statement = _filtered(query).limit(query.limit).offset(query.offset)
    return list((await session.scalars(statement)).all())
