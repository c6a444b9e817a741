"""The APR (年化利率) of a schedule: the annualised internal rate of return of the borrower's cash.

人民银行公告〔2021〕第3号 requires a loan's 年化利率 to be shown: every cost the borrower bears,
over the money they really had the use of, annualised. LendHub computes it from the borrower's
own cash flows, month by month: at month 0 the amount received less any upfront fee, at month
*k* minus the installment due then (principal, interest and periodic fees). The monthly IRR
``i`` solves ``Σ flow_k / (1 + i)^k = 0``; the APR is ``12·i`` (nominal, as quotes show it) and
the effective annual rate ``(1 + i)^12 − 1``.

Method and precision: safeguarded Newton's method in binary floating point. The root is kept
inside a bracket, at first [−0.5, 100] per month, that always holds it; each step is Newton's
unless that would leave the bracket, then it bisects. It stops when a step moves the rate by
less than 1e-15 (Newton converges quadratically, so the rate is then exact to about that) or
the bracket is narrower than 1e-13 — typically 5 or 6 steps, each one pass over the flows. A
loan's flows change sign once (money in, then money out), so the NPV falls monotonically in
the rate and the root is unique; the bracket makes the method unable to miss it or diverge.
The result is rounded half-up to 6 decimal places of a fraction (0.0001 percentage point), far
coarser than the solver's error. Floats are right here: the APR is a disclosure figure computed
from Decimal amounts, never an amount itself. Tests check it against
numpy-financial's ``irr``.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal, localcontext

__all__ = ["PRECISION", "annual_rates", "monthly_irr"]

#: Reported APRs are fractions to 6 places (0.214584 = 21.4584 %).
PRECISION = Decimal("0.000001")

_LOW, _HIGH, _WIDTH, _STEP, _MAX_STEPS = -0.5, 100.0, 1e-13, 1e-15, 200


def _npv_and_slope(rate: float, flows: Sequence[tuple[int, float]]) -> tuple[float, float]:
    """NPV and its derivative in ``rate``; ``flows`` sorted by month, factors built by multiplication."""
    discount = 1.0 / (1.0 + rate)
    total, slope, factor, previous = 0.0, 0.0, 1.0, 0
    for month, amount in flows:
        factor *= discount if month - previous == 1 else discount ** (month - previous)
        previous = month
        total += amount * factor
        slope -= month * amount * factor * discount
    return total, slope


def monthly_irr(flows: Sequence[tuple[int, Decimal]]) -> float:
    """The monthly rate at which ``flows`` (month offset, signed amount) are worth nothing today.

    Raises:
        ValueError: the flows do not change sign, or no rate in [−50 %, 10 000 %] per month
            balances them.
    """
    as_float = sorted((month, float(amount)) for month, amount in flows if amount != 0)
    if not (any(a > 0 for _, a in as_float) and any(a < 0 for _, a in as_float)):
        raise ValueError("an IRR needs money both received and paid")
    low, high = _LOW, _HIGH
    try:
        npv_low, _ = _npv_and_slope(low, as_float)
        npv_high, _ = _npv_and_slope(high, as_float)
    except OverflowError as exc:  # flows centuries apart: no loan LendHub quotes
        raise ValueError("these flows are too far apart to discount") from exc
    if npv_low == 0:
        return low
    if (npv_low > 0) == (npv_high > 0):
        raise ValueError("no rate in range balances these flows")
    rate = 0.01
    for _ in range(_MAX_STEPS):
        npv, slope = _npv_and_slope(rate, as_float)
        if npv == 0:
            return rate
        if (npv > 0) == (npv_low > 0):
            low = rate
        else:
            high = rate
        following = rate - npv / slope if slope else low - 1.0
        if not low < following < high:
            following = (low + high) / 2  # Newton would leave the bracket: bisect instead
        if abs(following - rate) < _STEP or high - low < _WIDTH:
            return following
        rate = following
    return rate


def _rounded(value: float) -> Decimal:
    with localcontext() as context:
        context.prec = 60  # an absurd price (10 000 % a month compounds to 1e24) still rounds
        rounded = Decimal(repr(value)).quantize(PRECISION, rounding=ROUND_HALF_UP)
        return rounded + 0  # -0.000000 → 0.000000


def annual_rates(flows: Sequence[tuple[int, Decimal]]) -> tuple[Decimal, Decimal]:
    """The nominal APR ``12 × i`` and the effective annual rate ``(1 + i)^12 − 1`` of ``flows``.

    Both are fractions rounded to 6 places; ``i`` is :func:`monthly_irr`.
    """
    monthly = monthly_irr(flows)
    return _rounded(12 * monthly), _rounded((1 + monthly) ** 12 - 1)
