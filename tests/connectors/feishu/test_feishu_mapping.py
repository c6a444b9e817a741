"""Mapping from recorded 飞书 bodies (shaped like the approval v4 docs) to the canonical models."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from connectors.feishu.mapping import event_to_status_change, instance_from_detail
from plugins.sdk import VendorContractError
from schemas.canonical.oa import ApprovalAction, ApprovalStatus, ApprovalTaskStatus

FIXTURES = Path(__file__).parent / "fixtures"


def load(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def test_rejected_instance_keeps_approvers_comments_timeline_and_form() -> None:
    instance = instance_from_detail(load("feishu_instance_rejected.json")["data"])
    assert instance.instance_id == "81D31358-93AF-92D6-7425-01A5D67C4E71"
    assert instance.status is ApprovalStatus.REJECTED and instance.vendor_status == "REJECTED"
    assert instance.created_at == datetime(2024, 6, 1, 0, 0, tzinfo=UTC)
    assert instance.finished_at == datetime(2024, 6, 1, 1, 0, tzinfo=UTC)
    assert instance.history == (
        (ApprovalStatus.PENDING, datetime(2024, 6, 1, 0, 0, tzinfo=UTC)),
        (ApprovalStatus.REJECTED, datetime(2024, 6, 1, 1, 0, tzinfo=UTC)),
    )
    first, final = instance.tasks
    assert (first.node_name, first.node_id, first.approver, first.status) == (
        "初审",
        "first",
        "f7cb567e",
        ApprovalTaskStatus.APPROVED,
    )
    assert (final.node_name, final.approver, final.status, final.comment) == (
        "终审",
        "a8cb9999",
        ApprovalTaskStatus.REJECTED,
        "征信显示 M3+ 逾期",
    )
    assert instance.approvers_at("终审") == ("a8cb9999",)
    assert [e.action for e in instance.timeline] == [
        ApprovalAction.START,
        ApprovalAction.APPROVE,
        ApprovalAction.REJECT,
        ApprovalAction.CC,
    ]
    assert instance.timeline[2].node_name == "终审"
    assert instance.comments[0].text == "请补充流水" and instance.comments[0].author == "a8cb9999"
    assert [(f.field_id, f.type, f.value) for f in instance.form] == [
        ("borrower", "input", "李四"),
        ("widget2", "amount", "50000.5"),
    ]
    assert instance.serial_number == "202406010002" and instance.template_name == "贷款审批"


def test_pending_instance_has_no_finish() -> None:
    instance = instance_from_detail(load("feishu_instance_pending.json")["data"])
    assert instance.status is ApprovalStatus.PENDING and not instance.decided
    assert instance.finished_at is None and instance.tasks[0].finished_at is None
    assert instance.form[0].value == "" and len(instance.history) == 1


@pytest.mark.parametrize(
    ("fixture", "status"),
    [("feishu_event_v2.json", ApprovalStatus.APPROVED), ("feishu_event_v1.json", ApprovalStatus.CANCELED)],
)
def test_events_map_to_status_changes(fixture: str, status: ApprovalStatus) -> None:
    change = event_to_status_change(load(fixture))
    assert change.instance_id == "81D31358-93AF-92D6-7425-01A5D67C4E71" and change.status is status
    assert change.occurred_at == datetime(2024, 6, 1, 1, 0, tzinfo=UTC)
    assert change.template_code == "7C468A54-8745-2245-9675-08B7C63E7A85" and change.event_id


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"status": "WHATEVER", "instance_code": "x"},
        {"status": "PENDING", "instance_code": "x", "form": "{oops"},
    ],
)
def test_undocumented_shapes_are_contract_errors(data: dict[str, Any]) -> None:
    with pytest.raises(VendorContractError):
        instance_from_detail(data)
