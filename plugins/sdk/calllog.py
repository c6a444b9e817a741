"""One call-log row per attempt, masked before it is kept.

The call log is how an operator answers "what did we send the bureau, what did it answer, how long
did it take, what did it cost". It also holds credit data, so every row is masked on the way in by
the instance's :class:`~plugins.sdk.masking.Masker` (secrets, sessions, declared personal fields,
personal numbers; see :mod:`plugins.sdk.masking`). Bodies are capped in size.

The hub stores rows through a :class:`CallRecorder` (a database table); :class:`MemoryCallRecorder`
keeps them in a list for tests and the embedded default. :class:`SecretLogFilter` masks the same
things in other libraries' log lines.
"""

from __future__ import annotations

import logging
import re
import weakref
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Protocol, runtime_checkable

from .masking import (
    DEFAULT_BODY_LIMIT,
    MASK,
    Masker,
    is_sensitive_name,
    mask_headers,
    mask_pii,
    mask_secrets,
)

__all__ = [
    "DEFAULT_BODY_LIMIT",
    "CallRecord",
    "CallRecorder",
    "Masker",
    "MemoryCallRecorder",
    "SecretLogFilter",
    "install_log_filter",
    "is_sensitive_name",
    "mask_headers",
    "mask_pii",
    "mask_secrets",
]


@dataclass(frozen=True, slots=True)
class CallRecord:
    """One attempt of one outbound call, already masked.

    Args:
        connector: the connector slug.
        instance: the connector instance name.
        operation: what the connector was doing (``fetch_report``).
        attempt: 1-based attempt number within the call.
        method: HTTP method.
        url: full URL, credential-like query parameters masked.
        status_code: HTTP status, ``None`` when no answer came (timeout, refused locally).
        latency_ms: time from send to answer (or failure).
        error_class: the ConnectorError class name, ``None`` on success.
        idempotency_key: the key sent with a write, if any.
        cost_units: what the attempt costs (``Decimal``, lender's currency).
        request_body: masked and truncated.
        response_body: masked and truncated.
        started_at: when the attempt started, UTC.
    """

    connector: str
    instance: str
    operation: str
    attempt: int
    method: str
    url: str
    status_code: int | None
    latency_ms: float
    error_class: str | None
    idempotency_key: str | None
    cost_units: Decimal
    request_body: str | None
    response_body: str | None
    started_at: datetime


@runtime_checkable
class CallRecorder(Protocol):
    """Where call-log rows go; implementations must be safe to call concurrently."""

    async def record(self, record: CallRecord) -> None:
        """Store one row. Failures are logged by the caller and never fail the call."""
        ...


class MemoryCallRecorder:
    """Keeps rows in a list, for tests and the embedded default.

    Args:
        limit: keep at most this many recent rows so a long-running process does not grow forever.
    """

    def __init__(self, limit: int | None = 10_000) -> None:
        self.records: list[CallRecord] = []
        self.limit = limit

    async def record(self, record: CallRecord) -> None:
        """Append the row, dropping the oldest beyond ``limit``."""
        self.records.append(record)
        if self.limit is not None and len(self.records) > self.limit:
            del self.records[: len(self.records) - self.limit]


_SENSITIVE_PARAM = re.compile(
    r"(?P<name>[?&;][^=&\s\"']*(?:key|token|secret|sign|passw|auth|credential)[^=&\s\"']*=)[^&\s\"']*",
    re.IGNORECASE,
)


class SecretLogFilter(logging.Filter):
    """Masks secrets, credential-like query parameters and PII in other libraries' log lines.

    httpx logs every request URL at INFO, query string included, so a vendor that takes its key as
    a query parameter would leak it to the log. The SDK attaches one instance to the ``httpx`` and
    ``httpcore`` loggers; every :class:`Masker` registers with it so the secret values of every
    live connector instance are known.
    """

    def __init__(self) -> None:
        super().__init__()
        self.maskers: weakref.WeakSet[Masker] = weakref.WeakSet()

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the record's message with secrets masked; never drops a record."""
        try:
            message = record.getMessage()
        except Exception:  # a malformed record is the logging module's business, not ours
            return True
        masked = _SENSITIVE_PARAM.sub(lambda m: m.group("name") + MASK, message)
        for masker in list(self.maskers):
            masked = masker.text(masked)
        if masked is not message and masked != message:
            record.msg = masked
            record.args = None
        return True


_LOG_FILTER = SecretLogFilter()


def install_log_filter(masker: Masker) -> None:
    """Register ``masker``'s secrets with the filter on the HTTP libraries' loggers (idempotent)."""
    _LOG_FILTER.maskers.add(masker)
    for name in ("httpx", "httpcore"):
        target = logging.getLogger(name)
        if _LOG_FILTER not in target.filters:
            target.addFilter(_LOG_FILTER)
