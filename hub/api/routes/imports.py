"""``/api/imports``: upload a customer file, follow its progress, download the refused rows.

The file is the request body, sent with its own content type (``text/csv`` or an Excel type) —
no multipart form, so no cross-site form can post one. It is stored sealed and loaded by the
workers in batches; the same file uploaded again answers the earlier import rather than loading
anything twice.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response, status
from sqlalchemy import Select, select

from core.access import Actor, scoped
from core.errors import Invalid, NotFound
from core.imports import service
from core.imports.jobs import enqueue_next
from core.imports.models import ImportRun
from core.jobs.repository import take_enqueued
from schemas.api.imports import ImportRead

from ...deps import RuntimeDep, SessionDep
from ..paging import Limit, Offset
from ..problems import request_language
from ..security import require

__all__ = ["router"]

router = APIRouter(prefix="/api/imports", tags=["imports"])

MAX_BYTES = 20 * 1024 * 1024
MEDIA_TYPES = {
    "text/csv": ".csv",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": ".xlsx",
    "application/vnd.ms-excel": ".xls",
    "application/vnd.oasis.opendocument.spreadsheet": ".ods",
}
_BODY = {
    "content": {media: {"schema": {"type": "string", "format": "binary"}} for media in MEDIA_TYPES},
    "required": True,
}


def _read(run: ImportRun, *, repeated: bool = False) -> ImportRead:
    return ImportRead(
        id=run.id,
        kind=run.kind,
        filename=run.filename,
        status=run.status,
        rows=run.total_rows,
        processed=run.next_row,
        created=run.created_count,
        rejected=run.rejected_count,
        requested_by=run.requested_by,
        repeated=repeated,
        created_at=run.created_at,
        finished_at=run.finished_at,
    )


async def _body(request: Request) -> bytes:
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BYTES:
            raise Invalid(
                "imports.too_large", errors=[{"field": "file", "code": "imports.too_large"}], limit=20
            )
        chunks.append(chunk)
    return b"".join(chunks)


@router.post("", status_code=status.HTTP_202_ACCEPTED, openapi_extra={"requestBody": _BODY})
async def start_import(
    request: Request,
    response: Response,
    session: SessionDep,
    runtime: RuntimeDep,
    actor: Actor = require("customers.write"),
    kind: Annotated[str, Query(max_length=30, description="what the file holds: customers")] = "customers",
    filename: Annotated[
        str | None, Query(max_length=255, description="the file's name, for the report")
    ] = None,
    owner: Annotated[str | None, Query(max_length=100, description="officer for rows without one")] = None,
) -> ImportRead:
    """Upload a file to load; 202 with the import to follow, 200 if this file was loaded before."""
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    suffix = MEDIA_TYPES.get(media)
    if suffix is None:
        raise Invalid(
            "imports.media_type",
            errors=[{"field": "content-type", "code": "imports.media_type"}],
            media=media or "-",
        )
    data = await _body(request)
    name = filename if filename and filename.lower().endswith(suffix) else f"{filename or 'upload'}{suffix}"
    run, repeated = await service.find_or_start(
        session, actor, kind=kind, filename=name, data=data, default_owner=owner, keep_source=True
    )
    if not repeated:
        await enqueue_next(session, run)
    await session.commit()
    if runtime.jobs is not None:
        for job_id in take_enqueued(session):
            await runtime.jobs.notify(job_id)
    if repeated:
        response.status_code = status.HTTP_200_OK
    return _read(run, repeated=repeated)


def _visible(actor: Actor) -> Select[Any]:
    return scoped(
        select(ImportRun), actor, "customers.read", owner=ImportRun.owner_id, branch=ImportRun.branch_id
    )


@router.get("")
async def list_imports(
    session: SessionDep, actor: Actor = require("customers.read"), limit: Limit = 50, offset: Offset = 0
) -> list[ImportRead]:
    """Imports within your scope, newest first."""
    rows = await session.scalars(
        _visible(actor).order_by(ImportRun.created_at.desc()).limit(limit).offset(offset)
    )
    return [_read(row) for row in rows]


@router.get("/{import_id}")
async def get_import(
    import_id: str, session: SessionDep, actor: Actor = require("customers.read")
) -> ImportRead:
    """One import's progress and counts."""
    run = await session.scalar(_visible(actor).where(ImportRun.id == import_id))
    if run is None:
        raise NotFound("imports.not_found", id=import_id)
    return _read(run)


@router.get("/{import_id}/report", response_class=Response, responses={200: {"content": {"text/csv": {}}}})
async def import_report(
    import_id: str, request: Request, session: SessionDep, actor: Actor = require("customers.read")
) -> Response:
    """The refused rows as CSV (UTF-8 with BOM, for Excel): row number, reasons, the row as sent."""
    run = await session.scalar(_visible(actor).where(ImportRun.id == import_id))
    if run is None:
        raise NotFound("imports.not_found", id=import_id)
    language = request_language(request)
    text = await service.rejection_report(session, run, language)
    return Response("\ufeff" + text, media_type="text/csv; charset=utf-8")
