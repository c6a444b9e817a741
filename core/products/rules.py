"""What makes a product valid: every rule at once, as field errors a person can act on.

Product configuration is where lenders get stuck (a hidden mandatory field, "Invalid
parameters"); so every problem is reported, each naming its field and a catalog code.

The price rules:

* ``annual_rate`` is a fraction between 0 and 0.36. 36 % is LendHub's outer bound, not a target:
  Chinese courts protect private-lending interest only up to **4× the one-year LPR** at the time
  of the contract (最高人民法院《关于审理民间借贷案件适用法律若干问题的规定》, 2020 revision), and
  licensed lenders are supervised to keep the all-in cost (综合融资成本) at or under 24 %. A
  lender sets its own lower limit by policy; LendHub refuses what no lender may charge.
* The all-in price counts, not only the rate: a product whose **APR** — interest and every fee —
  exceeds 36 % for any of its methods and terms at its minimum amount (where fixed fees weigh
  most) is refused (``products.apr_over_cap``), so fees cannot carry interest past the cap.

砍头息 (deducting interest from the principal up front): 《民法典》Art. 670 forbids deducting
interest from the principal in advance — the loan is then only the amount really delivered — and
the 2017 rules on cash loans (整治办函〔2017〕141号) forbid deducting interest, handling,
management fees or deposits from the principal. So LendHub refuses exactly this: an upfront fee
with ``"collection": "deducted"``, i.e. withheld from the disbursement while interest accrues on
the full amount (``products.deducted_upfront_fee``). Allowed: an upfront fee the borrower pays
separately (``"collection": "separate"``, the default), periodic fees, and grace periods (interest
is paid in arrears, never in advance) — all of them counted in the APR shown on every quote.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from .schedule import Fee, FeeKind, RepaymentMethod, Terms, build_schedule

__all__ = [
    "MAX_AMOUNT",
    "MAX_ANNUAL_RATE",
    "MAX_TERM_MONTHS",
    "ProductDraft",
    "fee_from_json",
    "product_errors",
]

MAX_ANNUAL_RATE = Decimal("0.36")
MAX_AMOUNT = Decimal("9999999999999.99")  # what Numeric(18, 2) and a double's 15 digits both hold
MAX_TERM_MONTHS = 480
MAX_TERMS = 24
MAX_PENALTY_MARKUP = Decimal("1")  # 银发〔2003〕251号: overdue +30–50 %, misuse of funds +50–100 %
CODE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
FLOW_KEY = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,99}$")
COLLECTIONS = ("separate", "deducted")
_APR_PROBE_START = date(2026, 1, 1)  # any date: the APR of a 30/360 schedule does not depend on it


@dataclass(frozen=True)
class ProductDraft:
    """A product's settings as the service receives them (parsed, not yet checked)."""

    code: str
    name: str
    min_amount: Decimal
    max_amount: Decimal
    terms_months: Sequence[int]
    annual_rate: Decimal
    repayment_methods: Sequence[str]
    upfront_fee: dict[str, Any] | None = None
    periodic_fee: dict[str, Any] | None = None
    grace_periods: int = 0
    penalty_markup: Decimal = Decimal("0.5")
    flow_key: str | None = None
    active: bool = True


def fee_from_json(value: dict[str, Any] | None) -> Fee | None:
    """The stored fee object as a :class:`Fee` (``None`` for no fee)."""
    if value is None:
        return None
    return Fee(FeeKind(value["kind"]), Decimal(str(value["value"])))


def _error(field: str, code: str, **params: Any) -> dict[str, Any]:
    return {"field": field, "code": code, "params": params}


def _decimals(value: Decimal) -> int:
    exponent = value.as_tuple().exponent
    return -exponent if isinstance(exponent, int) and exponent < 0 else 0


def _fee_errors(field: str, fee: dict[str, Any] | None, *, upfront: bool) -> list[dict[str, Any]]:
    if fee is None:
        return []
    errors = []
    kind, value = fee.get("kind"), fee.get("value")
    if kind not in (FeeKind.FIXED, FeeKind.RATE):
        errors.append(_error(f"{field}.kind", "products.fee_kind", allowed="fixed, rate"))
    if (
        not isinstance(value, Decimal)
        or not value.is_finite()
        or value < 0
        or (kind == FeeKind.FIXED and (_decimals(value) > 2 or value > MAX_AMOUNT))
    ):
        errors.append(_error(f"{field}.value", "products.fee_value", max=str(MAX_AMOUNT)))
    elif kind == FeeKind.RATE and (value >= 1 or _decimals(value) > 6):
        errors.append(_error(f"{field}.value", "products.fee_rate"))
    collection = fee.get("collection", "separate")
    if upfront and collection not in COLLECTIONS:
        errors.append(
            _error(f"{field}.collection", "products.fee_collection", allowed=", ".join(COLLECTIONS))
        )
    elif upfront and collection == "deducted":
        errors.append(_error(f"{field}.collection", "products.deducted_upfront_fee"))
    extra = set(fee) - {"kind", "value", *(("collection",) if upfront else ())}
    errors += [_error(f"{field}.{name}", "products.unknown_setting") for name in sorted(extra)]
    return errors


