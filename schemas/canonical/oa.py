"""An approval instance in the lender's OA system (first version)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from .common import CanonicalModel

__all__ = ["ApprovalInstance", "ApprovalRequest", "ApprovalStatus"]


class ApprovalStatus(StrEnum):
    """Where an OA approval stands."""

    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    CANCELED = "canceled"


class ApprovalRequest(BaseModel):
    """What the CRM submits for approval."""

    model_config = ConfigDict(frozen=True)

    template_code: str
    initiator: str
    form: dict[str, str]
    idempotency_key: str


class ApprovalInstance(CanonicalModel):
    """An approval as the OA reports it, with its history."""

    instance_id: str
    status: ApprovalStatus
    history: tuple[tuple[ApprovalStatus, datetime], ...] = ()
