"""The documents service on a real database and a real store: checks, dedupe, scope, audit, delete, purge."""

from __future__ import annotations

import hashlib
import os
from datetime import timedelta

import docsamples
import pytest
from docorg import make_org
from sqlalchemy import func, select

from core.access import Actor
from core.audit import AuditEntry
from core.db import utcnow
from core.documents import (
    Document,
    LocalStorage,
    ObjectMissing,
    StorageError,
    TooLarge,
    UnsupportedContent,
    UploadLimits,
)
from core.documents import service as documents
from core.errors import Invalid, NotFound


@pytest.fixture
async def org(session_factory):
    return await make_org(session_factory)


@pytest.fixture
def store(tmp_path):
    return LocalStorage(tmp_path / "documents")


def stored_files(store: LocalStorage) -> list[str]:
    if not store.root.exists():
        return []
    return sorted(str(p.relative_to(store.root)) for p in store.root.rglob("*") if p.is_file())


async def upload(session_factory, actor, store, **overrides):
    values = {
        "owner_kind": "customer",
        "owner_record_id": "cust-1",
        "owner_id": actor.id,
        "branch_id": actor.branch_id,
        "doc_type": "id_card_front",
        "filename": "front.pdf",
        "declared_type": "application/pdf",
        "stream": docsamples.pdf(),
    }
    values.update(overrides)
    async with session_factory() as session, session.begin():
        return await documents.upload(session, actor, store, **values)


async def audit_actions(session_factory) -> list[str]:
    async with session_factory() as session:
        return list((await session.scalars(select(AuditEntry.action).order_by(AuditEntry.seq))).all())


async def document_actions(session_factory) -> list[str]:
    return [a for a in await audit_actions(session_factory) if a.startswith("documents.")]


async def count_rows(session_factory) -> int:
    async with session_factory() as session:
        return await session.scalar(select(func.count()).select_from(Document))


async def test_upload_stores_checked_bytes_and_records_an_audited_row(session_factory, org, store):
    li = org["li"]
    data = docsamples.pdf("身份证")
    result = await upload(
        session_factory,
        li,
        store,
        filename="../../etc/张三 身份证.PDF",
        declared_type="Application/PDF",
        stream=docsamples.chunks(data, 7),
    )
    doc = result.document
    assert result.created
    assert (doc.owner_kind, doc.owner_record_id, doc.doc_type) == ("customer", "cust-1", "id_card_front")
    assert doc.filename == "张三 身份证.PDF"
    assert (doc.declared_type, doc.detected_type) == ("Application/PDF", "application/pdf")
    assert (doc.size, doc.sha256) == (len(data), hashlib.sha256(data).hexdigest())
    assert doc.storage_key == f"customer/cust-1/{doc.id}" and doc.storage_backend == "local"
    assert (doc.uploaded_by, doc.uploaded_by_id) == ("user:li", li.id)
    assert (doc.owner_id, doc.branch_id) == (li.id, li.branch_id)
    assert stored_files(store) == [doc.storage_key]
    assert await (await store.open(doc.storage_key)).read_all() == data
    async with session_factory() as session:
        entry = await session.scalar(select(AuditEntry).where(AuditEntry.action == "documents.upload"))
    assert entry.target_id == doc.id and entry.after["sha256"] == doc.sha256
    assert "张三" not in repr(entry.after), "the filename (often a person's name) stays out of the audit log"


async def test_the_same_bytes_twice_for_the_same_owner_and_type_are_one_document(session_factory, org, store):
    li = org["li"]
    first = await upload(session_factory, li, store)
    again = await upload(
        session_factory, li, store, filename="renamed.pdf", stream=docsamples.chunks(docsamples.pdf())
    )
    assert (again.created, again.document.id) == (False, first.document.id)
    assert stored_files(store) == [first.document.storage_key]
    assert await document_actions(session_factory) == ["documents.upload"]
    other_type = await upload(session_factory, li, store, doc_type="id_card_back")
    other_owner = await upload(session_factory, li, store, owner_record_id="cust-2")
    assert other_type.created and other_owner.created
    assert await count_rows(session_factory) == 3 and len(stored_files(store)) == 3


async def test_a_lost_race_on_the_unique_index_answers_the_winner_and_drops_its_own_bytes(
    session_factory, org, store, monkeypatch
):
    li = org["li"]
    winner = await upload(session_factory, li, store)

    real = documents._live_duplicate
    calls = []

    async def first_misses(*args):
        # The check before storing sees nothing, as when the winner had not committed yet.
        calls.append(args)
        return None if len(calls) == 1 else await real(*args)

    monkeypatch.setattr(documents, "_live_duplicate", first_misses)
    loser = await upload(session_factory, li, store)
    assert (loser.created, loser.document.id) == (False, winner.document.id)
    assert stored_files(store) == [winner.document.storage_key]
    assert await count_rows(session_factory) == 1


