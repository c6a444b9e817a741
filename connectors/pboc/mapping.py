"""Pure functions: a second-generation segment report (JSON) → the canonical CreditReport.

Segment names and field codes follow the 二代征信 JSON structure (vendors.md §1.1): every value is
a string, dates ``YYYY-MM-DD``, months ``YYYY-MM``, report time ``YYYY-MM-DDTHH:MM:SS`` in Beijing
time. Code tables whose meaning is only medium or low confidence (query reasons, institution types)
are parameters with defaults here, so a lender can correct them in config without a release.
Malformed input raises ``ValueError`` (or ``KeyError``/``TypeError``); the connector turns those
into VendorContractError.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation
from typing import Any

from schemas.canonical.common import Money, PersonSubject
from schemas.canonical.credit_report import (
    AccountStatus,
    AccountType,
    AccountTypeSummary,
    CreditAccount,
    CreditIdentity,
    CreditReport,
    CreditScore,
    CreditSummary,
    OverdueSummary,
    PublicRecord,
    PublicRecordKind,
    QueryReason,
    QueryRecord,
    QuerySummary,
)

from . import codes

__all__ = [
    "map_report",
    "reason_category",
]

BEIJING = timezone(timedelta(hours=8))


def _seg(data: Mapping[str, Any] | None, *path: str) -> dict[str, Any]:
    node: Any = data or {}
    for key in path:
        node = node.get(key) if isinstance(node, Mapping) else None
        if node is None:
            return {}
    if not isinstance(node, dict):
        raise ValueError(f"segment {'.'.join(path)} is not an object")
    return node


def _items(data: Mapping[str, Any] | None, *path: str) -> list[dict[str, Any]]:
    node: Any = data or {}
    for key in path:
        node = node.get(key) if isinstance(node, Mapping) else None
        if node is None:
            return []
    if not isinstance(node, list):
        raise ValueError(f"segment {'.'.join(path)} is not an array")
    return [item for item in node if isinstance(item, dict)]


def _text(seg: Mapping[str, Any], key: str) -> str | None:
    value = seg.get(key)
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _amount(seg: Mapping[str, Any], key: str) -> Decimal | None:
    text = _text(seg, key)
    if text is None:
        return None
    try:
        return Decimal(text.replace(",", ""))
    except InvalidOperation:
        raise ValueError(f"{key}: {text!r} is not an amount") from None


def _money(seg: Mapping[str, Any], key: str, currency: str = "CNY") -> Money | None:
    value = _amount(seg, key)
    return None if value is None else Money(amount=value, currency=currency)


def _int(seg: Mapping[str, Any], key: str) -> int:
    text = _text(seg, key)
    return int(text) if text is not None else 0


def _date(seg: Mapping[str, Any], key: str) -> date | None:
    text = _text(seg, key)
    return date.fromisoformat(text[:10]) if text is not None else None


def reason_category(label: str) -> QueryReason:
    """Classify a query-reason label by its wording (codes differ between gateways, words do not)."""
    if "信用卡" in label:
        return QueryReason.CARD_APPROVAL
    if "担保" in label and "审查" in label:
        return QueryReason.GUARANTEE_REVIEW
    if "贷后" in label or "保后" in label:
        return QueryReason.POST_LOAN
    if "本人" in label:
        return QueryReason.SELF
    if "贷款审批" in label or "融资审批" in label:
        return QueryReason.LOAN_APPROVAL
    return QueryReason.OTHER


def _status_24m(account: Mapping[str, Any]) -> tuple[str, str | None]:
    history = _seg(account, "PD01D")
    months = sorted(
        (_text(item, "PD01DR03") or "", _text(item, "PD01DD01") or "*") for item in _items(history, "PD01DH")
    )
    return "".join(char for _, char in months), _text(history, "PD01DR01") or (
        months[0][0] if months else None
    )


def _account(raw: Mapping[str, Any], institution_types: Mapping[str, str]) -> CreditAccount:
    basic = _seg(raw, "PD01A")
    latest = _seg(raw, "PD01B")
    month = _seg(raw, "PD01C")
    type_code = _text(basic, "PD01AD01") or ""
    account_type = codes.ACCOUNT_TYPES.get(type_code)
    if account_type is None:
        raise ValueError(f"PD01AD01: unknown account type {type_code!r}")
    currency = _text(basic, "PD01AD04") or "CNY"
    is_card = account_type in (AccountType.CREDIT_CARD, AccountType.QUASI_CREDIT_CARD)
    status_code = _text(latest, "PD01BD01") or _text(month, "PD01CD01")
    status_table = codes.CARD_STATUS if is_card else codes.LOAN_STATUS
    status = None if status_code is None else status_table.get(status_code, AccountStatus.OTHER)
    five = _text(latest, "PD01BD03") or _text(month, "PD01CD02")
    # Cards report the used amount (已用额度) as what is owed; loans report the balance.
    balance = (_amount(month, "PD01CJ02") if is_card else None) or _amount(month, "PD01CJ01")
    if balance is None:
        balance = _amount(latest, "PD01BJ01") or Decimal("0")
    status_24m, status_from = _status_24m(raw)
    institution_type = _text(basic, "PD01AD02")
    business = _text(basic, "PD01AD03")
    guarantee = _text(basic, "PD01AD07")
    return CreditAccount(
        account_type=account_type,
        institution=_text(basic, "PD01AI02") or "",
        institution_type=institution_types.get(institution_type or "", institution_type),
        account_id=_text(basic, "PD01AI01"),
        business_type=codes.BUSINESS_TYPES.get(business or "", business),
        opened_on=_date(basic, "PD01AR01"),
        due_on=_date(basic, "PD01AR02"),
        closed_on=_date(latest, "PD01BR01"),
        loan_amount=_money(basic, "PD01AJ01", currency),
        credit_limit=_money(basic, "PD01AJ02", currency),
        balance=Money(amount=balance, currency=currency),
        five_category=codes.FIVE_CATEGORY.get(five or ""),
        status=status,
        overdue_amount=_money(month, "PD01CJ06", currency),
        overdue_periods=_int(month, "PD01CS02"),
        status_24m=status_24m,
        status_24m_from=status_from,
        guarantee=codes.GUARANTEE.get(guarantee or "", guarantee),
        repayment_periods=_int(basic, "PD01AS01") or None,
        remaining_periods=_int(month, "PD01CS01") or None,
        scheduled_payment=_money(month, "PD01CJ04", currency),
        actual_payment=_money(month, "PD01CJ05", currency),
        last_payment_on=_date(month, "PD01CR03") or _date(latest, "PD01BR02"),
    )


def _summary(report: Mapping[str, Any], queries: QuerySummary | None) -> CreditSummary:
    pc02 = _seg(report, "PCO", "PC02")
    by_type: list[AccountTypeSummary] = []
    for segment, account_type in codes.SUMMARY_SEGMENTS.items():
        seg = _seg(pc02, segment)
        if seg:
            by_type.append(
                AccountTypeSummary(
                    account_type=account_type,
                    institutions=_int(seg, f"{segment}S01"),
                    accounts=_int(seg, f"{segment}S02"),
                    credit_limit_total=_amount(seg, f"{segment}J01") or Decimal("0"),
                    balance_total=_amount(seg, f"{segment}J02") or Decimal("0"),
                    avg_payment_6m=_amount(seg, f"{segment}J03"),
                )
            )
    for segment, account_type in codes.CARD_SUMMARY_SEGMENTS.items():
        seg = _seg(pc02, segment)
        if seg:
            by_type.append(
                AccountTypeSummary(
                    account_type=account_type,
                    institutions=_int(seg, f"{segment}S01"),
                    accounts=_int(seg, f"{segment}S02"),
                    credit_limit_total=_amount(seg, f"{segment}J01") or Decimal("0"),
                    max_single_limit=_amount(seg, f"{segment}J02"),
                    balance_total=_amount(seg, f"{segment}J04") or Decimal("0"),
                    avg_payment_6m=_amount(seg, f"{segment}J05"),
                )
            )
    overdue = tuple(
        OverdueSummary(
            account_type=codes.OVERDUE_KINDS.get(
                _text(item, "PC02DD01") or "", AccountType.NON_REVOLVING_LOAN
            ),
            accounts=_int(item, "PC02DS02"),
            months=_int(item, "PC02DS03"),
            max_month_amount=_amount(item, "PC02DJ01") or Decimal("0"),
            longest_overdue_months=_int(item, "PC02DS04"),
        )
        for item in _items(pc02, "PC02D", "PC02DH")
    )
    tips = _items(pc02, "PC02A", "PC02AH")
    first_months = sorted(m for m in (_text(t, "PC02AR01") for t in tips) if m)
    return CreditSummary(
        total_accounts=_int(_seg(pc02, "PC02A"), "PC02AS01"),
        first_credit_month=first_months[0] if first_months else None,
        by_type=tuple(by_type),
        overdue=overdue,
        bad_debt_accounts=_int(_seg(pc02, "PC02C"), "PC02CS01"),
        bad_debt_balance=_amount(_seg(pc02, "PC02C"), "PC02CJ01") or Decimal("0"),
        recovered_accounts=_int(_seg(pc02, "PC02B"), "PC02BS01"),
        recovered_balance=_amount(_seg(pc02, "PC02B"), "PC02BJ01") or Decimal("0"),
        queries=queries,
    )


def _query_summary(report: Mapping[str, Any], reasons: Mapping[str, str]) -> QuerySummary | None:
    pc05 = _seg(report, "PQO", "PC05")
    if not pc05:
        return None
    last, counts = _seg(pc05, "PC05A"), _seg(pc05, "PC05B")
    last_reason = _text(last, "PC05AQ01")
    return QuerySummary(
        loan_approval_institutions_1m=_int(counts, "PC05BS01"),
        card_approval_institutions_1m=_int(counts, "PC05BS02"),
        loan_approval_queries_1m=_int(counts, "PC05BS03"),
        card_approval_queries_1m=_int(counts, "PC05BS04"),
        self_queries_1m=_int(counts, "PC05BS05"),
        post_loan_queries_2y=_int(counts, "PC05BS06"),
        guarantee_queries_2y=_int(counts, "PC05BS07"),
        merchant_queries_2y=_int(counts, "PC05BS08"),
        last_query_on=_date(last, "PC05AR01"),
        last_query_reason=reasons.get(last_reason or "", last_reason),
    )


def _identity(report: Mapping[str, Any]) -> CreditIdentity:
    basic = _seg(report, "PIM", "PB01", "PB01A")
    phones = _items(report, "PIM", "PB01", "PB01B", "PB01BH")
    homes = sorted(_items(report, "PRM", "PB03"), key=lambda h: _text(h, "PB030R01") or "", reverse=True)
    jobs = sorted(_items(report, "POM", "PB04"), key=lambda j: _text(j, "PB040R02") or "", reverse=True)
    marital = _text(_seg(report, "PMM", "PB02"), "PB020D01")
    header = _seg(report, "PRH", "PA01")
    gender, education = _text(basic, "PB01AD01"), _text(basic, "PB01AD02")
    employment = _text(basic, "PB01AD04")
    return CreditIdentity(
        gender=codes.GENDER.get(gender or "", gender),
        birth_date=_date(basic, "PB01AR01"),
        marital_status=codes.MARITAL.get(marital or "", marital),
        education=codes.EDUCATION.get(education or "", education),
        employment_status=codes.EMPLOYMENT.get(employment or "", employment),
        employer=_text(jobs[0], "PB040Q01") if jobs else None,
        residence=_text(homes[0], "PB030Q01") if homes else None,
        mobiles=tuple(p for p in (_text(item, "PB01BQ01") for item in phones) if p),
        fraud_alert=bool(_seg(header, "PA01D")),
        dispute_count=_int(_seg(header, "PA01E"), "PA01ES01"),
    )


def _closure(code: str | None) -> str | None:
    return codes.CLOSURE.get(code or "", code)


def _public_records(report: Mapping[str, Any]) -> tuple[PublicRecord, ...]:
    records: list[PublicRecord] = []
    for block, array, segment, kind in codes.PUBLIC_BLOCKS:
        for item in _items(report, block, array):
            seg = _seg(item, segment)
            p = segment  # field prefix, e.g. PF03A
            if kind is PublicRecordKind.TAX_ARREARS:
                records.append(
                    PublicRecord(
                        kind=kind,
                        authority=_text(seg, f"{p}Q01") or "",
                        amount=_money(seg, f"{p}J01"),
                        recorded_on=_date(seg, f"{p}R01"),
                    )
                )
            elif kind is PublicRecordKind.ADMINISTRATIVE_PENALTY:
                records.append(
                    PublicRecord(
                        kind=kind,
                        authority=_text(seg, f"{p}Q01") or "",
                        cause=_text(seg, f"{p}Q02"),
                        amount=_money(seg, f"{p}J01"),
                        recorded_on=_date(seg, f"{p}R01"),
                        closed_on=_date(seg, f"{p}R02"),
                        result=_text(seg, f"{p}Q03"),
                    )
                )
            else:
                enforcement = kind is PublicRecordKind.ENFORCEMENT
                records.append(
                    PublicRecord(
                        kind=kind,
                        authority=_text(seg, f"{p}Q01") or "",
                        cause=_text(seg, f"{p}Q02"),
                        recorded_on=_date(seg, f"{p}R01"),
                        status=_text(seg, f"{p}Q03") if enforcement else _closure(_text(seg, f"{p}D01")),
                        result=None if enforcement else _text(seg, f"{p}Q03"),
                        closed_on=_date(seg, f"{p}R02"),
                        amount=_money(seg, f"{p}J01"),
                        executed_amount=_money(seg, f"{p}J02") if enforcement else None,
                    )
                )
    return tuple(records)


def _queries(
    report: Mapping[str, Any], reasons: Mapping[str, str], institution_types: Mapping[str, str]
) -> tuple[QueryRecord, ...]:
    out: list[QueryRecord] = []
    for item in _items(report, "POQ", "PH01"):
        queried_on = _date(item, "PH010R01")
        if queried_on is None:
            raise ValueError("PH010R01: query record without a date")
        code = _text(item, "PH010Q03") or ""
        label = reasons.get(code, code)
        org_type = _text(item, "PH010D01") or ""
        out.append(
            QueryRecord(
                queried_on=queried_on,
                institution_type=institution_types.get(org_type, org_type),
                institution=_text(item, "PH010Q02"),
                reason=label,
                reason_code=code or None,
                reason_category=reason_category(label),
            )
        )
    return tuple(out)


def _score(report: Mapping[str, Any]) -> CreditScore | None:
    pc01 = _seg(report, "PSM", "PC01")
    value = _text(pc01, "PC010Q01")
    if value is None or not value.isdigit():
        return None  # 数字解读 absent or "--": too little history to score
    raw_reasons = pc01.get("PC010D01")
    if isinstance(raw_reasons, list):
        reasons = tuple(str(r) for r in raw_reasons if str(r).strip())
    else:
        text = _text(pc01, "PC010D01")
        reasons = (text,) if text else ()
    percentile = _text(pc01, "PC010Q02")
    return CreditScore(
        value=int(value),
        reason_codes=reasons,
        model="PBOC_DIGITAL",
        range_min=0,
        range_max=1000,
        percentile=Decimal(percentile.rstrip("%")) if percentile else None,
    )


def map_report(
    report: Mapping[str, Any],
    subject: PersonSubject,
    *,
    query_reasons: Mapping[str, str] | None = None,
    institution_types: Mapping[str, str] | None = None,
) -> CreditReport:
    """Map one segment report onto the canonical model.

    Args:
        report: the ``report`` object of the gateway answer (top-level keys PRH, PIM, …, POQ).
        subject: who was queried; kept as the report's subject (the report repeats the name and
            ID number, which the CRM already holds).
        query_reasons: overrides of :data:`codes.DEFAULT_QUERY_REASONS`.
        institution_types: overrides of :data:`codes.DEFAULT_INSTITUTION_TYPES`.

    Raises:
        ValueError: the report does not have the documented shape.
    """
    reasons = {**codes.DEFAULT_QUERY_REASONS, **(query_reasons or {})}
    org_types = {**codes.DEFAULT_INSTITUTION_TYPES, **(institution_types or {})}
    header = _seg(report, "PRH", "PA01", "PA01A")
    report_id = _text(header, "PA01AI01")
    generated = _text(header, "PA01AR01")
    if report_id is None or generated is None:
        raise ValueError("PA01A: report number or report time missing")
    generated_at = datetime.fromisoformat(generated)
    if generated_at.tzinfo is None:
        generated_at = generated_at.replace(tzinfo=BEIJING)
    accounts = tuple(_account(raw, org_types) for raw in _items(report, "PDA", "PD01"))
    total_overdue = sum(
        (a.overdue_amount.amount for a in accounts if a.overdue_amount is not None), Decimal("0")
    )
    return CreditReport(
        report_id=report_id,
        subject=subject,
        generated_at=generated_at.astimezone(UTC),
        bureau="pboc",
        score=_score(report),
        identity=_identity(report),
        accounts=accounts,
        summary=_summary(report, _query_summary(report, reasons)),
        queries=_queries(report, reasons, org_types),
        public_records=_public_records(report),
        total_overdue=total_overdue,
    )
