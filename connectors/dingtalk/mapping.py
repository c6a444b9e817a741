"""Pure functions: 钉钉 workflow JSON → canonical OA models; testable from recorded bodies."""

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

__all__ = ["event_to_status_change", "instance_from_result", "parse_time", "status_from_vendor"]

_TASK_DONE = {
    "AGREE": ApprovalTaskStatus.APPROVED,
    "REFUSE": ApprovalTaskStatus.REJECTED,
    "REDIRECTED": ApprovalTaskStatus.TRANSFERRED,
}
_RECORD = {
    "START_PROCESS_INSTANCE": ApprovalAction.START,
    "TERMINATE_PROCESS_INSTANCE": ApprovalAction.CANCEL,
    "REDIRECT_TASK": ApprovalAction.TRANSFER,
    "REDIRECT_PROCESS": ApprovalAction.ROLLBACK,
    "ADD_REMARK": ApprovalAction.COMMENT,
    "PROCESS_CC": ApprovalAction.CC,
    "APPEND_TASK_BEFORE": ApprovalAction.ADD_APPROVER,
    "APPEND_TASK_AFTER": ApprovalAction.ADD_APPROVER,
}


def parse_time(value: Any) -> datetime | None:
    """钉钉 times (``2024-05-20T10:00Z`` ISO text, or epoch milliseconds) → aware UTC."""
    if value in (None, "", 0, "0"):
        return None
    if isinstance(value, int | float) or (isinstance(value, str) and value.isdigit()):
        return datetime.fromtimestamp(int(value) / 1000, UTC)
    try:
        parsed = datetime.fromisoformat(str(value))
    except ValueError:
        raise VendorContractError(f"钉钉 time {value!r} is not ISO 8601 or epoch ms") from None
    return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def status_from_vendor(status: Any, result: Any) -> ApprovalStatus:
    """Instance ``status`` (NEW/RUNNING/COMPLETED/TERMINATED/CANCELED) and ``result`` → ApprovalStatus."""
    word, verdict = str(status).upper(), str(result or "").lower()
    if word in ("NEW", "RUNNING"):
        return ApprovalStatus.PENDING
    if word in ("TERMINATED", "CANCELED"):
        return ApprovalStatus.CANCELED
    if word == "COMPLETED":
        if verdict == "agree":
            return ApprovalStatus.APPROVED
        if verdict == "refuse":
            return ApprovalStatus.REJECTED
    raise VendorContractError(f"钉钉 instance status {status!r}/{result!r} is not documented")


def _str(value: Any) -> str | None:
    return str(value) if value not in (None, "") else None


def _task_status(task: dict[str, Any]) -> ApprovalTaskStatus:
    status = str(task.get("status", "")).upper()
    if status in ("NEW", "RUNNING", "PAUSED"):
        return ApprovalTaskStatus.PENDING
    if status in ("CANCELED", "TERMINATED"):
        return ApprovalTaskStatus.CANCELED
    return _TASK_DONE.get(str(task.get("result", "")).upper(), ApprovalTaskStatus.DONE)


def _record_action(record: dict[str, Any]) -> ApprovalAction:
    kind = str(record.get("type", "")).upper()
    if kind.startswith("EXECUTE_TASK"):
        result = str(record.get("result", "")).upper()
        return {"AGREE": ApprovalAction.APPROVE, "REFUSE": ApprovalAction.REJECT}.get(
            result, ApprovalAction.OTHER
        )
    return _RECORD.get(kind, ApprovalAction.OTHER)


