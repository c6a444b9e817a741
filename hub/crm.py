"""Composition of the CRM's cross-context views: which sections the customer 360° view shows.

Each bounded context offers its section as a function; this is the one place that decides which
are shown and in what order, so a context never imports the contexts that display it.
"""

from __future__ import annotations

from core.customers.view360 import View360, audit_section, relationships_section
from core.leads.views import follow_ups_section, leads_section
from core.segments.service import segments_section

__all__ = ["CUSTOMER_360"]

CUSTOMER_360 = View360(
    {
        "relationships": relationships_section,
        "segments": segments_section,
        "leads": leads_section,
        "follow_ups": follow_ups_section,
        "recent_audit": audit_section,
    }
)
