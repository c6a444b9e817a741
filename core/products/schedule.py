"""Repayment schedules (还款计划): five methods, Decimal only, exact to the cent.

Pure functions: terms in, a :class:`Schedule` out; no database, no clock. The conventions, the
same for every method, are the contract a quote shows and a test pins:

* **Periods** are calendar months. Period *k* is due *k* months after ``start_date`` on the same
  day of the month, or the month's last day when it has fewer days (Jan 31 → Feb 28/29 → Mar 31:
  each date is computed from the start, so a short month never drags the later ones).
* **Rate**: the periodic rate is ``annual_rate / 12`` (月利率 = 年利率/12), every month alike (30/360);
  there is no broken first period.
* **Rounding**: every interest, principal and fee amount is rounded to the cent with
  ``ROUND_HALF_UP`` when it is computed; the **last** period takes whatever principal is left, so
  principal sums exactly to the amount and the balance ends at 0.00.
* **Fees**: an upfront fee (fixed, or a rate of the amount) is paid at disbursement, by the
  borrower, on top — never withheld from the amount (see ``core.products.rules``, 砍头息); a
  periodic fee (fixed, or a rate of the *original* amount per month) is part of each installment.
* **Grace** (``grace_periods = g``): for equal installment, equal principal and flat, periods
  1..g pay interest (and fees) only and principal is repaid over the remaining ``n − g``.
  Interest-first already pays only interest until the end, and a bullet pays once, so grace does
  not change them.

The methods (repayment method slugs are fixed by the product brief):

``equal_installment`` 等额本息
    ``A = P·r·(1+r)^m / ((1+r)^m − 1)`` over the ``m = n − g`` amortising periods, rounded to the
    cent; each period's interest is ``round(B·r)`` on the balance before it and principal is
    ``A − interest``; the last period repays the balance (its installment differs by cents).
``equal_principal`` 等额本金
    principal ``round(P/m)`` each period (the last takes the remainder), interest ``round(B·r)``.
``interest_first`` 先息后本
    interest ``round(P·r)`` every period, all principal with the last.
``bullet`` 一次性还本付息
    one payment at month ``n``: principal plus ``round(P·r·n)`` interest (and ``n`` periodic fees).
``flat`` 等本等息 / 平息
    interest on the *original* amount: the total ``round(P·r·n)`` is spread as ``round(total/n)``
    per period (the last takes the rest); principal as for equal principal. Cheap-looking and
    expensive: its APR (below) is what the law makes lenders show.

The APR (年化利率) is the borrower's internal rate of return, annualised: see ``core.products.apr``.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, localcontext
from enum import StrEnum

from .apr import annual_rates

__all__ = [
    "CENT",
    "Fee",
    "FeeKind",
    "Installment",
    "RepaymentMethod",
    "Schedule",
    "Terms",
    "add_months",
    "build_schedule",
    "cents",
]

CENT = Decimal("0.01")
ZERO = Decimal("0.00")


class RepaymentMethod(StrEnum):
    """How principal and interest are spread over the periods (slugs fixed by the product brief)."""

    EQUAL_INSTALLMENT = "equal_installment"
    EQUAL_PRINCIPAL = "equal_principal"
    INTEREST_FIRST = "interest_first"
    BULLET = "bullet"
    FLAT = "flat"


class FeeKind(StrEnum):
    """A fee is a fixed amount, or a rate (a fraction: 0.01 = 1 %) of the loan amount."""

    FIXED = "fixed"
    RATE = "rate"


@dataclass(frozen=True)
class Fee:
    """One fee: ``FIXED`` with ``value`` in currency, or ``RATE`` with ``value`` a fraction of the amount."""

    kind: FeeKind
    value: Decimal

    def on(self, amount: Decimal) -> Decimal:
        """The fee for a loan of ``amount``, to the cent."""
        return cents(self.value if self.kind is FeeKind.FIXED else amount * self.value)


@dataclass(frozen=True)
class Terms:
    """What a schedule is built from: one loan's amount, term, price and method."""

    amount: Decimal
    term_months: int
    annual_rate: Decimal
    method: RepaymentMethod
    start_date: date
    grace_periods: int = 0
    upfront_fee: Fee | None = None
    periodic_fee: Fee | None = None


@dataclass(frozen=True)
class Installment:
    """One row: what is due on ``due_date`` and the principal still owed after paying it."""

    period: int
    due_date: date
    installment: Decimal
    principal: Decimal
    interest: Decimal
    fees: Decimal
    remaining: Decimal


@dataclass(frozen=True)
class Schedule:
    """The rows and their totals; ``apr`` and ``effective_annual_rate`` are fractions (0.2146 = 21.46 %).

    ``total_fees`` counts the upfront fee and every periodic fee; ``total_repayment`` is what the
    installments add up to (principal + interest + periodic fees), the upfront fee not included.
    """

    terms: Terms
    rows: tuple[Installment, ...]
    total_principal: Decimal
    total_interest: Decimal
    upfront_fee: Decimal
    total_fees: Decimal
    total_repayment: Decimal
    apr: Decimal
    effective_annual_rate: Decimal


