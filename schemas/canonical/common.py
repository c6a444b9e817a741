"""Small value types shared by the canonical models."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["CanonicalModel", "CompanySubject", "Money", "PersonSubject"]


class CanonicalModel(BaseModel):
    """Base for what connectors return: strict about unknown fields, frozen once built."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    schema_version: Literal["1"] = "1"


class Money(BaseModel):
    """An amount in a currency; never a float."""

    model_config = ConfigDict(frozen=True)

    amount: Decimal
    currency: str = Field(default="CNY", min_length=3, max_length=3)


class PersonSubject(BaseModel):
    """Who a query is about when it is a natural person."""

    model_config = ConfigDict(frozen=True)

    name: str = Field(min_length=1)
    id_number: str = Field(min_length=15, max_length=18, description="居民身份证号码")
    mobile: str | None = None
    birth_date: date | None = None


class CompanySubject(BaseModel):
    """Who a query is about when it is a company: by name, USCC, or both."""

    model_config = ConfigDict(frozen=True)

    name: str | None = None
    uscc: str | None = Field(default=None, description="统一社会信用代码")
