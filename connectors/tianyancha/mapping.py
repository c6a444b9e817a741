"""Pure functions from 天眼查 JSON to canonical models; testable from recorded bodies alone.

Field names follow the vendor's Java value objects (``LawSuit``, ``JrDishonest``,
``Zhixinginfo``, ``ConsumptionRestriction``, ``BaseInfoNormal``, ``IcHolder``, ``Change``),
including the vendor's own spellings (``estiblishTime``, ``amomon``, ``paymet``). Times in
milliseconds are Beijing-time instants; a date is the Beijing calendar day they fall on.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta, timezone
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

BEIJING = timezone(timedelta(hours=8))


def to_date(value: Any) -> date | None:
    """A date from epoch milliseconds or a ``YYYY-MM-DD[ hh:mm:ss]`` string; ``None`` when absent."""
    if value is None or value == "":
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return datetime.fromtimestamp(value / 1000, UTC).astimezone(BEIJING).date()
    text = str(value).strip()
    if text.isdigit():
        return to_date(int(text))
    return date.fromisoformat(text[:10])


def _money(value: Any) -> Money | None:
    if value is None or value == "":
        return None
    try:
        return Money(amount=Decimal(str(value).replace(",", "")))
    except InvalidOperation:
        return parse_capital(str(value))


def _text(item: dict[str, Any], key: str) -> str:
    value = item.get(key)
    return "" if value is None else str(value).strip()


def card_matches(masked: str, id_number: str | None) -> bool:
    """Whether a vendor-masked ID (``4403**********0030``) can be ``id_number``.

    Lists are searched by name, and namesakes are common; when the caller knows the ID number, a
    listing whose visible digits disagree belongs to someone else. Unknown on either side matches.
    """
    if not id_number or not masked:
        return True
    masked, id_number = masked.strip().upper(), id_number.strip().upper()
    if len(masked) != len(id_number):
        return True  # an organisation code or a differently masked form: cannot tell
    return all(m in "*＊" or m == c for m, c in zip(masked, id_number, strict=True))


def map_cases(items: Iterable[dict[str, Any]], subject_name: str) -> list[LitigationCase]:
    """法律诉讼 items → cases, with the subject's role found among ``casePersons``."""
    cases = []
    for item in items:
        parties = []
        role = ""
        adverse: bool | None = None
        for person in item.get("casePersons") or []:
            name = _text(person, "name")
            kind = str(person.get("type") or "")
            parties.append(
                CaseParty(
                    name=name,
                    role=_text(person, "role"),
                    is_company={"1": False, "2": True}.get(kind),
                )
            )
            if name == subject_name and not role:
                role = normalize_role(_text(person, "role")).value
                emotion = person.get("emotion")
                adverse = None if emotion in (None, "") else int(emotion) < 0
        cases.append(
            LitigationCase(
                case_number=_text(item, "caseNo"),
                cause=_text(item, "caseReason"),
                court=_text(item, "court"),
                role=role,
                amount=_money(item.get("caseMoney")),
                judged_on=to_date(item.get("judgeTime")),
                published_on=to_date(item.get("submitTime")),
                status=_text(item, "docType"),
                title=_text(item, "title"),
                parties=tuple(parties),
                adverse=adverse,
            )
        )
    return cases


def map_dishonest(items: Iterable[dict[str, Any]], id_number: str | None = None) -> list[DishonestRecord]:
    """失信人 items → dishonest records, dropping namesakes whose masked ID disagrees."""
    return [
        DishonestRecord(
            case_number=_text(item, "casecode"),
            court=_text(item, "courtname"),
            published_on=to_date(item.get("publishdate")),
            obligation=_text(item, "duty"),
            name=_text(item, "iname"),
            id_number_masked=_text(item, "cardnum"),
            filed_on=to_date(item.get("regdate")),
            performance=_text(item, "performance"),
            conduct=_text(item, "disrupttypename"),
            basis_number=_text(item, "gistid"),
            basis_unit=_text(item, "gistunit"),
            amount=_money(item.get("unperformPart")),
        )
        for item in items
        if card_matches(_text(item, "cardnum"), id_number)
    ]


