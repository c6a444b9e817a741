"""A company as the business registry (工商) describes it (first version)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from pydantic import BaseModel, ConfigDict

from .common import CanonicalModel, Money

__all__ = ["ChangeRecord", "CompanyProfile", "Shareholder"]


class Shareholder(BaseModel):
    """A shareholder and its stake."""

    model_config = ConfigDict(frozen=True)

    name: str
    stake_percent: Decimal | None = None
    subscribed: Money | None = None


class ChangeRecord(BaseModel):
    """A registered change (变更记录)."""

    model_config = ConfigDict(frozen=True)

    changed_on: date | None = None
    item: str
    before: str = ""
    after: str = ""


class CompanyProfile(CanonicalModel):
    """What the CRM needs to know about a company borrower or guarantor."""

    name: str
    uscc: str
    legal_representative: str = ""
    registered_capital: Money | None = None
    established_on: date | None = None
    status: str = ""  # 存续 / 在业 / 吊销 / 注销 ...
    industry: str = ""
    address: str = ""
    shareholders: tuple[Shareholder, ...] = ()
    changes: tuple[ChangeRecord, ...] = ()
