"""``GET /api/search``: one box over customers, leads and applications, each kind within scope.

``q`` is read as every list reads it — a name prefix, a full or masked ID number or mobile
(through the blind indexes), a USCC — and each kind answers its first matches and how many there
are, only if the caller may read that kind at all.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from sqlalchemy import select

from core.access import Actor
from core.applications.repository import ApplicationQuery
from core.applications.repository import search as search_applications
from core.applications.views import summary
from core.customers.repository import COUNT_CAP, CustomerQuery
from core.customers.repository import search as search_customers
from core.leads.repository import LeadQuery
from core.leads.repository import search as search_leads
from core.products.models import Product
from schemas.api.applications import ApplicationSummary
from schemas.api.search import SearchResults

from ...deps import SessionDep
from ..security import require
from .customers import customer_reads
from .leads import lead_read

__all__ = ["router"]

router = APIRouter(prefix="/api/search", tags=["search"])


@router.get("")
async def search_everything(
    session: SessionDep,
    actor: Actor = require("customers.read"),
    q: Annotated[
        str, Query(min_length=1, max_length=100, description="name prefix, full or masked ID or mobile, USCC")
    ] = "",
    limit: Annotated[int, Query(ge=1, le=50, description="matches per kind")] = 10,
) -> SearchResults:
    """The first ``limit`` customers, leads and applications matching ``q`` that you may read."""
    results = SearchResults()
    customers, total = await search_customers(session, actor, CustomerQuery(q=q, limit=limit))
    results.customers = await customer_reads(session, customers)
    results.customers_total = min(total, COUNT_CAP)
    if actor.can("leads.read"):
        leads, total = await search_leads(session, actor, LeadQuery(q=q, limit=limit))
        results.leads = [await lead_read(session, lead) for lead in leads]
        results.leads_total = min(total, COUNT_CAP)
    if actor.can("applications.read"):
        applications, total = await search_applications(session, actor, ApplicationQuery(q=q, limit=limit))
        product_codes = dict(
            (
                await session.execute(
                    select(Product.id, Product.code).where(
                        Product.id.in_({a.product_id for a in applications})
                    )
                )
            ).all()
        )
        results.applications = [
            ApplicationSummary.model_validate(summary(a, product_codes.get(a.product_id, "-")))
            for a in applications
        ]
        results.applications_total = min(total, COUNT_CAP)
    return results
