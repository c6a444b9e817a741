"""The ``documents`` table: one row per uploaded file, its bytes in the document store.

A document belongs to a customer or an application (``owner_kind`` + ``owner_record_id``; no
foreign key, one column serves both). ``owner_id`` and ``branch_id`` are copied from the owning
record when the document is uploaded, so lists and reads are scoped in SQL like the record
itself. Deleting is soft: the row and its bytes stay for the history (who uploaded what, when)
until ``purge`` removes the bytes and stamps ``purged_at``; the row is never removed.

The same bytes uploaded twice for the same owner and type are one document: a partial unique
index on (owner, type, sha256) among live rows makes that hold under concurrent uploads too.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, UTCDateTime, new_id, utcnow

__all__ = ["OWNER_KINDS", "Document"]

#: What a document can belong to.
OWNER_KINDS = ("customer", "application")


class Document(Base):
    """An uploaded file: whose, what kind, what it really is, where its bytes are."""

    __tablename__ = "documents"
    __table_args__ = (
        CheckConstraint("owner_kind IN ('customer', 'application')", name="owner_kind"),
        Index("ix_documents_owner", "owner_kind", "owner_record_id", "doc_type"),
        Index(
            "uq_documents_live_content",
            "owner_kind",
            "owner_record_id",
            "doc_type",
            "sha256",
            unique=True,
            sqlite_where=text("deleted_at IS NULL"),
            postgresql_where=text("deleted_at IS NULL"),
        ),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    owner_kind: Mapped[str] = mapped_column(String(20), nullable=False)
    owner_record_id: Mapped[str] = mapped_column(String(64), nullable=False)
    doc_type: Mapped[str] = mapped_column(String(50), nullable=False)
    filename: Mapped[str] = mapped_column(String(255), nullable=False)
    declared_type: Mapped[str | None] = mapped_column(String(255))
    detected_type: Mapped[str] = mapped_column(String(100), nullable=False)
    size: Mapped[int] = mapped_column(BigInteger, nullable=False)
    sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    storage_backend: Mapped[str] = mapped_column(String(20), nullable=False)
    storage_key: Mapped[str] = mapped_column(String(512), unique=True, nullable=False)
    uploaded_by: Mapped[str] = mapped_column(String(200), nullable=False)
    uploaded_by_id: Mapped[str | None] = mapped_column(String(36))
    owner_id: Mapped[str | None] = mapped_column(String(36), index=True)
    branch_id: Mapped[str | None] = mapped_column(ForeignKey("branches.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    deleted_by: Mapped[str | None] = mapped_column(String(200))
    purged_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
