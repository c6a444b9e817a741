"""One call-log row per attempt, with secrets and PII masked before they are kept.

The call log is how an operator answers "what did we send the bureau, what did it answer, how long
did it take, what did it cost". It also holds credit data, so every row is masked on the way in:
configured secret values, credential-like headers, query parameters and JSON keys, and personal
numbers (ID numbers, mobiles, bank cards). Bodies are capped in size.

The hub stores rows through a :class:`CallRecorder` (a database table); :class:`MemoryCallRecorder`
keeps them in a list for tests and the embedded default.
"""

from __future__ import annotations

import json
import logging
import re
import weakref
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, Protocol, runtime_checkable
from urllib.parse import parse_qsl, quote, quote_plus, urlencode, urlsplit, urlunsplit

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

MASK = "***"
DEFAULT_BODY_LIMIT = 8192


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


_SENSITIVE_NAME = re.compile(
    r"authori[sz]ation|cookie|passw(?:or)?d|secret|token|signature|^sign$|api[-_]?key|access[-_]?key"
    r"|private[-_]?key|app[-_]?key|(?:^|[-_])key$|credential",
    re.IGNORECASE,
)
_NOT_SENSITIVE = frozenset({"idempotency-key", "idempotency_key"})


def is_sensitive_name(name: str) -> bool:
    """Whether a header, parameter or JSON key named ``name`` carries a credential."""
    return name.lower() not in _NOT_SENSITIVE and _SENSITIVE_NAME.search(name) is not None


def mask_headers(headers: Mapping[str, str] | Iterable[tuple[str, str]]) -> dict[str, str]:
    """Headers safe to log: credential-like ones (Authorization, Cookie, *token*, …) become ``***``."""
    items = headers.items() if isinstance(headers, Mapping) else headers
    return {k: (MASK if is_sensitive_name(k) else v) for k, v in items}


def mask_secrets(text: str, secrets: Iterable[str]) -> str:
    """Replace every occurrence of a configured secret value (raw or URL-encoded) by ``***``."""
    for secret in secrets:
        if secret and secret in text:
            text = text.replace(secret, MASK)
        for encoded in (quote(secret, safe=""), quote_plus(secret)):
            if encoded != secret and encoded in text:
                text = text.replace(encoded, MASK)
    return text


# Personal numbers. An 18-digit resident ID (with a plausible birth date and an X check
# character), the older 15-digit form, a mainland mobile, and 16–19 digit bank card numbers
# (masked only when they pass the Luhn check, so order numbers survive).
_ID18 = r"\d{6}(?:18|19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}[\dXx]"
_ID15 = r"\d{8}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}"
_MOBILE = r"1[3-9]\d{9}"
_CARD = r"\d{16,19}"
_PII = re.compile(
    rf"(?<![\dA-Za-z])(?:(?P<id18>{_ID18})|(?P<card>{_CARD})|(?P<id15>{_ID15})|(?P<mobile>{_MOBILE}))(?![\dA-Za-z])"
)
_LONG_DIGITS = re.compile(r"\d{11}")


def _luhn_ok(number: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(number)):
        d = ord(ch) - 48
        if i % 2:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def _keep_ends(value: str) -> str:
    return value[:3] + "*" * (len(value) - 7) + value[-4:]


def _mask_match(match: re.Match[str]) -> str:
    value = match.group(0)
    if match.lastgroup == "card" and not _luhn_ok(value):
        # An 18-digit run may still be a resident ID that the stricter pattern rejected; a
        # non-Luhn 16–19 digit run is most likely an order or contract number and is kept.
        return value
    return _keep_ends(value)


def mask_pii(text: str) -> str:
    """Mask Chinese ID numbers, mainland mobiles and bank cards, keeping the first 3 and last 4."""
    if _LONG_DIGITS.search(text) is None:
        return text  # the cheap common case: nothing long enough to be a personal number
    return _PII.sub(_mask_match, text)


def _mask_json_keys(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            k: (MASK if isinstance(k, str) and is_sensitive_name(k) and v is not None else _mask_json_keys(v))
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_mask_json_keys(v) for v in value]
    return value


def _has_sensitive_key(text: str) -> bool:
    return _SENSITIVE_NAME.search(text) is not None


class Masker:
    """Masks URLs and bodies for one connector instance, knowing its secret values.

    Args:
        secrets: the plain values of the instance's secret config fields.
        body_limit: bodies longer than this many characters (after masking) are truncated.
    """

    def __init__(self, secrets: Iterable[str] = (), *, body_limit: int = DEFAULT_BODY_LIMIT) -> None:
        # Longest first, so a secret containing another is replaced whole.
        self.secrets = tuple(sorted({s for s in secrets if s}, key=len, reverse=True))
        # Raw and URL-encoded forms, computed once: masking runs on every attempt's hot path.
        variants = {v for s in self.secrets for v in (s, quote(s, safe=""), quote_plus(s))}
        self._variants = tuple(sorted(variants, key=len, reverse=True))
        self.body_limit = body_limit
        self._url_cache: dict[str, str] = {}

    def text(self, text: str) -> str:
        """Mask secrets and PII in free text (error messages, log lines)."""
        for variant in self._variants:
            if variant in text:
                text = text.replace(variant, MASK)
        return mask_pii(text)

    def url(self, url: str) -> str:
        """Mask credential-like query parameters, secrets and PII in a URL."""
        cached = self._url_cache.get(url)
        if cached is not None:
            return cached
        parts = urlsplit(url)
        query = parts.query
        if query and _has_sensitive_key(query):
            pairs = parse_qsl(query, keep_blank_values=True)
            query = urlencode([(k, MASK if is_sensitive_name(k) else v) for k, v in pairs], safe="*")
        masked = self.text(urlunsplit(parts._replace(query=query)))
        if len(self._url_cache) < 1024:
            self._url_cache[url] = masked
        return masked

    def body(self, raw: bytes | str | None, content_type: str = "") -> str | None:
        """Mask and truncate a request or response body; binary bodies become a size note."""
        if not raw:
            return None
        if isinstance(raw, bytes):
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError:
                return f"<binary body: {len(raw)} bytes, {content_type or 'unknown type'}>"
        else:
            text = raw
        if _has_sensitive_key(text):
            text = self._mask_keys(text, content_type)
        text = self.text(text)
        if len(text) > self.body_limit:
            text = f"{text[: self.body_limit]}…[truncated {len(text) - self.body_limit} chars]"
        return text

    @staticmethod
    def _mask_keys(text: str, content_type: str) -> str:
        stripped = text.lstrip()
        if stripped[:1] in ("{", "["):
            try:
                return json.dumps(_mask_json_keys(json.loads(text)), ensure_ascii=False)
            except ValueError:
                return text
        if "x-www-form-urlencoded" in content_type:
            pairs = parse_qsl(text, keep_blank_values=True)
            return urlencode([(k, MASK if is_sensitive_name(k) else v) for k, v in pairs], safe="*")
        return text


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
