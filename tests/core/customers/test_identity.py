"""Identifier checks: the reference vectors pass, and each kind of mistake gets its own code."""

from __future__ import annotations

from datetime import date

import pytest

from core.customers.identity import (
    FieldProblem,
    age_on,
    check_bank_card,
    check_id_number,
    check_mobile,
    check_uscc,
)

TODAY = date(2026, 12, 6)


@pytest.mark.parametrize(
    ("number", "born", "gender"),
    [
        ("11010519491231002X", date(1949, 12, 31), "female"),
        ("440524188001010014", None, None),  # GB example, born 1880: valid digits, too old
        ("11010119900307803X", date(1990, 3, 7), "male"),
        ("110105200002290048", date(2000, 2, 29), "female"),
        (" 11010519491231002x ", date(1949, 12, 31), "female"),
    ],
)
def test_reference_id_numbers(number, born, gender):
    if born is None:
        with pytest.raises(FieldProblem) as refused:
            check_id_number(number, today=TODAY)
        assert refused.value.code == "customers.age_out_of_range"
        assert dict(refused.value.params)["age"] == 146
        return
    found = check_id_number(number, today=TODAY)
    assert (found.birth_date, found.gender) == (born, gender)
    assert found.number == number.strip().upper()


@pytest.mark.parametrize(
    ("number", "code"),
    [
        ("1101051949123100", "customers.id_number_length"),
        ("110105194912310021234", "customers.id_number_length"),
        ("11010519491231002Y", "customers.id_number_format"),
        ("A1010519491231002X", "customers.id_number_format"),
        ("99010519491231002X", "customers.id_number_region"),
        ("00010519491231002X", "customers.id_number_region"),
        ("110105194902300028", "customers.id_number_birth_date"),  # 30 February
        ("110105203001010011", "customers.id_number_birth_date"),  # born in the future
        ("110105194912310021", "customers.id_number_check_digit"),
    ],
)
def test_each_id_mistake_is_named(number, code):
    with pytest.raises(FieldProblem) as refused:
        check_id_number(number, today=TODAY)
    assert refused.value.code == code
    assert refused.value.as_error("id_number")["field"] == "id_number"


def test_age_limits_are_inclusive_and_counted_on_the_business_date():
    # Born 2008-12-06: 18 on 2026-12-06, 17 the day before.
    number = "110105200812060012"
    from stdnum.cn import ric

    number = number[:17] + ric.calc_check_digit(number)
    assert check_id_number(number, today=TODAY).birth_date == date(2008, 12, 6)
    with pytest.raises(FieldProblem) as refused:
        check_id_number(number, today=date(2026, 12, 5))
    assert refused.value.code == "customers.age_out_of_range" and dict(refused.value.params)["age"] == 17
    assert (
        age_on(date(2000, 2, 29), date(2026, 2, 28)) == 25
        and age_on(date(2000, 2, 29), date(2026, 3, 1)) == 26
    )


@pytest.mark.parametrize(
    "code", ["91350100M000100Y43", "91110108551385082Q", "92110105MA01ABCD5C", "91110105ma01te8t2e"]
)
def test_reference_usccs(code):
    assert check_uscc(code) == code.upper()


@pytest.mark.parametrize(
    ("code", "problem"),
    [
        ("91350100M000100Y44", "customers.uscc_check_character"),
        ("91350100M000100I43", "customers.uscc_format"),
        ("9135010", "customers.uscc_length"),
    ],
)
def test_uscc_mistakes(code, problem):
    with pytest.raises(FieldProblem) as refused:
        check_uscc(code)
    assert refused.value.code == problem


@pytest.mark.parametrize(
    ("given", "number"),
    [
        ("13800138000", "13800138000"),
        ("+86 138-0013-8000", "13800138000"),
        ("008613800138000", "13800138000"),
    ],
)
def test_mobiles_are_normalised(given, number):
    assert check_mobile(given) == number


@pytest.mark.parametrize("given", ["12800138000", "1380013800", "138001380001", "phone", "+1 415 555 0100"])
def test_mobile_mistakes(given):
    with pytest.raises(FieldProblem) as refused:
        check_mobile(given)
    assert refused.value.code == "customers.mobile_format"


def test_bank_cards_by_luhn():
    for card in ("6222021234567890128", "6217000000000000004", "6225 8801 3770 6892"):
        assert check_bank_card(card) == card.replace(" ", "")
    with pytest.raises(FieldProblem) as refused:
        check_bank_card("6222021234567890127")
    assert refused.value.code == "customers.bank_card_check_digit"
    with pytest.raises(FieldProblem) as refused:
        check_bank_card("622202123456789")
    assert refused.value.code == "customers.bank_card_length"
