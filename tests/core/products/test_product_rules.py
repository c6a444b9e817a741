"""What a valid product is: every broken rule reported with its field, 砍头息 and over-cap prices refused."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest

from core.i18n import catalog
from core.products.rules import ProductDraft, product_errors

D = Decimal

GOOD = ProductDraft(
    code="consumer-12",
    name="消费贷-等额本息-12期",
    min_amount=D("1000.00"),
    max_amount=D("500000.00"),
    terms_months=[6, 12, 24],
    annual_rate=D("0.12"),
    repayment_methods=["equal_installment", "equal_principal"],
)


def _codes(draft) -> dict[str, str]:
    return {e["field"]: e["code"] for e in product_errors(draft)}


def test_a_sound_product_has_no_errors():
    assert product_errors(GOOD) == []


@pytest.mark.parametrize(
    ("change", "field", "code"),
    [
        ({"code": "Consumer 12"}, "code", "products.code_format"),
        ({"code": ""}, "code", "products.code_format"),
        ({"name": "  "}, "name", "products.name_length"),
        ({"min_amount": D("0")}, "min_amount", "products.amount_invalid"),
        ({"min_amount": D("-5")}, "min_amount", "products.amount_invalid"),
        ({"max_amount": D("100.005")}, "max_amount", "products.amount_invalid"),
        ({"max_amount": D("NaN")}, "max_amount", "products.amount_invalid"),
        ({"max_amount": D("10000000000000.00")}, "max_amount", "products.amount_invalid"),
        ({"min_amount": D("600000.00")}, "max_amount", "products.min_over_max"),
        ({"terms_months": []}, "terms_months", "products.terms_count"),
        ({"terms_months": [12, 0]}, "terms_months.1", "products.term_invalid"),
        ({"terms_months": [12, 481]}, "terms_months.1", "products.term_invalid"),
        ({"terms_months": [12, 12]}, "terms_months.1", "products.term_duplicate"),
        ({"annual_rate": D("0.3601")}, "annual_rate", "products.rate_out_of_range"),
        ({"annual_rate": D("-0.01")}, "annual_rate", "products.rate_out_of_range"),
        ({"annual_rate": D("0.1234567")}, "annual_rate", "products.rate_out_of_range"),
        ({"repayment_methods": []}, "repayment_methods", "products.methods_empty"),
        ({"repayment_methods": ["balloon"]}, "repayment_methods.0", "products.method_unknown"),
        ({"repayment_methods": ["flat", "flat"]}, "repayment_methods.1", "products.method_duplicate"),
        ({"grace_periods": 6}, "grace_periods", "products.grace_too_long"),
        ({"grace_periods": -1}, "grace_periods", "products.grace_too_long"),
        ({"penalty_markup": D("1.5")}, "penalty_markup", "products.penalty_markup"),
        ({"flow_key": "Big Flow"}, "flow_key", "products.flow_key_format"),
        ({"upfront_fee": {"kind": "percent", "value": D("1")}}, "upfront_fee.kind", "products.fee_kind"),
        ({"upfront_fee": {"kind": "fixed", "value": D("1.001")}}, "upfront_fee.value", "products.fee_value"),
        ({"periodic_fee": {"kind": "rate", "value": D("1")}}, "periodic_fee.value", "products.fee_rate"),
        ({"periodic_fee": {"kind": "rate", "value": D("-0.1")}}, "periodic_fee.value", "products.fee_value"),
        (
            {"periodic_fee": {"kind": "rate", "value": D("0.01"), "collection": "separate"}},
            "periodic_fee.collection",
            "products.unknown_setting",
        ),
        (
            {"upfront_fee": {"kind": "fixed", "value": D("10"), "collection": "later"}},
            "upfront_fee.collection",
            "products.fee_collection",
        ),
    ],
)
def test_each_broken_rule_names_its_field(change, field, code):
    assert _codes(replace(GOOD, **change)).get(field) == code


def test_all_problems_are_reported_at_once():
    bad = replace(GOOD, code="X Y", min_amount=D("0"), annual_rate=D("0.5"), repayment_methods=[])
    assert set(_codes(bad)) == {"code", "min_amount", "annual_rate", "repayment_methods"}


def test_fee_deducted_from_the_disbursement_is_refused_as_kantouxi():
    """砍头息: withholding an upfront fee from the amount while interest runs on all of it."""
    draft = replace(GOOD, upfront_fee={"kind": "rate", "value": D("0.02"), "collection": "deducted"})
    assert _codes(draft) == {"upfront_fee.collection": "products.deducted_upfront_fee"}
    assert "670" in catalog("zh-CN")["products.deducted_upfront_fee"]


def test_the_same_fee_paid_separately_is_allowed_and_priced_into_the_apr():
    draft = replace(GOOD, upfront_fee={"kind": "rate", "value": D("0.02"), "collection": "separate"})
    assert product_errors(draft) == []


def test_fees_cannot_carry_the_price_past_the_cap():
    draft = replace(GOOD, annual_rate=D("0.20"), upfront_fee={"kind": "fixed", "value": D("200.00")})
    (error,) = product_errors(draft)
    assert (error["field"], error["code"]) == ("annual_rate", "products.apr_over_cap")
    assert error["params"]["term"] == 6  # the worst case: the shortest term at the minimum amount
    assert D(error["params"]["apr"]) > 36


def test_a_flat_rate_is_judged_by_its_apr_not_its_headline():
    assert _codes(replace(GOOD, annual_rate=D("0.18"), repayment_methods=["flat"])) == {}
    assert _codes(replace(GOOD, annual_rate=D("0.24"), repayment_methods=["flat"])) == {
        "annual_rate": "products.apr_over_cap"
    }


def test_an_upfront_fee_as_large_as_the_minimum_amount_is_refused():
    draft = replace(GOOD, upfront_fee={"kind": "fixed", "value": D("1000.00")})
    assert _codes(draft) == {"upfront_fee.value": "products.fee_exceeds_amount"}


def test_every_code_the_rules_use_has_messages_in_both_languages():
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[3]
    sources = [
        *root.glob("core/products/*.py"),
        *root.glob("core/forms/*.py"),
        *root.glob("core/expressions/*.py"),
        root / "hub/api/routes/products.py",
    ]
    used = {
        code
        for path in sources
        for code in re.findall(
            r"\"((?:products|forms|expressions)\.[a-z_]+)\"", path.read_text(encoding="utf-8")
        )
    }
    used -= {
        "products.read",
        "products.manage",
        "products.create",
        "products.update",
        "forms.publish",
        "products.id",
    }
    assert len(used) > 60  # permissions, audit actions and a foreign key above are not messages
    for language in ("zh-CN", "en"):
        assert used - set(catalog(language)) == set(), language
