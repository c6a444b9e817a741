"""The error tree every connector speaks, each class carrying its retry class.

Callers decide what to do from the class alone, so the retry policy can live once in
``plugins.sdk`` and a connector only has to map vendor answers onto these::

    ConnectorError                 never raised directly
    ├── TransientError             retry with backoff: timeouts, 5xx, network
    │   ├── RateLimited            carries retry_after (seconds)
    │   └── CircuitOpen            breaker open, nothing sent; retry after the cool-down
    └── PermanentError             never retried
        ├── AuthError              credentials rejected
        ├── NotFound               subject unknown (a business outcome, not a fault)
        ├── InvalidRequest         we sent something the vendor rejects
        ├── QuotaExhausted         balance or call quota used up
        ├── VendorContractError    the answer did not match the documented shape
        └── EgressDenied           the host is not on the connector's allow-list
"""

from __future__ import annotations

__all__ = [
    "AuthError",
    "CircuitOpen",
    "ConnectorError",
    "EgressDenied",
    "InvalidRequest",
    "NotFound",
    "PermanentError",
    "QuotaExhausted",
    "RateLimited",
    "TransientError",
    "VendorContractError",
]


class ConnectorError(Exception):
    """Base of every error a connector raises; never raised directly.

    Args:
        message: what went wrong, for an operator; never holds secrets or PII.
        connector: slug of the connector that raised it, when known.
        vendor_code: the vendor's own error code, kept for support tickets.
        status_code: HTTP status of the vendor answer, when there was one.
    """

    retryable: bool = False

    def __init__(
        self,
        message: str,
        *,
        connector: str | None = None,
        vendor_code: str | None = None,
        status_code: int | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.connector = connector
        self.vendor_code = vendor_code
        self.status_code = status_code

    @property
    def error_class(self) -> str:
        """Name recorded in the call log and shown to operators."""
        return type(self).__name__


class TransientError(ConnectorError):
    """Worth retrying later: timeouts, 5xx, connection failures."""

    retryable = True


class RateLimited(TransientError):
    """The vendor asked us to slow down; ``retry_after`` is how long, in seconds."""

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: object) -> None:
        super().__init__(message, **kwargs)  # type: ignore[arg-type]
        self.retry_after = retry_after


class PermanentError(ConnectorError):
    """Retrying the same request would fail the same way."""


class AuthError(PermanentError):
    """Credentials rejected, expired or lacking permission."""


class NotFound(PermanentError):
    """The vendor does not know the subject: a business outcome, not a fault."""


class InvalidRequest(PermanentError):
    """We sent something the vendor rejects; a bug or bad input on our side."""


class QuotaExhausted(PermanentError):
    """The account's balance or call quota is used up."""


class VendorContractError(PermanentError):
    """The vendor answered something that does not match its documented shape."""


class EgressDenied(PermanentError):
    """The request targets a host the connector did not declare; nothing was sent."""


class CircuitOpen(TransientError):
    """The instance's breaker is open after repeated failures; nothing was sent.

    Transient for the job that made the call (try again after ``retry_after``), but the retry
    loop of a single call never waits on it: hammering an open breaker is what it exists to stop.
    """

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: object) -> None:
        super().__init__(message, **kwargs)  # type: ignore[arg-type]
        self.retry_after = retry_after
