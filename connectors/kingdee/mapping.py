"""Pure translations between canonical vouchers and 金蝶云星空 ``GL_VOUCHER`` JSON."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from plugins.sdk import VendorContractError
from schemas.canonical.finance import AccountingPeriod, Voucher, VoucherEntry, VoucherReceipt

__all__ = [
    "DEFAULT_CURRENCY_NUMBERS",
    "DEFAULT_DIMENSION_FLEX",
    "DEFAULT_VOUCHER_WORDS",
    "FORM_ID",
    "lookup_query",
    "receipt_from_row",
    "receipt_from_save",
    "save_body",
]

FORM_ID = "GL_VOUCHER"

DEFAULT_DIMENSION_FLEX: dict[str, str] = {
    "supplier": "FFLEX4",  # 供应商
    "department": "FFLEX5",  # 部门
    "customer": "FFLEX6",  # 客户
    "employee": "FFLEX7",  # 员工
    "loan": "FF100001",  # custom dimension (LOW-CONFIDENCE: set per deployment)
    "product": "FF100002",  # custom dimension (LOW-CONFIDENCE: set per deployment)
}
"""Canonical dimension kind → ``FDetailID`` flex field (``FDETAILID__<flex>``)."""

DEFAULT_CURRENCY_NUMBERS: dict[str, str] = {
    "CNY": "PRE001",
    "HKD": "PRE002",
    "EUR": "PRE003",
    "USD": "PRE007",
}
"""ISO currency → 金蝶 currency number (FCURRENCYID.FNumber); LOW-CONFIDENCE beyond CNY."""

DEFAULT_VOUCHER_WORDS: dict[str, str] = {"记": "PRE001", "收": "PRE002", "付": "PRE003", "转": "PRE004"}
"""凭证字 → voucher group number (FVOUCHERGROUPID.FNumber)."""


def _amount(value: Decimal) -> str:
    # Sent as a string: JSON numbers would go through float somewhere; 金蝶 parses "1234.50".
    return format(value.quantize(Decimal("0.01")), "f")


def _entry(
    entry: VoucherEntry, voucher: Voucher, currency_number: str, flex: Mapping[str, str]
) -> dict[str, Any]:
    detail: dict[str, Any] = {}
    for dim in entry.dimensions:
        field = flex.get(dim.kind.value)
        if field is None:
            raise ValueError(f"no 金蝶 flex field configured for dimension {dim.kind.value!r}")
        detail[f"FDETAILID__{field}"] = {"FNumber": dim.code}
    line: dict[str, Any] = {
        "FEXPLANATION": entry.summary,
        "FACCOUNTID": {"FNumber": entry.account_code},
        "FCURRENCYID": {"FNumber": currency_number},
        "FEXCHANGERATETYPE": {"FNumber": "HLTX01_SYS"},
        "FEXCHANGERATE": _amount(voucher.exchange_rate),
        "FAMOUNTFOR": _amount(entry.amount),
        "FDEBIT": _amount(entry.debit * voucher.exchange_rate),
        "FCREDIT": _amount(entry.credit * voucher.exchange_rate),
    }
    if detail:
        line["FDetailID"] = detail
    return line


def save_body(
    voucher: Voucher,
    *,
    account_book: str,
    org_number: str,
    external_id_field: str,
    default_voucher_word: str = "PRE001",
    dimension_flex: Mapping[str, str] = DEFAULT_DIMENSION_FLEX,
    currency_numbers: Mapping[str, str] = DEFAULT_CURRENCY_NUMBERS,
    voucher_words: Mapping[str, str] = DEFAULT_VOUCHER_WORDS,
) -> dict[str, Any]:
    """``DynamicFormService.Save`` body for a balanced voucher.

    The idempotency key goes into ``external_id_field``, a header field carrying a uniqueness
    rule in the lender's 金蝶 (see the README), which is what makes a repost find the voucher.

    Raises:
        ValueError: the voucher uses a currency or dimension the config cannot map.
    """
    currency = currency_numbers.get(voucher.currency)
    if currency is None:
        raise ValueError(f"no 金蝶 currency number configured for {voucher.currency}")
    word = voucher_words.get(voucher.voucher_word or "", default_voucher_word)
    period = voucher.fiscal_period
    model: dict[str, Any] = {
        "FAccountBookID": {"FNumber": account_book},
        "FDate": voucher.booked_on.isoformat(),
        "FBUSDATE": voucher.booked_on.isoformat(),
        "FYEAR": period.year,
        "FPERIOD": period.period,
        "FVOUCHERGROUPID": {"FNumber": word},
        "FACCBOOKORGID": {"FNumber": org_number},
        "FATTACHMENTS": voucher.attachments,
        "FISADJUSTVOUCHER": False,
        external_id_field: voucher.idempotency_key,
        "FEntity": [_entry(e, voucher, currency, dimension_flex) for e in voucher.entries],
    }
    return {
        "formid": FORM_ID,
        "data": {
            "NeedUpDateFields": [],
            "NeedReturnFields": ["FVOUCHERID", "FBillNo"],
            "IsDeleteEntry": "true",
            "IsVerifyBaseDataField": "true",
            "IsAutoSubmitAndAudit": "false",
            "Model": model,
        },
    }


def lookup_query(key: str, *, account_book: str, external_id_field: str) -> dict[str, Any]:
    """``ExecuteBillQuery`` body finding the voucher posted under ``key`` in the account book."""
    quoted = key.replace("'", "''")
    book = account_book.replace("'", "''")
    return {
        "data": {
            "FormId": FORM_ID,
            "FieldKeys": "FVOUCHERID,FBillNo,FYEAR,FPERIOD",
            "FilterString": f"{external_id_field}='{quoted}' and FAccountBookID.FNumber='{book}'",
            "OrderString": "",
            "TopRowCount": 0,
            "StartRow": 0,
            "Limit": 1,
        }
    }


def receipt_from_save(
    voucher_id: str, number: str, voucher: Voucher, *, replayed: bool = False
) -> VoucherReceipt:
    """The receipt of a successful ``Save``."""
    return VoucherReceipt(
        voucher_id=voucher_id,
        voucher_number=number,
        idempotency_key=voucher.idempotency_key,
        replayed=replayed,
        period=voucher.fiscal_period,
    )


def receipt_from_row(row: list[Any], key: str) -> VoucherReceipt:
    """The receipt of a voucher found by ``lookup_query`` (``[FVOUCHERID, FBillNo, FYEAR, FPERIOD]``)."""
    if len(row) < 4:
        raise VendorContractError("金蝶 ExecuteBillQuery row has fewer fields than asked for")
    try:
        period = AccountingPeriod(year=int(row[2]), period=int(row[3]))
    except (TypeError, ValueError):
        raise VendorContractError("金蝶 voucher row has no numeric FYEAR/FPERIOD") from None
    return VoucherReceipt(
        voucher_id=str(row[0]),
        voucher_number=str(row[1] or ""),
        idempotency_key=key,
        replayed=True,
        period=period,
    )
