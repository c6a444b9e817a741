"""Pure functions: 百行 report sections → the canonical CreditReport.

The section names come from vendors.md §1.2 (``reportHeader``, ``personalProfile``, ``homeInfo``,
``workInfo``, ``nonRevolvingLoan``, ``revolvingLoan``, ``queryHistory``); their inner fields are not
public, so the names below are LendHub's low-confidence reading, kept in one place
(:data:`FIELDS`) that config can override key by key. Money is ``Decimal``; times are Beijing
time on the wire and aware UTC here. 百行 carries no score, five-category class or public records,
so those stay empty.
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
    CreditSummary,
    QueryReason,
    QueryRecord,
)

__all__ = ["FIELDS", "SECTIONS", "is_empty", "map_report", "reason_category"]

BEIJING = timezone(timedelta(hours=8))

SECTIONS = (
    "reportHeader",
    "personalProfile",
    "homeInfo",
    "workInfo",
    "nonRevolvingLoan",
    "revolvingLoan",
    "queryHistory",
)

FIELDS: dict[str, str] = {
    "report_id": "reportId",
    "query_time": "queryTime",
    "gender": "gender",
    "address": "address",
    "company": "company",
    "updated": "date",
    "accounts": "accounts",
    "account_id": "accountId",
    "org_type": "orgType",
    "loan_type": "loanType",
    "loan_amount": "loanAmount",
    "credit_limit": "creditLimit",
    "balance": "balance",
    "open_date": "openDate",
    "due_date": "dueDate",
    "status": "accountStatus",
    "overdue_amount": "currentOverdueAmount",
    "overdue_periods": "currentOverduePeriods",
    "status_24m": "repayStatus24",
    "term_count": "termCount",
    "remaining_terms": "remainingTerms",
    "query_date": "queryDate",
    "query_reason": "queryReason",
}
"""Canonical meaning → 百行 field name (low confidence; override with config ``field_names``)."""

_STATUS = {
    "1": AccountStatus.ACTIVE,
    "2": AccountStatus.OVERDUE,
    "3": AccountStatus.SETTLED,
    "4": AccountStatus.BAD_DEBT,
}


def reason_category(label: str) -> QueryReason:
    """Classify a query reason by its wording (百行 says 授信审批 where PBOC says 贷款审批)."""
    if "信用卡" in label:
        return QueryReason.CARD_APPROVAL
    if "担保" in label:
        return QueryReason.GUARANTEE_REVIEW
    if "贷后" in label:
        return QueryReason.POST_LOAN
    if "本人" in label:
        return QueryReason.SELF
    if "审批" in label or label == "1":
        return QueryReason.LOAN_APPROVAL
    return QueryReason.OTHER


def is_empty(decoded: Mapping[str, Any]) -> bool:
    """百行's answer for a person it does not know: every data section empty."""
    return not any(decoded.get(name) for name in SECTIONS if name != "reportHeader")


def _text(item: Mapping[str, Any], key: str) -> str | None:
    value = item.get(key)
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _amount(item: Mapping[str, Any], key: str) -> Decimal | None:
    text = _text(item, key)
    if text is None:
        return None
    try:
        return Decimal(text.replace(",", ""))
    except InvalidOperation:
        raise ValueError(f"{key}: {text!r} is not an amount") from None


def _money(item: Mapping[str, Any], key: str) -> Money | None:
    value = _amount(item, key)
    return None if value is None else Money(amount=value)


def _date(item: Mapping[str, Any], key: str) -> date | None:
    text = _text(item, key)
    return date.fromisoformat(text[:10]) if text else None


def _int(item: Mapping[str, Any], key: str) -> int:
    text = _text(item, key)
    return int(text) if text else 0


def _list(value: Any, name: str) -> list[dict[str, Any]]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise ValueError(f"{name} is not an array")
    return [v for v in value if isinstance(v, dict)]


