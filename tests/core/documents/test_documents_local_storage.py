"""``LocalStorage`` beyond the contract: symlink escapes, atomic replacement, no temporary leftovers."""

from __future__ import annotations

import os

import pytest

from core.documents import LocalStorage, ObjectMissing, StorageError, UnsafeKey


@pytest.fixture
def root(tmp_path):
    path = tmp_path / "documents"
    path.mkdir()
    return path


async def test_a_symlinked_directory_pointing_outside_the_root_is_refused(root, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret").write_bytes(b"not yours")
    (root / "customer").symlink_to(outside)
    store = LocalStorage(root)
    with pytest.raises(UnsafeKey, match="outside the document root"):
        await store.put("customer/new", b"x")
    with pytest.raises(UnsafeKey):
        await store.open("customer/secret")
    with pytest.raises(UnsafeKey):
        await store.delete("customer/secret")
    assert sorted(os.listdir(outside)) == ["secret"]
    assert (outside / "secret").read_bytes() == b"not yours"


async def test_a_symlink_planted_at_a_key_is_never_followed(root, tmp_path):
    target = tmp_path / "passwd"
    target.write_bytes(b"root:x:0:0")
    (root / "a").mkdir()
    (root / "a" / "out").symlink_to(target)
    (root / "a" / "inner").symlink_to(root / "a" / "real")
    (root / "a" / "real").write_bytes(b"real")
    store = LocalStorage(root)
    with pytest.raises(UnsafeKey):
        await store.open("a/out")
    # A link that stays inside the root is still not followed on read (O_NOFOLLOW) ...
    with pytest.raises(StorageError) as caught:
        await store.open("a/inner")
    assert caught.value.params["reason"] == "ELOOP"
    assert not await store.exists("a/inner")
    # ... and a put replaces the link itself, leaving its target alone.
    await store.put("a/inner", b"new")
    assert not (root / "a" / "inner").is_symlink()
    assert (root / "a" / "real").read_bytes() == b"real"
    assert target.read_bytes() == b"root:x:0:0"


async def test_failed_and_successful_writes_leave_no_temporary_files(root):
    store = LocalStorage(root)

    async def broken():
        yield b"partial"
        raise RuntimeError("stream broke")

    await store.put("c/one", b"1")
    with pytest.raises(RuntimeError):
        await store.put("c/one", broken())
    assert sorted(os.listdir(root / "c")) == ["one"]
    assert (root / "c" / "one").read_bytes() == b"1"


async def test_a_directory_at_the_key_is_not_an_object(root):
    (root / "dir").mkdir()
    store = LocalStorage(root)
    assert not await store.exists("dir")
    with pytest.raises(StorageError):
        await store.open("dir")


async def test_a_root_that_cannot_be_a_directory_is_a_storage_error_naming_the_cause(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_bytes(b"")
    store = LocalStorage(blocker)
    with pytest.raises(StorageError) as caught:
        await store.put("a/b", b"x")
    assert caught.value.status == 503
    assert caught.value.params["operation"] == "put" and caught.value.params["backend"] == "local"
    assert caught.value.params["reason"] in {"EEXIST", "ENOTDIR"}
    with pytest.raises(StorageError) as caught:  # a broken root, not a missing document
        await store.open("a/b")
    assert not isinstance(caught.value, ObjectMissing) and caught.value.params["reason"] == "ENOTDIR"


async def test_files_are_private_to_the_service_user(tmp_path):
    store = LocalStorage(tmp_path / "fresh")
    await store.put("customer/c1/d1", b"x")
    assert (tmp_path / "fresh").stat().st_mode & 0o077 == 0
    assert (tmp_path / "fresh" / "customer" / "c1" / "d1").stat().st_mode & 0o077 == 0
