"""An e-signature flow: documents, signers and where it stands.

The CRM sends a contract for signature with a :class:`SignFlowRequest` and follows the
:class:`SignFlow` the vendor reports (by polling or from its callback). Every vendor's own status
codes are mapped onto :class:`SignFlowStatus`; the vendor's raw value is kept in
``vendor_status`` for support tickets, never for decisions.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from .common import CanonicalModel

__all__ = [
    "SignDocument",
    "SignFlow",
    "SignFlowEvent",
    "SignFlowRequest",
    "SignFlowStatus",
    "Signer",
    "SignerKind",
    "SignerStatus",
]


class SignFlowStatus(StrEnum):
    """Where a flow stands; terminal states are completed, revoked, expired, rejected."""

    DRAFT = "draft"
    SIGNING = "signing"
    COMPLETED = "completed"
    REVOKED = "revoked"
    EXPIRED = "expired"
    REJECTED = "rejected"

    @property
    def terminal(self) -> bool:
        """Whether nothing can happen to the flow any more."""
        return self not in (SignFlowStatus.DRAFT, SignFlowStatus.SIGNING)


class SignerKind(StrEnum):
    """Who signs: a natural person (the borrower) or an organisation (the lender, a guarantor)."""

    PERSON = "person"
    ORGANIZATION = "organization"


class SignerStatus(StrEnum):
    """Where one signer stands inside a flow."""

    WAITING = "waiting"  # not their turn yet (ordered signing)
    SIGNING = "signing"  # may sign now
    SIGNED = "signed"
    REJECTED = "rejected"  # refused to sign (拒签)


class Signer(BaseModel):
    """A party who signs.

    Args:
        name: the person's name, or the transactor's name for an organisation.
        id_number: 居民身份证号码 of a person signer.
        mobile: where the vendor sends the signing SMS; also the vendor account for e签宝.
        org_name: the organisation's name when ``kind`` is organization.
        signed_at: when the signer finished (aware UTC), in answers only.
        kind: person or organization; inferred as organization when ``org_name`` is set.
        org_id_number: the organisation's 统一社会信用代码.
        sign_order: 1-based position in ordered signing; equal numbers sign in parallel.
        status: where the signer stands, in answers only.
    """

    model_config = ConfigDict(frozen=True)

    name: str
    id_number: str | None = None
    mobile: str | None = None
    org_name: str | None = None
    signed_at: datetime | None = None
    kind: SignerKind | None = None
    org_id_number: str | None = None
    sign_order: int = Field(default=1, ge=1)
    status: SignerStatus | None = None

    @property
    def signer_kind(self) -> SignerKind:
        """The declared kind, or organization when an ``org_name`` is given, else person."""
        if self.kind is not None:
            return self.kind
        return SignerKind.ORGANIZATION if self.org_name else SignerKind.PERSON


class SignDocument(BaseModel):
    """A document in the flow; ``download_url`` is set once the vendor offers the signed file."""

    model_config = ConfigDict(frozen=True)

    file_id: str
    name: str
    download_url: str | None = None


class SignFlowRequest(BaseModel):
    """What the CRM asks for when it sends a contract for signature.

    Args:
        subject: the flow's title, shown to signers (``借款合同 - 张三``).
        document_name: file name of the contract, with its extension.
        document: the contract's bytes (PDF).
        signers: who signs, in ``sign_order``.
        idempotency_key: the same key yields the same flow, however often it is sent.
        callback_url: where the vendor reports progress; the connector's default when ``None``.
        expire_at: when an unfinished flow expires (aware UTC); the vendor default when ``None``.
    """

    model_config = ConfigDict(frozen=True)

    subject: str
    document_name: str
    document: bytes
    signers: tuple[Signer, ...]
    idempotency_key: str
    callback_url: str | None = None
    expire_at: datetime | None = None


class SignFlowEvent(BaseModel):
    """One step of a flow's history, with the vendor's own words for it."""

    model_config = ConfigDict(frozen=True)

    status: SignFlowStatus
    at: datetime
    description: str = ""


class SignFlow(CanonicalModel):
    """A flow as the vendor reports it.

    ``history`` holds ``(status, when)`` pairs oldest first (kept for callers of the first
    version); ``events`` holds the same steps with the vendor's description.
    """

    flow_id: str
    status: SignFlowStatus
    signers: tuple[Signer, ...] = ()
    documents: tuple[SignDocument, ...] = ()
    history: tuple[tuple[SignFlowStatus, datetime], ...] = ()
    title: str = ""
    vendor_status: str = ""
    status_description: str = ""
    created_at: datetime | None = None
    finished_at: datetime | None = None
    events: tuple[SignFlowEvent, ...] = ()
