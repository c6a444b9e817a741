"""Mapping of recorded segment reports (fixtures shaped like vendors.md §1.1) onto CreditReport."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from connectors.pboc import client, mapping
from plugins.sdk.sandbox import CLEAN_BORROWER, DELINQUENT_BORROWER, DISHONEST_DEBTOR
from schemas.canonical import PersonSubject
from schemas.canonical.credit_report import (
    AccountStatus,
    AccountType,
    FiveCategory,
    PublicRecordKind,
    QueryReason,
)

FIXTURES = Path(__file__).parent / "fixtures"


def load(name: str) -> dict[str, Any]:
    return client.envelope_report(json.loads((FIXTURES / f"pboc_report_{name}.json").read_text("utf-8")))


def subject(person: Any) -> PersonSubject:
    return PersonSubject(name=person.name, id_number=person.id_number)


def test_clean_report_maps_identity_score_accounts_and_summaries() -> None:
    report = mapping.map_report(load("clean"), subject(CLEAN_BORROWER))
    assert report.report_id == "2024063010150012345678"
    assert report.generated_at == datetime(2024, 6, 30, 2, 15, tzinfo=UTC)
    assert report.bureau == "pboc"
    assert report.score is not None and report.score.value == 720 and report.score.reason_codes == ("201",)
    assert report.score.percentile == Decimal("28")
    assert report.identity is not None and report.identity.gender == "男"
    assert report.identity.birth_date == date(1990, 3, 7)
    assert report.identity.mobiles == (CLEAN_BORROWER.mobile,)
    loan, card = report.accounts
    assert loan.account_type is AccountType.NON_REVOLVING_LOAN
    assert loan.loan_amount is not None and loan.loan_amount.amount == Decimal("1200000.00")
    assert loan.balance.amount == Decimal("986400.00")
    assert loan.business_type == "个人住房商业贷款" and loan.institution_type == "商业银行"
    assert loan.five_category is FiveCategory.NORMAL and loan.status is AccountStatus.ACTIVE
    assert loan.status_24m == "N" * 24 and loan.status_24m_from == "2022-07"
    assert card.account_type is AccountType.CREDIT_CARD
    assert card.credit_limit is not None and card.credit_limit.amount == Decimal("50000.00")
    assert card.balance.amount == Decimal("3200.50")
    assert report.total_overdue == 0 and not report.has_m3_plus and not report.has_non_performing
    assert report.worst_status_24m == "N"
    assert report.summary is not None and report.summary.total_accounts == 2
    cards = report.summary.for_type(AccountType.CREDIT_CARD)
    assert cards is not None and cards.credit_limit_total == Decimal("50000.00")
    assert cards.balance_total == Decimal("3200.50")
    assert report.summary.queries is not None and report.summary.queries.loan_approval_queries_1m == 1
    assert report.public_records == ()


def test_delinquent_report_is_m3_plus_and_substandard() -> None:
    report = mapping.map_report(load("delinquent"), subject(DELINQUENT_BORROWER))
    loan = report.accounts[0]
    assert loan.five_category is FiveCategory.SUBSTANDARD
    assert loan.status is AccountStatus.OVERDUE
    assert loan.overdue_periods == 3 and loan.overdue_amount is not None
    assert loan.overdue_amount.amount == Decimal("12600.00")
    assert loan.status_24m.endswith("123") and loan.worst_status_24m == "3"
    assert report.has_m3_plus and report.has_non_performing and report.currently_overdue
    assert report.total_overdue == Decimal("13800.00")
    assert report.max_overdue_periods_24m == 3
    assert report.hard_inquiries(days=30) == 4
    assert report.hard_inquiries(days=60) == 5
    assert report.summary is not None
    assert {o.account_type: o.longest_overdue_months for o in report.summary.overdue} == {
        AccountType.NON_REVOLVING_LOAN: 3,
        AccountType.CREDIT_CARD: 1,
    }


def test_dishonest_report_has_bad_debt_and_enforcement() -> None:
    report = mapping.map_report(load("dishonest"), subject(DISHONEST_DEBTOR))
    (card,) = report.accounts
    assert card.status is AccountStatus.BAD_DEBT and card.five_category is FiveCategory.LOSS
    assert report.worst_status_24m == "B" and report.has_m3_plus
    assert report.summary is not None and report.summary.bad_debt_accounts == 1
    (enforcement,) = report.public_records_of(PublicRecordKind.ENFORCEMENT)
    assert enforcement.authority == "广东省深圳市南山区人民法院"
    assert enforcement.status == "执行中" and enforcement.amount is not None
    assert enforcement.amount.amount == Decimal("86000.00")
    assert enforcement.executed_amount is not None and enforcement.executed_amount.amount == 0
    (judgment,) = report.public_records_of(PublicRecordKind.CIVIL_JUDGMENT)
    assert judgment.status == "判决" and judgment.closed_on == date(2023, 2, 20)


def test_mixed_report_covers_every_account_family_and_public_record() -> None:
    report = mapping.map_report(
        load("mixed"),
        subject(CLEAN_BORROWER),
        query_reasons={"77": "本人查询"},
        institution_types={"99": "担保"},
    )
    types = [a.account_type for a in report.accounts]
    assert types == [
        AccountType.NON_REVOLVING_LOAN,
        AccountType.CREDIT_CARD,
        AccountType.REVOLVING_SUB_ACCOUNT,
        AccountType.REVOLVING_LOAN,
        AccountType.QUASI_CREDIT_CARD,
    ]
    sub = report.accounts[2]
    assert sub.five_category is None and sub.status is AccountStatus.SETTLED  # code 9: 未分类
    assert report.accounts[3].worst_status_24m == "D" and report.has_m3_plus  # paid by guarantor
    assert report.score is None  # 数字解读 "--"
    assert report.identity is not None and report.identity.fraud_alert
    (tax,) = report.public_records_of(PublicRecordKind.TAX_ARREARS)
    assert tax.amount is not None and tax.amount.amount == Decimal("3210.55")
    (penalty,) = report.public_records_of(PublicRecordKind.ADMINISTRATIVE_PENALTY)
    assert penalty.cause == "无照经营" and penalty.result == "维持"
    reasons = {q.reason_code: q.reason_category for q in report.queries}
    assert reasons["08"] is QueryReason.GUARANTEE_REVIEW and reasons["77"] is QueryReason.SELF
    assert report.summary is not None and report.summary.recovered_balance == Decimal("5000.00")
    assert {s.account_type for s in report.summary.by_type} >= {
        AccountType.REVOLVING_SUB_ACCOUNT,
        AccountType.REVOLVING_LOAN,
        AccountType.QUASI_CREDIT_CARD,
    }


def test_report_survives_a_json_round_trip() -> None:
    report = mapping.map_report(load("dishonest"), subject(DISHONEST_DEBTOR))
    assert type(report).model_validate_json(report.model_dump_json()) == report


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda r: r["PRH"]["PA01"]["PA01A"].pop("PA01AI01"), "report number"),
        (lambda r: r["PDA"]["PD01"][0]["PD01A"].update(PD01AD01="X9"), "unknown account type"),
        (lambda r: r["PDA"]["PD01"][0]["PD01C"].update(PD01CJ01="12,3a"), "not an amount"),
        (lambda r: r["PDA"].update(PD01={"not": "a list"}), "not an array"),
        (lambda r: r["POQ"]["PH01"][0].pop("PH010R01"), "without a date"),
    ],
)
def test_malformed_reports_raise_value_error(mutate: Any, message: str) -> None:
    report = load("clean")
    mutate(report)
    with pytest.raises(ValueError, match=message):
        mapping.map_report(report, subject(CLEAN_BORROWER))


@pytest.mark.parametrize(
    ("label", "category"),
    [
        ("贷款审批", QueryReason.LOAN_APPROVAL),
        ("信用卡审批", QueryReason.CARD_APPROVAL),
        ("担保资格审查", QueryReason.GUARANTEE_REVIEW),
        ("贷后管理", QueryReason.POST_LOAN),
        ("本人查询", QueryReason.SELF),
        ("司法调查", QueryReason.OTHER),
    ],
)
def test_reason_category_by_wording(label: str, category: QueryReason) -> None:
    assert mapping.reason_category(label) is category
