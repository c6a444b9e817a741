"""Mapping from recorded 钉钉 bodies (shaped like the workflow 1.0 answers) to the canonical models."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from connectors.dingtalk.mapping import event_to_status_change, instance_from_result, status_from_vendor
from plugins.sdk import VendorContractError
from schemas.canonical.oa import ApprovalAction, ApprovalStatus, ApprovalTaskStatus

FIXTURES = Path(__file__).parent / "fixtures"


def load(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def test_refused_instance_keeps_approvers_remarks_timeline_and_form() -> None:
    instance = instance_from_result(
        load("dingtalk_instance_refused.json")["result"], instance_id="a171de6c-8bxxxx"
    )
    assert instance.status is ApprovalStatus.REJECTED and instance.vendor_status == "COMPLETED/refuse"
    assert instance.created_at == datetime(2024, 6, 1, 0, 0, tzinfo=UTC)
    assert instance.history[-1] == (ApprovalStatus.REJECTED, datetime(2024, 6, 1, 1, 0, tzinfo=UTC))
    first, final = instance.tasks
    assert (first.node_name, first.approver, first.status, first.comment) == (
        "初审",
        "officer01",
        ApprovalTaskStatus.APPROVED,
        "资料齐全",
    )
    assert (final.node_name, final.status, final.comment) == (
        "act-final",
        ApprovalTaskStatus.REJECTED,
        "征信显示 M3+ 逾期",
    )
    assert [e.action for e in instance.timeline] == [
        ApprovalAction.START,
        ApprovalAction.APPROVE,
        ApprovalAction.COMMENT,
        ApprovalAction.REJECT,
    ]
    assert instance.comments[0].text == "请核对流水" and instance.comments[0].author == "risk03"
    assert [(f.name, f.type, f.value) for f in instance.form][:2] == [
        ("借款人", "TextField", "李四"),
        ("金额", "MoneyField", "50000.50"),
    ]
    assert json.loads(instance.form[2].value)[0]["rowValue"][0]["value"] == "12"
    assert instance.serial_number == "202406010000000002" and instance.department_id == "1"


def test_running_instance_is_pending() -> None:
    instance = instance_from_result(load("dingtalk_instance_running.json")["result"], instance_id="x")
    assert instance.status is ApprovalStatus.PENDING and instance.finished_at is None
    assert instance.tasks[0].status is ApprovalTaskStatus.PENDING


def test_finish_event_maps_to_status_change() -> None:
    change = event_to_status_change(load("dingtalk_event_finish.json"))
    assert (
        change is not None
        and change.status is ApprovalStatus.REJECTED
        and change.instance_id == "a171de6c-8bxxxx"
    )
    assert change.occurred_at == datetime(2024, 6, 1, 1, 0, tzinfo=UTC) and change.actor == "manager02"


def test_other_events_are_not_status_changes() -> None:
    assert event_to_status_change({"EventType": "check_url"}) is None


@pytest.mark.parametrize(
    ("status", "result", "expected"),
    [
        ("NEW", "", ApprovalStatus.PENDING),
        ("RUNNING", "", ApprovalStatus.PENDING),
        ("COMPLETED", "agree", ApprovalStatus.APPROVED),
        ("COMPLETED", "refuse", ApprovalStatus.REJECTED),
        ("TERMINATED", "", ApprovalStatus.CANCELED),
        ("CANCELED", "", ApprovalStatus.CANCELED),
    ],
)
def test_status_words(status: str, result: str, expected: ApprovalStatus) -> None:
    assert status_from_vendor(status, result) is expected


@pytest.mark.parametrize("result", [None, {}, {"status": "ODD"}, {"status": "COMPLETED", "result": "maybe"}])
def test_undocumented_shapes_are_contract_errors(result: Any) -> None:
    with pytest.raises(VendorContractError):
        instance_from_result(result, instance_id="x")
