"""Uploading, listing, downloading and deleting documents; each change audited, nothing committed.

The caller (a route, a CLI command, a job) owns the transaction and passes the acting
:class:`~core.access.Actor` and the document store. The owning record's own route has already
checked the caller may write to that record; it passes the record's ``owner_id`` and
``branch_id`` so the document is scoped exactly like it. Reads are scoped in SQL by the read
permission of the owner's kind (``customers.read`` for a customer's documents,
``applications.read`` for an application's); delete by the matching write permission.

An upload is checked whole before anything is stored (``core.documents.content``): known
document type, a declared type the document type accepts, the size limit while streaming, not
empty, a recognised content type, the declared type and the extension both telling the truth
about it. Then the same bytes for the same owner and type already stored (a retried request, a
double click) answer the existing document instead of storing them again.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from core import audit
from core.access.actor import Actor
from core.access.scopes import scope_clause
from core.db import new_id, utcnow
from core.errors import Invalid, NotFound

from .content import detect, extension_of, normalise_type, receive, sanitise_filename, size_mb
from .doctypes import DEFAULT_DOCUMENT_TYPES, DocumentTypes
from .errors import StorageError, TooLarge
from .models import OWNER_KINDS, Document
from .storage import CHUNK_SIZE, ReadStream, Source, Storage

__all__ = [
    "PERMISSIONS",
    "Download",
    "UploadLimits",
    "Uploaded",
    "delete",
    "get",
    "list_for",
    "open_download",
    "purge",
    "read_bytes",
    "refuse_oversize",
    "upload",
    "visible_clause",
]

#: The (read, write) permissions guarding the documents of each owner kind.
PERMISSIONS: dict[str, tuple[str, str]] = {
    "customer": ("customers.read", "customers.write"),
    "application": ("applications.read", "applications.write"),
}

_RECORD_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")


@dataclass(frozen=True)
class UploadLimits:
    """How much an upload may be and how it is read.

    Attributes:
        max_bytes: the largest accepted upload (``LENDHUB_DOCUMENTS_MAX_BYTES``, default 20 MiB).
        chunk_size: bytes per read of the incoming stream.
        spool_dir: where an upload larger than 1 MiB waits while it is checked (the system's
            temporary directory when ``None``).
    """

    max_bytes: int = 20 * 1024 * 1024
    chunk_size: int = CHUNK_SIZE
    spool_dir: str | None = None


def refuse_oversize(content_length: int | None, limits: UploadLimits) -> None:
    """Refuse at once an upload whose declared ``Content-Length`` is over the limit (413).

    For a route to call before reading the body; ``upload`` enforces the limit on the bytes
    themselves whatever the header said.
    """
    if content_length is not None and content_length > limits.max_bytes:
        raise TooLarge("documents.too_large", limit=limits.max_bytes, limit_mb=size_mb(limits.max_bytes))


@dataclass(frozen=True)
class Uploaded:
    """The result of an upload: the document, and whether this call created it (201) or found it (200)."""

    document: Document
    created: bool


@dataclass(frozen=True)
class Download:
    """A document opened for download: its row (name, type, size for the headers) and its bytes."""

    document: Document
    stream: ReadStream


def _check_owner(owner_kind: str, owner_record_id: str) -> None:
    if owner_kind not in OWNER_KINDS:
        raise Invalid("documents.unknown_owner_kind", owner_kind=owner_kind, known=", ".join(OWNER_KINDS))
    if not isinstance(owner_record_id, str) or not _RECORD_ID.match(owner_record_id):
        raise Invalid("documents.bad_owner_record", owner_kind=owner_kind)


def visible_clause(actor: Actor, *, write: bool = False) -> ColumnElement[bool]:
    """Rows the actor may read (or change), by the permission of each row's owner kind."""
    return or_(
        *(
            and_(
                Document.owner_kind == kind,
                scope_clause(actor, perms[int(write)], owner=Document.owner_id, branch=Document.branch_id),
            )
            for kind, perms in PERMISSIONS.items()
        )
    )


