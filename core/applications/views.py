"""The applications section of the customer 360° view: the customer's applications the caller may read.

A summary only — product, terms, status, channel and dates, never the form values — newest
first, scoped by the caller's ``applications.read`` exactly as the list endpoint is.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from core.access import Actor
from core.customers.models import Customer
from core.products.models import Product

from .models import Application
from .repository import visible

__all__ = ["SECTION_LIMIT", "applications_section", "summary"]

SECTION_LIMIT = 20


async def applications_section(
    session: AsyncSession, actor: Actor, customer: Customer
) -> list[dict[str, Any]]:
    """The customer's twenty newest applications within the caller's scope (none without the permission)."""
    rows = (
        await session.execute(
            visible(actor)
            .add_columns(Product.code)
            .join(Product, Product.id == Application.product_id)
            .where(Application.customer_id == customer.id)
            .order_by(Application.created_at.desc(), Application.id.desc())
            .limit(SECTION_LIMIT)
        )
    ).all()
    return [summary(application, code) for application, code in rows]


def summary(application: Application, product_code: str) -> dict[str, Any]:
    """An application as lists across contexts show it: no form values."""
    return {
        "id": application.id,
        "product_id": application.product_id,
        "product_code": product_code,
        "amount": str(application.amount),
        "term_months": application.term_months,
        "status": application.status,
        "stage": application.stage,
        "channel": application.channel,
        "created_at": application.created_at,
        "submitted_at": application.submitted_at,
        "decided_at": application.decided_at,
    }