async def test_a_png_declared_as_pdf_is_refused_naming_both(session_factory, org, store):
    with pytest.raises(Invalid) as caught:
        await upload(session_factory, org["li"], store, filename="scan.pdf", stream=docsamples.png())
    error = caught.value
    assert error.code == "documents.declared_mismatch"
    assert error.params == {"declared": "application/pdf", "detected": "image/png"}
    assert error.errors[0]["field"] == "content_type"
    assert error.message("en") == "Declared application/pdf, but the content is image/png"
    assert stored_files(store) == [] and await count_rows(session_factory) == 0


@pytest.mark.parametrize("filename", ["scan.jpg", "scan.exe", "scan.pdf.html"])
async def test_an_extension_that_lies_about_the_content_is_refused(session_factory, org, store, filename):
    with pytest.raises(Invalid) as caught:
        await upload(session_factory, org["li"], store, filename=filename, declared_type=None)
    assert caught.value.code == "documents.extension_mismatch"
    assert caught.value.params["detected"] == "application/pdf"
    assert stored_files(store) == []


async def test_octet_stream_and_no_extension_claim_nothing_and_pass(session_factory, org, store):
    result = await upload(
        session_factory,
        org["li"],
        store,
        filename="scan",
        declared_type="application/octet-stream",
        stream=docsamples.jpeg(),
    )
    assert result.document.detected_type == "image/jpeg" and result.document.filename == "scan"


async def test_an_empty_file_is_refused(session_factory, org, store):
    with pytest.raises(Invalid) as caught:
        await upload(session_factory, org["li"], store, stream=b"")
    assert caught.value.code == "documents.empty"
    assert stored_files(store) == [] and await count_rows(session_factory) == 0


async def test_an_oversize_stream_is_stopped_at_the_limit(session_factory, org, store):
    pulled = 0

    async def endless():
        nonlocal pulled
        yield docsamples.pdf()
        while True:
            pulled += 1
            yield b"\0" * 1024

    async with session_factory() as session:
        with pytest.raises(TooLarge) as caught:
            await documents.upload(
                session,
                org["li"],
                store,
                owner_kind="customer",
                owner_record_id="c",
                owner_id=None,
                branch_id=None,
                doc_type="other",
                filename="x.pdf",
                declared_type=None,
                stream=endless(),
                limits=UploadLimits(max_bytes=10 * 1024),
            )
    assert caught.value.status == 413 and pulled < 12
    assert stored_files(store) == []


async def test_an_unknown_doc_type_is_refused_before_a_byte_is_read(session_factory, org, store):
    read = []

    async def body():
        read.append(1)
        yield docsamples.pdf()

    with pytest.raises(Invalid) as caught:
        await upload(session_factory, org["li"], store, doc_type="passport_scan", stream=body())
    assert caught.value.code == "documents.unknown_type" and caught.value.errors[0]["field"] == "doc_type"
    assert "id_card_front" in caught.value.params["known"]
    assert read == []


async def test_a_type_the_doc_type_does_not_take_is_415_declared_or_detected(session_factory, org, store):
    with pytest.raises(UnsupportedContent) as declared:
        await upload(
            session_factory,
            org["li"],
            store,
            filename="s.xlsx",
            declared_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            stream=docsamples.xlsx(),
        )
    with pytest.raises(UnsupportedContent) as detected:
        await upload(
            session_factory, org["li"], store, filename="s.xlsx", declared_type=None, stream=docsamples.xlsx()
        )
    for caught in (declared, detected):
        assert (caught.value.status, caught.value.code) == (415, "documents.type_not_allowed")
        assert caught.value.params["doc_type"] == "id_card_front"
    accepted = await upload(
        session_factory,
        org["li"],
        store,
        doc_type="bank_statement",
        filename="s.xlsx",
        declared_type=None,
        stream=docsamples.xlsx(),
    )
    assert accepted.document.detected_type.endswith("spreadsheetml.sheet")


async def test_content_of_no_known_type_is_415(session_factory, org, store):
    with pytest.raises(UnsupportedContent) as caught:
        await upload(
            session_factory,
            org["li"],
            store,
            doc_type="other",
            filename="x.html",
            declared_type=None,
            stream=b"<html>hi</html>",
        )
    assert caught.value.code == "documents.unrecognised_content"


@pytest.mark.parametrize(
    ("kind", "record", "code"),
    [
        ("loan", "c1", "documents.unknown_owner_kind"),
        ("customer", "../../etc", "documents.bad_owner_record"),
        ("customer", "a/b", "documents.bad_owner_record"),
        ("customer", "", "documents.bad_owner_record"),
    ],
)
async def test_owner_kinds_and_record_ids_are_checked(session_factory, org, store, kind, record, code):
    with pytest.raises(Invalid) as caught:
        await upload(session_factory, org["li"], store, owner_kind=kind, owner_record_id=record)
    assert caught.value.code == code


async def test_a_store_failure_records_nothing(session_factory, org, tmp_path):
    blocker = tmp_path / "not-a-dir"
    blocker.write_bytes(b"")
    with pytest.raises(StorageError) as caught:
        await upload(session_factory, org["li"], LocalStorage(blocker))
    assert caught.value.status == 503
    assert await count_rows(session_factory) == 0
    assert await document_actions(session_factory) == []


