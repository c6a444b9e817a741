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
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Protocol, runtime_checkable

import httpx

from core.integrations.errors import ConnectorError

from .masking import (
    DEFAULT_BODY_LIMIT,
    MASK,
    Masker,
    is_sensitive_name,
    mask_headers,
    mask_pii,
    mask_secrets,
)

if TYPE_CHECKING:
    from .auth import Authenticator

__all__ = [
    "DEFAULT_BODY_LIMIT",
    "CallRecord",
    "CallRecorder",
    "Masker",
    "MemoryCallRecorder",
    "PendingCall",
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


_ZERO = Decimal(0)


@dataclass(slots=True)
class PendingCall:
    """What every attempt of one ``HttpConnector`` call shares; masked once per call, not per row.

    The masked URL and request body are computed on the first row and reused, unless new
    credentials were applied (``url`` reset to ``""``), because masking is on every attempt's path.
    """

    request: httpx.Request
    operation: str
    method: str
    idempotency_key: str | None
    cost: Decimal
    deadline: float
    expect_json: bool
    values: tuple[str, ...] = ()
    url: str = ""
    request_body: str | None = None
    auth: Authenticator | None = None
    fresh: bool = False  # credentials applied for the next attempt already
    offset: int = 0  # attempts before a resend with refreshed credentials, for numbering
    last: int = 0  # number of the latest attempt
    response: httpx.Response | None = None

    def row(
        self,
        masker: Masker,
        *,
        connector: str,
        instance: str,
        attempt: int,
        response: httpx.Response | None,
        latency_ms: float,
        error: ConnectorError | None,
        started: float,
        sent: bool,
    ) -> CallRecord:
        """The masked call-log row of one attempt; ``sent=False`` rows cost nothing."""
        if not self.url:
            request = self.request
            self.url = masker.url(str(request.url), self.values)
            self.request_body = masker.body(
                request.content, request.headers.get("content-type", ""), self.values
            )
        response_body = None
        if response is not None:
            response_body = masker.body(
                response.content, response.headers.get("content-type", ""), self.values
            )
        return CallRecord(
            connector=connector,
            instance=instance,
            operation=self.operation,
            attempt=attempt,
            method=self.method,
            url=self.url,
            status_code=response.status_code if response is not None else None,
            latency_ms=latency_ms,
            error_class=error.error_class if error is not None else None,
            idempotency_key=self.idempotency_key,
            cost_units=self.cost if sent else _ZERO,
            request_body=self.request_body,
            response_body=response_body,
            started_at=datetime.fromtimestamp(started, UTC),
        )


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
