"""HTTP contracts for documents: what a document, a document type and a missing-documents check look like.

The upload itself is not a JSON body: the bytes come as the request body (or a multipart file),
with the document type, the filename and the declared ``Content-Type`` beside them, so they can
be checked while they stream (``core.documents.service.upload``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["DocumentRead", "DocumentTypeRead", "MissingDocumentsRead"]


class DocumentRead(BaseModel):
    """One document as lists and uploads answer it (never the storage key: an internal address)."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    owner_kind: Literal["customer", "application"]
    owner_record_id: str
    doc_type: str
    filename: str = Field(description="the uploaded name, sanitised; for display only")
    content_type: str = Field(validation_alias="detected_type", description="read from the bytes")
    declared_type: str | None = Field(description="what the client declared, as sent")
    size: int = Field(ge=0, description="bytes")
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    uploaded_by: str
    created_at: datetime
    deleted_at: datetime | None = None


class DocumentTypeRead(BaseModel):
    """A document type with its label in the caller's language and what content it accepts."""

    code: str
    label: str
    content_types: list[str]


class MissingDocumentsRead(BaseModel):
    """The documents a stage still needs (empty when the record may enter it)."""

    stage: str
    missing: list[str]
