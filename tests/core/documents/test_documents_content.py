"""Content checks: the type from the bytes, filenames made safe, the size limit while streaming."""

from __future__ import annotations

import hashlib
import io

import docsamples
import pytest

from core.documents.content import (
    DOCX,
    JPEG,
    OFD,
    PDF,
    PNG,
    XLSX,
    content_disposition,
    detect,
    extension_of,
    normalise_type,
    receive,
    sanitise_filename,
)
from core.documents.errors import TooLarge
from core.errors import Invalid


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (docsamples.pdf(), PDF),
        (docsamples.png(), PNG),
        (docsamples.jpeg(), JPEG),
        (docsamples.xlsx(), XLSX),
        (docsamples.docx(), DOCX),
        (docsamples.ofd(), OFD),
        (docsamples.plain_zip(), None),
        (b"PK\x03\x04 not really a zip", None),
        (b"<html><script>alert(1)</script>", None),
        (b"MZ\x90\x00 an executable", None),
        (b" %PDF-1.4 leading space", None),
        (b"%PD", None),
    ],
)
def test_detect_reads_the_type_from_the_bytes(data, expected):
    assert detect(io.BytesIO(data)) == expected


@pytest.mark.parametrize(
    ("declared", "expected"),
    [
        ("application/pdf", PDF),
        ("Application/PDF; charset=binary", PDF),
        ("image/jpg", JPEG),
        ("image/pjpeg", JPEG),
        ("application/octet-stream", None),
        ("", None),
        (None, None),
        ("text/html", "text/html"),
    ],
)
def test_declared_types_are_normalised_and_octet_stream_claims_nothing(declared, expected):
    assert normalise_type(declared) == expected


@pytest.mark.parametrize(
    ("name", "expected"),
    [("a.PDF", "pdf"), ("a.tar.gz", "gz"), ("noext", None), (".bashrc", None), ("trailing.", None)],
)
def test_extension_of(name, expected):
    assert extension_of(name) == expected


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("../../etc/passwd", "passwd"),
        ("..\\..\\windows\\system32\\cmd.exe", "cmd.exe"),
        ("C:\\Users\\张三\\身份证 正面.jpg", "身份证 正面.jpg"),
        ("/absolute/path/scan.pdf", "scan.pdf"),
        ("a\x00b\r\nc.pdf", "abc.pdf"),
        ("invoice\u202egpj.exe", "invoicegpj.exe"),  # right-to-left override removed
        ('what<>:"|?*.pdf', "what_______.pdf"),
        ("...hidden.pdf", "hidden.pdf"),
        ("   ", "document"),
        ("..", "document"),
        (None, "document"),
        ("e\u0301.pdf", "\u00e9.pdf"),  # NFC
    ],
)
def test_filenames_are_sanitised(raw, clean):
    assert sanitise_filename(raw) == clean


def test_long_filenames_keep_their_extension():
    cleaned = sanitise_filename("长" * 500 + ".pdf")
    assert len(cleaned) == 200 and cleaned.endswith(".pdf")


def test_content_disposition_cannot_be_used_to_inject_headers():
    value = content_disposition('evil"\r\nSet-Cookie: a=b; x=".pdf')
    assert "\r" not in value and "\n" not in value
    assert value.startswith("attachment; filename=\"evil_Set-Cookie_ a=b_ x=_.pdf\"; filename*=UTF-8''")
    chinese = content_disposition("身份证.jpg", inline=True)
    assert chinese == "inline; filename=\"___.jpg\"; filename*=UTF-8''%E8%BA%AB%E4%BB%BD%E8%AF%81.jpg"


async def test_receive_hashes_counts_and_spools_to_disk_past_a_megabyte():
    data = docsamples.pdf() + b"\0" * (3 * 1024 * 1024)
    with await receive(docsamples.chunks(data), max_bytes=10 * 1024 * 1024) as received:
        assert received.size == len(data) and received.sha256 == hashlib.sha256(data).hexdigest()
        assert received.file._rolled  # type: ignore[attr-defined]  # on disk, not in memory
        assert received.file.read() == data


async def test_an_oversize_stream_is_stopped_at_the_limit_not_read_to_its_end():
    pulled = 0

    async def two_gigabytes():
        nonlocal pulled
        chunk = b"\0" * (64 * 1024)
        for _ in range(2 * 1024 * 1024 * 1024 // len(chunk)):
            pulled += 1
            yield chunk

    with pytest.raises(TooLarge) as caught:
        await receive(two_gigabytes(), max_bytes=1024 * 1024)
    assert pulled == 17, "reading stops at the first chunk past 1 MiB"
    error = caught.value
    assert (error.status, error.code, error.params) == (
        413,
        "documents.too_large",
        {"limit": 1048576, "limit_mb": "1"},
    )
    assert "1 MB" in error.message("en") and "1 MB" in error.message("zh-CN")


async def test_exactly_the_limit_is_accepted():
    with await receive(b"x" * 1000, max_bytes=1000) as received:
        assert received.size == 1000


@pytest.mark.parametrize("source", [b"", "empty-async"])
async def test_an_empty_upload_is_refused(source):
    async def nothing():
        return
        yield b""

    with pytest.raises(Invalid) as caught:
        await receive(nothing() if source == "empty-async" else source, max_bytes=100)
    assert caught.value.code == "documents.empty" and caught.value.errors[0]["field"] == "file"
