"""Composition of the CRM's cross-context pieces: the customer 360° view and the application gates.

Each bounded context offers its section (or its gate kind) as a value; this is the one place that
decides which are shown, in what order, and which gate kinds applications may be held back by, so
a context never imports the contexts that display it or plug into it.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from core.applications.gates import GateRegistry, documents_gate
from core.applications.models import Application
from core.applications.views import applications_section
from core.customers.view360 import View360, audit_section, relationships_section
from core.documents import DEFAULT_DOCUMENT_TYPES, missing_for
from core.leads.views import follow_ups_section, leads_section
from core.segments.service import segments_section

__all__ = ["APPLICATION_GATES", "CUSTOMER_360"]

CUSTOMER_360 = View360(
    {
        "relationships": relationships_section,
        "segments": segments_section,
        "leads": leads_section,
        "follow_ups": follow_ups_section,
        "applications": applications_section,
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
