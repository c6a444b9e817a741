"""Composition of the CRM's cross-context pieces: the customer 360° view and the application gates.

Each bounded context offers its section (or its gate kind) as a value; this is the one place that
decides which are shown, in what order, and which gate kinds applications may be held back by, so
a context never imports the contexts that display it or plug into it.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.access import Actor
from core.applications.gates import GateRegistry, documents_gate
from core.applications.models import Application
from core.applications.service import create_draft
from core.applications.views import applications_section
from core.customers import Customer
from core.customers.view360 import View360, audit_section, relationships_section
from core.documents import DEFAULT_DOCUMENT_TYPES, missing_for
from core.documents.views import documents_section
from core.errors import Invalid
from core.leads.models import Lead
from core.leads.service import ApplicationOpener
from core.leads.views import follow_ups_section, leads_section
from core.products.models import Product
from core.segments.service import segments_section

__all__ = ["APPLICATION_GATES", "CUSTOMER_360", "application_opener"]

CUSTOMER_360 = View360(
    {
        "relationships": relationships_section,
        "segments": segments_section,
        "leads": leads_section,
        "follow_ups": follow_ups_section,
        "applications": applications_section,
        "documents": documents_section,
        "recent_audit": audit_section,
    }
)


async def _missing_documents(
    session: AsyncSession, application: Application, doc_types: Sequence[str]
) -> list[str]:
    """Required document types the application lacks (the customer's own documents count too)."""
    return await missing_for(
        session,
        owner_kind="application",
        owner_record_ids=[application.id],
        stage="gate",
        rules=[{"stage": "gate", "doc_types": list(doc_types)}],
        customer_id=application.customer_id,
    )


#: The gate kinds applications are checked with: ``required_fields`` built in, ``documents`` from
#: the documents context ("ID copy before submission").
APPLICATION_GATES = GateRegistry([documents_gate(_missing_documents, lambda: DEFAULT_DOCUMENT_TYPES)])


def application_opener(
    *, product_code: str | None, amount: Decimal | None, term_months: int, repayment_method: str | None
) -> ApplicationOpener:
    """What a lead conversion calls to open the draft (product and amount default to the lead's)."""

    async def open_application(session: AsyncSession, actor: Actor, lead: Lead, customer: Customer) -> str:
        code = product_code or lead.product_code
        product = await session.scalar(select(Product).where(Product.code == code)) if code else None
        if product is None:
            raise Invalid(
                "leads.convert_product_unknown",
                errors=[{"field": "application.product_code", "code": "leads.convert_product_unknown"}],
                product=code or "-",
            )
        requested = amount if amount is not None else lead.requested_amount
        if requested is None:
            raise Invalid(
                "leads.convert_amount_missing",
                errors=[{"field": "application.amount", "code": "leads.convert_amount_missing"}],
            )
        draft = await create_draft(
            session, actor, customer.id, product.id, requested, term_months, repayment_method, lead_id=lead.id
        )
        return draft.id

    return open_application
