"""The documents service behind a minimal app, as the routes will use it: statuses, problems, streaming.

Not the product's routes (those come with customers and applications); a sketch of how they call
``core.documents`` — raw request body streamed into ``upload``, ``refuse_oversize`` on the
declared length, ``open_download`` into a streaming answer with ``content_disposition`` — and
proof that each refusal leaves as the problem+json the brief promises.
"""

from __future__ import annotations

import docsamples
import httpx
import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, StreamingResponse

from core.access import Actor
from core.documents import LocalStorage, UploadLimits, content_disposition, require_documents
from core.documents import service as documents
from hub.api.problems import install_problem_handlers
from schemas.api.documents import DocumentRead


def make_app(session_factory, store, limits: UploadLimits) -> FastAPI:
    app = FastAPI()
    install_problem_handlers(app)
    actor = Actor.operator("http-test")

    @app.put("/customers/{record}/documents/{doc_type}")
    async def put_document(record: str, doc_type: str, filename: str, request: Request) -> JSONResponse:
        length = request.headers.get("content-length")
        documents.refuse_oversize(int(length) if length else None, limits)
        async with session_factory() as session, session.begin():
            result = await documents.upload(
                session,
                actor,
                store,
                owner_kind="customer",
                owner_record_id=record,
                owner_id=None,
                branch_id=None,
                doc_type=doc_type,
                filename=filename,
                declared_type=request.headers.get("content-type"),
                stream=request.stream(),
                limits=limits,
            )
            body = DocumentRead.model_validate(result.document).model_dump(mode="json")
        return JSONResponse(body, status_code=201 if result.created else 200)

    @app.get("/documents/{document_id}")
    async def get_document(document_id: str) -> StreamingResponse:
        async with session_factory() as session, session.begin():
            download = await documents.open_download(session, actor, store, document_id)
        doc = download.document
        return StreamingResponse(
            download.stream,
            media_type=doc.detected_type,
            headers={
                "Content-Disposition": content_disposition(doc.filename),
                "Content-Length": str(doc.size),
            },
        )

    @app.post("/applications/{record}/submit")
    async def submit(record: str, customer: str) -> dict[str, str]:
        async with session_factory() as session:
            await require_documents(
                session,
                owner_kind="application",
                owner_record_ids=[record],
                stage="submitted",
                customer_id=customer,
            )
        return {"status": "submitted"}

    return app


@pytest.fixture
async def client(session_factory, tmp_path):
    app = make_app(session_factory, LocalStorage(tmp_path / "docs"), UploadLimits(max_bytes=64 * 1024))
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1"
    ) as client:
        yield client


async def test_upload_answers_201_then_200_for_the_same_bytes_and_downloads_them(client):
    url = "/customers/c1/documents/id_card_front?filename=身份证 正面.png"
    first = await client.put(url, content=docsamples.png(), headers={"Content-Type": "image/png"})
    again = await client.put(url, content=docsamples.png(), headers={"Content-Type": "image/png"})
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"] and first.json()["content_type"] == "image/png"
    download = await client.get(f"/documents/{first.json()['id']}")
    assert download.status_code == 200 and download.content == docsamples.png()
    assert download.headers["content-type"] == "image/png"
    assert download.headers["content-disposition"] == (
        "attachment; filename=\"___ __.png\"; filename*=UTF-8''%E8%BA%AB%E4%BB%BD%E8%AF%81%20%E6%AD%A3%E9%9D%A2.png"
    )


@pytest.mark.parametrize(
    ("body", "content_type", "status", "code", "field"),
    [
        (docsamples.png(), "application/pdf", 422, "documents.declared_mismatch", "content_type"),
        (b"", "application/pdf", 422, "documents.empty", "file"),
        (b"\0" * (65 * 1024), "application/pdf", 413, "documents.too_large", None),
        (docsamples.xlsx(), None, 415, "documents.type_not_allowed", None),
    ],
)
async def test_refusals_are_problems_with_codes_and_fields(client, body, content_type, status, code, field):
    headers = {"Accept-Language": "en", **({"Content-Type": content_type} if content_type else {})}
    answer = await client.put(
        "/customers/c1/documents/id_card_front?filename=x", content=body, headers=headers
    )
    assert answer.status_code == status
    assert answer.headers["content-type"] == "application/problem+json"
    problem = answer.json()
    assert problem["code"] == code
    if field:
        assert problem["errors"][0]["field"] == field and problem["errors"][0]["message"]


async def test_an_oversize_body_without_a_length_is_stopped_while_streaming(client):
    async def body():
        for _ in range(1000):
            yield b"\0" * 1024

    answer = await client.put("/customers/c1/documents/other?filename=x", content=body())
    assert answer.status_code == 413 and answer.json()["code"] == "documents.too_large"


async def test_a_gated_submission_is_409_naming_the_missing_documents(client):
    await client.put("/customers/c1/documents/id_card_front?filename=f.png", content=docsamples.png())
    answer = await client.post("/applications/a1/submit?customer=c1", headers={"Accept-Language": "zh-CN"})
    assert answer.status_code == 409
    problem = answer.json()
    assert problem["code"] == "documents.missing"
    assert problem["detail"] == "进入 submitted 阶段前缺少必备材料：身份证国徽面"
    assert [(e["field"], e["code"]) for e in problem["errors"]] == [("documents", "documents.missing_type")]
    await client.put("/customers/c1/documents/id_card_back?filename=b.png", content=docsamples.png(1))
    assert (await client.post("/applications/a1/submit?customer=c1")).status_code == 200


async def test_a_missing_document_is_404_and_missing_bytes_are_500(client, tmp_path):
    assert (await client.get("/documents/nope")).json()["code"] == "documents.not_found"
    created = await client.put("/customers/c1/documents/other?filename=a.pdf", content=docsamples.pdf())
    for path in (tmp_path / "docs").rglob("*"):
        if path.is_file():
            path.unlink()
    answer = await client.get(f"/documents/{created.json()['id']}")
    assert answer.status_code == 500 and answer.json()["code"] == "documents.object_missing"
