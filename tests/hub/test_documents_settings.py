"""Document store settings: validated like every setting, and the factory picks the store they name."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.documents import LocalStorage
from core.documents.s3 import S3Storage
from hub.documents import make_storage, upload_limits
from hub.settings import SettingsError, load_settings


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch):
    for name in ("DIR", "MAX_BYTES", "S3_URL", "S3_BUCKET", "S3_ACCESS_KEY", "S3_SECRET_KEY", "S3_PREFIX"):
        monkeypatch.delenv(f"LENDHUB_DOCUMENTS_{name}", raising=False)
    monkeypatch.chdir("/")  # no stray .env


def test_defaults_are_a_local_directory_and_20_mib():
    settings = load_settings()
    store = make_storage(settings)
    assert isinstance(store, LocalStorage) and store.root == Path("var/documents")
    assert upload_limits(settings).max_bytes == 20 * 1024 * 1024


def test_environment_selects_s3(monkeypatch):
    monkeypatch.setenv("LENDHUB_DOCUMENTS_S3_URL", "https://oss.example.cn/")
    monkeypatch.setenv("LENDHUB_DOCUMENTS_S3_BUCKET", "lendhub-docs")
    monkeypatch.setenv("LENDHUB_DOCUMENTS_S3_ACCESS_KEY", "AKID")
    monkeypatch.setenv("LENDHUB_DOCUMENTS_S3_SECRET_KEY", "very-secret")
    monkeypatch.setenv("LENDHUB_DOCUMENTS_S3_PREFIX", "prod/")
    monkeypatch.setenv("LENDHUB_DOCUMENTS_MAX_BYTES", "1048576")
    settings = load_settings()
    store = make_storage(settings)
    assert isinstance(store, S3Storage)
    assert (store.endpoint, store.bucket, store.prefix) == ("https://oss.example.cn", "lendhub-docs", "prod/")
    assert "very-secret" not in repr(store)
    assert upload_limits(settings).max_bytes == 1048576


@pytest.mark.parametrize(
    ("values", "variable"),
    [
        ({"documents_s3_url": "ftp://host"}, "LENDHUB_DOCUMENTS_S3_URL"),
        (
            {"documents_s3_url": "https://host/bucket", "documents_s3_bucket": "b12"},
            "LENDHUB_DOCUMENTS_S3_URL",
        ),
        (
            {"documents_s3_url": "https://host", "documents_s3_bucket": "Bad_Bucket"},
            "LENDHUB_DOCUMENTS_S3_BUCKET",
        ),
        ({"documents_s3_url": "https://host", "documents_s3_bucket": "a..b"}, "LENDHUB_DOCUMENTS_S3_BUCKET"),
        (
            {
                "documents_s3_url": "https://host",
                "documents_s3_bucket": "ok-bucket",
                "documents_s3_prefix": "../x",
            },
            "LENDHUB_DOCUMENTS_S3_PREFIX",
        ),
        ({"documents_max_bytes": 0}, "LENDHUB_DOCUMENTS_MAX_BYTES"),
        ({"documents_max_bytes": "lots"}, "LENDHUB_DOCUMENTS_MAX_BYTES"),
    ],
)
def test_bad_values_name_the_variable(values, variable):
    with pytest.raises(SettingsError) as caught:
        load_settings(**values)
    assert variable in str(caught.value)


@pytest.mark.parametrize(
    ("values", "needs"),
    [
        ({"documents_s3_url": "https://host"}, "LENDHUB_DOCUMENTS_S3_BUCKET"),
        ({"documents_s3_access_key": "AKID"}, "LENDHUB_DOCUMENTS_S3_SECRET_KEY"),
    ],
)
def test_incomplete_s3_settings_say_what_is_missing(values, needs):
    with pytest.raises(SettingsError, match=needs):
        load_settings(**values)


def test_a_password_in_a_url_is_not_echoed():
    with pytest.raises(SettingsError) as caught:
        load_settings(documents_s3_url="https://user:hunter2@host", documents_s3_bucket="docs")
    assert "hunter2" not in str(caught.value) and "LENDHUB_DOCUMENTS_S3_URL" in str(caught.value)
