"""The schedule engine: the reference figures to the cent, month-end dates, and properties that always hold."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import numpy_financial as npf
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.products.apr import annual_rates, monthly_irr
from core.products.schedule import Fee, FeeKind, RepaymentMethod, Terms, add_months, build_schedule

D = Decimal
START = date(2026, 1, 15)


def _schedule(method, amount="100000.00", months=12, rate="0.12", **extra):
    return build_schedule(Terms(D(amount), months, D(rate), RepaymentMethod(method), START, **extra))


# --- lending.md §4.5 reference figures -------------------------------------------------------


def test_equal_installment_reference_figures():
    s = _schedule("equal_installment")
    assert s.rows[0].installment == D("8884.88")
    assert (s.rows[0].interest, s.rows[0].principal) == (D("1000.00"), D("7884.88"))
    assert s.rows[1].interest == D("921.15")
    assert s.rows[-1].installment == D("8884.85")  # the last absorbs the rounding
    assert s.total_interest == D("6618.53")
    assert s.total_repayment == D("106618.53")


def test_equal_principal_reference_figures():
    s = _schedule("equal_principal")
    assert [r.installment for r in s.rows[:2]] == [D("9333.33"), D("9250.00")]
    assert s.rows[-1].installment == D("8416.70")
    assert s.rows[-1].principal == D("8333.37")
    assert s.total_interest == D("6500.00")


def test_interest_first_reference_figures():
    s = _schedule("interest_first")
    assert {r.installment for r in s.rows[:-1]} == {D("1000.00")}
    assert s.rows[-1].installment == D("101000.00")
    assert s.total_interest == D("12000.00")


def test_bullet_pays_once_at_maturity():
    s = _schedule("bullet")
    assert len(s.rows) == 1
    row = s.rows[0]
    assert (row.due_date, row.principal, row.interest, row.remaining) == (
        date(2027, 1, 15),
        D("100000.00"),
        D("12000.00"),
        D("0.00"),
    )


def test_flat_reference_figures_and_its_true_price():
    s = _schedule("flat")
    assert s.rows[0].installment == D("9333.33")
    assert s.total_interest == D("12000.00")
    assert s.apr.quantize(D("0.0001")) == D("0.2146")  # ≈ 21.46 % nominal, lending.md §4.5
    assert s.effective_annual_rate.quantize(D("0.001")) == D("0.237")  # "about 23.7 % effective"
    assert s.rows[-1].interest + 11 * s.rows[0].interest == D("12000.00")


def test_equal_installment_apr_is_the_contract_rate_without_fees():
    assert _schedule("equal_installment").apr == D("0.120000")
    assert _schedule("equal_principal").apr == D("0.120000")


# --- dates -----------------------------------------------------------------------------------


def test_due_dates_are_month_end_safe_and_computed_from_the_start():
    s = build_schedule(Terms(D("1200.00"), 4, D("0.12"), RepaymentMethod.EQUAL_PRINCIPAL, date(2024, 1, 31)))
    assert [r.due_date for r in s.rows] == [
        date(2024, 2, 29),
        date(2024, 3, 31),
        date(2024, 4, 30),
        date(2024, 5, 31),
    ]
    assert add_months(date(2023, 1, 31), 1) == date(2023, 2, 28)
    assert add_months(date(2024, 12, 31), 2) == date(2025, 2, 28)


# --- grace and fees --------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["equal_installment", "equal_principal", "flat"])
def test_grace_periods_pay_interest_only_then_amortise_over_the_rest(method):
    s = _schedule(method, grace_periods=3)
    assert [r.principal for r in s.rows[:3]] == [D("0.00")] * 3
    assert all(r.interest > 0 for r in s.rows[:3])
    assert all(r.principal > 0 for r in s.rows[3:])
    assert sum(r.principal for r in s.rows) == D("100000.00")


def test_equal_installment_with_grace_amortises_over_the_remaining_periods():
    s = _schedule("equal_installment", grace_periods=2)
    assert s.rows[0].installment == D("1000.00")
    expected = build_schedule(Terms(D("100000.00"), 10, D("0.12"), RepaymentMethod.EQUAL_INSTALLMENT, START))
    assert s.rows[2].installment == expected.rows[0].installment


def test_fees_enter_rows_totals_and_the_apr():
    s = _schedule(
        "equal_installment",
        upfront_fee=Fee(FeeKind.RATE, D("0.02")),
        periodic_fee=Fee(FeeKind.FIXED, D("10.00")),
    )
    assert s.upfront_fee == D("2000.00")
    assert {r.fees for r in s.rows} == {D("10.00")}
    assert s.rows[0].installment == D("8894.88")
    assert s.total_fees == D("2120.00")
    assert s.total_repayment == D("106618.53") + D("120.00")
    assert s.apr > D("0.16")  # 2 % up front on a 12-month loan costs about 4 points more


def test_a_bullet_collects_its_periodic_fees_with_the_one_payment():
    s = _schedule("bullet", periodic_fee=Fee(FeeKind.RATE, D("0.001")))
    assert s.rows[0].fees == D("1200.00")


def test_a_zero_rate_loan_costs_nothing():
    for method in RepaymentMethod:
        s = _schedule(method, rate="0")
        assert s.total_interest == D("0.00")
        assert s.apr == D("0.000000")


@pytest.mark.parametrize(
    "terms",
    [
        Terms(D("0"), 12, D("0.1"), RepaymentMethod.FLAT, START),
        Terms(D("100.001"), 12, D("0.1"), RepaymentMethod.FLAT, START),
        Terms(D("100"), 0, D("0.1"), RepaymentMethod.FLAT, START),
        Terms(D("100"), 12, D("-0.1"), RepaymentMethod.FLAT, START),
        Terms(D("100"), 12, D("0.1"), RepaymentMethod.FLAT, START, grace_periods=12),
    ],
)
def test_the_pure_function_guards_its_inputs(terms):
    with pytest.raises(ValueError):
        build_schedule(terms)


# --- properties ------------------------------------------------------------------------------

amounts = st.decimals(min_value=D("100.00"), max_value=D("50000000.00"), places=2, allow_nan=False)
tiny = st.decimals(min_value=D("0.01"), max_value=D("1.00"), places=2)
fees = (
    st.none()
    | st.builds(Fee, st.just(FeeKind.FIXED), st.decimals(min_value=D(0), max_value=D("50.00"), places=2))
    | st.builds(Fee, st.just(FeeKind.RATE), st.decimals(min_value=D(0), max_value=D("0.005"), places=4))
)


@st.composite
def loan_terms(draw):
    """Any loan; fees only on amounts of 100.00 and more (on 0.01, 50.00 a month has no APR)."""
    months = draw(st.integers(min_value=1, max_value=360))
    small = draw(st.booleans())
    return Terms(
        amount=draw(tiny if small else amounts),
        term_months=months,
        annual_rate=draw(st.decimals(min_value=D(0), max_value=D("0.36"), places=4)),
        method=draw(st.sampled_from(list(RepaymentMethod))),
        start_date=draw(st.dates(min_value=date(2000, 1, 1), max_value=date(2090, 12, 31))),
        grace_periods=draw(st.integers(min_value=0, max_value=months - 1)),
        periodic_fee=None if small else draw(fees),
    )


@settings(max_examples=300, deadline=None)
@given(loan_terms())
def test_principal_always_sums_to_the_amount_and_no_row_is_negative(terms):
    s = build_schedule(terms)
    assert sum(r.principal for r in s.rows) == terms.amount == s.total_principal
    assert s.rows[-1].remaining == D("0.00")
    for row in s.rows:
        assert min(row.installment, row.principal, row.interest, row.fees, row.remaining) >= 0
        assert row.installment == row.principal + row.interest + row.fees
        for value in (row.installment, row.principal, row.interest, row.fees):
            assert value == value.quantize(D("0.01"))
    dates = [r.due_date for r in s.rows]
    assert dates == sorted(set(dates))  # one row per date, in order
    assert s.total_repayment == sum(r.installment for r in s.rows)


# --- the APR against an independent oracle ---------------------------------------------------


def _oracle_apr(schedule) -> float:
    months = schedule.terms.term_months
    flows = [0.0] * (months + 1)
    flows[0] = float(schedule.terms.amount - schedule.upfront_fee)
    if len(schedule.rows) == 1:
        flows[months] = -float(schedule.rows[0].installment)
    else:
        for row in schedule.rows:
            flows[row.period] -= float(row.installment)
    return float(npf.irr(flows)) * 12


ORACLE_CASES = [
    ("equal_installment", "100000.00", 12, "0.12", None),
    ("equal_principal", "100000.00", 12, "0.12", None),
    ("interest_first", "50000.00", 24, "0.18", None),
    ("bullet", "20000.00", 6, "0.10", None),
    ("flat", "100000.00", 12, "0.12", None),
    ("flat", "8000.00", 36, "0.08", Fee(FeeKind.RATE, D("0.03"))),
    ("equal_installment", "300000.00", 360, "0.049", Fee(FeeKind.FIXED, D("1500.00"))),
    ("equal_principal", "1000.00", 3, "0.36", Fee(FeeKind.FIXED, D("20.00"))),
]


@pytest.mark.parametrize(("method", "amount", "months", "rate", "upfront"), ORACLE_CASES)
def test_apr_matches_numpy_financial(method, amount, months, rate, upfront):
    s = _schedule(method, amount, months, rate, upfront_fee=upfront)
    assert float(s.apr) == pytest.approx(_oracle_apr(s), abs=1e-6)  # both to the reported precision


@settings(max_examples=60, deadline=None)
@given(loan_terms())
def test_apr_matches_numpy_financial_on_random_loans(terms):
    s = build_schedule(terms)
    if s.total_interest + s.total_fees == 0 or s.upfront_fee >= terms.amount:
        return
    assert float(s.apr) == pytest.approx(_oracle_apr(s), abs=2e-6)


def test_irr_refuses_flows_that_cannot_have_one():
    with pytest.raises(ValueError):
        monthly_irr([(0, D("100")), (1, D("50"))])
    with pytest.raises(ValueError):
        annual_rates([(0, D("100")), (1, D("-1000000000"))])  # more than 10 000 % a month
