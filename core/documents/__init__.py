"""Documents: uploaded files of customers and applications, checked, stored, gated.

``service`` uploads (content-checked, deduplicated, audited), lists, downloads and deletes;
``storage`` is the port the bytes go through (``LocalStorage`` here; ``s3.S3Storage`` in the
``s3`` extra, imported only when configured); ``doctypes`` the document types as data; ``gates``
the required-before-stage rules; ``errors`` the refusals with their HTTP statuses.
"""

from .content import content_disposition, sanitise_filename
from .doctypes import DEFAULT_DOCUMENT_TYPES, DocumentType, DocumentTypes
from .errors import DocumentsMissing, ObjectMissing, StorageError, TooLarge, UnsafeKey, UnsupportedContent
from .gates import DEFAULT_REQUIRED, RequiredDocuments, missing_for, require_documents, rules_from_data
from .models import OWNER_KINDS, Document
from .service import Download, Uploaded, UploadLimits
from .storage import LocalStorage, ReadStream, Storage, StoredObject, validate_key

__all__ = [
    "DEFAULT_DOCUMENT_TYPES",
    "DEFAULT_REQUIRED",
    "OWNER_KINDS",
    "Document",
    "DocumentType",
    "DocumentTypes",
    "DocumentsMissing",
    "Download",
    "LocalStorage",
    "ObjectMissing",
    "ReadStream",
    "RequiredDocuments",
    "Storage",
    "StorageError",
    "StoredObject",
    "TooLarge",
    "UnsafeKey",
    "UnsupportedContent",
    "UploadLimits",
    "Uploaded",
    "content_disposition",
    "missing_for",
    "require_documents",
    "rules_from_data",
    "sanitise_filename",
    "validate_key",
]
