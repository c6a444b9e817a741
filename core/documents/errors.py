"""The refusals of the documents context, each with the HTTP status it maps to.

::

    DomainError (core.errors)
    ├── Invalid                   422  empty file, a declared type or extension that lies, unknown doc type
    ├── Conflict                  409
    │   └── DocumentsMissing          a stage is gated on documents the record does not have yet
    ├── TooLarge                  413  the upload passed the size limit (reading stopped there)
    ├── UnsupportedContent        415  bytes of no accepted type, or a type this doc type does not take
    └── StorageError              503  the store failed (disk, S3 outage, wrong bucket or credentials)
        └── ObjectMissing         500  a document's bytes are gone from the store

``UnsafeKey`` is not a domain error: keys are built by the service, never taken from a request,
so a bad one is a programming error (a ``ValueError``), refused before any I/O.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from core.errors import Conflict, DomainError
from core.i18n import translate

__all__ = [
    "DocumentsMissing",
    "ObjectMissing",
    "StorageError",
    "TooLarge",
    "UnsafeKey",
    "UnsupportedContent",
]


class TooLarge(DomainError):
    """The upload is larger than the limit; nothing past the limit was read (413)."""

    status = 413
    slug = "too-large"


class UnsupportedContent(DomainError):
    """The bytes are of no type we accept, or of one this document type does not take (415)."""

    status = 415
    slug = "unsupported-media-type"


class StorageError(DomainError):
    """The document store failed; the message names the operation, never credentials (503).

    Args:
        code: catalog code, ``documents.storage_failed`` unless a subclass says otherwise.
        operation: ``put``, ``open``, ``delete`` or ``exists``.
        backend: ``local`` or ``s3``.
        reason: a short description of the cause (an error class or errno name).
    """

    status = 503
    slug = "storage-unavailable"

    def __init__(self, code: str = "documents.storage_failed", **params: Any) -> None:
        super().__init__(code, **params)


class ObjectMissing(StorageError):
    """The stored bytes of a key are not there (a purge, or an operator deleted them) (500)."""

    status = 500
    slug = "document-bytes-missing"

    def __init__(self, key: str, backend: str) -> None:
        super().__init__("documents.object_missing", key=key, backend=backend)


class UnsafeKey(ValueError):
    """A storage key that could leave the store's root: ``..``, absolute, backslashes, control bytes."""


class DocumentsMissing(Conflict):
    """A stage needs documents the record does not have yet (409).

    The record is fine; it is not ready for the stage, so this is a conflict with its state, not
    invalid input. ``missing`` names the document type codes; each is also a field error
    (``field: documents``, ``code: documents.missing_type``), so a client can point at them, and
    the detail lists them by their labels in the caller's language.

    Args:
        stage: the stage that was asked for.
        missing: the missing document type codes, in rule order.
    """

    def __init__(self, stage: str, missing: Sequence[str]) -> None:
        super().__init__(
            "documents.missing",
            errors=[
                {"field": "documents", "code": "documents.missing_type", "params": {"doc_type": code}}
                for code in missing
            ],
            stage=stage,
            missing=", ".join(missing),
        )
        self.stage = stage
        self.missing = list(missing)

    def message(self, language: str) -> str:
        """The detail with each missing type by its label in ``language``."""
        separator = "、" if language.startswith("zh") else ", "
        labels = separator.join(translate(f"documents.type.{code}", language) for code in self.missing)
        return translate(self.code, language, stage=self.stage, missing=labels)
