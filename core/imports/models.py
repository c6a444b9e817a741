"""Import runs and the rows they refused.

A run is keyed by its file's SHA-256: loading the same file again finds the run (finished: nothing
to do; interrupted: it resumes after the last committed batch), so an import is resumable and
idempotent without the operator keeping track. Uploaded files and refused rows hold personal data,
so both are sealed at rest.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, JSONType, TimestampMixin, UTCDateTime, new_id
from core.pii import SealedBytes, SealedJSON

__all__ = ["ImportRejection", "ImportRun"]


class ImportRun(TimestampMixin, Base):
    """One file being loaded, its progress, and its counts."""

    __tablename__ = "import_runs"
    __table_args__ = (UniqueConstraint("kind", "sha256"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    kind: Mapped[str] = mapped_column(String(30), nullable=False)
    filename: Mapped[str] = mapped_column(String(255), nullable=False)
    sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    source: Mapped[bytes | None] = mapped_column(SealedBytes("payload"))
    status: Mapped[str] = mapped_column(String(20), nullable=False, default="pending", index=True)
    header: Mapped[list[str]] = mapped_column(JSONType, nullable=False, default=list)
    total_rows: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    next_row: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    created_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    rejected_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    default_owner: Mapped[str | None] = mapped_column(String(100))
    error: Mapped[str | None] = mapped_column(Text)
    requested_by: Mapped[str] = mapped_column(String(200), nullable=False)
    requested_by_id: Mapped[str | None] = mapped_column(String(36))
    owner_id: Mapped[str | None] = mapped_column(String(36), index=True)
    branch_id: Mapped[str | None] = mapped_column(String(36), index=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class ImportRejection(Base):
    """A refused row: where it was, every reason, and what it held (sealed)."""

    __tablename__ = "import_rejections"
    __table_args__ = (UniqueConstraint("run_id", "row_number"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    run_id: Mapped[str] = mapped_column(
        ForeignKey("import_runs.id", ondelete="CASCADE"), nullable=False, index=True
    )
    row_number: Mapped[int] = mapped_column(Integer, nullable=False)
    errors: Mapped[list[dict[str, Any]]] = mapped_column(SealedJSON("payload"), nullable=False)
    cells: Mapped[list[str]] = mapped_column(SealedJSON("payload"), nullable=False)
