"""An e-signature flow: documents, signers and where it stands (first version)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from .common import CanonicalModel

__all__ = ["SignDocument", "SignFlow", "SignFlowRequest", "SignFlowStatus", "Signer"]


class SignFlowStatus(StrEnum):
    """Where a flow stands; terminal states are completed, revoked, expired, rejected."""

    DRAFT = "draft"
    SIGNING = "signing"
    COMPLETED = "completed"
    REVOKED = "revoked"
    EXPIRED = "expired"
    REJECTED = "rejected"


class Signer(BaseModel):
    """A party who signs."""

    model_config = ConfigDict(frozen=True)

    name: str
    id_number: str | None = None
    mobile: str | None = None
    org_name: str | None = None
    signed_at: datetime | None = None


class SignDocument(BaseModel):
    """A document in the flow."""

    model_config = ConfigDict(frozen=True)

    file_id: str
    name: str


class SignFlowRequest(BaseModel):
    """What the CRM asks for when it sends a contract for signature."""

    model_config = ConfigDict(frozen=True)

    subject: str
    document_name: str
    document: bytes
    signers: tuple[Signer, ...]
    idempotency_key: str


class SignFlow(CanonicalModel):
    """A flow as the vendor reports it."""

    flow_id: str
    status: SignFlowStatus
    signers: tuple[Signer, ...] = ()
    documents: tuple[SignDocument, ...] = ()
    history: tuple[tuple[SignFlowStatus, datetime], ...] = ()
