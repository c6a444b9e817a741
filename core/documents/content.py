"""What an upload really is: its type from its bytes, its size and SHA-256, a safe filename.

The type is read from the content, never taken from the client: a few magic numbers (PDF, JPEG,
PNG) and, for ZIP containers, the names inside (Word and Excel documents, OFD — the national
standard format of Chinese e-invoices and bank statements, GB/T 33190). These are the only
types we accept, so they are written here rather than pulled from a general library: ``filetype``
has had no release since 2022 and neither it nor ``puremagic`` knows OFD.

``receive`` reads the upload once, in chunks, into a spooled temporary file (memory up to 1 MiB,
then disk), hashing and counting as it goes, and stops at the first chunk past the limit — a 2 GB
body costs the limit and one chunk, never 2 GB. Nothing reaches the document store until the
bytes have passed every check, so a refused upload leaves nothing behind.
"""

from __future__ import annotations

import hashlib
import tempfile
import unicodedata
import zipfile
from collections.abc import AsyncIterable
from dataclasses import dataclass
from typing import IO
from urllib.parse import quote

from core.errors import Invalid

from .errors import TooLarge
from .storage import CHUNK_SIZE, Source, iter_source

__all__ = [
    "CONTENT_TYPES",
    "DOCX",
    "JPEG",
    "OFD",
    "PDF",
    "PNG",
    "XLSX",
    "Received",
    "content_disposition",
    "detect",
    "extension_of",
    "normalise_type",
    "receive",
    "sanitise_filename",
    "size_mb",
]

PDF = "application/pdf"
JPEG = "image/jpeg"
PNG = "image/png"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
OFD = "application/ofd"

#: Every content type we can recognise, with the file extensions that name it.
CONTENT_TYPES: dict[str, tuple[str, ...]] = {
    PDF: ("pdf",),
    JPEG: ("jpg", "jpeg", "jpe", "jfif"),
    PNG: ("png",),
    DOCX: ("docx",),
    XLSX: ("xlsx",),
    OFD: ("ofd",),
}

#: Other names clients use for the same types.
_ALIASES = {
    "application/x-pdf": PDF,
    "image/jpg": JPEG,
    "image/pjpeg": JPEG,
    "image/x-png": PNG,
    "application/x-ofd": OFD,
}

#: What browsers and curl send when they do not know: no claim about the content, so no lie.
_UNDECLARED = {"", "application/octet-stream", "binary/octet-stream", "application/binary"}

_MAGIC: list[tuple[bytes, str]] = [
    (b"%PDF-", PDF),
    (b"\xff\xd8\xff", JPEG),
    (b"\x89PNG\r\n\x1a\n", PNG),
]

MAX_FILENAME = 200


def normalise_type(declared: str | None) -> str | None:
    """The declared content type, lower-cased, without parameters, aliases resolved.

    ``None`` when the client made no claim (nothing, or ``application/octet-stream``).
    """
    value = (declared or "").split(";", 1)[0].strip().lower()
    if value in _UNDECLARED:
        return None
    return _ALIASES.get(value, value)


def extension_of(filename: str) -> str | None:
    """The lower-cased extension of ``filename`` (``'pdf'``), or ``None`` without one."""
    stem, dot, extension = filename.rpartition(".")
    return extension.lower() if dot and stem.strip(".") and extension else None


def detect(file: IO[bytes]) -> str | None:
    """The content type of the bytes in ``file`` (read from the start), or ``None`` for none we know.

    ZIP containers are told apart by their central directory (names only: nothing is
    decompressed, so a ZIP bomb costs no more than its size).
    """
    file.seek(0)
    head = file.read(8)
    for magic, content_type in _MAGIC:
        if head.startswith(magic):
            return content_type
    if head.startswith(b"PK\x03\x04"):
        file.seek(0)
        try:
            with zipfile.ZipFile(file) as archive:
                names = set(archive.namelist())
        except (zipfile.BadZipFile, ValueError, OSError, EOFError):
            return None
        if "OFD.xml" in names:
            return OFD
        if "[Content_Types].xml" in names:
            if any(name.startswith("word/") for name in names):
                return DOCX
            if any(name.startswith("xl/") for name in names):
                return XLSX
    return None


