"""天眼查 bodies (recorded in the vendor's shape) → canonical models, no HTTP involved."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from connectors.tianyancha.mapping import card_matches, map_company, map_litigation, to_date
from plugins.sdk.sandbox import DISHONEST_DEBTOR, REVOKED_COMPANY
from schemas.canonical import Money
from schemas.canonical.business_registry import CompanyStatus, ShareholderKind
from schemas.canonical.litigation import PartyRole

FIXTURES = Path(__file__).parent / "fixtures"


def result(name: str) -> Any:
    body = json.loads((FIXTURES / name).read_text(encoding="utf-8"))
    assert body["error_code"] == 0
    return body["result"]


def test_lawsuits_map_to_cases_with_parsed_numbers_and_roles() -> None:
    record = map_litigation(REVOKED_COMPANY.name, lawsuits=result("lawsuit_revoked.json")["items"])
    first, second, odd = record.cases
    assert first.case_number == "(2023)京0105民初12345号"
    assert first.parsed_number is not None
    assert (first.parsed_number.year, first.parsed_number.court_code) == (2023, "京0105")
    assert (first.parsed_number.case_type, first.parsed_number.sequence) == ("民初", "12345")
    assert first.role == PartyRole.DEFENDANT and first.is_defendant
    assert first.adverse is True
    assert first.amount == Money(amount=Decimal("1250000.00"))
    assert first.judged_on == date(2023, 8, 20)
    assert first.published_on == date(2023, 9, 1)
    assert first.cause == "金融借款合同纠纷" and first.court == "北京市朝阳区人民法院"
    assert [p.is_company for p in first.parties] == [True, True]
    assert second.amount == Money(amount=Decimal("386000.50"))
    # A malformed 案号 is kept raw with no parts; missing amount and date stay empty.
    assert odd.case_number == "京0108民初第9876号(重审)"
    assert odd.parsed_number is not None and not odd.parsed_number.parsed
    assert odd.amount is None and odd.judged_on is None
    assert odd.role == PartyRole.APPELLANT and odd.adverse is False


def test_dishonest_executed_and_restriction_lists_map() -> None:
    record = map_litigation(
        DISHONEST_DEBTOR.name,
        dishonest=result("dishonest_wangwu.json")["items"],
        executed=result("zhixing_wangwu.json")["items"],
        restrictions=result("consumption_restriction_wangwu.json")["items"],
    )
    assert len(record.dishonest) == 2  # without an ID number the namesake stays
    listing = record.dishonest[0]
    assert listing.case_number == "(2022)粤0305执1234号"
    assert listing.parsed_number is not None and listing.parsed_number.is_enforcement
    assert listing.court == "深圳市南山区人民法院"
    assert listing.performance == "全部未履行"
    assert listing.conduct == "有履行能力而拒不履行生效法律文书确定义务"
    assert listing.basis_number == "(2021)粤0305民初4567号"
    assert listing.filed_on == date(2022, 3, 1) and listing.published_on == date(2022, 6, 15)
    assert listing.amount == Money(amount=Decimal("200000"))
    (executed,) = record.executed
    assert executed.amount == Money(amount=Decimal("215000")) and executed.filed_on == date(2022, 3, 1)
    (restriction,) = record.restrictions
    assert restriction.restricted_person == DISHONEST_DEBTOR.name
    assert restriction.published_on == date(2022, 7, 1)
    assert restriction.applicant == "李某某"
    assert record.is_dishonest and record.is_restricted and not record.is_clean


def test_id_number_drops_namesakes_with_another_masked_id() -> None:
    record = map_litigation(
        DISHONEST_DEBTOR.name,
        dishonest=result("dishonest_wangwu.json")["items"],
        id_number=DISHONEST_DEBTOR.id_number,
    )
    assert [d.case_number for d in record.dishonest] == ["(2022)粤0305执1234号"]


@pytest.mark.parametrize(
    ("masked", "id_number", "matches"),
    [
        ("4403**********0030", "440305199206150030", True),
        ("3201**********1234", "440305199206150030", False),
        ("", "440305199206150030", True),
        ("4403**********0030", None, True),
        ("MA5F0000X", "440305199206150030", True),  # an organisation code: cannot tell
    ],
)
def test_card_matches(masked: str, id_number: str | None, matches: bool) -> None:
    assert card_matches(masked, id_number) is matches


def test_company_maps_base_holders_and_changes() -> None:
    profile = map_company(
        result("baseinfo_revoked.json"),
        result("holder_revoked.json")["items"],
        result("changeinfo_revoked.json")["items"],
    )
    assert profile.name == REVOKED_COMPANY.name and profile.uscc == REVOKED_COMPANY.uscc
    assert profile.status == "吊销" and profile.status_category is CompanyStatus.REVOKED
    assert profile.registered_capital == Money(amount=Decimal("10000000"), currency="CNY")
    assert profile.registered_capital_text == "1000万人民币"
    assert profile.established_on == date(2016, 4, 12)
    assert profile.legal_representative == "钱七"
    assert profile.industry == "软件和信息技术服务业"
    assert profile.address == "北京市朝阳区示例路1号"
    assert profile.former_names == ("北京示例网络有限公司",)
    assert profile.vendor_id == "2310000001"
    person, company = profile.shareholders
    assert (person.name, person.kind, person.stake_percent) == ("钱七", ShareholderKind.PERSON, Decimal("60"))
    assert person.subscribed == Money(amount=Decimal("6000000"))
    assert person.paid_in == Money(amount=Decimal("1200000"))
    assert company.kind is ShareholderKind.COMPANY and company.stake_percent == Decimal("40")
    change = profile.changes[0]
    assert (change.item, change.before, change.after, change.changed_on) == (
        "法定代表人变更",
        "孙八",
        "钱七",
        date(2021, 5, 6),
    )
    assert type(profile).model_validate_json(profile.model_dump_json()) == profile


def test_epoch_milliseconds_are_read_as_beijing_days() -> None:
    # 2016-04-12 00:00 in Beijing is still 2016-04-11 in UTC.
    assert to_date(1460390400000) == date(2016, 4, 12)
    assert to_date("2021-05-06 10:00:00") == date(2021, 5, 6)
    assert to_date(None) is None and to_date("") is None