def cents(value: Decimal) -> Decimal:
    """``value`` rounded to the cent, half up (the one rounding rule of every schedule)."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def add_months(start: date, months: int) -> date:
    """``months`` calendar months after ``start``, on the month's last day when the day is missing."""
    index = start.year * 12 + start.month - 1 + months
    year, month = divmod(index, 12)
    return date(year, month + 1, min(start.day, calendar.monthrange(year, month + 1)[1]))


def _annuity(principal: Decimal, rate: Decimal, periods: int) -> Decimal:
    if rate == 0:
        return cents(principal / periods)
    with localcontext() as context:
        context.prec = 40
        growth = (1 + rate) ** periods
        return cents(principal * rate * growth / (growth - 1))


def _parts(terms: Terms) -> list[tuple[Decimal, Decimal]]:
    """(principal, interest) per period, before fees."""
    amount, n, g = terms.amount, terms.term_months, terms.grace_periods
    rate = terms.annual_rate / 12
    method = terms.method
    if method is RepaymentMethod.BULLET:
        return [(amount, cents(amount * rate * n))]
    if method is RepaymentMethod.INTEREST_FIRST:
        interest = cents(amount * rate)
        return [(ZERO, interest)] * (n - 1) + [(amount, interest)]
    amortising = n - g
    parts: list[tuple[Decimal, Decimal]] = []
    balance = amount
    if method is RepaymentMethod.FLAT:
        total_interest = cents(amount * rate * n)
        flat_interest = cents(total_interest / n)
        flat_principal = cents(amount / amortising)
        interest_left = total_interest
        for period in range(1, n + 1):
            last = period == n
            principal = ZERO if period <= g else (balance if last else min(flat_principal, balance))
            interest = interest_left if last else min(flat_interest, interest_left)
            parts.append((principal, interest))
            balance -= principal
            interest_left -= interest
        return parts
    annuity = _annuity(amount, rate, amortising)
    equal_principal = cents(amount / amortising)
    for period in range(1, n + 1):
        interest = cents(balance * rate)
        if period <= g:
            principal = ZERO
        elif period == n:
            principal = balance
        elif method is RepaymentMethod.EQUAL_INSTALLMENT:
            principal = min(annuity - interest, balance)
        else:
            principal = min(equal_principal, balance)
        parts.append((principal, interest))
        balance -= principal
    return parts


def _check(terms: Terms) -> None:
    if terms.amount <= 0 or terms.amount != cents(terms.amount):
        raise ValueError("amount must be positive, to the cent")
    if terms.term_months < 1:
        raise ValueError("term_months must be at least 1")
    if terms.annual_rate < 0:
        raise ValueError("annual_rate must not be negative")
    if not 0 <= terms.grace_periods < terms.term_months:
        raise ValueError("grace_periods must be at least 0 and less than the term")


def build_schedule(terms: Terms) -> Schedule:
    """The full schedule of ``terms``, with totals and APR.

    Raises:
        ValueError: an amount that is not positive or not to the cent, a term below one month, a
            negative rate, or grace periods not shorter than the term (the service checks these
            first, with field errors; this guards the pure function); and fees so far above the
            amount that no rate up to 10 000 % a month prices them (product rules refuse such fees).
    """
    _check(terms)
    parts = _parts(terms)
    months = terms.term_months
    period_fee = terms.periodic_fee.on(terms.amount) if terms.periodic_fee else ZERO
    upfront = terms.upfront_fee.on(terms.amount) if terms.upfront_fee else ZERO
    rows: list[Installment] = []
    balance = terms.amount
    for index, (principal, interest) in enumerate(parts, start=1):
        single = len(parts) == 1
        fees = period_fee * months if single else period_fee
        balance -= principal
        rows.append(
            Installment(
                period=index,
                due_date=add_months(terms.start_date, months if single else index),
                installment=principal + interest + fees,
                principal=principal,
                interest=interest,
                fees=fees,
                remaining=balance,
            )
        )
    offsets = [months] if len(rows) == 1 else list(range(1, months + 1))
    flows = [
        (0, terms.amount - upfront),
        *((m, -row.installment) for m, row in zip(offsets, rows, strict=True)),
    ]
    total_interest = sum((row.interest for row in rows), ZERO)
    total_fees = upfront + sum((row.fees for row in rows), ZERO)
    apr, effective = annual_rates(flows)
    return Schedule(
        terms=terms,
        rows=tuple(rows),
        total_principal=sum((row.principal for row in rows), ZERO),
        total_interest=total_interest,
        upfront_fee=upfront,
        total_fees=total_fees,
        total_repayment=sum((row.installment for row in rows), ZERO),
        apr=apr,
        effective_annual_rate=effective,
    )
