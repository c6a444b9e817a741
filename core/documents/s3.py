"""Documents in an S3-compatible bucket (AWS S3, MinIO, Ceph RGW, 阿里云 OSS and the like).

Built on ``obstore`` (MIT; Python bindings of the Rust ``object_store`` crate that crates.io and
DataFusion use): async without threads, typed, no Python dependencies, streaming downloads,
streaming uploads that switch to multipart on their own. It is the ``s3`` extra
(``pip install 'lendhub[s3]'``); this module is imported only when S3 is configured.

Every failure leaves as a :class:`~core.documents.errors.StorageError` naming the operation and
a short reason — the S3 error code (``NoSuchBucket``, ``AccessDenied``) when the server sent one,
else the kind of failure — with the full message in the log. Credentials never appear in either:
requests are signed (SigV4), so no secret is in a URL.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import AsyncIterator
from datetime import timedelta

import obstore
from obstore.exceptions import (
    BaseError,
    NotFoundError,
    PermissionDeniedError,
    UnauthenticatedError,
)
from obstore.store import S3Store

from .errors import ObjectMissing, StorageError
from .storage import CHUNK_SIZE, ReadStream, Source, StoredObject, iter_source, validate_key

__all__ = ["S3Storage"]

log = logging.getLogger(__name__)

#: S3 refuses multipart parts smaller than this (except the last).
MIN_PART_SIZE = 5 * 1024 * 1024

_S3_CODE = re.compile(r"<Code>([A-Za-z0-9.]{1,64})</Code>")


class S3Storage:
    """A bucket (and an optional key prefix in it) as a document store.

    Args:
        endpoint: ``https://s3.example.com`` or ``http://127.0.0.1:9000``; path-style requests
            (``/<bucket>/<key>``) unless ``virtual_hosted`` is set.
        bucket: the bucket; it must exist (LendHub never creates buckets).
        access_key: access key id; with ``secret_key``, or neither to use the environment's
            (``AWS_ACCESS_KEY_ID``…, instance roles).
        secret_key: secret access key.
        region: the signing region (``us-east-1`` for most S3-compatible servers).
        prefix: prepended to every key (``lendhub/``), for a bucket shared with other uses.
        timeout: seconds for one request.
        max_retries: retries of transient failures (connection errors, 5xx) before giving up.
        part_size: bytes per part of a multipart upload, at least S3's minimum of 5 MiB; smaller
            objects go in one PUT.
    """

    backend = "s3"

    def __init__(
        self,
        *,
        endpoint: str,
        bucket: str,
        access_key: str | None = None,
        secret_key: str | None = None,
        region: str = "us-east-1",
        prefix: str = "",
        timeout: float = 30.0,
        max_retries: int = 2,
        virtual_hosted: bool = False,
        part_size: int = 8 * 1024 * 1024,
    ) -> None:
        if (access_key is None) != (secret_key is None):
            raise ValueError("give both access_key and secret_key, or neither")
        if part_size < MIN_PART_SIZE:
            raise ValueError(f"part_size must be at least {MIN_PART_SIZE} bytes (S3's smallest part)")
        if prefix:
            validate_key(prefix.rstrip("/"))
        self.endpoint = endpoint
        self.bucket = bucket
        self.prefix = prefix.rstrip("/") + "/" if prefix else ""
        self.part_size = part_size
        credentials = {"access_key_id": access_key, "secret_access_key": secret_key} if access_key else {}
        self._store = S3Store(
            bucket,
            endpoint=endpoint,
            region=region,
            virtual_hosted_style_request=virtual_hosted,
            client_options={
                "allow_http": endpoint.startswith("http://"),
                "timeout": timedelta(seconds=timeout),
                "connect_timeout": timedelta(seconds=min(timeout, 10.0)),
            },
            retry_config={
                "max_retries": max_retries,
                "retry_timeout": timedelta(seconds=timeout * (max_retries + 1)),
                "backoff": {
                    "init_backoff": timedelta(milliseconds=100),
                    "max_backoff": timedelta(seconds=5),
                    "base": 2.0,
                },
            },
            **credentials,  # type: ignore[arg-type]
        )

    def __repr__(self) -> str:
        return f"S3Storage({self.endpoint!r}, bucket={self.bucket!r}, prefix={self.prefix!r})"

    def _key(self, key: str) -> str:
        return self.prefix + validate_key(key)

    def _failed(self, operation: str, exc: Exception) -> StorageError:
        message = str(exc)
        code = _S3_CODE.search(message)
        if code:
            reason = code.group(1)
        elif isinstance(exc, PermissionDeniedError | UnauthenticatedError):
            reason = "AccessDenied"
        elif "error sending request" in message or "connect" in message.lower():
            reason = "connection failed"
        else:
            reason = type(exc).__name__
        log.warning("S3 %s failed on bucket %s: %s", operation, self.bucket, message.splitlines()[0][:500])
        return StorageError(operation=operation, backend=self.backend, reason=reason)

    async def put(self, key: str, data: Source, *, content_type: str | None = None) -> StoredObject:
        """Upload ``data`` (one PUT, or multipart past ``part_size``), hashing it on the way."""
        path = self._key(key)
        digest = hashlib.sha256()
        size = 0
        source_error: BaseException | None = None

        async def hashed() -> AsyncIterator[bytes]:
            nonlocal size, source_error
            try:
                async for chunk in iter_source(data, CHUNK_SIZE):
                    digest.update(chunk)
                    size += len(chunk)
                    yield chunk
            except BaseException as exc:
                source_error = exc
                raise

        try:
            await obstore.put_async(
                self._store,
                path,
                hashed(),
                attributes={"Content-Type": content_type} if content_type else None,
                chunk_size=self.part_size,
                max_concurrency=4,
            )
        except (BaseError, OSError) as exc:
            if source_error is not None:  # the client hung up: its error, not the store's
                raise source_error from None
            # A 404 on a PUT is a missing bucket, not a missing object: never ObjectMissing here.
            raise self._failed("put", exc) from exc
        return StoredObject(key, size, digest.hexdigest())

    async def open(self, key: str) -> ReadStream:
        """GET the object; a missing key raises ``ObjectMissing`` before any byte is streamed."""
        try:
            result = await obstore.get_async(self._store, self._key(key))
        except (NotFoundError, FileNotFoundError):
            raise ObjectMissing(key, self.backend) from None
        except (BaseError, OSError) as exc:
            raise self._failed("open", exc) from exc
        return ReadStream(int(result.meta["size"]), self._chunks(result.stream(min_chunk_size=CHUNK_SIZE)))

    async def _chunks(self, stream: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
        try:
            async for chunk in stream:
                yield chunk
        except (BaseError, OSError) as exc:
            raise self._failed("open", exc) from exc

    async def delete(self, key: str) -> None:
        """DELETE the object (S3 answers the same whether it was there or not)."""
        try:
            await obstore.delete_async(self._store, self._key(key))
        except (NotFoundError, FileNotFoundError):
            return
        except (BaseError, OSError) as exc:
            raise self._failed("delete", exc) from exc

    async def exists(self, key: str) -> bool:
        """HEAD the object."""
        try:
            await obstore.head_async(self._store, self._key(key))
        except (NotFoundError, FileNotFoundError):
            return False
        except (BaseError, OSError) as exc:
            raise self._failed("exists", exc) from exc
        return True
