"""Pure functions from 企查查 JSON to canonical models; testable from recorded bodies alone.

企查查 writes PascalCase keys, dates as ``YYYY-MM-DD`` or ``YYYY-MM-DD hh:mm:ss`` strings, and
capital as text in 万元 (``"185000万元人民币"``; a bare shareholder amount such as ``"600"`` is in
万元 too). Shareholder stakes and the 裁判文书 item fields are LOW-confidence (see the README):
every such field is optional here, so a missing one leaves the canonical field empty.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from schemas.canonical import Money
from schemas.canonical.business_registry import (
    ChangeRecord,
    CompanyProfile,
    Shareholder,
    ShareholderKind,
    parse_capital,
    parse_percent,
)
from schemas.canonical.litigation import (
    CaseParty,
    ConsumptionRestriction,
    DishonestRecord,
    ExecutedRecord,
    LitigationCase,
    LitigationRecord,
    normalize_role,
)

__all__ = [
    "card_matches",
    "map_cases",
    "map_company",
    "map_dishonest",
    "map_executed",
    "map_litigation",
    "map_restrictions",
    "to_date",
]


def to_date(value: Any) -> date | None:
    """A date from ``YYYY-MM-DD[ hh:mm:ss]``; ``None`` for empty values and 企查查's ``0001-01-01``."""
    if value is None:
        return None
    text = str(value).strip()
    if not text or text.startswith("0001"):
        return None
    return date.fromisoformat(text[:10])


def _text(item: dict[str, Any], key: str) -> str:
    value = item.get(key)
    return "" if value is None else str(value).strip()


def _money(value: Any) -> Money | None:
    if value is None or str(value).strip() in ("", "-"):
        return None
    try:
        return Money(amount=Decimal(str(value).replace(",", "").strip()))
    except InvalidOperation:
        return parse_capital(str(value))


def _wan(value: Any) -> Money | None:
    """Capital text; a bare number is in 万元, the vendor's unit for shareholder amounts."""
    if value is None or str(value).strip() in ("", "-"):
        return None
    text = str(value).strip()
    try:
        return Money(amount=Decimal(text.replace(",", "")) * 10_000)
    except InvalidOperation:
        return parse_capital(text)


def card_matches(masked: str, id_number: str | None) -> bool:
    """Whether a vendor-masked ID (``4403**********0030``) can be ``id_number``; unknown matches."""
    if not id_number or not masked:
        return True
    masked, id_number = masked.strip().upper(), id_number.strip().upper()
    if len(masked) != len(id_number):
        return True
    return all(m in "*＊" or m == c for m, c in zip(masked, id_number, strict=True))


def _roles(raw: Any) -> list[dict[str, Any]]:
    """``CaseRole``: a list of ``{"P": name, "R": role}``, sometimes delivered as a JSON string."""
    if isinstance(raw, str):
        raw = json.loads(raw) if raw.strip() else []
    return [r for r in raw or [] if isinstance(r, dict)]


def map_cases(items: Iterable[dict[str, Any]], subject_name: str) -> list[LitigationCase]:
    """裁判文书 items → cases, with the subject's role found in ``CaseRole``."""
    cases = []
    for item in items:
        parties = [CaseParty(name=_text(r, "P"), role=_text(r, "R")) for r in _roles(item.get("CaseRole"))]
        role = next((normalize_role(p.role).value for p in parties if p.name == subject_name), "")
        cases.append(
            LitigationCase(
                case_number=_text(item, "CaseNo"),
                cause=_text(item, "CaseReason"),
                court=_text(item, "Court"),
                role=role,
                amount=_money(item.get("Amount")),
                judged_on=to_date(item.get("JudgeDate")),
                published_on=to_date(item.get("SubmitDate")),
                status=_text(item, "DocType") or _text(item, "CaseType"),
                title=_text(item, "CaseName"),
                parties=tuple(parties),
            )
        )
    return cases


def map_dishonest(items: Iterable[dict[str, Any]], id_number: str | None = None) -> list[DishonestRecord]:
    """失信被执行人 items → dishonest records, dropping namesakes whose masked ID disagrees."""
    return [
        DishonestRecord(
            case_number=_text(item, "Anno"),
            court=_text(item, "Executegov"),
            published_on=to_date(item.get("Publicdate")),
            obligation=_text(item, "Yiwu"),
            name=_text(item, "Name"),
            id_number_masked=_text(item, "OrgNo"),
            filed_on=to_date(item.get("Liandate")),
            performance=_text(item, "Executestatus"),
            conduct=_text(item, "ActionRemark"),
            basis_number=_text(item, "Executeno"),
            basis_unit=_text(item, "Executeunite"),
            amount=_money(item.get("Amount")),
        )
        for item in items
        if card_matches(_text(item, "OrgNo"), id_number)
    ]


