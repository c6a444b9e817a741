"""Accounting vouchers sent to the finance system (first version)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, model_validator

from .common import CanonicalModel

__all__ = ["Voucher", "VoucherEntry", "VoucherReceipt"]


class VoucherEntry(BaseModel):
    """One line: an account debited or credited; exactly one side is non-zero."""

    model_config = ConfigDict(frozen=True)

    account_code: str
    summary: str
    debit: Decimal = Decimal("0")
    credit: Decimal = Decimal("0")

    @model_validator(mode="after")
    def _one_side(self) -> VoucherEntry:
        if (self.debit == 0) == (self.credit == 0) or self.debit < 0 or self.credit < 0:
            raise ValueError("an entry has exactly one positive side, debit or credit")
        return self


class Voucher(BaseModel):
    """A balanced voucher; ``idempotency_key`` makes a repost yield the same voucher."""

    model_config = ConfigDict(frozen=True)

    idempotency_key: str
    booked_on: date
    currency: str = "CNY"
    entries: tuple[VoucherEntry, ...]

    @model_validator(mode="after")
    def _balanced(self) -> Voucher:
        if len(self.entries) < 2:
            raise ValueError("a voucher needs at least two entries")
        debit = sum((e.debit for e in self.entries), Decimal("0"))
        credit = sum((e.credit for e in self.entries), Decimal("0"))
        if debit != credit:
            raise ValueError(f"voucher does not balance: debit {debit} != credit {credit}")
        return self


class VoucherReceipt(CanonicalModel):
    """The finance system's answer: its own voucher number."""

    voucher_id: str
    voucher_number: str = ""