async def test_lists_and_reads_follow_the_owning_records_scope(session_factory, org, store):
    li, wang, zhao, chen = (org[n] for n in ("li", "wang", "zhao", "chen"))
    mine = (await upload(session_factory, li, store)).document
    app_doc = (
        await upload(
            session_factory, li, store, owner_kind="application", owner_record_id="app-1", doc_type="contract"
        )
    ).document
    seen = {}
    async with session_factory() as session:
        for name, actor in org.items():
            listed = await documents.list_for(session, actor, owner_kind="customer", owner_record_id="cust-1")
            seen[name] = [d.id for d in listed]
    assert seen == {"li": [mine.id], "wang": [], "zhao": [], "chen": [mine.id], "shen": [mine.id]}
    async with session_factory() as session:
        assert (await documents.get(session, chen, app_doc.id)).id == app_doc.id
        for outsider in (wang, zhao):
            with pytest.raises(NotFound):
                await documents.get(session, outsider, mine.id)
        no_apps = Actor(
            kind=li.kind,
            id=li.id,
            name="li",
            grants={"customers.read": li.scope_for("customers.read")},
            branch_id=li.branch_id,
            branch_path=li.branch_path,
        )
        assert (await documents.get(session, no_apps, mine.id)).id == mine.id
        with pytest.raises(NotFound):  # an application's documents need applications.read
            await documents.get(session, no_apps, app_doc.id)


async def test_download_is_audited_and_checked(session_factory, org, store):
    li = org["li"]
    doc = (await upload(session_factory, li, store)).document
    async with session_factory() as session, session.begin():
        assert await documents.read_bytes(session, li, store, doc.id) == docsamples.pdf()
        download = await documents.open_download(session, li, store, doc.id)
        assert download.stream.size == doc.size and download.document.id == doc.id
        assert b"".join([c async for c in download.stream]) == docsamples.pdf()
    assert await document_actions(session_factory) == [
        "documents.upload",
        "documents.download",
        "documents.download",
    ]
    (store.root / doc.storage_key).write_bytes(docsamples.pdf("tampered"))
    async with session_factory() as session:
        with pytest.raises(StorageError) as caught:
            await documents.read_bytes(session, li, store, doc.id)
    assert caught.value.params["reason"] == "checksum mismatch"
    os.unlink(store.root / doc.storage_key)
    async with session_factory() as session:
        with pytest.raises(ObjectMissing):
            await documents.open_download(session, li, store, doc.id)
        with pytest.raises(NotFound):
            await documents.open_download(session, org["wang"], store, doc.id)


async def test_delete_is_soft_scoped_by_write_and_purge_removes_only_the_bytes(session_factory, org, store):
    li, wang, chen, shen = org["li"], org["wang"], org["chen"], org["shen"]
    doc = (await upload(session_factory, li, store)).document
    async with session_factory() as session, session.begin():
        for cannot in (wang, shen):  # another officer; the auditor reads but does not write
            with pytest.raises(NotFound):
                await documents.delete(session, cannot, doc.id)
        deleted = await documents.delete(session, chen, doc.id)
        assert deleted.deleted_at is not None and deleted.deleted_by == "user:chen"
    async with session_factory() as session:
        assert await documents.list_for(session, li, owner_kind="customer", owner_record_id="cust-1") == []
        history = await documents.list_for(
            session, li, owner_kind="customer", owner_record_id="cust-1", include_deleted=True
        )
        assert [d.id for d in history] == [doc.id]
        with pytest.raises(NotFound):
            await documents.get(session, li, doc.id)
        with pytest.raises(NotFound):
            await documents.delete(session, li, doc.id)
    assert stored_files(store) == [doc.storage_key], "the bytes stay until a purge"
    again = await upload(session_factory, li, store)
    assert again.created and again.document.id != doc.id
    async with session_factory() as session, session.begin():
        assert (
            await documents.purge(
                session, Actor.system("purge"), store, deleted_before=utcnow() - timedelta(days=1)
            )
            == 0
        )
        assert (
            await documents.purge(
                session, Actor.system("purge"), store, deleted_before=utcnow() + timedelta(seconds=1)
            )
            == 1
        )
    async with session_factory() as session, session.begin():
        assert (
            await documents.purge(
                session, Actor.system("purge"), store, deleted_before=utcnow() + timedelta(seconds=1)
            )
            == 0
        )
        purged = await documents.get(session, li, doc.id, include_deleted=True)
        assert purged.purged_at is not None
    assert stored_files(store) == [again.document.storage_key]
    assert await document_actions(session_factory) == [
        "documents.upload",
        "documents.delete",
        "documents.upload",
        "documents.purge",
    ]


async def test_upload_and_download_through_s3(session_factory, org, s3_server, s3_bucket):
    from core.documents.s3 import S3Storage

    store = S3Storage(endpoint=s3_server, bucket=s3_bucket, access_key="a", secret_key="b")
    li = org["li"]
    data = docsamples.png(7)
    doc = (
        await upload(session_factory, li, store, filename="front.png", declared_type="image/png", stream=data)
    ).document
    assert doc.storage_backend == "s3" and await store.exists(doc.storage_key)
    async with session_factory() as session, session.begin():
        assert await documents.read_bytes(session, li, store, doc.id) == data
