"""The ``jobs`` table: the durable record of work; the queue only carries its ids."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, JSONType, TimestampMixin, UTCDateTime, new_id, utcnow

__all__ = ["Job", "JobStatus"]


class JobStatus(enum.StrEnum):
    """Where a job is in its life.

    ``pending`` waits for its ``run_after``; ``running`` is leased to a worker until
    ``lease_expires_at``; ``failed`` is an attempt that raised and waits for its retry at
    ``run_after``; ``done`` and ``dead`` (attempts exhausted, or a permanent error) are final.
    """

    PENDING = "pending"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    DEAD = "dead"


class Job(TimestampMixin, Base):
    """One unit of background work, claimed by a worker under a time-limited lease.

    ``attempts`` counts claims, so together with ``lease_owner`` it is a fencing token: a worker
    whose lease was taken over sees a different pair and can neither complete nor fail the job.
    """

    __tablename__ = "jobs"
    __table_args__ = (Index("ix_jobs_claim", "status", "run_after"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    kind: Mapped[str] = mapped_column(String(100), nullable=False)
    payload: Mapped[dict[str, Any]] = mapped_column(JSONType, nullable=False, default=dict)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default=JobStatus.PENDING.value)
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=5)
    run_after: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)
    lease_owner: Mapped[str | None] = mapped_column(String(200))
    lease_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(Text)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    dedupe_key: Mapped[str | None] = mapped_column(String(200), unique=True)