def product_errors(draft: ProductDraft) -> list[dict[str, Any]]:
    """Every rule ``draft`` breaks, as ``{"field", "code", "params"}`` entries (empty when valid)."""
    errors: list[dict[str, Any]] = []
    if not CODE.match(draft.code):
        errors.append(_error("code", "products.code_format"))
    if not draft.name.strip() or len(draft.name) > 200:
        errors.append(_error("name", "products.name_length"))
    amounts_ok = True
    for field in ("min_amount", "max_amount"):
        value: Decimal = getattr(draft, field)
        if not value.is_finite() or value <= 0 or value > MAX_AMOUNT or _decimals(value) > 2:
            errors.append(_error(field, "products.amount_invalid", max=str(MAX_AMOUNT)))
            amounts_ok = False
    if amounts_ok and draft.min_amount > draft.max_amount:
        errors.append(_error("max_amount", "products.min_over_max", min=str(draft.min_amount)))
    terms = list(draft.terms_months)
    terms_ok = bool(terms) and len(terms) <= MAX_TERMS
    if not terms_ok:
        errors.append(_error("terms_months", "products.terms_count", max=MAX_TERMS))
    for index, term in enumerate(terms):
        if isinstance(term, bool) or not isinstance(term, int) or not 1 <= term <= MAX_TERM_MONTHS:
            errors.append(_error(f"terms_months.{index}", "products.term_invalid", max=MAX_TERM_MONTHS))
            terms_ok = False
        elif term in terms[:index]:
            errors.append(_error(f"terms_months.{index}", "products.term_duplicate", term=term))
    rate = draft.annual_rate
    rate_ok = rate.is_finite() and 0 <= rate <= MAX_ANNUAL_RATE and _decimals(rate) <= 6
    if not rate_ok:
        errors.append(_error("annual_rate", "products.rate_out_of_range", max=str(MAX_ANNUAL_RATE)))
    methods = list(draft.repayment_methods)
    known = {m.value for m in RepaymentMethod}
    if not methods:
        errors.append(_error("repayment_methods", "products.methods_empty"))
    for index, method in enumerate(methods):
        if method not in known:
            errors.append(
                _error(
                    f"repayment_methods.{index}", "products.method_unknown", allowed=", ".join(sorted(known))
                )
            )
        elif method in methods[:index]:
            errors.append(_error(f"repayment_methods.{index}", "products.method_duplicate", method=method))
    fee_errors = _fee_errors("upfront_fee", draft.upfront_fee, upfront=True)
    fee_errors += _fee_errors("periodic_fee", draft.periodic_fee, upfront=False)
    errors += fee_errors
    if terms_ok and not 0 <= draft.grace_periods < min(terms):
        errors.append(_error("grace_periods", "products.grace_too_long", shortest=min(terms)))
    elif not terms_ok and draft.grace_periods < 0:
        errors.append(_error("grace_periods", "products.grace_too_long", shortest=0))
    markup = draft.penalty_markup
    if not markup.is_finite() or not 0 <= markup <= MAX_PENALTY_MARKUP or _decimals(markup) > 6:
        errors.append(_error("penalty_markup", "products.penalty_markup", max=str(MAX_PENALTY_MARKUP)))
    if draft.flow_key is not None and not FLOW_KEY.match(draft.flow_key):
        errors.append(_error("flow_key", "products.flow_key_format"))
    if not errors:
        errors += _apr_errors(draft)
    return errors


def _apr_errors(draft: ProductDraft) -> list[dict[str, Any]]:
    """The worst APR over methods × terms at the minimum amount, refused above the cap."""
    upfront = fee_from_json(draft.upfront_fee)
    if upfront is not None and upfront.on(draft.min_amount) >= draft.min_amount:
        return [_error("upfront_fee.value", "products.fee_exceeds_amount", amount=str(draft.min_amount))]
    worst: tuple[Decimal, str, int] | None = None
    for method in draft.repayment_methods:
        for term in draft.terms_months:
            try:
                schedule = build_schedule(
                    Terms(
                        amount=draft.min_amount,
                        term_months=term,
                        annual_rate=draft.annual_rate,
                        method=RepaymentMethod(method),
                        start_date=_APR_PROBE_START,
                        grace_periods=draft.grace_periods,
                        upfront_fee=upfront,
                        periodic_fee=fee_from_json(draft.periodic_fee),
                    )
                )
            except ValueError:  # no rate balances the flows: the fees exceed any sane price
                return [
                    _error(
                        "annual_rate", "products.apr_over_cap", apr="∞", method=method, term=term, cap="36"
                    )
                ]
            if worst is None or schedule.apr > worst[0]:
                worst = (schedule.apr, method, term)
    if worst is not None and worst[0] > MAX_ANNUAL_RATE:
        apr, method, term = worst
        return [
            _error(
                "annual_rate",
                "products.apr_over_cap",
                apr=f"{apr * 100:.2f}",
                method=method,
                term=term,
                cap=f"{MAX_ANNUAL_RATE * 100:.0f}",
            )
        ]
    return []
