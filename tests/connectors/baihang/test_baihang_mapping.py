"""Mapping of recorded 百行 answers (sections as JSON strings, per vendors.md §1.2) onto CreditReport."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from connectors.baihang import client, mapping
from plugins.sdk.sandbox import CLEAN_BORROWER, DELINQUENT_BORROWER, DISHONEST_DEBTOR, UNKNOWN_PERSON
from schemas.canonical import PersonSubject
from schemas.canonical.credit_report import AccountStatus, AccountType, QueryReason

FIXTURES = Path(__file__).parent / "fixtures"


def load(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / f"baihang_report_{name}.json").read_text("utf-8"))


def decoded(name: str) -> dict[str, Any]:
    return client.sections(load(name), mapping.SECTIONS)


def subject(person: Any) -> PersonSubject:
    return PersonSubject(name=person.name, id_number=person.id_number)


def test_clean_report() -> None:
    report = mapping.map_report(decoded("clean"), subject(CLEAN_BORROWER))
    assert report.report_id == "BH20240630101500CLEAN"
    assert report.generated_at == datetime(2024, 6, 30, 2, 15, tzinfo=UTC)
    assert report.bureau == "baihang" and report.score is None and report.public_records == ()
    loan, line = report.accounts
    assert loan.account_type is AccountType.NON_REVOLVING_LOAN and loan.status is AccountStatus.SETTLED
    assert loan.loan_amount is not None and loan.loan_amount.amount == Decimal("30000.00")
    assert loan.due_on == date(2023, 1, 10) and loan.repayment_periods == 12
    assert line.account_type is AccountType.REVOLVING_LOAN
    assert line.credit_limit is not None and line.credit_limit.amount == Decimal("20000.00")
    assert line.balance.amount == Decimal("1500.00") and line.institution == "网络小额贷款公司"
    assert not report.has_m3_plus and report.total_overdue == 0
    assert report.identity is not None and report.identity.gender == "男"
    assert report.identity.residence == "示例市示例区示例路8号"
    assert report.summary is not None and report.summary.total_accounts == 2
    by_type = report.summary.for_type(AccountType.REVOLVING_LOAN)
    assert by_type is not None and by_type.credit_limit_total == Decimal("20000.00")
    assert [q.reason_category for q in report.queries] == [QueryReason.LOAN_APPROVAL, QueryReason.POST_LOAN]


def test_delinquent_report_is_m3_plus() -> None:
    report = mapping.map_report(decoded("delinquent"), subject(DELINQUENT_BORROWER))
    loan = report.accounts[0]
    assert loan.overdue_periods == 3 and loan.status_24m.endswith("123")
    assert report.has_m3_plus and report.currently_overdue
    assert report.total_overdue == Decimal("6750.00")
    assert report.hard_inquiries(days=30) == 3 and report.hard_inquiries() == 4


def test_dishonest_report_is_bad_debt() -> None:
    report = mapping.map_report(decoded("dishonest"), subject(DISHONEST_DEBTOR))
    (loan,) = report.accounts
    assert loan.status is AccountStatus.BAD_DEBT and report.worst_status_24m == "B"
    assert report.summary is not None and report.summary.bad_debt_balance == Decimal("46200.00")


def test_unknown_person_answer_is_empty() -> None:
    assert mapping.is_empty(decoded("unknown"))
    assert not mapping.is_empty(decoded("clean"))
    assert UNKNOWN_PERSON.name not in json.dumps(load("unknown"), ensure_ascii=False)


def test_sections_may_arrive_as_objects_not_strings() -> None:
    raw = load("clean")
    raw["nonRevolvingLoan"] = json.loads(raw["nonRevolvingLoan"])
    report = mapping.map_report(client.sections(raw, mapping.SECTIONS), subject(CLEAN_BORROWER))
    assert len(report.accounts) == 2


def test_field_names_are_configurable() -> None:
    raw = load("clean")
    raw["revolvingLoan"] = raw["revolvingLoan"].replace('"creditLimit"', '"lineAmount"')
    report = mapping.map_report(
        client.sections(raw, mapping.SECTIONS),
        subject(CLEAN_BORROWER),
        field_names={"credit_limit": "lineAmount"},
    )
    line = report.accounts[1]
    assert line.credit_limit is not None and line.credit_limit.amount == Decimal("20000.00")


@pytest.mark.parametrize(
    ("section", "value", "message"),
    [
        ("reportHeader", "{}", "report id"),
        ("nonRevolvingLoan", "[1, 2]", "not an object"),
        ("queryHistory", '{"a": 1}', "not an array"),
        ("queryHistory", '[{"orgType": "x"}]', "without a date"),
        ("revolvingLoan", '{"accounts": [{"balance": "12a"}]}', "not an amount"),
    ],
)
def test_malformed_sections_raise_value_error(section: str, value: str, message: str) -> None:
    raw = load("clean")
    raw[section] = value
    with pytest.raises(ValueError, match=message):
        mapping.map_report(client.sections(raw, mapping.SECTIONS), subject(CLEAN_BORROWER))


def test_section_that_is_not_json_raises_value_error() -> None:
    raw = load("clean")
    raw["homeInfo"] = "{not json"
    with pytest.raises(ValueError):
        client.sections(raw, mapping.SECTIONS)