def map_executed(items: Iterable[dict[str, Any]], id_number: str | None = None) -> list[ExecutedRecord]:
    """被执行人 items → executed records (``execMoney`` is in 元)."""
    return [
        ExecutedRecord(
            case_number=_text(item, "caseCode"),
            court=_text(item, "execCourtName"),
            amount=_money(item.get("execMoney")),
            filed_on=to_date(item.get("caseCreateTime")),
            name=_text(item, "pname"),
            id_number_masked=_text(item, "partyCardNum"),
        )
        for item in items
        if card_matches(_text(item, "partyCardNum"), id_number)
    ]


def map_restrictions(items: Iterable[dict[str, Any]]) -> list[ConsumptionRestriction]:
    """限制消费令 items → restrictions; the vendor names no court, so ``court`` stays empty."""
    return [
        ConsumptionRestriction(
            case_number=_text(item, "caseCode"),
            court="",
            published_on=to_date(item.get("publishDate")),
            restricted_person=_text(item, "xname"),
            company=_text(item, "qyinfo"),
            applicant=_text(item, "applicant"),
            filed_on=to_date(item.get("caseCreateTime")),
        )
        for item in items
    ]


def map_litigation(
    subject_name: str,
    *,
    lawsuits: Iterable[dict[str, Any]] = (),
    dishonest: Iterable[dict[str, Any]] = (),
    executed: Iterable[dict[str, Any]] = (),
    restrictions: Iterable[dict[str, Any]] = (),
    id_number: str | None = None,
) -> LitigationRecord:
    """The four judicial lists of one subject → one :class:`LitigationRecord`."""
    return LitigationRecord(
        subject_name=subject_name,
        cases=tuple(map_cases(lawsuits, subject_name)),
        dishonest=tuple(map_dishonest(dishonest, id_number)),
        executed=tuple(map_executed(executed, id_number)),
        restrictions=tuple(map_restrictions(restrictions)),
    )


_HOLDER_KIND = {"1": ShareholderKind.COMPANY, "2": ShareholderKind.PERSON, "3": ShareholderKind.OTHER}


def _shareholder(item: dict[str, Any]) -> Shareholder:
    capital = [c for c in item.get("capital") or [] if isinstance(c, dict)]
    paid = [c for c in item.get("capitalActl") or [] if isinstance(c, dict)]
    first = capital[0] if capital else {}
    return Shareholder(
        name=_text(item, "name"),
        stake_percent=parse_percent(first.get("percent")),
        subscribed=parse_capital(first.get("amomon")),
        kind=_HOLDER_KIND.get(str(item.get("type") or "")),
        paid_in=parse_capital(paid[0].get("amomon")) if paid else None,
        subscribed_on=to_date(first.get("time")),
    )


def map_company(
    base: dict[str, Any],
    holders: Iterable[dict[str, Any]] = (),
    changes: Iterable[dict[str, Any]] = (),
) -> CompanyProfile:
    """``baseinfo/normal`` plus 股东 and 变更记录 items → :class:`CompanyProfile`."""
    history = base.get("historyNameList")
    if not isinstance(history, list):
        history = [n for n in _text(base, "historyNames").replace("；", ";").split(";") if n.strip()]
    capital_text = _text(base, "regCapital")
    return CompanyProfile(
        name=_text(base, "name"),
        uscc=_text(base, "creditCode"),
        legal_representative=_text(base, "legalPersonName"),
        registered_capital=parse_capital(capital_text, currency=_text(base, "regCapitalCurrency") or None),
        registered_capital_text=capital_text,
        established_on=to_date(base.get("estiblishTime")),
        status=_text(base, "regStatus"),
        industry=_text(base, "industry"),
        address=_text(base, "regLocation"),
        registration_number=_text(base, "regNumber"),
        company_type=_text(base, "companyOrgType"),
        registration_authority=_text(base, "regInstitute"),
        business_scope=_text(base, "businessScope"),
        former_names=tuple(str(n).strip() for n in history if str(n).strip()),
        vendor_id=_text(base, "id"),
        shareholders=tuple(_shareholder(item) for item in holders),
        changes=tuple(
            ChangeRecord(
                changed_on=to_date(item.get("changeTime")),
                item=_text(item, "changeItem"),
                before=_text(item, "contentBefore"),
                after=_text(item, "contentAfter"),
            )
            for item in changes
        ),
    )