def instance_from_result(result: Any, *, instance_id: str) -> ApprovalInstance:
    """``result`` of ``GET /v1.0/workflow/processInstances`` → ApprovalInstance."""
    if not isinstance(result, dict) or "status" not in result:
        raise VendorContractError("钉钉 process instance lacks result.status")
    status = status_from_vendor(result["status"], result.get("result"))
    records = [r for r in result.get("operationRecords") or [] if isinstance(r, dict)]
    remarks = {str(r.get("taskId")): _str(r.get("remark")) for r in records if r.get("taskId")}
    tasks = tuple(
        ApprovalTask(
            task_id=str(t.get("taskId", "")),
            node_id=_str(t.get("activityId")),
            node_name=_str(t.get("activityName")) or _str(t.get("activityId")),
            approver=_str(t.get("userId")),
            status=_task_status(t),
            started_at=parse_time(t.get("createTime")),
            finished_at=parse_time(t.get("finishTime")),
            comment=remarks.get(str(t.get("taskId", ""))),
        )
        for t in result.get("tasks") or []
        if isinstance(t, dict)
    )
    node_of_task = {t.task_id: t.node_name for t in tasks}
    timeline, comments = [], []
    for record in records:
        at = parse_time(record.get("date"))
        if at is None:
            continue
        action = _record_action(record)
        task_id = _str(record.get("taskId"))
        timeline.append(
            ApprovalTimelineEntry(
                action=action,
                at=at,
                actor=_str(record.get("userId")),
                task_id=task_id,
                node_name=node_of_task.get(task_id) if task_id else None,
                comment=_str(record.get("remark")),
                vendor_type=_str(record.get("type")),
            )
        )
        if action is ApprovalAction.COMMENT and record.get("remark"):
            comments.append(
                ApprovalComment(author=_str(record.get("userId")), text=str(record["remark"]), created_at=at)
            )
    form = tuple(
        ApprovalFormField(
            field_id=_str(v.get("id")) or _str(v.get("bizAlias")),
            name=_str(v.get("name")),
            type=_str(v.get("componentType")),
            value=v["value"]
            if isinstance(v.get("value"), str)
            else json.dumps(v.get("value"), ensure_ascii=False),
        )
        for v in result.get("formComponentValues") or []
        if isinstance(v, dict)
    )
    created_at, finished_at = parse_time(result.get("createTime")), parse_time(result.get("finishTime"))
    history: list[tuple[ApprovalStatus, datetime]] = []
    if created_at is not None:
        history.append((ApprovalStatus.PENDING, created_at))
    if status is not ApprovalStatus.PENDING and finished_at is not None:
        history.append((status, finished_at))
    return ApprovalInstance(
        instance_id=instance_id,
        status=status,
        history=tuple(history),
        title=_str(result.get("title")),
        serial_number=_str(result.get("businessId")),
        initiator=_str(result.get("originatorUserId")),
        department_id=_str(result.get("originatorDeptId")),
        created_at=created_at,
        finished_at=finished_at if status is not ApprovalStatus.PENDING else None,
        tasks=tasks,
        comments=tuple(comments),
        timeline=tuple(sorted(timeline, key=lambda e: e.at)),
        form=form,
        vendor_status=f"{result['status']}/{result.get('result') or ''}".rstrip("/"),
    )


def event_to_status_change(event: dict[str, Any]) -> ApprovalStatusChanged | None:
    """A decrypted ``bpms_instance_change`` event → status change; ``None`` for other event types."""
    if event.get("EventType") != "bpms_instance_change":
        return None
    instance_id, kind = event.get("processInstanceId"), str(event.get("type", ""))
    if not instance_id or kind not in ("start", "finish", "terminate"):
        raise VendorContractError(f"钉钉 bpms_instance_change lacks processInstanceId/type ({kind!r})")
    if kind == "start":
        status = ApprovalStatus.PENDING
    elif kind == "terminate":
        status = ApprovalStatus.CANCELED
    else:
        status = status_from_vendor("COMPLETED", event.get("result"))
    occurred = parse_time(event.get("finishTime")) or parse_time(event.get("createTime"))
    if occurred is None:
        raise VendorContractError("钉钉 bpms_instance_change carries no time")
    digest = hashlib.sha256(f"{instance_id}:{kind}:{event.get('result', '')}".encode()).hexdigest()[:32]
    return ApprovalStatusChanged(
        event_id=digest,
        instance_id=str(instance_id),
        status=status,
        template_code=_str(event.get("processCode")),
        occurred_at=occurred,
        vendor_event_type="bpms_instance_change",
        actor=_str(event.get("staffId")),
    )
