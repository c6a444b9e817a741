"""One search box over customers, leads and applications."""

from __future__ import annotations

from pydantic import BaseModel, Field

from .applications import ApplicationSummary
from .customers import CustomerRead
from .leads import LeadRead

__all__ = ["SearchResults"]


class SearchResults(BaseModel):
    """The first matches of each kind the caller may read (a kind they may not read stays empty)."""

    customers: list[CustomerRead] = Field(default_factory=list)
    customers_total: int = 0
    leads: list[LeadRead] = Field(default_factory=list)
    leads_total: int = 0
    applications: list[ApplicationSummary] = Field(default_factory=list)
    applications_total: int = 0
