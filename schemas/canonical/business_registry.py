"""A company as the business registry (工商) describes it.

Registries give registered capital as text (``"1000万人民币"``, ``"185000万元人民币"``,
``"500万美元"``) and status as a free label (``"存续（在营、开业、在册）"``, ``"吊销，未注销"``).
:func:`parse_capital` and :func:`normalize_status` turn both into values a credit rule can compare,
while the raw label stays in ``status`` for the officer.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, model_validator

from .common import CanonicalModel, Money

__all__ = [
    "ChangeRecord",
    "CompanyProfile",
    "CompanyStatus",
    "Shareholder",
    "ShareholderKind",
    "normalize_status",
    "parse_capital",
    "parse_percent",
]

_UNITS = {"": Decimal(1), "万": Decimal(10_000), "亿": Decimal(100_000_000)}
# Longest names first so "新台币" wins over "台币" and "人民币" over "元".
_CURRENCIES = (
    ("人民币", "CNY"),
    ("美元", "USD"),
    ("美金", "USD"),
    ("港元", "HKD"),
    ("港币", "HKD"),
    ("欧元", "EUR"),
    ("日元", "JPY"),
    ("英镑", "GBP"),
    ("新台币", "TWD"),
    ("澳门元", "MOP"),
    ("新加坡元", "SGD"),
    ("加拿大元", "CAD"),
    ("澳大利亚元", "AUD"),
    ("瑞士法郎", "CHF"),
    ("RMB", "CNY"),
    ("CNY", "CNY"),
    ("USD", "USD"),
    ("HKD", "HKD"),
    ("EUR", "EUR"),
)
_CAPITAL = re.compile(r"^\s*(?P<num>[0-9][0-9,]*(?:\.[0-9]+)?)\s*(?P<unit>万|亿)?\s*(?P<rest>.*?)\s*$")


def _currency(text: str, default: str) -> str | None:
    label = text.strip().strip("()（）").removeprefix("元").strip()
    if not label:
        return default
    for name, code in sorted(_CURRENCIES, key=lambda pair: len(pair[0]), reverse=True):
        if label.startswith(name) or label.endswith(name):
            return code
    return None


def parse_capital(text: str | None, *, currency: str | None = None, default: str = "CNY") -> Money | None:
    """Parse a registered-capital label into :class:`Money` (``"500万美元"`` → 5,000,000 USD).

    Args:
        text: the vendor's label; ``万`` and ``亿`` multiply, ``元`` alone means the default currency.
        currency: a currency label the vendor gives separately (天眼查 ``regCapitalCurrency``); used
            when ``text`` names none.
        default: the currency of a bare number or ``元``.

    Returns:
        The amount, or ``None`` when the label is empty, ``-`` or not a number (kept raw by callers).
    """
    if not text or not text.strip() or text.strip() in ("-", "--", "—"):
        return None
    match = _CAPITAL.match(text)
    if match is None:
        return None
    try:
        number = Decimal(match["num"].replace(",", ""))
    except InvalidOperation:
        return None
    rest = match["rest"]
    fallback = default
    if currency:
        fallback = _currency(currency, default) or default
    code = _currency(rest, fallback)
    if code is None:
        return None
    return Money(amount=number * _UNITS[match["unit"] or ""], currency=code)


def parse_percent(text: str | float | int | Decimal | None) -> Decimal | None:
    """Parse a stake such as ``"40%"``, ``"40.00"`` or ``0.4`` (a fraction) into percent points."""
    if text is None:
        return None
    raw = str(text).strip()
    if not raw or raw in ("-", "--"):
        return None
    is_percent = raw.endswith("%")
    try:
        value = Decimal(raw.rstrip("%").strip())
    except InvalidOperation:
        return None
    if not is_percent and not isinstance(text, str) and value <= 1:
        value *= 100
    return value


class CompanyStatus(StrEnum):
    """What a registry status label means for lending."""

    ACTIVE = "active"  # 存续 / 在业 / 在营 / 开业 / 在册
    REVOKED = "revoked"  # 吊销: licence revoked, the company may not trade
    CANCELLED = "cancelled"  # 注销: the company no longer exists
    MOVED_OUT = "moved_out"  # 迁出: registered elsewhere now
    SUSPENDED = "suspended"  # 停业 / 歇业
    LIQUIDATING = "liquidating"  # 清算
    OTHER = "other"
    UNKNOWN = "unknown"


def normalize_status(label: str | None) -> CompanyStatus:
    """Classify a registry status label; ``吊销，未注销`` is revoked, ``吊销，已注销`` cancelled."""
    text = (label or "").strip()
    if not text:
        return CompanyStatus.UNKNOWN
    if "已注销" in text:
        return CompanyStatus.CANCELLED
    if "吊销" in text:
        return CompanyStatus.REVOKED
    if "注销" in text:
        return CompanyStatus.CANCELLED
    if "清算" in text:
        return CompanyStatus.LIQUIDATING
    if "停业" in text or "歇业" in text:
        return CompanyStatus.SUSPENDED
    if "迁出" in text:
        return CompanyStatus.MOVED_OUT
    if any(word in text for word in ("存续", "在业", "在营", "开业", "在册", "正常")):
        return CompanyStatus.ACTIVE
    return CompanyStatus.OTHER


class ShareholderKind(StrEnum):
    """Who holds the stake."""

    PERSON = "person"
    COMPANY = "company"
    OTHER = "other"


class Shareholder(BaseModel):
    """A shareholder and its stake.

    Attributes:
        name: the shareholder's name.
        stake_percent: percent points (``Decimal("40")`` is 40 %).
        subscribed: 认缴出资.
        kind: person, company or other.
        paid_in: 实缴出资, when the registry gives it.
        subscribed_on: 认缴出资日期.
    """

    model_config = ConfigDict(frozen=True)

    name: str
    stake_percent: Decimal | None = None
    subscribed: Money | None = None
    kind: ShareholderKind | None = None
    paid_in: Money | None = None
    subscribed_on: date | None = None


class ChangeRecord(BaseModel):
    """A registered change (变更记录): what changed, when, from what to what."""

    model_config = ConfigDict(frozen=True)

    changed_on: date | None = None
    item: str
    before: str = ""
    after: str = ""


class CompanyProfile(CanonicalModel):
    """What the CRM needs to know about a company borrower or guarantor.

    Attributes:
        name: registered name.
        uscc: 统一社会信用代码.
        legal_representative: 法定代表人.
        registered_capital: 注册资本 as amount and currency.
        established_on: 成立日期.
        status: the registry's own label (存续 / 在业 / 吊销 / 注销 …), unchanged.
        industry: 行业.
        address: 注册地址.
        shareholders: 股东 with stakes.
        changes: 变更记录, newest first when the vendor orders them so.
        status_category: ``status`` classified; filled from ``status`` when not given.
        registered_capital_text: the capital label as given, for labels that did not parse.
        registration_number: 注册号.
        company_type: 企业类型 (有限责任公司…).
        registration_authority: 登记机关.
        business_scope: 经营范围.
        former_names: 曾用名.
        vendor_id: the vendor's own id of the company, for follow-up calls.
    """

    name: str
    uscc: str
    legal_representative: str = ""
    registered_capital: Money | None = None
    established_on: date | None = None
    status: str = ""  # 存续 / 在业 / 吊销 / 注销 ...
    industry: str = ""
    address: str = ""
    shareholders: tuple[Shareholder, ...] = ()
    changes: tuple[ChangeRecord, ...] = ()
    status_category: CompanyStatus = CompanyStatus.UNKNOWN
    registered_capital_text: str = ""
    registration_number: str = ""
    company_type: str = ""
    registration_authority: str = ""
    business_scope: str = ""
    former_names: tuple[str, ...] = ()
    vendor_id: str = ""

    @model_validator(mode="before")
    @classmethod
    def _classify_status(cls, data: Any) -> Any:
        if isinstance(data, dict) and "status_category" not in data and isinstance(data.get("status"), str):
            return {**data, "status_category": normalize_status(data["status"])}
        return data

    @property
    def is_operating(self) -> bool:
        """Whether the company may trade (status active)."""
        return self.status_category is CompanyStatus.ACTIVE