def map_executed(items: Iterable[dict[str, Any]], id_number: str | None = None) -> list[ExecutedRecord]:
    """被执行人 items → executed records (``Biaodi`` 执行标的 is in 元)."""
    return [
        ExecutedRecord(
            case_number=_text(item, "Anno"),
            court=_text(item, "ExecuteGov"),
            amount=_money(item.get("Biaodi")),
            filed_on=to_date(item.get("Liandate")),
            name=_text(item, "Name"),
            id_number_masked=_text(item, "PartyCardNum"),
            status=_text(item, "Status"),
        )
        for item in items
        if card_matches(_text(item, "PartyCardNum"), id_number)
    ]


def map_restrictions(items: Iterable[dict[str, Any]]) -> list[ConsumptionRestriction]:
    """限制高消费 items → restrictions; the vendor names no court, so ``court`` stays empty."""
    return [
        ConsumptionRestriction(
            case_number=_text(item, "CaseNo"),
            court=_text(item, "Court"),
            published_on=to_date(item.get("PublishDate")),
            restricted_person=_text(item, "PersonName"),
            company=_text(item, "CompanyName"),
            applicant=_text(item, "Applicant"),
            filed_on=to_date(item.get("JudgeDate")),
        )
        for item in items
    ]


def map_litigation(
    subject_name: str,
    *,
    judgments: Iterable[dict[str, Any]] = (),
    dishonest: Iterable[dict[str, Any]] = (),
    executed: Iterable[dict[str, Any]] = (),
    restrictions: Iterable[dict[str, Any]] = (),
    id_number: str | None = None,
) -> LitigationRecord:
    """The four judicial lists of one subject → one :class:`LitigationRecord`."""
    return LitigationRecord(
        subject_name=subject_name,
        cases=tuple(map_cases(judgments, subject_name)),
        dishonest=tuple(map_dishonest(dishonest, id_number)),
        executed=tuple(map_executed(executed, id_number)),
        restrictions=tuple(map_restrictions(restrictions)),
    )


def _kind(stock_type: str) -> ShareholderKind | None:
    if not stock_type:
        return None
    if "自然人" in stock_type:
        return ShareholderKind.PERSON
    if "法人" in stock_type or "企业" in stock_type or "公司" in stock_type:
        return ShareholderKind.COMPANY
    return ShareholderKind.OTHER


def _joined(values: Any) -> str:
    parts: list[str] = []
    for value in values or []:
        if isinstance(value, dict):
            parts.extend(str(v) for v in value.values() if v not in (None, ""))
        elif value not in (None, ""):
            parts.append(str(value))
    return "；".join(parts)


def map_company(result: dict[str, Any]) -> CompanyProfile:
    """``GetBasicDetailsByName`` ``Result`` → :class:`CompanyProfile` (shareholders and changes inline)."""
    industry = result.get("Industry")
    industry_name = ""
    if isinstance(industry, dict):
        industry_name = _text(industry, "SubIndustry") or _text(industry, "Industry")
    capital_text = _text(result, "RegistCapi")
    return CompanyProfile(
        name=_text(result, "Name"),
        uscc=_text(result, "CreditCode"),
        legal_representative=_text(result, "OperName"),
        registered_capital=parse_capital(capital_text),
        registered_capital_text=capital_text,
        established_on=to_date(result.get("StartDate")),
        status=_text(result, "Status"),
        industry=industry_name,
        address=_text(result, "Address"),
        registration_number=_text(result, "No"),
        company_type=_text(result, "EconKind"),
        registration_authority=_text(result, "BelongOrg"),
        business_scope=_text(result, "Scope"),
        former_names=tuple(_text(n, "Name") for n in result.get("UsedNameList") or [] if isinstance(n, dict)),
        vendor_id=_text(result, "KeyNo"),
        shareholders=tuple(
            Shareholder(
                name=_text(holder, "StockName"),
                stake_percent=parse_percent(holder.get("StockPercent")),
                subscribed=_wan(holder.get("ShouldCapi")),
                kind=_kind(_text(holder, "StockType")),
                paid_in=_wan(holder.get("RealCapi")),
                subscribed_on=to_date(holder.get("ShoudDate")),
            )
            for holder in result.get("ShareHolderList") or []
            if isinstance(holder, dict)
        ),
        changes=tuple(
            ChangeRecord(
                changed_on=to_date(change.get("ChangeDate")),
                item=_text(change, "ProjectName"),
                before=_joined(change.get("BeforeList")),
                after=_joined(change.get("AfterList")),
            )
            for change in result.get("ChangeList") or []
            if isinstance(change, dict)
        ),
    )
