"""Documents over HTTP: upload to a customer, list, download, delete.

An upload is the file itself as the request body, with its own content type and the file name in
the query — never a multipart form, so the size limit applies while the bytes stream in and no
cross-site form can post one. Reads and deletes are scoped by the owning record (``core.documents``);
a document outside the caller's scope is a 404 like one that does not exist.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response, status
from fastapi.responses import JSONResponse, StreamingResponse

from core.access import Actor
from core.customers.repository import get_visible
from core.documents import content_disposition
from core.documents import service as documents
from schemas.api.documents import DocumentRead

from ...deps import RuntimeDep, SessionDep
from ...documents import upload_limits
from ..security import require

__all__ = ["router"]

router = APIRouter(prefix="/api", tags=["documents"])

_BODY = {
    "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
    "required": True,
    "description": "the file's bytes, sent with its real content type (application/pdf, image/jpeg …)",
}
_UPLOAD_ANSWERS: dict[int | str, dict[str, object]] = {
    200: {"description": "the same bytes were uploaded before for this customer and type: that document"},
    413: {"description": "larger than LENDHUB_DOCUMENTS_MAX_BYTES"},
    415: {"description": "the bytes are not a type this document type accepts"},
}


@router.put(
    "/customers/{customer_id}/documents/{doc_type}",
    status_code=status.HTTP_201_CREATED,
    openapi_extra={"requestBody": _BODY},
    responses=_UPLOAD_ANSWERS,
)
async def upload_customer_document(
    customer_id: str,
    doc_type: str,
    request: Request,
    session: SessionDep,
    runtime: RuntimeDep,
    actor: Actor = require("customers.write"),
    filename: Annotated[str, Query(min_length=1, max_length=255, description="the file's name")] = "upload",
) -> DocumentRead:
    """Store a document for the customer: 201, or 200 with the earlier one when the bytes are the same."""
    limits = upload_limits(runtime.settings)
    length = request.headers.get("content-length")
    documents.refuse_oversize(int(length) if length and length.isdigit() else None, limits)
    customer = await get_visible(session, actor, customer_id, "customers.write")
    result = await documents.upload(
        session,
        actor,
        runtime.document_storage(),
        owner_kind="customer",
        owner_record_id=customer.id,
        owner_id=customer.owner_id,
        branch_id=customer.branch_id,
        doc_type=doc_type,
        filename=filename,
        declared_type=request.headers.get("content-type"),
        stream=request.stream(),
        limits=limits,
    )
    body = DocumentRead.model_validate(result.document, from_attributes=True)
    if not result.created:
        return JSONResponse(body.model_dump(mode="json"), status_code=200)  # type: ignore[return-value]
    return body


@router.get("/customers/{customer_id}/documents")
async def list_customer_documents(
    customer_id: str,
    session: SessionDep,
    actor: Actor = require("customers.read"),
    doc_type: Annotated[str | None, Query(max_length=50)] = None,
) -> list[DocumentRead]:
    """The customer's live documents, newest first."""
    customer = await get_visible(session, actor, customer_id)
    rows = await documents.list_for(
        session, actor, owner_kind="customer", owner_record_id=customer.id, doc_type=doc_type
    )
    return [DocumentRead.model_validate(row, from_attributes=True) for row in rows]


@router.get(
    "/documents/{document_id}/content",
    response_class=Response,
    responses={200: {"content": {"application/octet-stream": {}}, "description": "the file"}},
)
async def download_document(
    document_id: str, session: SessionDep, runtime: RuntimeDep, actor: Actor = require("customers.read")
) -> StreamingResponse:
    """The document's bytes (the download is audited)."""
    download = await documents.open_download(session, actor, runtime.document_storage(), document_id)
    await session.commit()  # the audit entry of the download lands before the bytes leave
    doc = download.document
    return StreamingResponse(
        download.stream,
        media_type=doc.detected_type,
        headers={"Content-Disposition": content_disposition(doc.filename), "Content-Length": str(doc.size)},
    )


@router.delete("/documents/{document_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_document(
    document_id: str, session: SessionDep, actor: Actor = require("customers.write")
) -> Response:
    """Remove a document from use (kept, and its bytes, until purged)."""
    await documents.delete(session, actor, document_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
