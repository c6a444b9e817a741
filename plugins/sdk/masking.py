"""Masking of secrets, sessions and personal data in what the SDK records and logs.

What is masked, and how it is recognised:

* configured secret values (raw and URL-encoded) wherever they appear;
* headers, query parameters, form fields and JSON keys whose names look like credentials or
  sessions (:func:`is_sensitive_name`: ``authorization``, ``cookie``, ``*token*``, ``*secret*``,
  ``password``, ``signature``, ``*session*``, ``*ticket*``, ``*key`` …), whatever the connector;
* names a connector declares (``HttpConnector.sensitive_fields`` / ``sensitive_headers``): names,
  addresses, search keywords and custom credential headers no pattern can recognise;
* the values one call sends under any of those names, wherever that call's record repeats them;
* personal numbers by pattern (:func:`mask_pii`): resident IDs, mainland mobiles, Luhn-valid cards.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any
from urllib.parse import parse_qsl, quote, quote_plus, urlencode, urlsplit, urlunsplit

__all__ = [
    "DEFAULT_BODY_LIMIT",
    "MASK",
    "Masker",
    "declared_patterns",
    "declared_sensitive",
    "is_sensitive_name",
    "mask_headers",
    "mask_pii",
    "mask_secrets",
]

MASK = "***"
DEFAULT_BODY_LIMIT = 8192


_SENSITIVE_NAME = re.compile(
    r"authori[sz]ation|cookie|passw(?:or)?d|secret|token|signature|^sign$|api[-_]?key|access[-_]?key"
    r"|private[-_]?key|app[-_]?key|(?:^|[-_])key$|credential|session|ticket",
    re.IGNORECASE,
)
_NOT_SENSITIVE = ("idempotency-key", "idempotency_key")


def is_sensitive_name(name: str) -> bool:
    """Whether a header, parameter or JSON key named ``name`` carries a credential or session."""
    return not name.lower().endswith(_NOT_SENSITIVE) and _SENSITIVE_NAME.search(name) is not None


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


def _mask_json_keys(value: Any, sensitive: Callable[[str], bool]) -> Any:
    if isinstance(value, dict):
        return {
            k: (
                MASK
                if isinstance(k, str) and sensitive(k) and v is not None
                else _mask_json_keys(v, sensitive)
            )
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_mask_json_keys(v, sensitive) for v in value]
    if isinstance(value, str) and value[:1] in ("{", "["):
        # JSON carried inside a JSON string (百行's report sections): mask it too.
        try:
            inner = json.loads(value)
        except ValueError:
            return value
        return json.dumps(_mask_json_keys(inner, sensitive), ensure_ascii=False)
    return value


def _variants(value: str) -> set[str]:
    """A value as it may appear in a record: raw, URL-encoded, JSON-escaped."""
    return {value, quote(value, safe=""), quote_plus(value), json.dumps(value)[1:-1]}


def _walk_values(value: Any, sensitive: Callable[[str], bool], found: set[str], hit: bool = False) -> None:
    if isinstance(value, dict):
        for k, v in value.items():
            _walk_values(v, sensitive, found, hit or (isinstance(k, str) and sensitive(k)))
    elif isinstance(value, list | tuple):
        for v in value:
            _walk_values(v, sensitive, found, hit)
    elif hit and isinstance(value, str | int) and not isinstance(value, bool):
        found.add(str(value))


class Masker:
    """Masks URLs, bodies and headers for one connector instance, knowing its secret values.

    Args:
        secrets: the plain values of the instance's secret config fields.
        fields: JSON keys (at any depth), form fields and query parameters the connector declares
            sensitive, beyond the credential-like names masked anyway; matched case-insensitively.
        headers: header names the connector declares sensitive, beyond the credential-like ones.
        patterns: regular expressions whose matches are masked everywhere, for personal data the
            built-in patterns (resident ID, mobile, bank card) do not know.
        body_limit: bodies longer than this many characters (after masking) are truncated.
    """

    def __init__(
        self,
        secrets: Iterable[str] = (),
        *,
        fields: Iterable[str] = (),
        headers: Iterable[str] = (),
        patterns: Iterable[str | re.Pattern[str]] = (),
        body_limit: int = DEFAULT_BODY_LIMIT,
    ) -> None:
        self.patterns = tuple(re.compile(p) for p in patterns)  # a compiled pattern comes back as is
        self.secrets = frozenset(s for s in secrets if s)
        # Raw and URL-encoded forms, computed once: masking runs on every attempt's hot path. Longest
        # first, so a secret containing another is replaced whole.
        variants = {v for s in self.secrets for v in (s, quote(s, safe=""), quote_plus(s))}
        self._variants = tuple(sorted(variants, key=len, reverse=True))
        self.fields = frozenset(f.lower() for f in fields)
        self.header_names = frozenset(h.lower() for h in headers)
        self._header_verdicts: dict[str, bool] = {}
        self._field_verdicts: dict[str, bool] = {}
        self._key_hint = _SENSITIVE_NAME
        self._declared_in_text: tuple[re.Pattern[str], ...] = ()
        if self.fields:
            # Each name is followed by a quote or "=" in the patterns, so the alternation needs no
            # longest-first order; sorted only to make the pattern the same every run.
            names = "|".join(sorted(map(re.escape, self.fields)))
            self._key_hint = re.compile(f"{_SENSITIVE_NAME.pattern}|{names}", re.IGNORECASE)
            # Fallbacks for text that is not JSON (truncated, or JSON inside a JSON string) and for
            # URLs inside free text (httpx's request log line).
            self._declared_in_text = (
                re.compile(rf'(\\"(?:{names})\\"\s*:\s*\\")(?:[^"\\]|\\[^"])*(\\"|$)', re.IGNORECASE),
                re.compile(rf'("(?:{names})"\s*:\s*")(?:[^"\\]|\\.)*("|$)', re.IGNORECASE),
                re.compile(rf"([?&;](?:{names})=)[^&\s\"'#]*()", re.IGNORECASE),
            )
        self.body_limit = body_limit
        self._url_cache: dict[str, str] = {}

    def is_sensitive(self, name: str) -> bool:
        """Whether a JSON key, form field or query parameter named ``name`` is masked (cached)."""
        verdict = self._field_verdicts.get(name)
        if verdict is None:
            verdict = name.lower() in self.fields or is_sensitive_name(name)
            if len(self._field_verdicts) < 1024:
                self._field_verdicts[name] = verdict
        return verdict

    def is_sensitive_header(self, name: str) -> bool:
        """Whether a header named ``name`` is masked (verdicts cached: few names, every call)."""
        verdict = self._header_verdicts.get(name)
        if verdict is None:
            verdict = name.lower() in self.header_names or is_sensitive_name(name)
            if len(self._header_verdicts) < 256:
                self._header_verdicts[name] = verdict
        return verdict

    def headers(self, headers: Mapping[str, str] | Iterable[tuple[str, str]]) -> dict[str, str]:
        """Headers safe to log: credential-like and declared ones become ``***``."""
        items = headers.items() if isinstance(headers, Mapping) else headers
        return {k: (MASK if self.is_sensitive_header(k) else v) for k, v in items}

    def call_values(
        self, headers: Iterable[tuple[str, str]], params: Mapping[str, Any] | None, body: Any
    ) -> tuple[str, ...]:
        """Values one call sends in sensitive headers, parameters and JSON fields.

        They are masked wherever that call's record repeats them: a token a connector fetched at
        run time (not a config secret) echoed in an error, a name searched for inside a title.
        Values shorter than two characters are ignored, or every digit would go.
        """
        found: set[str] = set()
        for name, value in headers:
            if self.is_sensitive_header(name):
                found.add(value)
                found.add(value.partition(" ")[2])  # "Bearer <token>", "Basic <credentials>"
                if name.lower() == "cookie":
                    found.update(part.partition("=")[2].strip() for part in value.split(";"))
        if params:
            _walk_values(dict(params), self.is_sensitive, found)
        if body is not None:
            _walk_values(body, self.is_sensitive, found)
        # Config secrets are masked anyway (and are the usual header values): skip them, so the
        # common call pays for no encoding at all.
        found.difference_update(self.secrets)
        values = {v for value in found if len(value.strip()) >= 2 for v in _variants(value)}
        if not values:
            return ()
        return tuple(sorted(values, key=len, reverse=True))

    def merge_values(self, values: tuple[str, ...], extra: Iterable[str]) -> tuple[str, ...]:
        """``values`` plus the variants of ``extra`` (a token fetched at run time), longest first."""
        more = {v for value in extra if len(value.strip()) >= 2 for v in _variants(value)}
        if not more:
            return values
        return tuple(sorted(more.union(values), key=len, reverse=True))

    def text(self, text: str, values: tuple[str, ...] = ()) -> str:
        """Mask secrets, ``values`` (from :meth:`call_values`), declared parameters and PII."""
        for variant in (*self._variants, *values) if values else self._variants:
            if variant in text:
                text = text.replace(variant, MASK)
        if self._declared_in_text:
            text = self._declared_in_text[2].sub(rf"\g<1>{MASK}\g<2>", text)
        for pattern in self.patterns:
            text = pattern.sub(MASK, text)
        return mask_pii(text)

    def url(self, url: str, values: tuple[str, ...] = ()) -> str:
        """Mask credential-like and declared query parameters, secrets, ``values`` and PII."""
        masked = self._url_cache.get(url)
        if masked is None:
            parts = urlsplit(url)
            query = parts.query
            if query and self._key_hint.search(query):
                pairs = parse_qsl(query, keep_blank_values=True)
                query = urlencode([(k, MASK if self.is_sensitive(k) else v) for k, v in pairs], safe="*")
            masked = self.text(urlunsplit(parts._replace(query=query)))
            if len(self._url_cache) < 1024:
                self._url_cache[url] = masked
        return self.text(masked, values) if values else masked

    def body(
        self, raw: bytes | str | None, content_type: str = "", values: tuple[str, ...] = ()
    ) -> str | None:
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
        if self._key_hint.search(text):
            text = self._mask_keys(text, content_type)
        text = self.text(text, values)
        if len(text) > self.body_limit:
            text = f"{text[: self.body_limit]}…[truncated {len(text) - self.body_limit} chars]"
        return text

    def _mask_keys(self, text: str, content_type: str) -> str:
        stripped = text.lstrip()
        if stripped[:1] in ("{", "["):
            try:
                return json.dumps(_mask_json_keys(json.loads(text), self.is_sensitive), ensure_ascii=False)
            except ValueError:
                pass
        elif "x-www-form-urlencoded" in content_type:
            pairs = parse_qsl(text, keep_blank_values=True)
            return urlencode([(k, MASK if self.is_sensitive(k) else v) for k, v in pairs], safe="*")
        for pattern in self._declared_in_text[:2]:
            text = pattern.sub(rf"\g<1>{MASK}\g<2>", text)
        return text


def declared_patterns(cls: type) -> tuple[str, ...]:
    """``sensitive_patterns`` declared by ``cls`` and all its bases (a subclass adds to them)."""
    found: dict[str, None] = {}
    for klass in cls.__mro__:
        found.update(dict.fromkeys(vars(klass).get("sensitive_patterns", ())))
    return tuple(found)


def declared_sensitive(cls: type) -> tuple[frozenset[str], frozenset[str]]:
    """``sensitive_fields`` and ``sensitive_headers`` declared by ``cls`` and all its bases.

    A union over the MRO, so a subclass adds to what its bases declare rather than replacing it.
    """
    fields: set[str] = set()
    headers: set[str] = set()
    for klass in cls.__mro__:
        fields.update(vars(klass).get("sensitive_fields", ()))
        headers.update(vars(klass).get("sensitive_headers", ()))
    return frozenset(fields), frozenset(headers)
