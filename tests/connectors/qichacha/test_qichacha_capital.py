"""Registered capital, stakes and statuses in schemas.canonical.business_registry."""

from __future__ import annotations

from decimal import Decimal

import pytest

from schemas.canonical import CompanyProfile, Money
from schemas.canonical.business_registry import CompanyStatus, normalize_status, parse_capital, parse_percent


@pytest.mark.parametrize(
    ("text", "amount", "currency"),
    [
        ("1000万人民币", "10000000", "CNY"),
        ("185000万元人民币", "1850000000", "CNY"),
        ("500万美元", "5000000", "USD"),
        ("100万(美元)", "1000000", "USD"),
        ("50万港元", "500000", "HKD"),
        ("1,234.5万元", "12345000", "CNY"),
        ("3亿人民币", "300000000", "CNY"),
        ("1000000", "1000000", "CNY"),
        ("200万欧元", "2000000", "EUR"),
    ],
)
def test_capital_parses(text: str, amount: str, currency: str) -> None:
    assert parse_capital(text) == Money(amount=Decimal(amount), currency=currency)


@pytest.mark.parametrize("text", [None, "", "-", "未公开", "100万火星币"])
def test_unparseable_capital_is_none(text: str | None) -> None:
    assert parse_capital(text) is None


def test_separate_currency_label_is_used_when_the_text_has_none() -> None:
    assert parse_capital("1000万", currency="美元") == Money(amount=Decimal("10000000"), currency="USD")
    assert parse_capital("1000万人民币", currency="美元") == Money(amount=Decimal("10000000"), currency="CNY")


@pytest.mark.parametrize(
    ("value", "percent"),
    [("40%", Decimal("40")), ("60.00%", Decimal("60.00")), (0.4, Decimal("40.0")), ("-", None), (None, None)],
)
def test_percent(value: object, percent: Decimal | None) -> None:
    assert parse_percent(value) == percent  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("label", "status"),
    [
        ("存续", CompanyStatus.ACTIVE),
        ("在业", CompanyStatus.ACTIVE),
        ("存续（在营、开业、在册）", CompanyStatus.ACTIVE),
        ("吊销", CompanyStatus.REVOKED),
        ("吊销，未注销", CompanyStatus.REVOKED),
        ("吊销，已注销", CompanyStatus.CANCELLED),
        ("注销", CompanyStatus.CANCELLED),
        ("迁出", CompanyStatus.MOVED_OUT),
        ("停业", CompanyStatus.SUSPENDED),
        ("清算", CompanyStatus.LIQUIDATING),
        ("撤销", CompanyStatus.OTHER),
        ("", CompanyStatus.UNKNOWN),
    ],
)
def test_status_labels(label: str, status: CompanyStatus) -> None:
    assert normalize_status(label) is status


def test_profile_keeps_old_fields_and_derives_the_category() -> None:
    profile = CompanyProfile(name="某公司", uscc="91350100M000100Y43", status="注销")
    assert profile.status_category is CompanyStatus.CANCELLED and not profile.is_operating
    assert CompanyProfile.model_validate_json(profile.model_dump_json()) == profile
