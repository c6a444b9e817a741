"""The tables of loan applications (贷款申请): the application, its status history, its gates, its policy.

An application is scoped like its customer: ``owner_id`` and ``branch_id`` are copied from the
customer when it is created, so an officer's list and a branch manager's are one scoped query.
It keeps the form version it was filled with (``form_version_id``) for good, and its form
``values`` sealed as one JSON document (they hold income, employer and family data, whose fields'
classes are not known to the code). ``channel`` and ``channel_partner`` are copied from the
customer (or the lead that opened it), so channel KPIs count applications without a join that a
later change of the customer would falsify.

``version`` is SQLAlchemy's version counter: every UPDATE says ``WHERE version = <read>``, so two
reviewers deciding at the same moment cannot both succeed, on SQLite and PostgreSQL alike.

``flow_key``, ``flow_version`` and ``stage`` are left empty here: the approval engine (next)
fills them. A returned application keeps its ``stage``, so review resumes there.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, Numeric, String
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, JSONType, TimestampMixin, UTCDateTime, new_id, utcnow
from core.pii import SealedJSON

__all__ = ["Application", "ApplicationGate", "ApplicationPolicy", "ApplicationTransition"]


class Application(TimestampMixin, Base):
    """One request for a loan: a customer, a product, the terms asked for and the filled form."""

    __tablename__ = "applications"
    __table_args__ = (
        # Lists are "newest first within my scope", as for customers: one index per scope column.
        Index("ix_applications_owner_created", "owner_id", "created_at"),
        Index("ix_applications_branch_created", "branch_id", "created_at"),
        Index("ix_applications_created", "created_at"),
        # The expiry sweep: open drafts and returned applications past their date.
        Index("ix_applications_status_expires", "status", "expires_at"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"), nullable=False, index=True)
    product_id: Mapped[str] = mapped_column(ForeignKey("products.id"), nullable=False, index=True)
    form_version_id: Mapped[str | None] = mapped_column(ForeignKey("form_versions.id"))
    amount: Mapped[Decimal] = mapped_column(Numeric(18, 2), nullable=False)
    term_months: Mapped[int] = mapped_column(Integer, nullable=False)
    repayment_method: Mapped[str] = mapped_column(String(30), nullable=False)
    purpose: Mapped[str | None] = mapped_column(String(200))
    values: Mapped[dict[str, Any]] = mapped_column(SealedJSON("payload"), nullable=False, default=dict)
    channel: Mapped[str] = mapped_column(String(30), nullable=False, index=True)
    channel_partner: Mapped[str | None] = mapped_column(String(100))
    # The lead that opened it. No foreign key yet: the leads table lands separately.
    lead_id: Mapped[str | None] = mapped_column(String(36), index=True)
    status: Mapped[str] = mapped_column(String(20), nullable=False, index=True)
    owner_id: Mapped[str] = mapped_column(ForeignKey("users.id"), nullable=False)
    branch_id: Mapped[str] = mapped_column(ForeignKey("branches.id"), nullable=False)
    created_by: Mapped[str] = mapped_column(String(200), nullable=False)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    flow_key: Mapped[str | None] = mapped_column(String(100))
    flow_version: Mapped[int | None] = mapped_column(Integer)
    stage: Mapped[str | None] = mapped_column(String(100))
    version: Mapped[int] = mapped_column(Integer, nullable=False)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 - SQLAlchemy's declarative hook


class ApplicationTransition(Base):
    """One status change: from, to, who, why — the history every KPI and audit reads.

    The creation of a draft is a row too (``from_status`` empty), so "how long from draft to
    submission" is read from this table alone.
    """

    __tablename__ = "application_transitions"
    __table_args__ = (Index("ix_application_transitions_application_at", "application_id", "at"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    application_id: Mapped[str] = mapped_column(ForeignKey("applications.id"), nullable=False)
    from_status: Mapped[str | None] = mapped_column(String(20))
    to_status: Mapped[str] = mapped_column(String(20), nullable=False)
    actor: Mapped[str] = mapped_column(String(200), nullable=False)
    actor_id: Mapped[str | None] = mapped_column(String(36))
    reason: Mapped[str | None] = mapped_column(String(500))
    reason_codes: Mapped[list[str]] = mapped_column(JSONType, nullable=False, default=list)
    stage: Mapped[str | None] = mapped_column(String(100))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)


class ApplicationGate(Base):
    """One required-before-state gate of a product: check ``kind`` with ``params`` before ``before_state``.

    Kept in the applications context's own table rather than a column of ``products``: the products
    code owns that table and its ``version`` (a gate edit is not a change of the product's terms),
    and gates are read per (product, state) at every transition.
    """

    __tablename__ = "application_gates"
    __table_args__ = (Index("ix_application_gates_product_state", "product_id", "before_state"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    product_id: Mapped[str] = mapped_column(ForeignKey("products.id"), nullable=False)
    position: Mapped[int] = mapped_column(Integer, nullable=False)
    before_state: Mapped[str] = mapped_column(String(20), nullable=False)
    kind: Mapped[str] = mapped_column(String(50), nullable=False)
    params: Mapped[dict[str, Any]] = mapped_column(JSONType, nullable=False, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)
    created_by: Mapped[str] = mapped_column(String(200), nullable=False)


class ApplicationPolicy(Base):
    """The lender's application settings, one row (``id`` 1); absent, the defaults apply.

    ``draft_expiry_days``: a draft or returned application untouched this many days expires. It
    is applied when the clock starts (creation, each change of the draft, each return), so a new
    setting applies to clocks started after it, never retroactively.
    """

    __tablename__ = "application_policy"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    draft_expiry_days: Mapped[int] = mapped_column(Integer, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)
    updated_by: Mapped[str] = mapped_column(String(200), nullable=False)
