"""企查查 bodies (recorded in the vendor's shape) → canonical models, no HTTP involved."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from connectors.qichacha.mapping import map_company, map_litigation, to_date
from plugins.sdk.sandbox import DISHONEST_DEBTOR, REVOKED_COMPANY
from schemas.canonical import Money
from schemas.canonical.business_registry import CompanyStatus, ShareholderKind
from schemas.canonical.litigation import PartyRole

FIXTURES = Path(__file__).parent / "fixtures"


def body(name: str) -> Any:
    data = json.loads((FIXTURES / name).read_text(encoding="utf-8"))
    assert data["Status"] in ("200", "201") and isinstance(data["Status"], str)
    return data


def test_judgments_map_to_cases_with_roles_from_both_caserole_forms() -> None:
    record = map_litigation(REVOKED_COMPANY.name, judgments=body("judgmentdoc_revoked.json")["Result"])
    first, second = record.cases
    assert first.parsed_number is not None
    assert (first.parsed_number.year, first.parsed_number.court_code, first.parsed_number.case_type) == (
        2023,
        "京0105",
        "民初",
    )
    assert first.role == PartyRole.DEFENDANT and second.role == PartyRole.DEFENDANT  # list and JSON string
    assert first.amount == Money(amount=Decimal("1250000.00"))
    assert first.judged_on == date(2023, 8, 20) and first.published_on == date(2023, 9, 1)
    assert first.status == "判决书" and first.cause == "金融借款合同纠纷"
    assert [p.name for p in second.parties] == ["示例电子设备有限公司", REVOKED_COMPANY.name]


def test_dishonest_executed_and_sumptuary_map() -> None:
    record = map_litigation(
        DISHONEST_DEBTOR.name,
        dishonest=body("shixin_wangwu.json")["Result"],
        executed=body("zhixing_wangwu.json")["Result"],
        restrictions=body("sumptuary_wangwu.json")["Result"]["Data"],
        id_number=DISHONEST_DEBTOR.id_number,
    )
    (listing,) = record.dishonest  # the namesake with another masked ID is dropped
    assert listing.case_number == "(2022)粤0305执1234号" and listing.court == "深圳市南山区人民法院"
    assert listing.filed_on == date(2022, 3, 1) and listing.published_on == date(2022, 6, 15)
    assert listing.performance == "全部未履行" and listing.basis_number == "(2021)粤0305民初4567号"
    assert listing.obligation.startswith("被告王五") and listing.amount == Money(amount=Decimal("200000"))
    (executed,) = record.executed
    assert executed.amount == Money(amount=Decimal("215000")) and executed.status == "执行中"
    (restriction,) = record.restrictions
    assert restriction.restricted_person == DISHONEST_DEBTOR.name
    assert restriction.filed_on == date(2022, 3, 1) and restriction.published_on == date(2022, 7, 1)
    assert restriction.parsed_number is not None and restriction.parsed_number.is_enforcement


def test_revoked_company_maps_with_shareholders_and_changes() -> None:
    profile = map_company(body("basic_details_revoked.json")["Result"])
    assert profile.name == REVOKED_COMPANY.name and profile.uscc == REVOKED_COMPANY.uscc
    assert profile.status == "吊销，未注销" and profile.status_category is CompanyStatus.REVOKED
    assert profile.registered_capital == Money(amount=Decimal("10000000"), currency="CNY")
    assert profile.established_on == date(2016, 4, 12)
    assert profile.legal_representative == "钱七"
    assert profile.industry == "软件和信息技术服务业"
    assert profile.company_type.startswith("有限责任公司")
    assert profile.former_names == ("北京示例网络有限公司",)
    person, company = profile.shareholders
    assert person.kind is ShareholderKind.PERSON and person.stake_percent == Decimal("60.00")
    assert person.subscribed == Money(amount=Decimal("6000000"))  # "600" is in 万元
    assert person.paid_in == Money(amount=Decimal("1200000"))
    assert company.kind is ShareholderKind.COMPANY and company.paid_in is None
    change = profile.changes[0]
    assert (change.item, change.before, change.after, change.changed_on) == (
        "法定代表人变更",
        "孙八",
        "钱七",
        date(2021, 5, 6),
    )


def test_active_company_capital_in_dollars() -> None:
    profile = map_company(body("basic_details_active.json")["Result"])
    assert profile.status_category is CompanyStatus.ACTIVE and profile.is_operating
    assert profile.registered_capital == Money(amount=Decimal("5000000"), currency="USD")
    assert profile.shareholders[0].subscribed == Money(amount=Decimal("5000000"), currency="USD")
    assert profile.changes == ()


def test_sparse_company_keeps_what_it_has() -> None:
    profile = map_company({"Name": "某公司", "CreditCode": "", "RegistCapi": "-", "Status": ""})
    assert profile.registered_capital is None and profile.status_category is CompanyStatus.UNKNOWN
    assert profile.shareholders == () and profile.changes == ()


def test_no_data_fixture_is_the_vendor_shape() -> None:
    data = body("no_data.json")
    assert data["Status"] == "201" and data["Result"] is None


def test_dates() -> None:
    assert to_date("2016-04-12 00:00:00") == date(2016, 4, 12)
    assert to_date("0001-01-01 00:00:00") is None and to_date("") is None and to_date(None) is None
