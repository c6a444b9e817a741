"""Composition of the CRM's cross-context pieces: the customer 360° view and the application gates.

Each bounded context offers its section (or its gate kind) as a value; this is the one place that
decides which are shown, in what order, and which gate kinds applications may be held back by, so
a context never imports the contexts that display it or plug into it.
"""

from __future__ import annotations

from core.applications.gates import GateRegistry
from core.applications.views import applications_section
from core.customers.view360 import View360, audit_section, relationships_section

__all__ = ["APPLICATION_GATES", "CUSTOMER_360"]

CUSTOMER_360 = View360(
    {
        "relationships": relationships_section,
        "applications": applications_section,
        "recent_audit": audit_section,
    }
)

#: The gate kinds applications are checked with: ``required_fields`` built in; the documents
#: context adds ``documents`` here (``core.applications.gates.documents_gate``) when it lands.
APPLICATION_GATES = GateRegistry()
