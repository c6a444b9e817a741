"""The storage port's contract, run unchanged against every implementation.

``LocalStorage`` on a temporary directory and ``S3Storage`` over real HTTP on loopback against
a moto S3 server: the same class of tests, so a behaviour one store has and the other lacks
fails here, not in production after a switch of ``LENDHUB_DOCUMENTS_S3_URL``.
"""

from __future__ import annotations

import hashlib
import io
import os

import pytest

from core.documents import LocalStorage, ObjectMissing, StorageError, UnsafeKey
from core.documents.s3 import S3Storage

BIG = os.urandom(6 * 1024 * 1024 + 17)  # several read chunks; two parts of a multipart upload


async def _chunks(data: bytes, size: int = 100_000):
    for start in range(0, len(data), size):
        yield data[start : start + size]


UNSAFE_KEYS = [
    "",
    "../escape",
    "a/../../escape",
    "/etc/passwd",
    "a//b",
    "a/./b",
    ".hidden",
    "a/.put-123.tmp",
    "a\\..\\b",
    "C:\\x",
    "a\x00b",
    "line\nbreak",
    "a/b/",
    "x" * 600,
    "/".join(["s"] * 17),
    "空格 文件",
]


class StorageContract:
    """Behaviour every ``core.documents.Storage`` must have. Subclasses provide ``store``."""

    @pytest.fixture
    def store(self):
        raise NotImplementedError

    async def test_put_bytes_reports_size_and_sha256_and_reads_back(self, store):
        data = b"%PDF-1.4 hello"
        stored = await store.put("customer/c1/d1", data)
        assert (stored.key, stored.size, stored.sha256) == (
            "customer/c1/d1",
            len(data),
            hashlib.sha256(data).hexdigest(),
        )
        stream = await store.open("customer/c1/d1")
        assert stream.size == len(data)
        assert await stream.read_all() == data

    @pytest.mark.parametrize("form", ["bytes", "file", "async"])
    async def test_every_source_form_stores_the_same_bytes(self, store, form):
        source = {"bytes": BIG, "file": io.BytesIO(BIG), "async": _chunks(BIG)}[form]
        stored = await store.put(f"big/{form}", source, content_type="application/pdf")
        assert stored.size == len(BIG) and stored.sha256 == hashlib.sha256(BIG).hexdigest()
        stream = await store.open(f"big/{form}")
        pieces = [chunk async for chunk in stream]
        assert len(pieces) > 1, "a large object is streamed in chunks, not read whole"
        assert b"".join(pieces) == BIG and stream.size == len(BIG)

    async def test_put_replaces_what_was_under_the_key(self, store):
        await store.put("k", b"first version")
        await store.put("k", b"second")
        assert await (await store.open("k")).read_all() == b"second"

    async def test_an_empty_object_is_stored(self, store):
        stored = await store.put("empty", b"")
        assert stored.size == 0 and await store.exists("empty")
        assert await (await store.open("empty")).read_all() == b""

    async def test_open_of_a_missing_key_raises_object_missing_at_once(self, store):
        with pytest.raises(ObjectMissing) as caught:
            await store.open("no/such/key")
        assert caught.value.code == "documents.object_missing" and caught.value.status == 500

    async def test_exists_and_delete(self, store):
        assert not await store.exists("d/x")
        await store.put("d/x", b"x")
        assert await store.exists("d/x")
        await store.delete("d/x")
        assert not await store.exists("d/x")
        await store.delete("d/x")  # deleting what is not there is not an error
        with pytest.raises(ObjectMissing):
            await store.open("d/x")

    async def test_a_failing_source_leaves_nothing_new_and_keeps_the_old_object(self, store):
        await store.put("keep", b"old")

        async def broken():
            yield b"new-"
            raise ConnectionResetError("client went away")

        with pytest.raises(ConnectionResetError):
            await store.put("keep", broken())
        with pytest.raises(ConnectionResetError):
            await store.put("never", broken())
        assert await (await store.open("keep")).read_all() == b"old"
        assert not await store.exists("never")

    async def test_a_reader_stopping_half_way_can_close(self, store):
        await store.put("half", BIG)
        stream = await store.open("half")
        async for _ in stream:
            break
        await stream.aclose()
        assert await store.exists("half")

    @pytest.mark.parametrize("key", UNSAFE_KEYS)
    async def test_unsafe_keys_are_refused_by_every_operation(self, store, key):
        for call in (
            lambda: store.put(key, b"x"),
            lambda: store.open(key),
            lambda: store.delete(key),
            lambda: store.exists(key),
        ):
            with pytest.raises(UnsafeKey):
                await call()


class TestLocalStorage(StorageContract):
    @pytest.fixture
    def store(self, tmp_path):
        return LocalStorage(tmp_path / "documents")


class TestS3Storage(StorageContract):
    @pytest.fixture
    def store(self, s3_server, s3_bucket):
        # The smallest parts S3 allows, so BIG goes up as a real multipart upload.
        return S3Storage(
            endpoint=s3_server,
            bucket=s3_bucket,
            access_key="test",
            secret_key="test-secret",
            part_size=5 * 1024 * 1024,
        )


async def test_s3_missing_bucket_is_a_clear_storage_error(s3_server):
    store = S3Storage(endpoint=s3_server, bucket="no-such-bucket", access_key="a", secret_key="b")
    with pytest.raises(StorageError) as caught:
        await store.put("k", b"x")
    error = caught.value
    assert not isinstance(error, ObjectMissing), "a 404 on PUT is a missing bucket, not a missing object"
    assert (error.status, error.code, error.params["reason"]) == (
        503,
        "documents.storage_failed",
        "NoSuchBucket",
    )
    assert error.params == {"operation": "put", "backend": "s3", "reason": "NoSuchBucket"}
    assert "NoSuchBucket" in error.message("en") and "s3" in error.message("zh-CN")


async def test_s3_unreachable_server_fails_fast_naming_the_connection():
    from netsupport import free_port

    store = S3Storage(
        endpoint=f"http://127.0.0.1:{free_port()}",
        bucket="docs",
        access_key="a",
        secret_key="b",
        timeout=2,
        max_retries=1,
    )
    for call in (lambda: store.put("k", b"x"), lambda: store.open("k"), lambda: store.exists("k")):
        with pytest.raises(StorageError) as caught:
            await call()
        assert caught.value.params["reason"] == "connection failed"
    assert "test-secret" not in repr(store)


async def test_s3_prefix_keeps_keys_inside_it(s3_server, s3_bucket):
    prefixed = S3Storage(
        endpoint=s3_server, bucket=s3_bucket, access_key="a", secret_key="b", prefix="lendhub/"
    )
    whole = S3Storage(endpoint=s3_server, bucket=s3_bucket, access_key="a", secret_key="b")
    await prefixed.put("customer/c1/d1", b"x")
    assert await whole.exists("lendhub/customer/c1/d1") and not await whole.exists("customer/c1/d1")
    with pytest.raises(UnsafeKey):
        S3Storage(endpoint=s3_server, bucket=s3_bucket, prefix="../up")
