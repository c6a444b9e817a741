"""The tables of the credit process: flow versions, tasks, decisions, authority, delegation, signals.

A flow is kept as immutable versions (``flow_versions``): a draft is saved, checked and numbered;
publishing makes it the version new applications start on, and an application keeps the
``flow_key`` and ``flow_version`` it started with (on ``applications``) for good — the way
Camunda and Flowable pin a process instance to its definition version.

The instance state is small and lives on rows, not in memory: the application's ``stage`` says
where it is, ``flow_tasks`` who is asked (one row per seat: a queue task for a role, one per
member of a countersign or committee), ``flow_decisions`` what each person decided, with the hash
of the case file as it stood. Timers are durable jobs (``core.jobs``) keyed by task, so SLAs
survive restarts. ``round`` counts submissions: a return and a resubmission start a new round at
the same stage.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, JSONType, UTCDateTime, new_id, utcnow

__all__ = [
    "AuthorityLimit",
    "Delegation",
    "FlowDecision",
    "FlowTask",
    "FlowVersion",
    "SignalValue",
    "StaffParty",
]


class FlowVersion(Base):
    """One saved version of a flow: the document as written and its status."""

    __tablename__ = "flow_versions"
    __table_args__ = (UniqueConstraint("flow_key", "version", name="uq_flow_versions_key_version"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    flow_key: Mapped[str] = mapped_column(String(100), nullable=False, index=True)
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    #: ``draft`` → ``published`` → ``superseded`` (by the next publication).
    status: Mapped[str] = mapped_column(String(20), nullable=False)
    document: Mapped[dict[str, Any]] = mapped_column(JSONType, nullable=False)
    source: Mapped[str | None] = mapped_column(Text)
    digest: Mapped[str] = mapped_column(String(64), nullable=False)
    created_by: Mapped[str] = mapped_column(String(200), nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)
    published_by: Mapped[str | None] = mapped_column(String(200))
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class FlowTask(Base):
    """One seat of a stage: whom it is for, whether it is open, when it is due.

    A queue task has no ``assignee_id`` until someone claims it; ``pool`` lists the user ids who
    may (the role's members in the application's scope, fixed when the stage is entered).
    """

    __tablename__ = "flow_tasks"
    __table_args__ = (
        Index("ix_flow_tasks_assignee_status", "assignee_id", "status"),
        Index("ix_flow_tasks_status_due", "status", "due_at"),
        Index("ix_flow_tasks_application_status", "application_id", "status"),
        Index("ix_flow_tasks_branch_status", "branch_id", "status"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    application_id: Mapped[str] = mapped_column(ForeignKey("applications.id"), nullable=False)
    flow_key: Mapped[str] = mapped_column(String(100), nullable=False)
    flow_version: Mapped[int] = mapped_column(Integer, nullable=False)
    stage: Mapped[str] = mapped_column(String(50), nullable=False)
    stage_name: Mapped[str] = mapped_column(String(200), nullable=False)
    round: Mapped[int] = mapped_column(Integer, nullable=False)
    branch_id: Mapped[str] = mapped_column(ForeignKey("branches.id"), nullable=False)
    assignee_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"))
    pool: Mapped[list[str]] = mapped_column(JSONType, nullable=False, default=list)
    #: ``open``, ``done`` (decided), ``cancelled`` (the stage closed without it), ``escalated``.
    status: Mapped[str] = mapped_column(String(20), nullable=False, default="open")
    escalation: Mapped[bool] = mapped_column(default=False, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    outcome: Mapped[str | None] = mapped_column(String(20))


class FlowDecision(Base):
    """One person's decision at one stage: what, why, on whose behalf, on which case file."""

    __tablename__ = "flow_decisions"
    __table_args__ = (Index("ix_flow_decisions_application_at", "application_id", "at"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    application_id: Mapped[str] = mapped_column(ForeignKey("applications.id"), nullable=False)
    task_id: Mapped[str | None] = mapped_column(ForeignKey("flow_tasks.id"))
    stage: Mapped[str] = mapped_column(String(50), nullable=False)
    round: Mapped[int] = mapped_column(Integer, nullable=False)
    decision: Mapped[str] = mapped_column(String(20), nullable=False)
    comment: Mapped[str | None] = mapped_column(String(2000))
    reason_codes: Mapped[list[str]] = mapped_column(JSONType, nullable=False, default=list)
    decided_by_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"))
    decided_by: Mapped[str] = mapped_column(String(200), nullable=False)
    on_behalf_of_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"))
    on_behalf_of: Mapped[str | None] = mapped_column(String(200))
    exposure: Mapped[Decimal | None] = mapped_column(Numeric(18, 2))
    limit_applied: Mapped[Decimal | None] = mapped_column(Numeric(18, 2))
    dossier_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)


class AuthorityLimit(Base):
    """What a role or a user may approve (分级授权), measured on cumulative exposure, per product.

    ``product_code`` empty means every product; a product's own row wins over the general one,
    and a user's own rows over their roles' (the widest of their roles' counts).
    """

    __tablename__ = "authority_limits"
    __table_args__ = (
        UniqueConstraint("subject_kind", "subject", "product_code", name="uq_authority_limits_subject"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    subject_kind: Mapped[str] = mapped_column(String(10), nullable=False)
    subject: Mapped[str] = mapped_column(String(100), nullable=False)
    product_code: Mapped[str] = mapped_column(String(64), nullable=False, default="")
    max_exposure: Mapped[Decimal] = mapped_column(Numeric(18, 2), nullable=False)
    updated_by: Mapped[str] = mapped_column(String(200), nullable=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)


class Delegation(Base):
    """``from_user`` lets ``to_user`` decide their tasks from ``starts_at`` to ``ends_at`` (absences)."""

    __tablename__ = "delegations"
    __table_args__ = (Index("ix_delegations_to_user", "to_user_id", "ends_at"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    from_user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), nullable=False, index=True)
    to_user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), nullable=False)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    reason: Mapped[str] = mapped_column(String(500), nullable=False)
    created_by: Mapped[str] = mapped_column(String(200), nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_by: Mapped[str | None] = mapped_column(String(200))


class SignalValue(Base):
    """One named risk signal of an application (a score, a grade, a hit), as its source reported it."""

    __tablename__ = "application_signals"

    application_id: Mapped[str] = mapped_column(ForeignKey("applications.id"), primary_key=True)
    name: Mapped[str] = mapped_column(String(50), primary_key=True)
    value: Mapped[Any] = mapped_column(JSONType, nullable=True)
    source: Mapped[str] = mapped_column(String(200), nullable=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)


class StaffParty(Base):
    """A member of staff who is also a customer record: how related-party recusal finds them.

    Employees borrow, and their relatives do; the customer graph knows the relatives, this row
    knows which customer the employee is.
    """

    __tablename__ = "staff_parties"

    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), primary_key=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"), nullable=False, index=True)
    created_by: Mapped[str] = mapped_column(String(200), nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)