def _audit_view(document: Document) -> dict[str, Any]:
    # The filename is left out: people name files after people ("张三身份证.jpg").
    return {
        "owner_kind": document.owner_kind,
        "owner_record_id": document.owner_record_id,
        "doc_type": document.doc_type,
        "content_type": document.detected_type,
        "size": document.size,
        "sha256": document.sha256,
    }


async def _live_duplicate(
    session: AsyncSession, owner_kind: str, owner_record_id: str, doc_type: str, sha256: str
) -> Document | None:
    found: Document | None = await session.scalar(
        select(Document).where(
            Document.owner_kind == owner_kind,
            Document.owner_record_id == owner_record_id,
            Document.doc_type == doc_type,
            Document.sha256 == sha256,
            Document.deleted_at.is_(None),
        )
    )
    return found


async def upload(
    session: AsyncSession,
    actor: Actor,
    storage: Storage,
    *,
    owner_kind: str,
    owner_record_id: str,
    owner_id: str | None,
    branch_id: str | None,
    doc_type: str,
    filename: str | None,
    declared_type: str | None,
    stream: Source,
    types: DocumentTypes = DEFAULT_DOCUMENT_TYPES,
    limits: UploadLimits = UploadLimits(),
) -> Uploaded:
    """Check an upload, store it, and record it (audited ``documents.upload``); or find it stored.

    Args:
        session: the caller's transaction.
        actor: who uploads.
        storage: the document store.
        owner_kind: ``customer`` or ``application``.
        owner_record_id: that record's id.
        owner_id: the record's owner (user id), copied for scoping.
        branch_id: the record's branch, copied for scoping.
        doc_type: a code of ``types`` (``id_card_front``).
        filename: the client's name for the file; sanitised, extension checked against the content.
        declared_type: the client's ``Content-Type``; ``None`` or ``application/octet-stream``
            claim nothing.
        stream: the bytes (an async iterable of chunks, such as a request body, a file, or bytes).
        types: the document type registry.
        limits: size limit and spooling.

    Raises:
        Invalid: unknown owner kind or doc type, empty file, a declared type or extension that
            does not match the content.
        TooLarge: more than ``limits.max_bytes``.
        UnsupportedContent: unrecognised content, or a type the doc type does not accept.
        StorageError: the store failed; nothing was recorded.
    """
    _check_owner(owner_kind, owner_record_id)
    kind = types.get(doc_type)
    declared = normalise_type(declared_type)
    kind.check_declared(declared)
    name = sanitise_filename(filename)
    with await receive(
        stream, max_bytes=limits.max_bytes, chunk_size=limits.chunk_size, spool_dir=limits.spool_dir
    ) as received:
        detected = kind.check_content(declared, extension_of(name), detect(received.file))
        existing = await _live_duplicate(session, owner_kind, owner_record_id, doc_type, received.sha256)
        if existing is not None:
            return Uploaded(existing, created=False)
        document_id = new_id()
        key = f"{owner_kind}/{owner_record_id}/{document_id}"
        received.file.seek(0)
        stored = await storage.put(key, received.file, content_type=detected)
    if (stored.size, stored.sha256) != (received.size, received.sha256):
        await storage.delete(key)
        raise StorageError(operation="put", backend=storage.backend, reason="checksum mismatch")
    document = Document(
        id=document_id,
        owner_kind=owner_kind,
        owner_record_id=owner_record_id,
        doc_type=doc_type,
        filename=name,
        declared_type=(declared_type or "")[:255] or None,
        detected_type=detected,
        size=stored.size,
        sha256=stored.sha256,
        storage_backend=storage.backend,
        storage_key=key,
        uploaded_by=actor.audit_name,
        uploaded_by_id=actor.id,
        owner_id=owner_id,
        branch_id=branch_id,
        created_at=utcnow(),
    )
    try:
        async with session.begin_nested():
            session.add(document)
    except IntegrityError:
        # A concurrent upload of the same bytes won the unique index: answer its document.
        await storage.delete(key)
        existing = await _live_duplicate(session, owner_kind, owner_record_id, doc_type, stored.sha256)
        if existing is None:
            raise
        return Uploaded(existing, created=False)
    await audit.record(
        session,
        actor,
        "documents.upload",
        target_type="document",
        target_id=document.id,
        after=_audit_view(document),
    )
    return Uploaded(document, created=True)


