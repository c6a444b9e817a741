"""The domain's refusals: a stable code, an HTTP status, and the values its message needs.

Every bounded context raises these (or subclasses) instead of building HTTP answers; the hub maps
them to problem+json once, with the message looked up in the caller's language from the catalog
(``core.i18n``). The code is what clients and tests match on; the text is for people.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from core.i18n import translate

__all__ = [
    "Conflict",
    "DomainError",
    "Forbidden",
    "Invalid",
    "NotFound",
    "TooManyRequests",
    "Unauthenticated",
]

#: Members of a problem body the hub writes itself; ``members`` cannot replace them.
_RESERVED = frozenset({"type", "title", "status", "detail", "instance", "code", "errors"})


class DomainError(Exception):
    """A refusal with a message code from the catalog.

    Args:
        code: catalog key, e.g. ``access.unknown_role``; also the problem's ``code`` member.
        params: values the message is formatted with (never secrets or clear PII).
        errors: per-field problems for 422s, ``[{"field": "id_number", "code": ..., "params": {...}}]``
            (or ``"loc"`` as a path); the hub adds each message in the caller's language.
        members: further machine-readable members of the problem body, for clients that act on
            the refusal rather than show it (``allowed`` next states, ``unmet`` gates); JSON-ready
            values, never secrets or clear PII. ``code`` and ``errors`` cannot be overridden.
    """

    status = 400
    slug = "domain-error"

    def __init__(
        self,
        code: str,
        *,
        errors: list[dict[str, Any]] | None = None,
        members: Mapping[str, Any] | None = None,
        **params: Any,
    ) -> None:
        super().__init__(translate(code, "en", **params))
        self.code = code
        self.params = params
        self.errors = errors or []
        self.members = {k: v for k, v in (members or {}).items() if k not in _RESERVED}

    def message(self, language: str) -> str:
        """The message in ``language``."""
        return translate(self.code, language, **self.params)


class Invalid(DomainError):
    """The input breaks a rule (422)."""

    status = 422
    slug = "invalid"


class NotFound(DomainError):
    """No such thing — or not one the caller may see, which looks the same (404)."""

    status = 404
    slug = "not-found"


class Conflict(DomainError):
    """It exists already, or is in a state that does not allow this (409)."""

    status = 409
    slug = "conflict"


class Unauthenticated(DomainError):
    """No credentials, or none that can be trusted (401)."""

    status = 401
    slug = "unauthenticated"


class Forbidden(DomainError):
    """Authenticated, but not permitted (403)."""

    status = 403
    slug = "forbidden"


class TooManyRequests(DomainError):
    """Over a rate limit (429); ``retry_after`` whole seconds until the next request may pass."""

    status = 429
    slug = "rate-limited"

    def __init__(self, code: str, *, retry_after: int, **params: Any) -> None:
        super().__init__(code, **params)
        self.retry_after = retry_after