def sanitise_filename(name: str | None, *, default: str = "document") -> str:
    r"""A filename safe to store and show: no directories, control or reserved characters, no dot-start.

    The name is only ever metadata — keys are built from ids — but it is shown back, put in a
    ``Content-Disposition`` header and saved by browsers, so ``../../etc/passwd``,
    ``C:\\x\\y.pdf``, NUL bytes, newlines and right-to-left overrides are cleaned here, once.
    The extension survives truncation to 200 characters.
    """
    text = unicodedata.normalize("NFC", name or "")
    text = text.replace("\\", "/").rsplit("/", 1)[-1]
    cleaned = "".join(
        "_" if ch in '<>:"|?*' else ch
        for ch in text
        if unicodedata.category(ch) not in ("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp")
    )
    cleaned = " ".join(cleaned.split()).lstrip(". ").rstrip(". ")
    if not cleaned:
        return default
    if len(cleaned) > MAX_FILENAME:
        extension = extension_of(cleaned)
        suffix = f".{extension}" if extension and len(extension) <= 10 else ""
        cleaned = cleaned[: MAX_FILENAME - len(suffix)].rstrip(". ") + suffix
    return cleaned


def content_disposition(filename: str, *, inline: bool = False) -> str:
    """A ``Content-Disposition`` value for a download (RFC 6266, with RFC 5987 for non-ASCII names).

    The ASCII fallback replaces everything outside printable ASCII, quotes and backslashes, so the
    header can carry no injected header or parameter whatever the stored name is.
    """
    name = sanitise_filename(filename)
    fallback = "".join(ch if 32 <= ord(ch) < 127 and ch not in '"\\;' else "_" for ch in name)
    disposition = "inline" if inline else "attachment"
    return f"{disposition}; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"


@dataclass
class Received:
    """An upload read to its end: the spooled bytes, their size and SHA-256.

    ``close`` (or ``with``) deletes the spool.
    """

    file: IO[bytes]
    size: int
    sha256: str

    def close(self) -> None:
        """Drop the spooled bytes."""
        self.file.close()

    def __enter__(self) -> Received:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


async def receive(
    stream: Source,
    *,
    max_bytes: int,
    chunk_size: int = CHUNK_SIZE,
    spool_memory: int = 1024 * 1024,
    spool_dir: str | None = None,
) -> Received:
    """Read ``stream`` into a spool, hashing and counting, refusing an empty or oversize upload.

    Raises:
        Invalid: ``documents.empty`` — not one byte.
        TooLarge: ``documents.too_large`` — more than ``max_bytes``; reading stopped at the first
            chunk past it.
    """
    spool: IO[bytes] = tempfile.SpooledTemporaryFile(  # noqa: SIM115 — handed to the caller
        max_size=spool_memory, dir=spool_dir
    )
    digest, size = hashlib.sha256(), 0
    try:
        chunks = iter_source(stream, chunk_size)
        try:
            async for chunk in chunks:
                size += len(chunk)
                if size > max_bytes:
                    raise TooLarge("documents.too_large", limit=max_bytes, limit_mb=size_mb(max_bytes))
                digest.update(chunk)
                spool.write(chunk)
        finally:
            await chunks.aclose()  # type: ignore[attr-defined]
            if isinstance(stream, AsyncIterable) and hasattr(stream, "aclose"):
                await stream.aclose()
        if size == 0:
            raise Invalid("documents.empty", errors=[{"field": "file", "code": "documents.empty"}])
    except BaseException:
        spool.close()
        raise
    spool.seek(0)
    return Received(spool, size, digest.hexdigest())


def size_mb(size: int) -> str:
    """Bytes as MiB for messages: ``20``, ``0.5``."""
    return f"{size / (1024 * 1024):.1f}".rstrip("0").rstrip(".")
