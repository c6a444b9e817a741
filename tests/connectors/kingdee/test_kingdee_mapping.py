"""金蝶 GL_VOUCHER mapping, from recorded vendor bodies shaped as the contract card describes."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from kingdee_helpers import disbursement

from connectors.kingdee import client, mapping
from plugins.sdk import VendorContractError
from schemas.canonical.finance import AccountingPeriod, Voucher, VoucherEntry

FIXTURES = Path(__file__).parent / "fixtures"


def load(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def body(voucher: Voucher) -> dict[str, Any]:
    return mapping.save_body(
        voucher, account_book="001", org_number="100", external_id_field="F_LH_ExternalId"
    )


def test_save_body_carries_header_entries_and_dimensions() -> None:
    saved = body(disbursement())
    assert saved["formid"] == "GL_VOUCHER"
    model = saved["data"]["Model"]
    assert model["FAccountBookID"] == {"FNumber": "001"} and model["FDate"] == "2024-03-15"
    assert (model["FYEAR"], model["FPERIOD"]) == (2024, 3)
    assert model["FVOUCHERGROUPID"] == {"FNumber": "PRE001"}
    assert model["F_LH_ExternalId"] == "disburse:LN-0001"
    debit, credit = model["FEntity"]
    assert debit["FACCOUNTID"] == {"FNumber": "1303.01"} and debit["FEXPLANATION"] == "发放贷款 LN-0001"
    assert (debit["FDEBIT"], debit["FCREDIT"], debit["FAMOUNTFOR"]) == ("50000.00", "0.00", "50000.00")
    assert (credit["FDEBIT"], credit["FCREDIT"]) == ("0.00", "50000.00")
    assert debit["FDetailID"] == {
        "FDETAILID__FFLEX6": {"FNumber": "CUST-clean"},
        "FDETAILID__FF100001": {"FNumber": "LN-0001"},
    }
    assert "FDetailID" not in credit
    assert debit["FCURRENCYID"] == {"FNumber": "PRE001"}


def test_explicit_period_word_and_currency_are_mapped() -> None:
    voucher = disbursement().model_copy(
        update={"period": AccountingPeriod(year=2024, period=13), "voucher_word": "付"}
    )
    model = body(voucher)["data"]["Model"]
    assert model["FPERIOD"] == 13 and model["FVOUCHERGROUPID"] == {"FNumber": "PRE003"}


def test_unmapped_currency_is_refused_before_sending() -> None:
    voucher = Voucher(
        idempotency_key="k",
        booked_on=date(2024, 1, 2),
        currency="GBP",
        entries=(
            VoucherEntry(account_code="1002", summary="s", debit=Decimal("1")),
            VoucherEntry(account_code="6011", summary="s", credit=Decimal("1")),
        ),
    )
    with pytest.raises(ValueError, match="GBP"):
        body(voucher)


def test_unbalanced_voucher_cannot_be_built() -> None:
    with pytest.raises(ValueError, match="balance"):
        Voucher(
            idempotency_key="k",
            booked_on=date(2024, 1, 2),
            entries=(
                VoucherEntry(account_code="1002", summary="s", debit=Decimal("100")),
                VoucherEntry(account_code="6011", summary="s", credit=Decimal("90")),
            ),
        )


def test_save_answer_gives_id_and_number() -> None:
    assert client.save_result(load("save_ok.json")) == ("100023", "记-0023")
    receipt = mapping.receipt_from_save("100023", "记-0023", disbursement())
    assert receipt.period == AccountingPeriod(year=2024, period=3) and not receipt.replayed


def test_query_row_gives_a_replayed_receipt() -> None:
    rows = client.query_rows(load("query_rows.json"))
    receipt = mapping.receipt_from_row(rows[0], "disburse:LN-0001")
    assert (receipt.voucher_id, receipt.voucher_number, receipt.replayed) == ("100023", "记-0023", True)
    assert type(receipt).model_validate_json(receipt.model_dump_json()) == receipt


def test_lookup_query_quotes_the_key() -> None:
    query = mapping.lookup_query("o'brien", account_book="001", external_id_field="F_X")
    assert query["data"]["FilterString"] == "F_X='o''brien' and FAccountBookID.FNumber='001'"


def test_malformed_answers_are_contract_errors() -> None:
    with pytest.raises(VendorContractError):
        client.query_rows({"not": "rows"})
    with pytest.raises(VendorContractError):
        client.save_result({"Result": {"ResponseStatus": {"IsSuccess": True, "SuccessEntitys": []}}})
    with pytest.raises(VendorContractError):
        mapping.receipt_from_row([1, "x"], "k")
