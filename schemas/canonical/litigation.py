"""Court cases and enforcement lists about a person or company (first version)."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict

from .common import CanonicalModel, Money

__all__ = [
    "ConsumptionRestriction",
    "DishonestRecord",
    "ExecutedRecord",
    "LitigationCase",
    "LitigationRecord",
]


class LitigationCase(BaseModel):
    """One case, with the subject's role in it (原告/被告/第三人)."""

    model_config = ConfigDict(frozen=True)

    case_number: str
    cause: str = ""
    court: str = ""
    role: str = ""
    amount: Money | None = None
    filed_on: date | None = None
    judged_on: date | None = None
    status: str = ""


class DishonestRecord(BaseModel):
    """失信被执行人."""

    model_config = ConfigDict(frozen=True)

    case_number: str
    court: str
    published_on: date | None = None
    obligation: str = ""


class ExecutedRecord(BaseModel):
    """被执行人."""

    model_config = ConfigDict(frozen=True)

    case_number: str
    court: str
    amount: Money | None = None
    filed_on: date | None = None


class ConsumptionRestriction(BaseModel):
    """限制高消费令."""

    model_config = ConfigDict(frozen=True)

    case_number: str
    court: str
    published_on: date | None = None


class LitigationRecord(CanonicalModel):
    """All judicial data one vendor holds about a subject; empty lists mean a clean subject."""

    subject_name: str
    cases: tuple[LitigationCase, ...] = ()
    dishonest: tuple[DishonestRecord, ...] = ()
    executed: tuple[ExecutedRecord, ...] = ()
    restrictions: tuple[ConsumptionRestriction, ...] = ()
