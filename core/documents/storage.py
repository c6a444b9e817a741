"""Where document bytes live: a four-method port and the local-directory store behind it.

The database row of a document is the truth about it; the store only keeps bytes under keys the
service makes (``customer/<id>/<document id>``). A store is small on purpose — ``put``,
``open``, ``delete``, ``exists`` — so a second one (``core.documents.s3.S3Storage``) is a page
of code and one contract test class (``tests/core/documents/test_storage_contract.py``) holds
every implementation to the same behaviour.

Every store refuses the same keys before any I/O: ``validate_key`` accepts only relative paths of
plain segments (letters, digits, ``_ . -``, never starting with a dot), so ``..``, absolute paths,
backslashes and control bytes never reach a file system or a bucket. ``LocalStorage`` also
resolves symlinks and refuses a path that ends up outside its root, and writes atomically: a
temporary file beside the target, ``fsync``, ``rename``, ``fsync`` of the directory — a reader
sees the old object or the whole new one, never half, and a crash leaves no torn file.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import hashlib
import os
import re
import stat
import tempfile
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Protocol, TypeVar, runtime_checkable

from .errors import ObjectMissing, StorageError, UnsafeKey

__all__ = [
    "CHUNK_SIZE",
    "LocalStorage",
    "ReadStream",
    "Source",
    "Storage",
    "StoredObject",
    "iter_source",
    "validate_key",
]

_T = TypeVar("_T")

#: Bytes read or written at a time when streaming.
CHUNK_SIZE = 256 * 1024

#: What ``put`` takes: the whole bytes, a readable binary file (read from where it stands), or
#: an async iterable of chunks (a request body).
Source = bytes | IO[bytes] | AsyncIterable[bytes]

_SEGMENT = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
MAX_KEY_LENGTH = 512
MAX_KEY_SEGMENTS = 16


def validate_key(key: str) -> str:
    """Return ``key`` if every store may use it; raise :class:`UnsafeKey` otherwise.

    A key is 1-16 ``/``-separated segments of letters, digits, ``_``, ``.`` and ``-``, none empty
    and none starting with a dot (so no ``.``, ``..`` or hidden names), at most 512 characters.
    """
    if not isinstance(key, str) or not key or len(key) > MAX_KEY_LENGTH:
        raise UnsafeKey(f"storage key must be 1-{MAX_KEY_LENGTH} characters: {key!r}")
    segments = key.split("/")
    if len(segments) > MAX_KEY_SEGMENTS or not all(_SEGMENT.match(s) for s in segments):
        raise UnsafeKey(
            f"storage key {key!r} must be relative, '/'-separated segments of letters, digits, '_.-' "
            "not starting with a dot"
        )
    return key


@dataclass(frozen=True)
class StoredObject:
    """What a store holds under a key after ``put``: its length and SHA-256, computed while writing."""

    key: str
    size: int
    sha256: str


class ReadStream:
    """An opened object: its size, known before the first byte, and its bytes as async chunks.

    Iterate it once (``async for chunk in stream``); ``aclose`` releases the file or connection
    early when the reader stops half-way (a client that hung up).
    """

    def __init__(self, size: int, chunks: AsyncIterator[bytes]) -> None:
        self.size = size
        self._chunks = chunks

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self._chunks

    async def aclose(self) -> None:
        """Stop reading and release what holds the bytes."""
        close: Callable[[], Awaitable[None]] | None = getattr(self._chunks, "aclose", None)
        if close is not None:
            await close()

    async def read_all(self) -> bytes:
        """Every byte, joined (for small objects; stream large ones)."""
        try:
            return b"".join([chunk async for chunk in self._chunks])
        finally:
            await self.aclose()


@runtime_checkable
class Storage(Protocol):
    """The port every document store implements; ``tests/core/documents`` holds the contract.

    Attributes:
        backend: a short name for messages and logs (``local``, ``s3``).
    """

    backend: str

    async def put(self, key: str, data: Source, *, content_type: str | None = None) -> StoredObject:
        """Store ``data`` under ``key`` whole, replacing what was there, and say what was stored.

        Raises:
            UnsafeKey: the key fails ``validate_key`` (nothing was written).
            StorageError: the store failed; nothing is left under the key that was not there before.
        """
        ...

    async def open(self, key: str) -> ReadStream:
        """Open ``key`` for streaming; raises ``ObjectMissing`` at once when it is not there."""
        ...

    async def delete(self, key: str) -> None:
        """Remove ``key``; removing a key that is not there is not an error."""
        ...

    async def exists(self, key: str) -> bool:
        """Whether an object is stored under ``key``."""
        ...


async def iter_source(data: Source, chunk_size: int = CHUNK_SIZE) -> AsyncIterator[bytes]:
    """``data`` as async chunks of at most ``chunk_size`` bytes (a file is read in a thread)."""
    if isinstance(data, bytes | bytearray | memoryview):
        view = memoryview(data)
        for start in range(0, len(view), chunk_size):
            yield bytes(view[start : start + chunk_size])
    elif isinstance(data, AsyncIterable):
        async for chunk in data:
            if chunk:
                yield bytes(chunk)
    else:
        while chunk := await asyncio.to_thread(data.read, chunk_size):
            yield chunk


def _reason(exc: OSError) -> str:
    """An OSError as its errno name (``ENOSPC``), which says what went wrong without paths."""
    return errno.errorcode.get(exc.errno or 0, type(exc).__name__)


class LocalStorage:
    """Documents as files under one directory (the embedded default, ``var/documents``).

    Args:
        root: the directory; created with mode 0700 on first write.
        chunk_size: bytes per read when streaming out.
    """

    backend = "local"

    def __init__(self, root: Path | str, *, chunk_size: int = CHUNK_SIZE) -> None:
        self.root = Path(root)
        self.chunk_size = chunk_size

    def __repr__(self) -> str:
        return f"LocalStorage({str(self.root)!r})"

    def _path(self, key: str) -> Path:
        """The file for ``key``, refused if it (through any symlink) resolves outside the root."""
        path = self.root / validate_key(key)
        root = os.path.realpath(self.root)
        real = os.path.realpath(path)
        if not real.startswith(root.rstrip(os.sep) + os.sep):
            raise UnsafeKey(f"storage key {key!r} resolves outside the document root")
        return path

    def _failed(self, operation: str, exc: OSError) -> StorageError:
        return StorageError(operation=operation, backend=self.backend, reason=_reason(exc))

    async def put(self, key: str, data: Source, *, content_type: str | None = None) -> StoredObject:
        """Write to a temporary file beside the target, fsync, rename over it, fsync the directory.

        An error raised by ``data`` itself (a client hanging up) propagates as it is; only the
        store's own failures become ``StorageError``.
        """
        path = self._path(key)
        if not isinstance(data, AsyncIterable):
            return await self._io("put", self._put_sync, key, path, data)
        temp = await self._io("put", self._create_temp, path)
        try:
            digest, size = hashlib.sha256(), 0
            async for chunk in iter_source(data, self.chunk_size):
                digest.update(chunk)
                size += len(chunk)
                await self._io("put", temp.write, chunk)
            await self._io("put", temp.commit, path)
        except BaseException:
            await asyncio.to_thread(temp.discard)
            raise
        return StoredObject(key, size, digest.hexdigest())

    async def _io(self, operation: str, function: Callable[..., _T], *args: Any) -> _T:
        """Run blocking file work in a thread; its OSError becomes a ``StorageError``."""
        try:
            return await asyncio.to_thread(function, *args)
        except OSError as exc:
            raise self._failed(operation, exc) from exc

    def _create_temp(self, path: Path) -> _TempFile:
        self.root.mkdir(mode=0o700, parents=True, exist_ok=True)
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        self._path(str(path.relative_to(self.root)))  # a directory swapped for a symlink meanwhile
        # The leading dot keeps temporary names out of the key space (validate_key refuses them).
        return _TempFile(*tempfile.mkstemp(dir=path.parent, prefix=".put-", suffix=".tmp"))

    def _put_sync(
        self, key: str, path: Path, data: bytes | bytearray | memoryview | IO[bytes]
    ) -> StoredObject:
        temp = self._create_temp(path)
        try:
            digest, size = hashlib.sha256(), 0
            if isinstance(data, bytes | bytearray | memoryview):
                digest.update(data)
                size = len(data)
                temp.write(bytes(data))
            else:
                while chunk := data.read(self.chunk_size):
                    digest.update(chunk)
                    size += len(chunk)
                    temp.write(chunk)
            temp.commit(path)
        except BaseException:
            temp.discard()
            raise
        return StoredObject(key, size, digest.hexdigest())

    async def open(self, key: str) -> ReadStream:
        """Open with ``O_NOFOLLOW``: a symlink planted at the key is refused, not followed."""
        path = self._path(key)
        try:
            fd = await asyncio.to_thread(os.open, path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        except FileNotFoundError:
            raise ObjectMissing(key, self.backend) from None
        except OSError as exc:
            raise self._failed("open", exc) from exc
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            os.close(fd)
            raise ObjectMissing(key, self.backend)
        return ReadStream(info.st_size, self._chunks(fd))

    async def _chunks(self, fd: int) -> AsyncIterator[bytes]:
        try:
            while chunk := await asyncio.to_thread(os.read, fd, self.chunk_size):
                yield chunk
        except OSError as exc:
            raise self._failed("open", exc) from exc
        finally:
            os.close(fd)

    async def delete(self, key: str) -> None:
        """Unlink the file (a symlink at the key is removed itself, its target untouched)."""
        path = self._path(key)
        try:
            await asyncio.to_thread(path.unlink, missing_ok=True)
        except OSError as exc:
            raise self._failed("delete", exc) from exc

    async def exists(self, key: str) -> bool:
        """A regular file is there (a symlink or directory at the key does not count)."""
        path = self._path(key)
        try:
            info = await asyncio.to_thread(os.lstat, path)
        except FileNotFoundError:
            return False
        except OSError as exc:
            raise self._failed("exists", exc) from exc
        return stat.S_ISREG(info.st_mode)


class _TempFile:
    """The temporary file a put writes before renaming it over the target; closed exactly once."""

    def __init__(self, fd: int, name: str) -> None:
        self.fd: int | None = fd
        self.name = name

    def write(self, chunk: bytes) -> None:
        assert self.fd is not None
        view = memoryview(chunk)
        while view:
            view = view[os.write(self.fd, view) :]

    def _close(self) -> None:
        fd, self.fd = self.fd, None  # forgotten first: a failed close must not be retried
        if fd is not None:
            os.close(fd)

    def commit(self, path: Path) -> None:
        assert self.fd is not None
        os.fsync(self.fd)
        self._close()
        os.replace(self.name, path)  # replaces a symlink planted at the target, never follows it
        directory = os.open(path.parent, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
        try:
            os.fsync(directory)
        finally:
            os.close(directory)

    def discard(self) -> None:
        """After a failed write: close (if still open) and remove (if not yet renamed)."""
        with contextlib.suppress(OSError):
            self._close()
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.name)
