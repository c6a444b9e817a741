"""Every table of LendHub, imported in one place so ``Base.metadata`` (and Alembic) sees them all.

Tables live beside the code that owns them; this module defines only the ones with no better
home yet and re-exports the rest.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Boolean, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from core.access.models import ApiToken, ApiTokenRole, Branch, LoginThrottle, Role, RoleGrant, User, UserRole
from core.audit.models import AuditEntry, AuditHead
from core.call_log import CallLogEntry
from core.db import Base, JSONType, TimestampMixin, new_id
from core.jobs.models import Job, JobStatus
from core.outbox import OutboxEvent
from core.webhooks.models import (
    WebhookInboxEvent,
    WebhookObjectVersion,
    WebhookRefusalCount,
    WebhookRequest,
    WebhookSourceInstance,
)
from core.webhooks_out.models import WebhookDelivery, WebhookDeliveryAttempt, WebhookSubscription

__all__ = [
    "ApiToken",
    "ApiTokenRole",
    "AuditEntry",
    "AuditHead",
    "Base",
    "Branch",
    "CallLogEntry",
    "ConnectorInstance",
    "Job",
    "JobStatus",
    "LoginThrottle",
    "OutboxEvent",
    "Role",
    "RoleGrant",
    "User",
    "UserRole",
    "WebhookDelivery",
    "WebhookDeliveryAttempt",
    "WebhookInboxEvent",
    "WebhookObjectVersion",
    "WebhookRefusalCount",
    "WebhookRequest",
    "WebhookSourceInstance",
    "WebhookSubscription",
    "metadata",
]


class ConnectorInstance(TimestampMixin, Base):
    """An integrator's configured use of a connector, e.g. ``baihang-main`` of ``baihang``.

    ``config`` holds only non-secret fields; secrets are sealed into ``secrets_ciphertext`` by
    the hub's secret box and never stored or echoed in clear.
    """

    __tablename__ = "connector_instances"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(100), unique=True, nullable=False)
    connector_slug: Mapped[str] = mapped_column(String(100), nullable=False, index=True)
    enabled: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    config: Mapped[dict[str, Any]] = mapped_column(JSONType, nullable=False, default=dict)
    secrets_ciphertext: Mapped[str | None] = mapped_column(Text)


metadata = Base.metadata