def _accounts(section: Any, account_type: AccountType, f: Mapping[str, str]) -> list[CreditAccount]:
    if section is None:
        return []
    if not isinstance(section, dict):
        raise ValueError("a loan section is not an object")
    out = []
    for item in _list(section.get(f["accounts"]), f["accounts"]):
        status = _text(item, f["status"])
        org_type = _text(item, f["org_type"]) or ""
        out.append(
            CreditAccount(
                account_type=account_type,
                institution=org_type,  # 百行 names the kind of lender, never the lender
                institution_type=org_type or None,
                account_id=_text(item, f["account_id"]),
                business_type=_text(item, f["loan_type"]),
                loan_amount=_money(item, f["loan_amount"]),
                credit_limit=_money(item, f["credit_limit"]),
                balance=_money(item, f["balance"]) or Money(amount=Decimal("0")),
                opened_on=_date(item, f["open_date"]),
                due_on=_date(item, f["due_date"]),
                status=None if status is None else _STATUS.get(status, AccountStatus.OTHER),
                overdue_amount=_money(item, f["overdue_amount"]),
                overdue_periods=_int(item, f["overdue_periods"]),
                status_24m=_text(item, f["status_24m"]) or "",
                repayment_periods=_int(item, f["term_count"]) or None,
                remaining_periods=_int(item, f["remaining_terms"]) or None,
            )
        )
    return out


def _type_summary(account_type: AccountType, accounts: list[CreditAccount]) -> AccountTypeSummary:
    limits = [(a.credit_limit or a.loan_amount) for a in accounts]
    return AccountTypeSummary(
        account_type=account_type,
        institutions=len({a.institution for a in accounts}),
        accounts=len(accounts),
        credit_limit_total=sum((m.amount for m in limits if m is not None), Decimal("0")),
        balance_total=sum((a.balance.amount for a in accounts), Decimal("0")),
    )


def map_report(
    decoded: Mapping[str, Any], subject: PersonSubject, *, field_names: Mapping[str, str] | None = None
) -> CreditReport:
    """Map decoded sections (see ``client.sections``) onto the canonical model.

    The summaries are computed from the account lines because 百行's own summary fields are not
    documented; the subject is the one queried (百行 echoes only masked name and ID number).

    Raises:
        ValueError: a section does not have the documented shape.
    """
    f = {**FIELDS, **(field_names or {})}
    header = decoded.get("reportHeader") or {}
    if not isinstance(header, dict):
        raise ValueError("reportHeader is not an object")
    report_id = _text(header, f["report_id"])
    query_time = _text(header, f["query_time"])
    if report_id is None or query_time is None:
        raise ValueError("reportHeader: report id or query time missing")
    generated = datetime.fromisoformat(query_time)
    if generated.tzinfo is None:
        generated = generated.replace(tzinfo=BEIJING)
    loans = _accounts(decoded.get("nonRevolvingLoan"), AccountType.NON_REVOLVING_LOAN, f)
    lines = _accounts(decoded.get("revolvingLoan"), AccountType.REVOLVING_LOAN, f)
    queries = []
    for item in _list(decoded.get("queryHistory"), "queryHistory"):
        queried_on = _date(item, f["query_date"])
        if queried_on is None:
            raise ValueError("queryHistory: a record without a date")
        reason = _text(item, f["query_reason"]) or ""
        queries.append(
            QueryRecord(
                queried_on=queried_on,
                institution_type=_text(item, f["org_type"]) or "",
                reason=reason,
                reason_category=reason_category(reason),
            )
        )
    profile = decoded.get("personalProfile") or {}
    homes = sorted(_list(decoded.get("homeInfo"), "homeInfo"), key=lambda h: str(h.get(f["updated"], "")))
    jobs = sorted(_list(decoded.get("workInfo"), "workInfo"), key=lambda j: str(j.get(f["updated"], "")))
    accounts = (*loans, *lines)
    return CreditReport(
        report_id=report_id,
        subject=subject,
        generated_at=generated.astimezone(UTC),
        bureau="baihang",
        identity=CreditIdentity(
            gender=_text(profile, f["gender"]) if isinstance(profile, dict) else None,
            residence=_text(homes[-1], f["address"]) if homes else None,
            employer=_text(jobs[-1], f["company"]) if jobs else None,
        ),
        accounts=accounts,
        summary=CreditSummary(
            total_accounts=len(accounts),
            by_type=tuple(
                _type_summary(t, group)
                for t, group in ((AccountType.NON_REVOLVING_LOAN, loans), (AccountType.REVOLVING_LOAN, lines))
                if group
            ),
            bad_debt_accounts=sum(1 for a in accounts if a.status is AccountStatus.BAD_DEBT),
            bad_debt_balance=sum(
                (a.balance.amount for a in accounts if a.status is AccountStatus.BAD_DEBT), Decimal("0")
            ),
        ),
        queries=tuple(queries),
        total_overdue=sum((a.overdue_amount.amount for a in accounts if a.overdue_amount), Decimal("0")),
    )
