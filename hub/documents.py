"""Wiring of the documents context: the document store and upload limits from the settings.

Routes and commands call ``make_storage(settings)`` once (the app keeps it on its state) and
``upload_limits(settings)`` for ``core.documents.service.upload``. S3 is used when
``LENDHUB_DOCUMENTS_S3_URL`` is set; its client is the ``s3`` extra, imported only then, and its
absence stops start-up with the command that installs it.
"""

from __future__ import annotations

from core.documents import LocalStorage, Storage, UploadLimits

from .settings import Settings, SettingsError

__all__ = ["make_storage", "upload_limits"]


def make_storage(settings: Settings) -> Storage:
    """The configured document store: S3 when its URL is set, else the local directory."""
    if not settings.documents_s3_url:
        return LocalStorage(settings.documents_dir)
    try:
        from core.documents.s3 import S3Storage
    except ImportError as exc:  # pragma: no cover - the test extra installs it
        raise SettingsError(
            f"LENDHUB_DOCUMENTS_S3_URL is set but the S3 client is not installed ({exc.name}): "
            "pip install 'lendhub[s3]'"
        ) from None
    access = settings.documents_s3_access_key
    secret = settings.documents_s3_secret_key
    return S3Storage(
        endpoint=settings.documents_s3_url,
        bucket=settings.documents_s3_bucket or "",
        access_key=access.get_secret_value() if access else None,
        secret_key=secret.get_secret_value() if secret else None,
        region=settings.documents_s3_region,
        prefix=settings.documents_s3_prefix,
        timeout=settings.documents_s3_timeout_seconds,
        virtual_hosted=settings.documents_s3_virtual_hosted,
    )


def upload_limits(settings: Settings) -> UploadLimits:
    """The upload limits for ``core.documents.service.upload``."""
    return UploadLimits(max_bytes=settings.documents_max_bytes)
