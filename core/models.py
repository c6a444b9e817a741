"""Every table of LendHub, imported in one place so ``Base.metadata`` (and Alembic) sees them all.

Tables live beside the code that owns them; this module defines only the ones with no better
home yet and re-exports the rest.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from core.access.models import ApiToken, ApiTokenRole, Branch, LoginThrottle, Role, RoleGrant, User, UserRole
from core.applications.models import Application, ApplicationGate, ApplicationPolicy, ApplicationTransition
from core.audit.models import AuditEntry, AuditHead
from core.call_log import CallLogEntry
from core.customers.models import Customer, CustomerRelation
from core.db import Base, JSONType, TimestampMixin, UTCDateTime, new_id
from core.documents.models import Document
from core.flows.models import (
    AuthorityLimit,
    Delegation,
    FlowDecision,
    FlowTask,
    FlowVersion,
    SignalValue,
    StaffParty,
)
from core.forms.models import FormVersion
from core.imports.models import ImportRejection, ImportRun
from core.jobs.models import Job, JobStatus
from core.leads.models import AssignmentRule, FollowUp, Lead, Partner, SlaPolicy
from core.outbox import OutboxEvent
from core.products.models import Product
from core.segments.models import Segment, SegmentMember
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
    "Application",
    "ApplicationGate",
    "ApplicationPolicy",
    "ApplicationTransition",
    "AssignmentRule",
    "AuditEntry",
    "AuditHead",
    "AuthorityLimit",
    "Base",
    "Branch",
    "CallLogEntry",
    "ConnectorInstance",
    "Customer",
    "CustomerRelation",
    "Delegation",
    "Document",
    "FlowDecision",
    "FlowTask",
    "FlowVersion",
    "FollowUp",
    "FormVersion",
    "ImportRejection",
    "ImportRun",
    "Job",
    "JobStatus",
    "KeyFingerprint",
    "Lead",
    "LoginThrottle",
    "OutboxEvent",
    "Partner",
    "Product",
    "Role",
    "RoleGrant",
    "Segment",
    "SegmentMember",
    "SignalValue",
    "SlaPolicy",
    "StaffParty",
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

    # The distribution that provided the connector class when the instance was configured, and
    # the versions of it accepted since (a PEP 440 specifier; empty accepts any). Another provider
    # of the slug leaves the instance unusable until an integrator confirms it
    # (``plugins.ownership``). NULL owner_state: a row from before owners were pinned.
    owner_distribution: Mapped[str | None] = mapped_column(String(200))
    owner_version: Mapped[str | None] = mapped_column(String(100))
    owner_versions: Mapped[str | None] = mapped_column(String(200))
    owner_state: Mapped[str | None] = mapped_column(String(20))
    owner_pinned_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    owner_pinned_how: Mapped[str | None] = mapped_column(String(20))
    owner_claimant_distribution: Mapped[str | None] = mapped_column(String(200))
    owner_claimant_version: Mapped[str | None] = mapped_column(String(100))
    owner_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class KeyFingerprint(Base):
    """Which key every process must hold for one key set, so one with other keys is refused at start.

    ``fingerprint`` is an HMAC of a fixed label under the newest key a process started with; it
    identifies the key without revealing it. ``hub.keyprints`` explains the rules.
    """

    __tablename__ = "key_fingerprints"

    key_set: Mapped[str] = mapped_column(String(20), primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64), nullable=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)


metadata = Base.metadata
