"""An approval in the lender's office-automation system (OA 审批: 飞书, 钉钉, 企业微信).

The CRM starts OA approvals where a lender's policy requires one outside LendHub (a disbursement
above a branch limit, a write-off) and decides on what comes back. Everything a credit officer
needs to read the outcome without opening the OA is here: who approved or rejected at which node
(审批节点), their comments, when each step happened, and the form as the approvers saw it.
Vendor status words (``PENDING``/``RUNNING``, ``agree``/``refuse``) are mapped onto the enums below
by each connector; the raw word is kept in ``vendor_status`` for support tickets.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from .common import CanonicalModel

__all__ = [
    "ApprovalAction",
    "ApprovalComment",
    "ApprovalFormField",
    "ApprovalInstance",
    "ApprovalRequest",
    "ApprovalStatus",
    "ApprovalStatusChanged",
    "ApprovalTask",
    "ApprovalTaskStatus",
    "ApprovalTimelineEntry",
    "ApproverStep",
]


class ApprovalStatus(StrEnum):
    """Where an OA approval stands as a whole."""

    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    CANCELED = "canceled"  # withdrawn by the initiator or terminated (撤回 / 终止)
    DELETED = "deleted"  # removed by an OA administrator (飞书 DELETED)


class ApprovalTaskStatus(StrEnum):
    """Where one approver's task (审批任务) at one node stands."""

    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    TRANSFERRED = "transferred"  # 转交: handed to another approver
    CANCELED = "canceled"  # the instance ended before this approver acted (或签 sibling, 撤回)
    DONE = "done"  # finished without a verdict of its own (飞书 DONE)


class ApprovalAction(StrEnum):
    """What happened at one point of an approval's timeline (审批动态)."""

    START = "start"
    APPROVE = "approve"
    REJECT = "reject"
    AUTO_APPROVE = "auto_approve"
    AUTO_REJECT = "auto_reject"
    TRANSFER = "transfer"
    ADD_APPROVER = "add_approver"  # 加签
    ROLLBACK = "rollback"  # 回退
    CANCEL = "cancel"
    DELETE = "delete"
    CC = "cc"  # 抄送
    COMMENT = "comment"
    OTHER = "other"


class ApproverStep(BaseModel):
    """Approvers the initiator chooses for one node (发起人自选审批人).

    Args:
        node_key: the node's id or custom id in the OA's process definition.
        user_ids: the OA user ids of the approvers at that node.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    node_key: str = Field(min_length=1)
    user_ids: tuple[str, ...] = Field(min_length=1)


class ApprovalRequest(BaseModel):
    """What the CRM submits for approval.

    Args:
        template_code: the OA's process definition (飞书 approval_code, 钉钉 processCode).
        initiator: the OA user id of the person on whose behalf the approval starts.
        form: form values by field (飞书 widget id, 钉钉 component name); values are text, as
            the OA forms take them.
        idempotency_key: the same key yields the same instance, however often it is submitted.
        title: a display title, where the OA supports one.
        department_id: the initiator's department, for users in several (钉钉 deptId).
        approvers: approvers for nodes where the initiator chooses them.
    """

    model_config = ConfigDict(frozen=True)

    template_code: str
    initiator: str
    form: dict[str, str]
    idempotency_key: str
    title: str | None = None
    department_id: str | None = None
    approvers: tuple[ApproverStep, ...] = ()


class ApprovalFormField(BaseModel):
    """One form field as the approvers saw it (a snapshot, not the definition).

    Args:
        field_id: the OA's id of the field, when it has one.
        name: the field's label.
        type: the OA's widget type (``input``, ``amount``, ``TextField``, …).
        value: the value as text; structured values are kept as their JSON text.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    field_id: str | None = None
    name: str | None = None
    type: str | None = None
    value: str = ""


class ApprovalTask(BaseModel):
    """One approver's task at one node: who, which node, what they decided, and when.

    Args:
        task_id: the OA's task id.
        node_id: the node the task belongs to.
        node_name: the node's display name (初审, 复审, 终审 …).
        approver: the approver's OA user id; ``None`` for automatic decisions.
        status: the task's state.
        started_at: when the task reached the approver (UTC).
        finished_at: when the approver acted (UTC); ``None`` while pending.
        comment: the approver's reason or remark, when the OA ties one to the task.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    task_id: str
    node_id: str | None = None
    node_name: str | None = None
    approver: str | None = None
    status: ApprovalTaskStatus
    started_at: datetime | None = None
    finished_at: datetime | None = None
    comment: str | None = None


class ApprovalComment(BaseModel):
    """A comment left on the approval (评论), apart from a task's verdict."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    comment_id: str | None = None
    author: str | None = None
    text: str
    created_at: datetime | None = None


class ApprovalTimelineEntry(BaseModel):
    """One event of the approval's timeline (审批动态 / operationRecords), oldest first."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    action: ApprovalAction
    at: datetime
    actor: str | None = None
    task_id: str | None = None
    node_name: str | None = None
    comment: str | None = None
    vendor_type: str | None = None


class ApprovalInstance(CanonicalModel):
    """An approval as the OA reports it, with its history.

    ``history`` is the coarse status trail (created pending, then the final status);
    ``tasks``, ``comments`` and ``timeline`` carry the per-node detail. Every datetime is UTC.
    """

    instance_id: str
    status: ApprovalStatus
    history: tuple[tuple[ApprovalStatus, datetime], ...] = ()
    template_code: str | None = None
    template_name: str | None = None
    title: str | None = None
    serial_number: str | None = None
    initiator: str | None = None
    department_id: str | None = None
    created_at: datetime | None = None
    finished_at: datetime | None = None
    tasks: tuple[ApprovalTask, ...] = ()
    comments: tuple[ApprovalComment, ...] = ()
    timeline: tuple[ApprovalTimelineEntry, ...] = ()
    form: tuple[ApprovalFormField, ...] = ()
    vendor_status: str | None = None

    @property
    def decided(self) -> bool:
        """Whether the approval has reached a final status."""
        return self.status is not ApprovalStatus.PENDING

    def approvers_at(self, node_name: str) -> tuple[str, ...]:
        """The approvers who acted or must act at the named node."""
        return tuple(t.approver for t in self.tasks if t.node_name == node_name and t.approver)


class ApprovalStatusChanged(CanonicalModel):
    """An OA's callback saying an approval changed status, verified and decrypted.

    Args:
        event_id: the vendor's event id, for de-duplication; derived when the vendor sends none.
        instance_id: the approval instance.
        status: its status after the change.
        template_code: its process definition, when the event carries it.
        occurred_at: when the change happened (UTC).
        vendor_event_type: the vendor's event name (``approval.instance.status_changed``,
            ``bpms_instance_change``).
        actor: who caused the change, when the event says.
    """

    event_id: str
    instance_id: str
    status: ApprovalStatus
    template_code: str | None = None
    occurred_at: datetime
    vendor_event_type: str
    actor: str | None = None