async def list_for(
    session: AsyncSession,
    actor: Actor,
    *,
    owner_kind: str,
    owner_record_id: str,
    doc_type: str | None = None,
    include_deleted: bool = False,
) -> list[Document]:
    """The documents of one record the actor may see, oldest first."""
    _check_owner(owner_kind, owner_record_id)
    statement = select(Document).where(
        Document.owner_kind == owner_kind,
        Document.owner_record_id == owner_record_id,
        visible_clause(actor),
    )
    if doc_type is not None:
        statement = statement.where(Document.doc_type == doc_type)
    if not include_deleted:
        statement = statement.where(Document.deleted_at.is_(None))
    return list((await session.scalars(statement.order_by(Document.created_at, Document.id))).all())


async def get(
    session: AsyncSession, actor: Actor, document_id: str, *, include_deleted: bool = False
) -> Document:
    """One document the actor may see; one outside their scope is ``documents.not_found`` too."""
    statement = select(Document).where(Document.id == document_id, visible_clause(actor))
    if not include_deleted:
        statement = statement.where(Document.deleted_at.is_(None))
    document: Document | None = await session.scalar(statement)
    if document is None:
        raise NotFound("documents.not_found", id=document_id)
    return document


async def open_download(session: AsyncSession, actor: Actor, storage: Storage, document_id: str) -> Download:
    """Open a live document's bytes for streaming (audited ``documents.download``; the caller commits).

    Raises:
        NotFound: no such live document in the actor's scope.
        ObjectMissing: the row is there, the bytes are not.
    """
    document = await get(session, actor, document_id)
    stream = await storage.open(document.storage_key)
    await audit.record(
        session,
        actor,
        "documents.download",
        target_type="document",
        target_id=document.id,
        after=_audit_view(document),
    )
    return Download(document, stream)


async def read_bytes(session: AsyncSession, actor: Actor, storage: Storage, document_id: str) -> bytes:
    """A live document's bytes, whole and checked against its SHA-256 (audited ``documents.download``)."""
    download = await open_download(session, actor, storage, document_id)
    data = await download.stream.read_all()
    if hashlib.sha256(data).hexdigest() != download.document.sha256:
        raise StorageError(operation="open", backend=storage.backend, reason="checksum mismatch")
    return data


async def delete(session: AsyncSession, actor: Actor, document_id: str) -> Document:
    """Soft-delete a document in the actor's write scope (audited ``documents.delete``); bytes are kept."""
    document: Document | None = await session.scalar(
        select(Document).where(
            Document.id == document_id, Document.deleted_at.is_(None), visible_clause(actor, write=True)
        )
    )
    if document is None:
        raise NotFound("documents.not_found", id=document_id)
    before = {**_audit_view(document), "deleted_at": None}
    document.deleted_at = utcnow()
    document.deleted_by = actor.audit_name
    await audit.record(
        session,
        actor,
        "documents.delete",
        target_type="document",
        target_id=document.id,
        before=before,
        after={**_audit_view(document), "deleted_at": document.deleted_at.isoformat()},
    )
    return document


async def purge(
    session: AsyncSession, actor: Actor, storage: Storage, *, deleted_before: datetime, limit: int = 500
) -> int:
    """Remove the bytes of documents deleted before ``deleted_before`` (audited ``documents.purge``).

    The rows stay, stamped ``purged_at``, so the history still says what was there. Returns how
    many were purged (at most ``limit``; call again until 0).
    """
    rows = (
        await session.scalars(
            select(Document)
            .where(
                Document.deleted_at.is_not(None),
                Document.deleted_at < deleted_before,
                Document.purged_at.is_(None),
                Document.storage_backend == storage.backend,
            )
            .order_by(Document.deleted_at)
            .limit(limit)
        )
    ).all()
    for document in rows:
        await storage.delete(document.storage_key)
        document.purged_at = utcnow()
        await audit.record(
            session,
            actor,
            "documents.purge",
            target_type="document",
            target_id=document.id,
            after=_audit_view(document),
        )
    return len(rows)
