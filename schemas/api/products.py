"""HTTP contracts for loan products, their quotes and their application forms.

Amounts and rates travel as decimal strings (``"100000.00"``, ``"0.120000"``) in answers and are
accepted as strings or JSON numbers: a number is read through its shortest text (``0.1`` is 0.1,
not 0.1000000000000000055…), text must be plain notation, and NaN, infinities, negative values
and more decimals than the field allows (2 for amounts) are refused with a field error. Business
rules (rate cap, min ≤ max, 砍头息) are the domain's and come back as field errors too.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, PlainSerializer, StrictBool, StrictInt

__all__ = [
    "FeeRead",
    "FormPublished",
    "FormRead",
    "FormRule",
    "FormWrite",
    "PeriodicFeeWrite",
    "ProductCreate",
    "ProductRead",
    "ProductUpdate",
    "QuoteRead",
    "QuoteRequest",
    "ScheduleRowRead",
    "UpfrontFeeWrite",
]

_PLAIN = re.compile(r"^[+-]?\d+(\.\d+)?$")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")

RepaymentMethodName = Literal["equal_installment", "equal_principal", "interest_first", "bullet", "flat"]


def _plain_decimal(value: Any) -> Any:
    """Text must be plain decimal notation; numbers and Decimals pass on to pydantic's checks."""
    if isinstance(value, str):
        text = value.strip()
        if not _PLAIN.match(text):
            raise ValueError("expected a decimal in plain notation, e.g. 100000.00")
        return text
    return value


def _iso_date(value: Any) -> Any:
    """Only ``YYYY-MM-DD`` text is a date here: a number would be read as a Unix time."""
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str) and _ISO_DATE.match(value.strip()):
        return value.strip()
    raise ValueError("expected a date as YYYY-MM-DD")


_AsText = PlainSerializer(str, return_type=str, when_used="json")

Money = Annotated[
    Decimal,
    BeforeValidator(_plain_decimal),
    Field(gt=0, max_digits=15, decimal_places=2, allow_inf_nan=False, examples=["100000.00"]),
]
"""A positive amount, at most two decimals."""

Fraction = Annotated[
    Decimal,
    BeforeValidator(_plain_decimal),
    Field(ge=0, max_digits=12, decimal_places=6, allow_inf_nan=False, examples=["0.12"]),
]
"""A rate as a fraction (0.12 = 12 %), at most six decimals."""

FeeValue = Annotated[
    Decimal,
    BeforeValidator(_plain_decimal),
    Field(ge=0, max_digits=15, allow_inf_nan=False, examples=["0.01"]),
]
"""A fee: currency for ``fixed`` (two decimals), a fraction for ``rate`` (six) — checked by the domain."""

DecimalText = Annotated[Decimal, _AsText]
IsoDate = Annotated[date, BeforeValidator(_iso_date)]
Term = Annotated[StrictInt, Field(ge=1, le=480)]


class UpfrontFeeWrite(BaseModel):
    """A fee paid at disbursement: a fixed amount or a rate of the loan amount.

    ``collection`` is ``separate`` (the borrower pays it; the amount is disbursed whole). The
    other value, ``deducted`` (withheld from the disbursement), is refused: 砍头息.
    """

    model_config = ConfigDict(extra="forbid")

    kind: Literal["fixed", "rate"]
    value: FeeValue
    collection: Literal["separate", "deducted"] = "separate"


