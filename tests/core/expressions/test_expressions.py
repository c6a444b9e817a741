"""CEL expressions: refused at compile time with the position, evaluated with Python values both ways."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from core.expressions import MAX_LENGTH, ExpressionError, compile_expression


def _error(text, declared=None, values=None) -> ExpressionError:
    with pytest.raises(ExpressionError) as caught:
        expression = compile_expression(text, declared or {})
        expression.evaluate(values or {})
    return caught.value


def _eval(text, **values):
    return compile_expression(text, {name: object for name in values}).evaluate(values)


# --- compile-time refusals -------------------------------------------------------------------


def test_a_syntax_error_names_the_line_and_column():
    error = _error("amount <=\n  && term > 3", {"amount": Decimal, "term": int})
    assert error.code == "expressions.syntax"
    assert (error.line, error.column) == (2, 3)


def test_an_undeclared_name_is_refused_with_its_name_and_position():
    error = _error("amount <= 500000 && temr in [12, 24]", {"amount": Decimal, "term": int})
    assert error.code == "expressions.undeclared"
    assert (error.name, error.line, error.column) == ("temr", 1, 21)
    assert "amount, term" in error.detail  # says what is declared


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("__import__('os').system('true')", "__import__"),  # not Python: just an unknown function
        ("exec('1')", "exec"),
        ("form.income.frobnicate()", "frobnicate"),
        ("[1].reduce(a, b, 0, a + b)", "reduce"),  # a cel-python extension, not standard CEL
    ],
)
def test_unknown_functions_and_methods_are_refused_at_compile_time(text, name):
    error = _error(text, {"form": dict})
    assert (error.code, error.name) == ("expressions.unknown_function", name)


def test_comprehension_variables_are_bound_only_inside_their_macro():
    assert compile_expression("xs.all(x, x > 0) && xs.exists(y, y == 2)", {"xs": list}).names == {"xs"}
    assert _error("xs.all(x, x > 0) && x > 1", {"xs": list}).code == "expressions.undeclared"
    assert _error("xs.all(x > 0)", {"xs": list}).code == "expressions.macro"


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("", "expressions.empty"),
        ("   ", "expressions.empty"),
        ("1 + ", "expressions.syntax"),
        ("a &&& b", "expressions.syntax"),
        ("let x = 1", "expressions.syntax"),
        ("google.protobuf.Int32Value{value: 1}", "expressions.unsupported"),
        ("1 +" + " 1 +" * (MAX_LENGTH // 4) + " 1", "expressions.too_long"),
        ("(" * 600 + "1" + ")" * 600, "expressions.too_complex"),
    ],
)
def test_bad_text_is_refused_with_a_code(text, code):
    assert _error(text).code == code


def test_only_the_names_really_used_must_be_supplied():
    expression = compile_expression("form.amount > 0", {"form": dict, "applicant": dict})
    assert expression.names == {"form"}
    assert expression.evaluate({"form": {"amount": 1}}) is True


# --- evaluation ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "amount", "expected"),
    [
        ("amount <= 500000", Decimal("500000.00"), True),
        ("amount <= 500000", Decimal("500000.01"), False),
        ("500000 >= amount", Decimal("500000.01"), False),
        ("amount < 500000.0", Decimal("499999.99"), True),
        ("amount == 0.1", Decimal("0.10"), True),
        ("amount == 100", Decimal("100.00"), True),
        ("amount != 100", Decimal("100.01"), True),
        ("amount > 9999999999999.98", Decimal("9999999999999.99"), True),  # 15 digits: still exact
        ("amount in [100, 200]", Decimal("200"), True),
        ("amount * 2 == 1000.5", Decimal("500.25"), True),
        ("amount / 4 == 0.5", Decimal("2"), True),  # a double: no truncation
    ],
)
def test_decimal_compares_exactly_with_numbers_written_in_the_expression(text, amount, expected):
    assert _eval(text, amount=amount) is expected


def test_ints_and_doubles_mix_but_ints_alone_divide_as_cel_does():
    assert _eval("a + b / 12 <= 65", a=40, b=Decimal("24")) is True
    assert _eval("7 / 2") == 3
    assert _eval("7.0 / 2") == 3.5
    assert _eval("12 == 12.0") is True
    assert _eval("true == 1") is False  # a bool is never a number


@pytest.mark.parametrize(
    ("value", "back"),
    [
        (None, None),
        (True, True),
        (7, 7),
        (Decimal("1.25"), 1.25),
        ("文本", "文本"),
        (b"\x00\x01", b"\x00\x01"),
        ([1, "a", None], [1, "a", None]),
        ({"a": {"b": [1]}}, {"a": {"b": [1]}}),
        (date(2024, 2, 29), datetime(2024, 2, 29, tzinfo=UTC)),
        (datetime(2024, 1, 1, 8, tzinfo=timezone(timedelta(hours=8))), datetime(2024, 1, 1, tzinfo=UTC)),
        (timedelta(days=2), timedelta(days=2)),
    ],
)
def test_values_go_in_and_come_back_as_python(value, back):
    result = _eval("v", v=value)
    assert result == back
    assert type(result) is type(back)


@pytest.mark.parametrize(
    "value",
    [Decimal("NaN"), Decimal("Infinity"), float("inf"), 2**63, object(), {1: "x"}, datetime(2024, 1, 1)],
)
def test_values_cel_cannot_hold_are_refused_by_name(value):
    error = _error("v", {"v": object}, {"v": value})
    assert (error.code, error.name) == ("expressions.unsupported_value", "v")


def test_a_value_not_supplied_is_reported_missing_by_name():
    error = _error("form.amount > 0 && applicant.age < 60", {"form": dict, "applicant": dict}, {"form": {}})
    assert (error.code, error.name) == ("expressions.missing", "applicant")


def test_a_missing_member_is_reported_by_its_dotted_path():
    declared = {"form": dict}
    assert _error("form.income.monthly > 0", declared, {"form": {"income": {}}}).name == "form.income.monthly"
    assert _error("form.income.monthly > 0", declared, {"form": {}}).name == "form.income"
    guarded = compile_expression("!has(form.income) || form.income.monthly > 0", declared)
    assert guarded.evaluate({"form": {}}) is True


@pytest.mark.parametrize(
    "text", ["1 / 0 == 1", "'a' + 1 == 'a1'", "9223372036854775807 + 1 > 0", "date('2024-13-01') == today"]
)
def test_evaluation_failures_are_expression_errors_not_crashes(text):
    assert _error(text, {"today": date}, {"today": date(2024, 1, 1)}).code == "expressions.evaluation"


def test_logic_short_circuits_past_an_error():
    assert _eval("false && 1 / 0 == 1") is False
    assert _eval("true || 1 / 0 == 1") is True


# --- lending functions -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        ("2024-01-31", 1, date(2024, 2, 29)),
        ("2023-01-31", 1, date(2023, 2, 28)),
        ("2024-01-31", 2, date(2024, 3, 31)),
        ("2024-11-30", 3, date(2025, 2, 28)),
        ("2024-03-31", -1, date(2024, 2, 29)),
    ],
)
def test_add_months_is_month_end_safe(start, months, expected):
    result = _eval(f"add_months(date('{start}'), n)", n=months)
    assert result == datetime.combine(expected, datetime.min.time(), tzinfo=UTC)


@pytest.mark.parametrize(
    ("birth", "on", "years"),
    [
        (date(1960, 6, 15), date(2025, 6, 14), 64),
        (date(1960, 6, 15), date(2025, 6, 15), 65),
        (date(2000, 2, 29), date(2021, 2, 28), 20),
        (date(2000, 2, 29), date(2021, 3, 1), 21),
        (date(2025, 1, 1), date(2020, 1, 1), -5),
    ],
)
def test_years_between_counts_whole_years_like_an_age(birth, on, years):
    assert _eval("years_between(b, d)", b=birth, d=on) == years


def test_age_at_maturity_rule_reads_as_written():
    rule = compile_expression(
        "years_between(birth, add_months(today, term)) <= 65", {"birth": date, "today": date, "term": int}
    )
    values = {"birth": date(1961, 3, 1), "today": date(2025, 3, 1)}
    assert rule.evaluate({**values, "term": 23}) is True  # 65 when it ends, 2027-02-01
    assert rule.evaluate({**values, "term": 24}) is False  # 66 on the day it ends, 2027-03-01


def test_the_evaluator_never_touches_python_builtins(tmp_path):
    marker = tmp_path / "touched"
    text = f"'{marker}' + '__class__' == 'x'"  # strings stay strings
    assert _eval(text) is False
    assert not marker.exists()
