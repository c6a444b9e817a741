"""A person's credit report as the CRM decides on it (first version; deepened by the connector work)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from .common import CanonicalModel, Money, PersonSubject

__all__ = [
    "AccountType",
    "CreditAccount",
    "CreditReport",
    "CreditScore",
    "FiveCategory",
    "PublicRecord",
    "QueryRecord",
]


class AccountType(StrEnum):
    """Account families of the 二代征信 report."""

    NON_REVOLVING_LOAN = "non_revolving_loan"  # 非循环贷账户
    REVOLVING_LOAN = "revolving_loan"  # 循环贷账户
    CREDIT_CARD = "credit_card"  # 贷记卡账户


class FiveCategory(StrEnum):
    """五级分类: the regulator's loan classification."""

    NORMAL = "normal"  # 正常
    SPECIAL_MENTION = "special_mention"  # 关注
    SUBSTANDARD = "substandard"  # 次级
    DOUBTFUL = "doubtful"  # 可疑
    LOSS = "loss"  # 损失


class CreditScore(BaseModel):
    """A bureau score with the reasons the bureau gives for it."""

    model_config = ConfigDict(frozen=True)

    value: int
    reason_codes: tuple[str, ...] = ()


class CreditAccount(BaseModel):
    """One account line of the report."""

    model_config = ConfigDict(frozen=True)

    account_type: AccountType
    institution: str
    opened_on: date | None = None
    credit_limit: Money | None = None
    balance: Money
    five_category: FiveCategory | None = None
    overdue_amount: Money | None = None
    overdue_periods: int = 0
    status_24m: str = ""  # 24-month repayment string, oldest first


class QueryRecord(BaseModel):
    """Who looked at the report, when, and why (查询记录)."""

    model_config = ConfigDict(frozen=True)

    queried_on: date
    institution_type: str
    reason: str


class PublicRecord(BaseModel):
    """Civil judgments, enforcements, tax arrears, administrative penalties."""

    model_config = ConfigDict(frozen=True)

    kind: str
    authority: str
    recorded_on: date | None = None
    amount: Money | None = None


class CreditReport(CanonicalModel):
    """Everything the CRM reads from a bureau about one person."""

    report_id: str
    subject: PersonSubject
    generated_at: datetime
    score: CreditScore | None = None
    accounts: tuple[CreditAccount, ...] = ()
    queries: tuple[QueryRecord, ...] = ()
    public_records: tuple[PublicRecord, ...] = ()
    total_overdue: Decimal = Decimal("0")
