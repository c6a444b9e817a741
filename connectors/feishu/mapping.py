"""Pure functions: 飞书 approval v4 JSON → canonical OA models; testable from recorded bodies."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any

from plugins.sdk import VendorContractError
from schemas.canonical.oa import (
    ApprovalAction,
    ApprovalComment,
    ApprovalFormField,
    ApprovalInstance,
    ApprovalStatus,
    ApprovalStatusChanged,
    ApprovalTask,
    ApprovalTaskStatus,
    ApprovalTimelineEntry,
)

__all__ = ["event_to_status_change", "instance_from_detail", "ms_to_datetime", "status_from_vendor"]

_STATUS = {
    "PENDING": ApprovalStatus.PENDING,
    "APPROVED": ApprovalStatus.APPROVED,
    "REJECTED": ApprovalStatus.REJECTED,
    "CANCELED": ApprovalStatus.CANCELED,
    "DELETED": ApprovalStatus.DELETED,
}
_TASK_STATUS = {
    "PENDING": ApprovalTaskStatus.PENDING,
    "APPROVED": ApprovalTaskStatus.APPROVED,
    "REJECTED": ApprovalTaskStatus.REJECTED,
    "TRANSFERRED": ApprovalTaskStatus.TRANSFERRED,
    "DONE": ApprovalTaskStatus.DONE,
}
_ACTION = {
    "START": ApprovalAction.START,
    "PASS": ApprovalAction.APPROVE,
    "REJECT": ApprovalAction.REJECT,
    "AUTO_PASS": ApprovalAction.AUTO_APPROVE,
    "AUTO_REJECT": ApprovalAction.AUTO_REJECT,
    "TRANSFER": ApprovalAction.TRANSFER,
    "ADD_APPROVER_BEFORE": ApprovalAction.ADD_APPROVER,
    "ADD_APPROVER": ApprovalAction.ADD_APPROVER,
    "ADD_APPROVER_AFTER": ApprovalAction.ADD_APPROVER,
    "ROLLBACK_SELECTED": ApprovalAction.ROLLBACK,
    "ROLLBACK": ApprovalAction.ROLLBACK,
    "CANCEL": ApprovalAction.CANCEL,
    "DELETE": ApprovalAction.DELETE,
    "CC": ApprovalAction.CC,
}


def ms_to_datetime(value: Any) -> datetime | None:
    """飞书 millisecond timestamps (as strings or numbers) → aware UTC; ``0``/empty → ``None``."""
    if value in (None, "", "0", 0):
        return None
    try:
        return datetime.fromtimestamp(int(value) / 1000, UTC)
    except (TypeError, ValueError, OverflowError):
        raise VendorContractError(f"飞书 timestamp {value!r} is not milliseconds") from None


def status_from_vendor(raw: Any) -> ApprovalStatus:
    """An instance status word → ApprovalStatus; unknown words are a contract break."""
    try:
        return _STATUS[str(raw).upper()]
    except KeyError:
        raise VendorContractError(f"飞书 instance status {raw!r} is not documented") from None


def _str(value: Any) -> str | None:
    return str(value) if value not in (None, "") else None


def _person(item: dict[str, Any]) -> str | None:
    return _str(item.get("user_id")) or _str(item.get("open_id"))


def _form(raw: Any) -> tuple[ApprovalFormField, ...]:
    if not raw:
        return ()
    try:
        widgets = json.loads(raw) if isinstance(raw, str) else raw
    except ValueError:
        raise VendorContractError("飞书 form is not a JSON string") from None
    if not isinstance(widgets, list):
        raise VendorContractError("飞书 form is not a list of widgets")
    fields = []
    for widget in widgets:
        if not isinstance(widget, dict):
            continue
        value = widget.get("value", "")
        text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
        fields.append(
            ApprovalFormField(
                field_id=_str(widget.get("custom_id")) or _str(widget.get("id")),
                name=_str(widget.get("name")),
                type=_str(widget.get("type")),
                value=text,
            )
        )
    return tuple(fields)


def instance_from_detail(data: Any, *, instance_id: str | None = None) -> ApprovalInstance:
    """``data`` of ``GET /approval/v4/instances/{id}`` → ApprovalInstance.

    Args:
        data: the ``data`` object of the answer.
        instance_id: the id asked for, used when the answer omits ``instance_code``.
    """
    if not isinstance(data, dict) or "status" not in data:
        raise VendorContractError("飞书 instance detail lacks data.status")
    status = status_from_vendor(data["status"])
    code = _str(data.get("instance_code")) or instance_id
    if code is None:
        raise VendorContractError("飞书 instance detail lacks instance_code")
    timeline_raw = [t for t in data.get("timeline") or [] if isinstance(t, dict)]
    reasons = {str(t["task_id"]): _str(t.get("comment")) for t in timeline_raw if t.get("task_id")}
    tasks = tuple(
        ApprovalTask(
            task_id=str(task.get("id", "")),
            node_id=_str(task.get("custom_node_id")) or _str(task.get("node_id")),
            node_name=_str(task.get("node_name")),
            approver=_person(task),
            status=_TASK_STATUS.get(str(task.get("status", "")).upper(), ApprovalTaskStatus.DONE),
            started_at=ms_to_datetime(task.get("start_time")),
            finished_at=ms_to_datetime(task.get("end_time")),
            comment=reasons.get(str(task.get("id", ""))),
        )
        for task in data.get("task_list") or []
        if isinstance(task, dict)
    )
    node_of_task = {t.task_id: t.node_name for t in tasks}
    timeline = []
    for item in timeline_raw:
        at = ms_to_datetime(item.get("create_time"))
        if at is None:
            continue
        vendor_type = str(item.get("type", ""))
        task_id = _str(item.get("task_id"))
        timeline.append(
            ApprovalTimelineEntry(
                action=_ACTION.get(vendor_type.upper(), ApprovalAction.OTHER),
                at=at,
                actor=_person(item),
                task_id=task_id,
                node_name=node_of_task.get(task_id) if task_id else None,
                comment=_str(item.get("comment")),
                vendor_type=vendor_type or None,
            )
        )
    comments = tuple(
        ApprovalComment(
            comment_id=_str(c.get("id")),
            author=_person(c),
            text=str(c.get("comment", "")),
            created_at=ms_to_datetime(c.get("create_time")),
        )
        for c in data.get("comment_list") or []
        if isinstance(c, dict)
    )
    created_at = ms_to_datetime(data.get("start_time"))
    finished_at = ms_to_datetime(data.get("end_time"))
    history: list[tuple[ApprovalStatus, datetime]] = []
    if created_at is not None:
        history.append((ApprovalStatus.PENDING, created_at))
    if status is not ApprovalStatus.PENDING and finished_at is not None:
        history.append((status, finished_at))
    return ApprovalInstance(
        instance_id=code,
        status=status,
        history=tuple(history),
        template_code=_str(data.get("approval_code")),
        template_name=_str(data.get("approval_name")),
        serial_number=_str(data.get("serial_number")),
        initiator=_person(data),
        department_id=_str(data.get("department_id")),
        created_at=created_at,
        finished_at=finished_at if status is not ApprovalStatus.PENDING else None,
        tasks=tasks,
        comments=comments,
        timeline=tuple(sorted(timeline, key=lambda e: e.at)),
        form=_form(data.get("form")),
        vendor_status=str(data["status"]),
    )


def event_to_status_change(event: dict[str, Any]) -> ApprovalStatusChanged:
    """A decrypted approval event (v2 ``approval.instance.status_changed`` or v1 ``approval_instance``).

    Raises:
        VendorContractError: the event is neither shape or lacks the instance and status.
    """
    if event.get("schema") == "2.0":
        header = event.get("header") or {}
        body = event.get("event") or {}
        event_type = str(header.get("event_type", ""))
        event_id = _str(header.get("event_id"))
        fallback_time = header.get("create_time")
    else:
        body = event.get("event") or {}
        event_type = str(body.get("type", event.get("type", "")))
        event_id = _str(event.get("uuid"))
        fallback_time = None
    if not isinstance(body, dict) or not body.get("instance_code") or not body.get("status"):
        raise VendorContractError(f"飞书 event {event_type!r} lacks instance_code/status")
    occurred = (
        ms_to_datetime(body.get("operate_time"))
        or ms_to_datetime(body.get("instance_operate_time"))
        or ms_to_datetime(fallback_time)
    )
    if occurred is None:
        raise VendorContractError("飞书 event carries no time")
    instance_code = str(body["instance_code"])
    if event_id is None:
        event_id = hashlib.sha256(f"{instance_code}:{body['status']}:{occurred}".encode()).hexdigest()[:32]
    return ApprovalStatusChanged(
        event_id=event_id,
        instance_id=instance_code,
        status=status_from_vendor(body["status"]),
        template_code=_str(body.get("approval_code")),
        occurred_at=occurred,
        vendor_event_type=event_type,
        actor=_str(body.get("user_id")) or _str(body.get("open_id")),
    )
