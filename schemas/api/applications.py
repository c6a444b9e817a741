"""HTTP contracts for loan applications, their history, the gates of a product and the policy.

Amounts travel as decimal strings (``"100000.00"``) in answers and are accepted as strings or
JSON numbers, exactly as for products. Form ``values`` are a JSON object of at most 64 KB; the
application's own ``amount``, ``term_months``, ``repayment_method`` and ``purpose`` are set on
the application, never among the values.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StrictInt, field_validator

from .products import DecimalText, Money, RepaymentMethodName, Term

__all__ = [
    "ApplicationCreate",
    "ApplicationPage",
    "ApplicationRead",
    "ApplicationSummary",
    "ApplicationUpdate",
    "GateItem",
    "GatesRead",
    "GatesWrite",
    "PolicyRead",
    "PolicyWrite",
    "SubmitRequest",
    "TransitionRead",
    "TransitionRequest",
]

MAX_VALUES_BYTES = 64 * 1024
Version = Annotated[StrictInt, Field(ge=1, le=2**31 - 1)]
ReasonCode = Annotated[str, Field(min_length=1, max_length=50, pattern=r"^[a-z][a-z0-9_.-]*$")]


def _small(value: dict[str, Any] | None) -> dict[str, Any] | None:
    if value is not None and len(json.dumps(value, ensure_ascii=False).encode()) > MAX_VALUES_BYTES:
        raise ValueError(f"values are larger than {MAX_VALUES_BYTES} bytes")
    return value


class ApplicationCreate(BaseModel):
    """A new draft for a customer within your scope and an active product.

    The product's current form version is kept for the application's whole life; the values are
    checked against it when the application is submitted (a draft may be incomplete).
    """

    model_config = ConfigDict(extra="forbid")

    customer_id: Annotated[str, Field(max_length=36)]
    product_id: Annotated[str, Field(max_length=36)]
    amount: Money
    term_months: Term
    repayment_method: RepaymentMethodName | None = Field(None, description="the product's first when absent")
    purpose: Annotated[str, Field(max_length=200)] | None = None
    values: dict[str, Any] = Field(default_factory=dict, description="the form's values (at most 64 KB)")

    @field_validator("values")
    @classmethod
    def _small_values(cls, value: dict[str, Any]) -> dict[str, Any]:
        _small(value)
        return value


class ApplicationUpdate(BaseModel):
    """A change of a draft or returned application; ``values`` replace the whole form.

    ``version`` (from a read) refuses the change if someone changed the application since.
    """

    model_config = ConfigDict(extra="forbid")

    amount: Money | None = None
    term_months: Term | None = None
    repayment_method: RepaymentMethodName | None = None
    purpose: Annotated[str, Field(max_length=200)] | None = Field(None, description='"" clears it')
    values: dict[str, Any] | None = None
    version: Version | None = None

    @field_validator("values")
    @classmethod
    def _small_values(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        return _small(value)


class SubmitRequest(BaseModel):
    """Optionally, the ``version`` you read: a change made meanwhile refuses the submission."""

    model_config = ConfigDict(extra="forbid")

    version: Version | None = None


class TransitionRequest(BaseModel):
    """A move to status ``to``; returning needs a ``reason``, rejecting ``reason_codes``."""

    model_config = ConfigDict(extra="forbid")

    to: Annotated[str, Field(max_length=30, examples=["in_review"])]
    reason: Annotated[str, Field(max_length=500)] | None = None
    reason_codes: list[ReasonCode] = Field(
        default_factory=list, max_length=10, examples=[["income_unverified"]]
    )
    version: Version | None = None


class ApplicationRead(BaseModel):
    """An application as a reader within its scope sees it; ``values`` only on a single read."""

    id: str
    customer_id: str
    product_id: str
    product_code: str
    form_version: int | None = Field(description="the form version it is filled with, kept for good")
    amount: DecimalText
    term_months: int
    repayment_method: str
    purpose: str | None
    values: dict[str, Any] | None = Field(None, description="the form's values (absent in lists)")
    channel: str
    channel_partner: str | None
    lead_id: str | None
    status: str
    next_statuses: list[str] = Field(description="statuses the state table allows from this one")
    stage: str | None
    flow_key: str | None
    flow_version: int | None
    owner: str | None = Field(description="username of the officer")
    branch: str | None = Field(description="branch code")
    created_by: str
    submitted_at: datetime | None
    decided_at: datetime | None
    expires_at: datetime | None = Field(description="when a draft or returned application expires untouched")
    version: int
    created_at: datetime
    updated_at: datetime


class ApplicationPage(BaseModel):
    """One page of applications and how many match in all."""

    items: list[ApplicationRead]
    total: int = Field(description="how many match, counted up to 10,000")
    total_exact: bool = Field(description="false when more than 10,000 match (show 10,000+)")
    limit: int
    offset: int


class TransitionRead(BaseModel):
    """One status change (the first, from nothing, is the draft's creation)."""

    from_status: str | None
    to_status: str
    actor: str
    reason: str | None
    reason_codes: list[str]
    stage: str | None
    at: datetime


class ApplicationSummary(BaseModel):
    """An application as the customer's 360° view lists it (no form values)."""

    id: str
    product_id: str
    product_code: str
    amount: str
    term_months: int
    status: str
    stage: str | None
    channel: str
    created_at: datetime
    submitted_at: datetime | None
    decided_at: datetime | None


class GateItem(BaseModel):
    """Before entering ``before``, gate kind ``gate`` checks the application with ``params``."""

    model_config = ConfigDict(extra="forbid")

    before: Annotated[str, Field(max_length=30, examples=["submitted"])]
    gate: Annotated[str, Field(max_length=50, examples=["required_fields"])]
    params: dict[str, Any] = Field(default_factory=dict, examples=[{"fields": ["income.monthly"]}])


class GatesWrite(BaseModel):
    """The product's whole gate list (it replaces the one there is; ``[]`` removes every gate)."""

    model_config = ConfigDict(extra="forbid")

    gates: list[GateItem] = Field(max_length=50)


class GatesRead(BaseModel):
    """The product's gates, and the kinds and states this installation offers."""

    product_id: str
    gates: list[GateItem]
    kinds: list[str]
    states: list[str]


class PolicyWrite(BaseModel):
    """The lender's application settings."""

    model_config = ConfigDict(extra="forbid")

    draft_expiry_days: StrictInt = Field(ge=1, le=365, description="days untouched before a draft expires")


class PolicyRead(BaseModel):
    """The settings in force."""

    draft_expiry_days: int
    updated_at: datetime | None
    updated_by: str | None