class PeriodicFeeWrite(BaseModel):
    """A fee due with every installment: a fixed amount, or a rate of the original amount per month."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["fixed", "rate"]
    value: FeeValue


class FeeRead(BaseModel):
    """A stored fee (``collection`` only for the upfront fee)."""

    kind: Literal["fixed", "rate"]
    value: DecimalText
    collection: Literal["separate", "deducted"] | None = None


class ProductCreate(BaseModel):
    """A new product; the settings below ``repayment_methods`` are optional."""

    model_config = ConfigDict(extra="forbid")

    code: str = Field(
        min_length=1, max_length=64, description="stable slug: lowercase letters, digits, - and _"
    )
    name: str = Field(min_length=1, max_length=200)
    min_amount: Money
    max_amount: Money
    terms_months: list[Term] = Field(min_length=1, max_length=24, description="the terms offered, in months")
    annual_rate: Fraction = Field(description="nominal annual rate as a fraction, 0 to 0.36")
    repayment_methods: list[RepaymentMethodName] = Field(min_length=1, max_length=5)
    upfront_fee: UpfrontFeeWrite | None = None
    periodic_fee: PeriodicFeeWrite | None = None
    grace_periods: StrictInt = Field(
        default=0, ge=0, le=479, description="interest-only periods at the start"
    )
    penalty_markup: Fraction = Field(
        default=Decimal("0.5"), description="default interest rate = contract rate × (1 + markup)"
    )
    flow_key: str | None = Field(
        default=None, max_length=100, description="the approval flow applications follow"
    )
    active: StrictBool = True


class ProductUpdate(BaseModel):
    """A change: only the settings given change (``null`` removes a fee or the flow key).

    ``version`` is the version the change was made on; when the product has moved on since, the
    answer is 409 and nothing changes. ``code`` cannot be changed.
    """

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=200)
    min_amount: Money | None = None
    max_amount: Money | None = None
    terms_months: list[Term] | None = Field(default=None, min_length=1, max_length=24)
    annual_rate: Fraction | None = None
    repayment_methods: list[RepaymentMethodName] | None = Field(default=None, min_length=1, max_length=5)
    upfront_fee: UpfrontFeeWrite | None = None
    periodic_fee: PeriodicFeeWrite | None = None
    grace_periods: StrictInt | None = Field(default=None, ge=0, le=479)
    penalty_markup: Fraction | None = None
    flow_key: str | None = Field(default=None, max_length=100)
    active: StrictBool | None = None
    version: StrictInt | None = Field(default=None, ge=1, le=2**31 - 1)


class ProductRead(BaseModel):
    """A product as stored, amounts and rates as decimal strings."""

    id: str
    code: str
    name: str
    min_amount: DecimalText
    max_amount: DecimalText
    terms_months: list[int]
    annual_rate: DecimalText
    repayment_methods: list[RepaymentMethodName]
    upfront_fee: FeeRead | None
    periodic_fee: FeeRead | None
    grace_periods: int
    penalty_markup: DecimalText
    flow_key: str | None
    active: bool
    version: int
    created_at: datetime
    updated_at: datetime


class QuoteRequest(BaseModel):
    """What to quote: an amount and term the product offers; the method defaults to the product's first."""

    model_config = ConfigDict(extra="forbid")

    amount: Money
    term_months: Term
    repayment_method: RepaymentMethodName | None = None
    start_date: IsoDate | None = Field(default=None, description="disbursement date; today (UTC) when absent")


class ScheduleRowRead(BaseModel):
    """One installment: due date, its parts, and the principal still owed after it."""

    period: int
    due_date: date
    installment: DecimalText
    principal: DecimalText
    interest: DecimalText
    fees: DecimalText
    remaining: DecimalText


class QuoteRead(BaseModel):
    """A full schedule with totals and the APR (fractions: ``"0.214572"`` is 21.4572 %)."""

    product_id: str
    product_code: str
    amount: DecimalText
    term_months: int
    repayment_method: RepaymentMethodName
    annual_rate: DecimalText
    start_date: date
    rows: list[ScheduleRowRead]
    total_principal: DecimalText
    total_interest: DecimalText
    upfront_fee: DecimalText
    total_fees: DecimalText
    total_repayment: DecimalText
    apr: DecimalText = Field(description="nominal APR: 12 × the monthly IRR of the borrower's cash flows")
    effective_annual_rate: DecimalText = Field(description="(1 + monthly IRR)^12 − 1")
    conventions: str = Field(description="day count, rounding and remainder rule of this schedule")


class FormRule(BaseModel):
    """A cross-field rule: when ``expression`` (CEL) is false, ``field`` gets ``message_code``."""

    name: str
    field: str
    expression: str
    message_code: str | None = None


class FormWrite(BaseModel):
    """A new form version: a JSON Schema (draft 2020-12) and rules.

    Each rule is ``{"name", "field", "expression", "message_code"?}``; rules may use ``form``,
    ``product``, ``applicant`` and ``today``. Problems come back as field errors such as
    ``rules[2].expression``.
    """

    model_config = ConfigDict(extra="forbid")

    json_schema: dict[str, Any]
    rules: list[Any] = Field(default_factory=list, max_length=100)


class FormRead(BaseModel):
    """One published form version."""

    product_id: str
    version: int
    json_schema: dict[str, Any]
    rules: list[FormRule]
    created_at: datetime
    created_by: str


class FormPublished(BaseModel):
    """The number a publication got."""

    product_id: str
    version: int
