"""The tamper-evident audit trail: append-only, hash-chained, verifiable."""

from .chain import ChainBreak, verify_chain
from .models import AuditEntry, AuditHead
from .service import AuditQuery, batched, changed_fields, query_audit, record

__all__ = [
    "AuditEntry",
    "AuditHead",
    "AuditQuery",
    "ChainBreak",
    "batched",
    "changed_fields",
    "query_audit",
    "record",
    "verify_chain",
]
