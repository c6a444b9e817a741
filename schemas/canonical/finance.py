"""Accounting vouchers sent to the finance system.

A disbursement, a repayment or a write-off becomes a :class:`Voucher` (记账凭证) with balanced
debit and credit lines. Lines carry auxiliary dimensions (辅助核算) so the ledger can report by
customer and by loan; the connector maps them onto the vendor's own dimension fields.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, model_validator

from .common import CanonicalModel

__all__ = [
    "AccountingPeriod",
    "AuxiliaryDimension",
    "DimensionKind",
    "Voucher",
    "VoucherEntry",
    "VoucherReceipt",
]


class DimensionKind(StrEnum):
    """Auxiliary dimensions (辅助核算项目) a voucher line may carry."""

    CUSTOMER = "customer"  # 客户
    LOAN = "loan"  # the loan contract, usually a custom dimension in the ledger
    DEPARTMENT = "department"  # 部门
    EMPLOYEE = "employee"  # 员工
    SUPPLIER = "supplier"  # 供应商
    PRODUCT = "product"  # the loan product


class AuxiliaryDimension(BaseModel):
    """One dimension value of a line: which customer, which loan."""

    model_config = ConfigDict(frozen=True)

    kind: DimensionKind
    code: str = Field(min_length=1, description="the dimension's number in the ledger (FNumber)")
    name: str = ""


class AccountingPeriod(BaseModel):
    """A fiscal period (会计期间): year and period number (1-12, some ledgers use 13+)."""

    model_config = ConfigDict(frozen=True)

    year: int = Field(ge=1900, le=9999)
    period: int = Field(ge=1, le=16)

    @classmethod
    def of(cls, day: date) -> AccountingPeriod:
        """The calendar-month period a day falls in (most lenders' books)."""
        return cls(year=day.year, period=day.month)


class VoucherEntry(BaseModel):
    """One line: an account debited or credited; exactly one side is non-zero.

    Args:
        account_code: the ledger account number (科目编码), e.g. ``1303.01`` 贷款-本金.
        summary: the line's explanation (摘要).
        debit: amount debited, in the voucher's currency.
        credit: amount credited.
        dimensions: auxiliary dimensions of the line.
    """

    model_config = ConfigDict(frozen=True)

    account_code: str
    summary: str
    debit: Decimal = Decimal("0")
    credit: Decimal = Decimal("0")
    dimensions: tuple[AuxiliaryDimension, ...] = ()

    @model_validator(mode="after")
    def _one_side(self) -> VoucherEntry:
        if (self.debit == 0) == (self.credit == 0) or self.debit < 0 or self.credit < 0:
            raise ValueError("an entry has exactly one positive side, debit or credit")
        return self

    @property
    def amount(self) -> Decimal:
        """The line's non-zero side."""
        return self.debit or self.credit

    def dimension(self, kind: DimensionKind) -> AuxiliaryDimension | None:
        """The line's value for ``kind``, if any."""
        return next((d for d in self.dimensions if d.kind == kind), None)


class Voucher(BaseModel):
    """A balanced voucher; ``idempotency_key`` makes a repost yield the same voucher.

    Args:
        idempotency_key: the CRM's id for this posting (e.g. ``disburse:<loan id>``).
        booked_on: the voucher date.
        currency: ISO 4217 code of every amount.
        entries: at least two lines; debits equal credits.
        period: the fiscal period; the calendar month of ``booked_on`` when ``None``.
        voucher_word: 凭证字 (``记``, ``收``, ``付``, ``转``); the ledger default when ``None``.
        attachments: number of supporting documents (附件数).
        exchange_rate: rate to the book currency for foreign-currency vouchers.
    """

    model_config = ConfigDict(frozen=True)

    idempotency_key: str
    booked_on: date
    currency: str = "CNY"
    entries: tuple[VoucherEntry, ...]
    period: AccountingPeriod | None = None
    voucher_word: str | None = None
    attachments: int = Field(default=0, ge=0)
    exchange_rate: Decimal = Field(default=Decimal("1"), gt=0)

    @model_validator(mode="after")
    def _balanced(self) -> Voucher:
        if len(self.entries) < 2:
            raise ValueError("a voucher needs at least two entries")
        debit = sum((e.debit for e in self.entries), Decimal("0"))
        credit = sum((e.credit for e in self.entries), Decimal("0"))
        if debit != credit:
            raise ValueError(f"voucher does not balance: debit {debit} != credit {credit}")
        return self

    @property
    def total(self) -> Decimal:
        """Sum of the debit side (equal to the credit side)."""
        return sum((e.debit for e in self.entries), Decimal("0"))

    @property
    def fiscal_period(self) -> AccountingPeriod:
        """``period``, or the calendar month of ``booked_on``."""
        return self.period or AccountingPeriod.of(self.booked_on)


class VoucherReceipt(CanonicalModel):
    """The finance system's answer: its own voucher id and number.

    ``replayed`` is true when the voucher already existed for the idempotency key and nothing
    new was posted.
    """

    voucher_id: str
    voucher_number: str = ""
    idempotency_key: str = ""
    replayed: bool = False
    period: AccountingPeriod | None = None
